//! The `grove` command line: one binary, many roles. `main` calls [`main`]; each subcommand is a
//! few lines over library functions that tests can call too.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::users::{self, NewUser};
use crate::accounts::{Access, orgs, password, tokens};
use crate::config::{DataArgs, GcArgs, ServeArgs};
use crate::db::{Db, DbConn, run_migrations};
use crate::error::ApiError;
use crate::names::AccountName;

#[derive(Parser, Debug)]
#[command(
    name = "grove",
    version,
    about = "Grove: a self-hostable community model hub"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the hub (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DataArgs),
    /// Rebuild the search index from the database (stop the server using this data dir first;
    /// a running server keeps its own index current and rebuilds a missing one at start).
    Reindex(DataArgs),
    /// Remove stored content no commit refers to (stop the server using this data dir first).
    Gc(GcArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage eval worker tokens.
    #[command(subcommand)]
    WorkerToken(WorkerTokenCommand),
}

#[derive(Subcommand, Debug)]
enum WorkerTokenCommand {
    /// Register an eval worker named NAME and print only its token.
    Create {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user and print it as JSON.
    Create {
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "")]
        fullname: String,
        /// Read the password from standard input (without it the user can only use tokens).
        #[arg(long)]
        password_stdin: bool,
        /// Make the user a site administrator.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Mint an API token for USER and print only the token.
    Create {
        user: String,
        #[arg(long, value_parser = ["read", "write", "admin"])]
        scope: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[arg(long)]
        expires_in_days: Option<i64>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand, Debug)]
enum OrgCommand {
    /// Create an organization owned (as admin) by USER and print it as JSON.
    Create {
        name: String,
        #[arg(long)]
        owner: String,
        #[arg(long, default_value = "")]
        fullname: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Why a command failed: bad input exits with 2, anything else with 1.
enum Failure {
    Input(String),
    Other(anyhow::Error),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(m) | ApiError::NotFound(m) | ApiError::Conflict(m) => {
                Failure::Input(m)
            }
            ApiError::Internal(e) => Failure::Other(e),
            other => Failure::Other(anyhow::anyhow!("{other}")),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            crate::logging::init(args.log_format);
            actix_web::rt::System::new()
                .block_on(crate::server::serve(args))
                .map_err(Failure::Other)
        }
        other => {
            crate::logging::init(crate::config::LogFormat::Text);
            run_admin(other)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens (and migrates) the database named by `data`. Works while a server is running.
fn open(data: &DataArgs) -> Result<DbConn, Failure> {
    data.ensure_data_dir()?;
    let db = Db::connect(&data.database()?)?;
    let mut conn = db.get()?;
    run_migrations(&mut conn)?;
    Ok(conn)
}

fn run_admin(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(_) => unreachable!("serve is handled by main"),
        Command::Migrate(data) => {
            data.ensure_data_dir()?;
            let db = Db::connect(&data.database()?)?;
            let applied = run_migrations(&mut db.get()?)?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Gc(args) => {
            let (url, min_age) = (args.storage_url()?, args.min_age()?);
            let report = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)?
                .block_on(crate::gc::collect(&args.data, &url, min_age, args.dry_run))?;
            let verb = if args.dry_run {
                "would remove"
            } else {
                "removed"
            };
            println!(
                "{verb} {} xorb(s) ({} bytes) of {} Xet file(s), {} LFS blob(s) ({} bytes), \
                 {} staging object(s); kept {} xorb(s) and {} blob(s)",
                report.xorbs,
                report.xorb_bytes,
                report.xet_files,
                report.blobs,
                report.blob_bytes,
                report.staging,
                report.xorbs_kept,
                report.blobs_kept
            );
            Ok(())
        }
        Command::Reindex(data) => {
            data.ensure_data_dir()?;
            let db = Db::connect(&data.database()?)?;
            run_migrations(&mut db.get()?)?;
            let dir = data.data_dir.join("search");
            let Some(_lock) = crate::search::lock_index_dir(&dir)? else {
                return Err(Failure::Input(format!(
                    "the search index in {} is in use by a running server; stop it first",
                    dir.display()
                )));
            };
            grove_indexer::search::SearchIndex::destroy(&dir).map_err(|e| anyhow::anyhow!(e))?;
            let (index, _) = grove_indexer::search::SearchIndex::open_or_create(&dir)
                .map_err(|e| anyhow::anyhow!(e))?;
            let started = std::time::Instant::now();
            let (_, count) = crate::search::rebuild(&index, &db)
                .map_err(|e| Failure::Other(anyhow::anyhow!("{e}")))?;
            println!(
                "indexed {count} repo(s) in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::User(UserCommand::Create {
            name,
            email,
            fullname,
            password_stdin,
            admin,
            data,
        }) => {
            let name = AccountName::parse(&name)?;
            if let Some(email) = &email {
                users::validate_email(email)?;
            }
            users::validate_fullname(&fullname)?;
            let password_hash = if password_stdin {
                let password = read_password()?;
                password::validate(&password)?;
                Some(password::hash(&password)?)
            } else {
                None
            };
            let mut conn = open(&data)?;
            let new = NewUser {
                name,
                email,
                fullname,
                password_hash,
                is_admin: admin,
            };
            let account = users::create_user(&mut conn, new, None)?;
            print_json(&account.view())
        }
        Command::Token(TokenCommand::Create {
            user,
            scope,
            name,
            expires_in_days,
            data,
        }) => {
            let scope: Access = scope.parse()?;
            let mut conn = open(&data)?;
            let account = users::find_user(&mut conn, &user)?
                .ok_or_else(|| Failure::Input(format!("no user named {user:?}")))?;
            let (_, secret) =
                tokens::create_token(&mut conn, account.id, &name, scope, expires_in_days)?;
            println!("{secret}");
            Ok(())
        }
        Command::WorkerToken(WorkerTokenCommand::Create { name, data }) => {
            let mut conn = open(&data)?;
            let (_, secret) = crate::evals::workers::create(&mut conn, &name, None)?;
            println!("{secret}");
            Ok(())
        }
        Command::Org(OrgCommand::Create {
            name,
            owner,
            fullname,
            data,
        }) => {
            let name = AccountName::parse(&name)?;
            users::validate_fullname(&fullname)?;
            let mut conn = open(&data)?;
            let owner = users::find_user(&mut conn, &owner)?
                .ok_or_else(|| Failure::Input(format!("no user named {owner:?}")))?;
            let org = orgs::create_org(&mut conn, &name, &fullname, &owner)?;
            print_json(&org.view())
        }
    }
}

/// The password is everything on stdin minus one trailing newline.
fn read_password() -> Result<String, Failure> {
    let mut raw = String::new();
    std::io::stdin()
        .take(password::MAX_PASSWORD as u64 + 2)
        .read_to_string(&mut raw)
        .map_err(|e| Failure::Input(format!("cannot read the password from stdin: {e}")))?;
    let trimmed = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(&raw);
    Ok(trimmed.to_string())
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?;
    println!("{text}");
    Ok(())
}
