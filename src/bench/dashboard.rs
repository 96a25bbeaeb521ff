//! `mutualise bench dashboard`: the home page of every demonstration account, timed. A fresh
//! database of DATABASE_URL's backend gets the demonstration pole (`mutualise demo`); then,
//! for each account, the `app::dashboard` call alone (what the page needs from the database
//! and the allocation code) and the whole `GET /` over loopback HTTP to the real router
//! (session lookup with the « Validation » counter, the call, the rendering), median and
//! worst of several runs after a warm-up.

use std::time::{Duration, Instant};

use crate::app::{auth, dashboard, demo, App};
use crate::config::{Config, DatabaseUrl};

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// Timed runs per account, of each measure.
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
}

pub fn main(args: DashboardArgs, config: Config) -> anyhow::Result<()> {
    super::allocation::on_fresh_database(&config.database_url, 0, |url| {
        measure(&args, &config, url)
    })
}

fn measure(args: &DashboardArgs, config: &Config, url: &DatabaseUrl) -> anyhow::Result<()> {
    let config = Config {
        database_url: url.clone(),
        ..config.clone()
    };
    let app = App::open(config)?;
    let rt = super::allocation::runtime()?;
    let detail = |e: crate::error::AppError| anyhow::anyhow!("{}", e.detail());
    let summary = rt.block_on(demo::fill(&app)).map_err(detail)?;
    let addr = rt.block_on(crate::web::server::spawn_loopback(app.clone()))?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    println!(
        "Tableau de bord du pôle de démonstration ({} structures, {} ressources, {} réservations), backend {}, {} passages",
        summary.members,
        summary.resources,
        summary.bookings,
        app.backend_name(),
        args.runs
    );
    println!(
        "{:<44}  {:>12}  {:>10}  {:>12}  {:>10}  {:>8}",
        "compte", "app (méd.)", "(pire)", "GET / (méd.)", "(pire)", "octets"
    );
    let runs = args.runs.max(1);
    for account in &summary.accounts {
        let session = rt
            .block_on(auth::sign_in(
                &app,
                &account.email,
                demo::DEMO_PASSWORD,
                "bench",
            ))
            .map_err(detail)?;
        let actor = rt
            .block_on(auth::resolve_session(&app, &session.token, false))
            .map_err(detail)?
            .ok_or_else(|| anyhow::anyhow!("no session for {}", account.email))?
            .actor;
        let get = || -> anyhow::Result<(Duration, usize)> {
            let t = Instant::now();
            let res = rt.block_on(
                client
                    .get(format!("http://{addr}/"))
                    .header(
                        "cookie",
                        format!("{}={}", crate::web::SESSION_COOKIE, session.token),
                    )
                    .send(),
            )?;
            anyhow::ensure!(
                res.status().is_success(),
                "GET / as {}: {}",
                account.email,
                res.status()
            );
            let body = rt.block_on(res.text())?;
            Ok((t.elapsed(), body.len()))
        };
        // Warm-up: the first call of a month keeps its usage (one write), connections open.
        rt.block_on(dashboard::dashboard(&app, &actor))
            .map_err(detail)?;
        get()?;
        let mut in_app = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            rt.block_on(dashboard::dashboard(&app, &actor))
                .map_err(detail)?;
            in_app.push(t.elapsed());
        }
        let mut http = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs {
            let (d, n) = get()?;
            http.push(d);
            bytes = n;
        }
        in_app.sort();
        http.sort();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:<44}  {:>12}  {:>10}  {:>12}  {:>10}  {:>8}",
            format!("{} ({})", account.email, account.role)
                .chars()
                .take(44)
                .collect::<String>(),
            ms(in_app[runs / 2]),
            ms(in_app[runs - 1]),
            ms(http[runs / 2]),
            ms(http[runs - 1]),
            bytes
        );
    }
    drop(app);
    Ok(())
}
