//! The machine-readable API description served at `/api/openapi.json`. Every handler carries a
//! `#[utoipa::path]`; adding a route means adding it here too (a test checks the two agree).

use utoipa::OpenApi;

use super::handlers::{
    account_handlers, commit_handlers, download_handlers, info_handlers, lfs_handlers,
    list_handlers, ops, org_handlers, repo_handlers, token_handlers, tree_handlers,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Grove", description = "A self-hostable community model hub"),
    paths(
        ops::get_healthz,
        ops::get_readyz,
        ops::get_metrics,
        ops::get_openapi,
        account_handlers::create_signup,
        account_handlers::create_login,
        account_handlers::create_logout,
        account_handlers::get_whoami,
        account_handlers::get_user_overview,
        token_handlers::list_tokens,
        token_handlers::create_token,
        token_handlers::delete_token,
        org_handlers::create_org,
        org_handlers::get_org,
        org_handlers::list_members,
        org_handlers::set_member,
        org_handlers::delete_member,
        repo_handlers::create_repo,
        repo_handlers::delete_repo,
        repo_handlers::update_repo_settings,
        info_handlers::get_repo_info,
        info_handlers::get_repo_info_at_revision,
        list_handlers::list_models,
        list_handlers::list_datasets,
        commit_handlers::validate_yaml,
        commit_handlers::create_preupload,
        commit_handlers::create_commit,
        tree_handlers::list_tree,
        tree_handlers::list_tree_folder,
        tree_handlers::get_paths_info,
        tree_handlers::list_refs,
        tree_handlers::list_commits,
        tree_handlers::create_branch,
        tree_handlers::delete_branch,
        tree_handlers::create_tag,
        tree_handlers::delete_tag,
        download_handlers::get_model_file,
        download_handlers::get_dataset_file,
        lfs_handlers::create_model_lfs_batch,
        lfs_handlers::create_dataset_lfs_batch,
        lfs_handlers::verify_model_lfs_object,
        lfs_handlers::verify_dataset_lfs_object,
        lfs_handlers::put_lfs_object,
        lfs_handlers::put_lfs_part,
        lfs_handlers::complete_lfs_multipart,
    ),
    tags(
        (name = "accounts", description = "Sign-up, sessions and identity"),
        (name = "tokens", description = "API tokens"),
        (name = "organizations", description = "Organisations and membership"),
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "repos", description = "Model and dataset repos"),
        (name = "commits", description = "Preupload, commits, card validation"),
        (name = "files", description = "Trees, paths-info and downloads"),
        (name = "refs", description = "Branches, tags and history"),
        (name = "lfs", description = "Git LFS batch API and upload URLs"),
    )
)]
pub struct ApiDoc;
