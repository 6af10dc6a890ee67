//! `grove serve`: open the database (migrating it), the blob store and the session key, bind,
//! announce the address on stdout, and serve until SIGINT/SIGTERM.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use grove_storage::BlobStore;
use grove_storage::git::GitStore;

use crate::accounts::sessions::SessionKeys;
use crate::config::ServeArgs;
use crate::db::{Db, run_migrations};
use crate::http::metrics::{Metrics, track};
use crate::http::{AppState, errors, routes};
use crate::repos::upload_grants::UrlSigner;

/// Opens everything the hub needs; used by `serve` and by tests that build a state directly.
pub async fn build_state(args: &ServeArgs, public_url: String) -> anyhow::Result<AppState> {
    args.data.ensure_data_dir()?;
    let db = Db::connect(&args.data.database()?)?;
    let migrate_db = db.clone();
    let applied = tokio::task::spawn_blocking(move || {
        let mut conn = migrate_db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
        run_migrations(&mut conn)
    })
    .await??;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrated");
    }
    let storage_url = args.storage_url()?;
    let blobs = BlobStore::from_url(&storage_url)
        .with_context(|| format!("cannot open blob store {storage_url}"))?;
    let secret = crate::accounts::sessions::read_or_create_secret(&args.data.data_dir)?;
    let sessions = SessionKeys::from_secret(secret.as_bytes())?;
    let url_signer = UrlSigner::from_secret(secret.as_bytes())?;
    let xet_tokens = crate::repos::xet_tokens::XetTokens::from_secret(secret.as_bytes())?;
    let git = GitStore::new(args.data.data_dir.join("repos"));
    let spool_dir = args.data.data_dir.join("spool");
    std::fs::create_dir_all(&spool_dir)
        .with_context(|| format!("cannot create {}", spool_dir.display()))?;
    let search = crate::search::SearchService::open(db.clone(), args.data.data_dir.join("search"))
        .await
        .context("cannot open the search index")?;
    Ok(AppState {
        db,
        blobs: Arc::new(blobs),
        git: Arc::new(git),
        spool_dir,
        upload_mode: args.upload_mode,
        sessions: Arc::new(sessions),
        url_signer: Arc::new(url_signer),
        xet_tokens: Arc::new(xet_tokens),
        reachable: Arc::default(),
        xet_instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
        metrics: Arc::new(Metrics::new()?),
        public_url,
        signup_enabled: !args.disable_signup,
        scan_wake: Arc::new(tokio::sync::Notify::new()),
        search,
        eval_lease_secs: args.eval_lease_secs,
        pages: Arc::new(grove_frontend::templates::Pages::new()),
    })
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    args.data.ensure_data_dir()?;
    // Held until the process exits: `grove gc` refuses to run while any server holds it.
    let _serving = crate::gc::serve_lock(&args.data.data_dir)?;
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener.local_addr()?;
    let state = build_state(&args, args.public_url(bound)).await?;
    // The lineage scanner works through the queue in the database in the background.
    tokio::spawn(state.scanner().run());
    // The search index follows the change log in the background too.
    tokio::spawn(state.search.clone().follow());
    let demo_db = state.db.clone();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(errors::json_config())
            .app_data(errors::path_config())
            .app_data(errors::query_config())
            .wrap(middleware::from_fn(crate::http::write_epoch::note_writes))
            .wrap(middleware::from_fn(track))
            .wrap(
                middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "same-origin")),
            )
            .configure(routes::configure)
            .default_service(web::to(errors::not_found))
    })
    // Slow clients must send their request head promptly and cannot hold connections forever.
    .client_request_timeout(Duration::from_secs(10))
    .keep_alive(Duration::from_secs(75))
    .listen(listener)?
    .run();
    tracing::info!(%bound, "grove is serving");
    if args.demo {
        crate::demo::seed(
            demo_db,
            format!("http://{bound}"),
            args.data.data_dir.clone(),
        );
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{bound}")?;
        out.flush()?;
    }
    server.await?;
    Ok(())
}
