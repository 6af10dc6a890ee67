//! Every route of the hub, in one place, so the API can be read top to bottom.

use actix_web::web;

use super::errors;
use super::handlers::{
    account_handlers as accounts, ops, org_handlers as orgs, token_handlers as tokens,
};

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
        );
}
