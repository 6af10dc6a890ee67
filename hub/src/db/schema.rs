//! The diesel schema, shared by both backends (the migrations under `migrations/` define the same
//! tables for each).

diesel::table! {
    accounts (id) {
        id -> BigInt,
        kind -> Text,
        name -> Text,
        name_key -> Text,
        fullname -> Text,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        is_admin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (org_id, user_id) {
        org_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target -> Text,
        detail -> Text,
    }
}

diesel::joinable!(api_tokens -> accounts (user_id));
diesel::joinable!(sessions -> accounts (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    memberships,
    api_tokens,
    sessions,
    audit_log,
    repos,
    lfs_objects
);

diesel::table! {
    repos (id) {
        id -> BigInt,
        kind -> Text,
        owner_id -> BigInt,
        name -> Text,
        name_key -> Text,
        private -> Bool,
        default_branch -> Text,
        downloads -> BigInt,
        likes -> BigInt,
        head_commit -> Nullable<Text>,
        card_data -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(repos -> accounts (owner_id));

diesel::table! {
    lfs_objects (oid) {
        oid -> Text,
        size -> BigInt,
        git_oid -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
