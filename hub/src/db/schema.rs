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
    lfs_objects,
    weight_files,
    tensors,
    commit_scans,
    commit_weight_files,
    lineage_edges,
    lineage_closure,
    lineage_counts,
    search_changes,
    eval_workers,
    eval_jobs,
    eval_results
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
        lineage_tags -> Nullable<Text>,
        card_body -> Nullable<Text>,
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

diesel::table! {
    weight_files (oid) {
        oid -> Text,
        format -> Text,
        size -> BigInt,
        tensor_count -> BigInt,
        parameter_count -> BigInt,
        dtypes -> Text,
        metadata -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tensors (file_oid, name) {
        file_oid -> Text,
        name -> Text,
        dtype -> Text,
        shape -> Text,
        begin_offset -> BigInt,
        end_offset -> BigInt,
        hash -> Text,
        sample -> Nullable<Text>,
    }
}

diesel::table! {
    commit_scans (repo_id, commit_id) {
        repo_id -> BigInt,
        commit_id -> Text,
        state -> Text,
        attempts -> Integer,
        claimed_at -> Nullable<Timestamp>,
        summary -> Nullable<Text>,
        warnings -> Text,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    commit_weight_files (repo_id, commit_id, path) {
        repo_id -> BigInt,
        commit_id -> Text,
        path -> Text,
        file_oid -> Text,
    }
}

diesel::table! {
    lineage_edges (id) {
        id -> BigInt,
        child_repo_id -> BigInt,
        child_commit -> Text,
        parent_repo_id -> Nullable<BigInt>,
        parent_name -> Text,
        parent_commit -> Nullable<Text>,
        relation -> Text,
        source -> Text,
        relation_stated -> Bool,
        position -> Integer,
        merge_weight -> Nullable<Double>,
        merge_base -> Bool,
        recipe -> Nullable<Text>,
        verification -> Text,
        evidence -> Text,
        is_current -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lineage_closure (ancestor_id, descendant_id) {
        ancestor_id -> BigInt,
        descendant_id -> BigInt,
        depth -> Integer,
        relation -> Text,
        private -> Bool,
    }
}

diesel::table! {
    lineage_counts (repo_id, relation) {
        repo_id -> BigInt,
        relation -> Text,
        children -> BigInt,
        descendants -> BigInt,
    }
}

diesel::table! {
    search_changes (seq) {
        seq -> BigInt,
        repo_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    eval_workers (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    eval_jobs (id) {
        id -> BigInt,
        model_repo_id -> BigInt,
        model_commit -> Text,
        task_repo_id -> BigInt,
        task_commit -> Text,
        run -> Integer,
        task_name -> Text,
        task_hash -> Text,
        inputs -> Text,
        submitted_by -> Nullable<BigInt>,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        not_before -> Timestamp,
        fence -> BigInt,
        worker_id -> Nullable<BigInt>,
        exclude_worker_id -> Nullable<BigInt>,
        lease_expires_at -> Nullable<Timestamp>,
        progress_done -> BigInt,
        progress_total -> BigInt,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    eval_results (job_id) {
        job_id -> BigInt,
        model_repo_id -> BigInt,
        model_commit -> Text,
        task_repo_id -> BigInt,
        task_hash -> Text,
        run -> Integer,
        worker_id -> Nullable<BigInt>,
        primary_metric -> Text,
        primary_value -> Double,
        metrics -> Text,
        samples -> Text,
        provenance -> Text,
        created_at -> Timestamp,
    }
}
