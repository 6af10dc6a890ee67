//! The machine-readable API description served at `/api/openapi.json`. Every handler carries a
//! `#[utoipa::path]`; adding a route means adding it here too (a test checks the two agree).

use utoipa::OpenApi;

use super::handlers::{account_handlers, ops, org_handlers, token_handlers};

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
    ),
    tags(
        (name = "accounts", description = "Sign-up, sessions and identity"),
        (name = "tokens", description = "API tokens"),
        (name = "organizations", description = "Organisations and membership"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;
