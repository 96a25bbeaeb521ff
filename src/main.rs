//! The `mutualise` command: serve, migrate, demo, user add, backup, restore, bench.

use std::io::{Read, Write};
use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use mutualise::app::authz::Actor;
use mutualise::app::{allocation, auth, demo, jobs, months, users, App};
use mutualise::build_app;
use mutualise::config::Config;
use mutualise::domain::ids::MemberId;
use mutualise::domain::role::{MemberRole, PoleRole};
use mutualise::domain::user::{MembershipInput, UserInput};
use mutualise::store::Db;

#[derive(Parser)]
#[command(
    name = "mutualise",
    version,
    about = "Réservations et partage des coûts d'un pôle territorial de coopération économique"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `mutualise [--bind …]` is `mutualise serve [--bind …]`: clap reads
    /// the same arguments, `MUTUALISE_BIND` included.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "MUTUALISE_BIND")]
    bind: SocketAddr,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web service (default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill an empty database with a demonstration pole.
    Demo,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a month's allocation: every member's statement (the numbers of
    /// `GET /api/v1/allocations/{month}`).
    Allocate {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// json (default) or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// CSV only: comma (default) or semicolon (French spreadsheets).
        #[arg(long, default_value = "comma")]
        dialect: String,
    },
    /// Copy the SQLite database into FILE while the service runs (a consistent, checked,
    /// self-contained file; an existing FILE is never overwritten). On PostgreSQL, use pg_dump.
    Backup {
        /// The new backup file.
        file: std::path::PathBuf,
    },
    /// Restore a backup made by `mutualise backup` into the configured SQLite database, which
    /// must hold no data; pending migrations are then applied. Stop the service first.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Check the hash chain of the closed months' statements; fails if any was altered.
    VerifyStatements,
    /// Benchmarks: seed a large dataset, then measure the running service against it.
    Bench {
        #[command(subcommand)]
        command: mutualise::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user, reading the password from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, resource_manager, ge_manager, treasurer, member_admin or booker.
        #[arg(long)]
        role: String,
        /// Member id, required for member_admin and booker.
        #[arg(long)]
        member: Option<i64>,
        /// Read the password from standard input (required; nothing is prompted).
        #[arg(long)]
        password_stdin: bool,
    },
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    if config.log_format_json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

/// glibc gives each thread that allocates concurrently its own malloc arena (up to 8 per core),
/// and each arena keeps the memory it freed. Under booking load the server's threads (tokio
/// workers, blocking threads holding pool connections, the writer) spread over 16 arenas and
/// the resident size grew to ~107 MB for ~68 MB with two arenas, at the same throughput.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: called first thing in `main`, before any other thread exists; mallopt only sets
    // an allocator parameter. An arena limit set in the environment wins.
    let tuned = std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() && !tuned {
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// A failure ends the process with one line on stderr: the error and its causes, no backtrace
/// (anyhow's `Debug` output spreads them over several lines and adds a backtrace when
/// `RUST_BACKTRACE` is set).
fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let causes: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("Erreur : {}", causes.join(" : "));
            std::process::ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    init_tracing(&config);
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(ServeArgs { bind }) => serve(config, bind),
        Command::Bench { command } => mutualise::bench::main(command, config),
        Command::Migrate => {
            // On a connection of its own: `Db::connect` would migrate before we could count.
            let applied = Db::migrate_database(&config.database_url)?;
            println!(
                "Base à jour ({} migration(s) appliquée(s) en plus).",
                applied.len()
            );
            for name in &applied {
                println!("  {name}");
            }
            Ok(())
        }
        Command::Allocate {
            month,
            format,
            dialect,
        } => {
            let month: mutualise::domain::month::Month =
                month.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let dialect: mutualise::export::Dialect = dialect
                .parse()
                .map_err(|e: String| anyhow::anyhow!("{e}"))?;
            let app = App::open(config)?;
            let alloc = runtime()?
                .block_on(allocation::allocation(&app, &Actor::operator(), month))
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            let mut out = std::io::stdout().lock();
            match format.as_str() {
                "json" => {
                    serde_json::to_writer_pretty(&mut out, &alloc)?;
                    writeln!(out)?;
                }
                "csv" => {
                    out.write_all(&mutualise::export::allocation::table(&alloc).to_csv(dialect))?
                }
                other => anyhow::bail!("format inconnu : {other} (json ou csv)"),
            }
            Ok(())
        }
        Command::Backup { file } => backup(&config, &file),
        Command::Restore { file } => restore(&config, &file),
        Command::VerifyStatements => {
            let app = App::open(config)?;
            let checks = runtime()?
                .block_on(months::verify(&app, &Actor::operator()))
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            let mut broken = 0;
            for c in &checks {
                match &c.problem {
                    None => println!("{}  ok      {}", c.month, c.hash),
                    Some(p) => {
                        broken += 1;
                        println!("{}  ALTÉRÉ  {p}", c.month);
                    }
                }
            }
            if broken > 0 {
                anyhow::bail!(
                    "{broken} relevé(s) clôturé(s) ne correspondent plus à leur empreinte"
                );
            }
            println!("{} mois clôturé(s), chaîne intacte.", checks.len());
            Ok(())
        }
        Command::Demo => {
            let app = App::open(config)?;
            let summary = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(demo::fill(&app))
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            println!(
                "Pôle de démonstration créé : {} structures, {} ressources, {} réservations.",
                summary.members, summary.resources, summary.bookings
            );
            println!("Comptes (mot de passe commun : {}) :", demo::DEMO_PASSWORD);
            for a in summary.accounts {
                println!("  {:<45} {}", a.email, a.role);
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    name,
                    role,
                    member,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                anyhow::bail!(
                    "--password-stdin est requis : le mot de passe est lu sur l'entrée standard"
                );
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("lecture de l'entrée standard")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let (roles, memberships) =
                match (PoleRole::parse(&role), MemberRole::parse(&role), member) {
                    (Some(r), _, None) => (vec![r.as_str().to_string()], vec![]),
                    (Some(_), _, Some(_)) => {
                        anyhow::bail!("--member ne s'applique qu'aux rôles member_admin et booker")
                    }
                    (None, Some(r), Some(m)) => (
                        vec![],
                        vec![MembershipInput {
                            member_id: MemberId(m),
                            role: r.as_str().into(),
                        }],
                    ),
                    (None, Some(_), None) => anyhow::bail!("le rôle {role} demande --member ID"),
                    (None, None, _) => anyhow::bail!("rôle inconnu : {role}"),
                };
            let input = UserInput {
                email,
                name,
                password: Some(password),
                roles,
                memberships,
                active: true,
            };
            let draft = input.validate(true).map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = Db::connect(&config.database_url)?;
            let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = auth::hash_password(draft.password.as_deref().unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let now = mutualise::config::Clock::new(config.now).now();
            let user = users::create_unchecked(&mut conn, &draft, &hash, now)
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            println!(
                "Utilisateur {} créé (id {}).",
                user.user.email, user.user.id
            );
            Ok(())
        }
    }
}

/// What PostgreSQL users run instead of `backup` / `restore`.
const PG_DUMP_HINT: &str = "sur PostgreSQL, utilisez pg_dump -Fc (sauvegarde) et pg_restore (restauration) : voir « Sauvegarde et restauration » dans le README";

fn print_counts(counts: &[(&str, i64)]) {
    let parts: Vec<String> = counts.iter().map(|(t, n)| format!("{t} : {n}")).collect();
    println!("  {}", parts.join(", "));
}

fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let mutualise::config::DatabaseUrl::Sqlite(db) = &config.database_url else {
        anyhow::bail!("mutualise backup ne sauvegarde que SQLite ; {PG_DUMP_HINT}");
    };
    let copy = mutualise::store::backup::backup_sqlite(db, file)?;
    println!(
        "Sauvegarde écrite : {} ({:.1} Mo, intégrité vérifiée).",
        copy.path.display(),
        copy.bytes as f64 / 1e6
    );
    print_counts(&copy.counts);
    Ok(())
}

fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    let mutualise::config::DatabaseUrl::Sqlite(db) = &config.database_url else {
        anyhow::bail!("mutualise restore ne restaure que SQLite ; {PG_DUMP_HINT}");
    };
    let done = mutualise::store::backup::restore_sqlite(file, db)?;
    println!(
        "Sauvegarde {} restaurée dans {db} ({} migration(s) appliquée(s) en plus).",
        done.file.path.display(),
        done.applied.len()
    );
    print_counts(&done.file.counts);
    Ok(())
}

fn serve(config: Config, bind: SocketAddr) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking tasks are database calls, each holding one of the pool's connections (10
        // on SQLite, two of them kept by the writer and the checkpointer; 16 on PostgreSQL):
        // more threads would only wait for a connection. Extra tasks queue. Booking writes on
        // SQLite go straight to the writer's queue and take no blocking thread.
        .max_blocking_threads(24)
        .build()?;
    runtime.block_on(async move {
        let app = App::open(config).context("ouverture de la base")?;
        tracing::info!(backend = app.backend_name(), "database ready");
        jobs::spawn(app.clone());
        match mutualise::mail::smtp::courier_of(app.config())? {
            Some(courier) => {
                tracing::info!("mail worker started");
                mutualise::app::outbox::spawn_worker(app.clone(), courier);
            }
            None => {
                tracing::info!("no SMTP_URL: mails stay in the outbox, readable at /admin/outbox")
            }
        }
        let limits = app.config().server;
        let router = build_app(app);
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("écoute sur {bind}"))?;
        tracing::info!("Mutualise écoute sur http://{}", listener.local_addr()?);
        mutualise::web::server::serve(listener, router, limits, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    // Blocking tasks still running (a database call of a request cut at the deadline) get one
    // more second; the process then exits whatever they do.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    tracing::info!("arrêt propre");
    Ok(())
}

/// Stops accepting connections on SIGTERM or Ctrl-C and lets requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("signal d'arrêt reçu");
}
