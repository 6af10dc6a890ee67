//! Every route of the hub, in one place, so the API can be read top to bottom.

use actix_web::web;

use super::handlers::{
    account_handlers as accounts, cas_handlers as cas, commit_handlers as commits,
    download_handlers as downloads, eval_handlers as evals, eval_worker_handlers as eval_workers,
    info_handlers as info, lfs_handlers as lfs, lineage_handlers as lineage,
    list_handlers as lists, ops, org_handlers as orgs, repo_handlers as repos,
    token_handlers as tokens, tree_handlers as trees, xet_handlers as xet,
};
use super::{errors, forms, pages};

/// A resource whose unmatched methods answer 405 in the JSON error envelope.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(errors::method_not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(ops::get_healthz)))
        .service(resource("/readyz").route(web::get().to(ops::get_readyz)))
        .service(resource("/metrics").route(web::get().to(ops::get_metrics)))
        .service(resource("/api/openapi.json").route(web::get().to(ops::get_openapi)))
        // Accounts and sessions.
        .service(resource("/api/signup").route(web::post().to(accounts::create_signup)))
        .service(resource("/api/login").route(web::post().to(accounts::create_login)))
        .service(resource("/api/logout").route(web::post().to(accounts::create_logout)))
        .service(resource("/api/whoami-v2").route(web::get().to(accounts::get_whoami)))
        .service(
            resource("/api/users/{name}/overview")
                .route(web::get().to(accounts::get_user_overview)),
        )
        // API tokens.
        .service(
            resource("/api/tokens")
                .route(web::get().to(tokens::list_tokens))
                .route(web::post().to(tokens::create_token)),
        )
        .service(resource("/api/tokens/{id}").route(web::delete().to(tokens::delete_token)))
        // Organisations.
        .service(resource("/api/organizations").route(web::post().to(orgs::create_org)))
        .service(resource("/api/organizations/{name}").route(web::get().to(orgs::get_org)))
        .service(
            resource("/api/organizations/{name}/members").route(web::get().to(orgs::list_members)),
        )
        .service(
            resource("/api/organizations/{name}/members/{user}")
                .route(web::put().to(orgs::set_member))
                .route(web::delete().to(orgs::delete_member)),
        )
        // Repos over the Hub protocol. `{kind}` is `models` or `datasets`; revisions arrive as
        // one percent-encoded segment.
        .service(resource("/api/repos/create").route(web::post().to(repos::create_repo)))
        .service(resource("/api/repos/delete").route(web::delete().to(repos::delete_repo)))
        .service(resource("/api/validate-yaml").route(web::post().to(commits::validate_yaml)))
        .service(resource("/api/models").route(web::get().to(lists::list_models)))
        .service(resource("/api/datasets").route(web::get().to(lists::list_datasets)))
        .service(resource("/api/search/suggest").route(web::get().to(lists::suggest)))
        .service(resource("/api/search/{kind}").route(web::get().to(lists::search)))
        // Eval jobs, leaderboards and the workers' side of the queue.
        .service(
            resource("/api/evals/jobs")
                .route(web::get().to(evals::list_jobs))
                .route(web::post().to(evals::create_job)),
        )
        .service(resource("/api/evals/jobs/{id}").route(web::get().to(evals::get_job)))
        .service(
            resource("/api/evals/jobs/{id}/samples").route(web::get().to(evals::get_job_samples)),
        )
        .service(resource("/api/evals/jobs/{id}/cancel").route(web::post().to(evals::cancel_job)))
        .service(resource("/api/evals/jobs/{id}/rerun").route(web::post().to(evals::rerun_job)))
        .service(
            resource("/api/evals/leaderboards/{owner}/{name}")
                .route(web::get().to(evals::get_leaderboard)),
        )
        .service(
            resource("/api/datasets/{owner}/{name}/leaderboard")
                .route(web::get().to(evals::get_dataset_leaderboard)),
        )
        .service(
            resource("/api/evals/workers")
                .route(web::get().to(evals::list_workers))
                .route(web::post().to(evals::create_worker)),
        )
        .service(
            resource("/api/evals/workers/{name}").route(web::delete().to(evals::delete_worker)),
        )
        .service(resource("/api/evals/worker/claim").route(web::post().to(eval_workers::claim)))
        .service(
            resource("/api/evals/worker/jobs/{id}/heartbeat")
                .route(web::post().to(eval_workers::heartbeat)),
        )
        .service(
            resource("/api/evals/worker/jobs/{id}/files/{source}/{path:.*}")
                .route(web::get().to(eval_workers::get_file)),
        )
        .service(
            resource("/api/evals/worker/jobs/{id}/result")
                .app_data(errors::json_config_with_limit(eval_workers::RESULT_LIMIT))
                .route(web::post().to(eval_workers::post_result)),
        )
        .service(
            resource("/api/evals/worker/jobs/{id}/fail")
                .route(web::post().to(eval_workers::post_failure)),
        )
        .service(resource("/api/lineage/merge-base").route(web::get().to(lineage::get_merge_base)))
        .service(
            resource("/api/models/{owner}/{name}/lineage")
                .route(web::get().to(lineage::get_lineage)),
        )
        .service(
            resource("/api/models/{owner}/{name}/lineage/ancestors")
                .route(web::get().to(lineage::get_ancestors)),
        )
        .service(
            resource("/api/models/{owner}/{name}/lineage/descendants")
                .route(web::get().to(lineage::get_descendants)),
        )
        .service(
            resource("/api/models/{owner}/{name}/lineage/family")
                .route(web::get().to(lineage::get_family)),
        )
        .service(
            resource("/api/models/{owner}/{name}/lineage/diff")
                .route(web::get().to(lineage::get_tensor_diff)),
        )
        .service(
            resource("/api/models/{owner}/{name}/tensors")
                .route(web::get().to(lineage::get_tensors)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/duplicate")
                .route(web::post().to(repos::duplicate_repo)),
        )
        .service(resource("/api/{kind}/{owner}/{name}").route(web::get().to(info::get_repo_info)))
        .service(
            resource("/api/{kind}/{owner}/{name}/revision/{rev}")
                .route(web::get().to(info::get_repo_info_at_revision)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/settings")
                .route(web::put().to(repos::update_repo_settings)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/xet-read-token/{rev}")
                .route(web::get().to(xet::get_xet_read_token)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/xet-write-token/{rev}")
                .route(web::get().to(xet::get_xet_write_token)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/preupload/{rev}")
                .route(web::post().to(commits::create_preupload)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/commit/{rev}")
                .route(web::post().to(commits::create_commit)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/tree/{rev}")
                .route(web::get().to(trees::list_tree)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/tree/{rev}/{path:.*}")
                .route(web::get().to(trees::list_tree_folder)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/paths-info/{rev}")
                .route(web::post().to(trees::get_paths_info)),
        )
        .service(resource("/api/{kind}/{owner}/{name}/refs").route(web::get().to(trees::list_refs)))
        .service(
            resource("/api/{kind}/{owner}/{name}/commits/{rev}")
                .route(web::get().to(trees::list_commits)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/branch/{branch}")
                .route(web::post().to(trees::create_branch))
                .route(web::delete().to(trees::delete_branch)),
        )
        .service(
            resource("/api/{kind}/{owner}/{name}/tag/{rev}")
                .route(web::post().to(trees::create_tag))
                .route(web::delete().to(trees::delete_tag)),
        )
        // The Xet CAS service (see cas_handlers.rs); `{instance}` names this server process.
        .service(
            resource("/xet/{instance}/v1/xorb-grants/{prefix}/{hash}")
                .route(web::post().to(cas::not_offered)),
        )
        .service(
            resource("/xet/{instance}/v1/xorbs/{prefix}/{hash}")
                .route(web::post().to(cas::post_xorb)),
        )
        .service(
            resource("/xet/{instance}/v1/chunks/{prefix}/{hash}")
                .route(web::get().to(cas::get_dedup_chunk)),
        )
        .service(resource("/xet/{instance}/v2/shards").route(web::post().to(cas::not_offered)))
        .service(resource("/xet/{instance}/v1/shards").route(web::post().to(cas::post_shard)))
        .service(
            resource("/xet/{instance}/v2/reconstructions/{file}")
                .route(web::get().to(cas::not_offered)),
        )
        .service(
            resource("/xet/{instance}/v1/reconstructions/{file}")
                .route(web::get().to(cas::get_reconstruction)),
        )
        .service(
            resource("/xet/{instance}/v1/fetch/{xorb}").route(web::get().to(cas::get_xorb_bytes)),
        )
        .service(resource("/v1/telemetry").route(web::post().to(cas::post_telemetry)))
        // Git LFS: the batch API under `{repo}.git/`, and the self-authorising upload URLs.
        .service(
            resource("/datasets/{owner}/{name:[^/]+\\.git}/info/lfs/objects/batch")
                .route(web::post().to(lfs::create_dataset_lfs_batch)),
        )
        .service(
            resource("/datasets/{owner}/{name:[^/]+\\.git}/info/lfs/objects/verify")
                .route(web::post().to(lfs::verify_dataset_lfs_object)),
        )
        .service(
            resource("/{owner}/{name:[^/]+\\.git}/info/lfs/objects/batch")
                .route(web::post().to(lfs::create_model_lfs_batch)),
        )
        .service(
            resource("/{owner}/{name:[^/]+\\.git}/info/lfs/objects/verify")
                .route(web::post().to(lfs::verify_model_lfs_object)),
        )
        .service(
            resource("/lfs/objects/{oid}/{size}")
                .route(web::put().to(lfs::put_lfs_object))
                .route(web::get().to(lfs::get_lfs_object)),
        )
        .service(
            resource("/lfs/multipart/{upload_id}/complete")
                .route(web::post().to(lfs::complete_lfs_multipart)),
        )
        .service(
            resource("/lfs/multipart/{upload_id}/{part}").route(web::put().to(lfs::put_lfs_part)),
        )
        // Downloads. Dataset URLs carry a `datasets/` prefix; model URLs none, which is why
        // account names such as `api` and `datasets` are reserved.
        .service(
            resource("/datasets/{owner}/{name}/resolve/{rev}/{path:.*}")
                .route(web::get().to(downloads::get_dataset_file))
                .route(web::head().to(downloads::get_dataset_file)),
        )
        .service(
            resource("/{owner}/{name}/resolve/{rev}/{path:.*}")
                .route(web::get().to(downloads::get_model_file))
                .route(web::head().to(downloads::get_model_file)),
        )
        // The web UI. Registered last: every API route above wins, and `/{owner}/{name}` only
        // answers GET (anything else falls through to the JSON 404).
        .service(
            page("/login")
                .route(read().to(forms::get_login))
                .route(web::post().to(forms::post_login)),
        )
        .service(
            page("/signup")
                .route(read().to(forms::get_signup))
                .route(web::post().to(forms::post_signup)),
        )
        .service(page("/logout").route(web::post().to(forms::post_logout)))
        .service(
            page("/settings/tokens")
                .route(read().to(forms::get_tokens))
                .route(web::post().to(forms::post_token)),
        )
        .service(
            page("/settings/tokens/{id}/delete").route(web::post().to(forms::post_token_delete)),
        )
        .service(
            page("/new")
                .route(read().to(forms::get_new_repo))
                .route(web::post().to(forms::post_new_repo)),
        )
        .service(
            page("/organizations/new")
                .route(read().to(forms::get_new_org))
                .route(web::post().to(forms::post_new_org)),
        )
        .service(page("/{owner}/{name}/fork").route(web::post().to(forms::post_fork)))
        .service(page("/{owner}/{name}/diff").route(read().to(pages::get_diff_page)))
        .service(page("/{owner}/{name}/evaluate").route(web::post().to(forms::post_evaluate)))
        .service(page("/assets/grove.css").route(read().to(pages::get_stylesheet)))
        .service(page("/").route(read().to(pages::get_home)))
        .service(page("/models").route(read().to(pages::get_models_page)))
        .service(page("/datasets").route(read().to(pages::get_datasets_page)))
        .service(page("/leaderboards/{owner}/{name}").route(read().to(pages::get_leaderboard_page)))
        .service(page("/evals/jobs/{id}").route(read().to(pages::get_job_page)))
        .service(
            page("/datasets/{owner}/{name}/commits")
                .route(read().to(pages::get_dataset_commits_page)),
        )
        .service(
            page("/datasets/{owner}/{name}/blob/{rev}/{path:.*}")
                .route(read().to(pages::get_dataset_blob_page)),
        )
        .service(page("/datasets/{owner}/{name}").route(read().to(pages::get_dataset_page)))
        .service(page("/{owner}/{name}/commits").route(read().to(pages::get_model_commits_page)))
        .service(
            page("/{owner}/{name}/blob/{rev}/{path:.*}")
                .route(read().to(pages::get_model_blob_page)),
        )
        .service(page("/{owner}/{name}").route(read().to(pages::get_model_page)))
        .service(page("/{name}").route(read().to(pages::get_account_page)));
}

/// A page resource: other methods than GET and HEAD get the API's JSON 404.
fn page(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(errors::not_found))
}

/// GET, and HEAD for the same headers without the body.
fn read() -> actix_web::Route {
    use actix_web::guard;
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}
