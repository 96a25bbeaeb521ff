//! `mutualise bench pages`: the main pages of the demonstration pole, as each demo role, over
//! loopback HTTP against the real router in this process. Each figure is the server's time
//! plus one loopback round trip (about 0.1 ms here), after a warm-up: the budget is
//! 10 ms per page.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use super::allocation::{backend_name, on_fresh_database, runtime};
use super::stats::{ms, table, Summary};
use crate::app::demo::{self, DEMO_PASSWORD, GE_MANAGER_EMAIL};
use crate::app::App;
use crate::config::{Config, DatabaseUrl};

#[derive(Debug, clap::Args)]
pub struct PagesArgs {
    /// Requests timed per page and role (after 3 not counted).
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
}

/// Each demo role and the pages it works with (ids are the demo's: resource 1 is the Salle
/// Jaurès, member 1 the first member).
const ROLES: &[(&str, &str, &[&str])] = &[
    (
        "bénévole (booker)",
        "benevole@jardins.demo.mutualise.coop",
        &[
            "/",
            "/bookings",
            "/bookings/new",
            "/bookings/new?resource_id=1&start=2027-01-05T09:00&end=2027-01-05T10:00",
            "/resources/1/week?date=2027-01-05",
            "/resources/1/month?month=2027-01",
            "/calendar?kind=room&date=2027-01-05",
            "/calendar?kind=desk&date=2027-01-05",
            "/resources",
            "/account",
        ],
    ),
    (
        "responsable (member_admin)",
        "responsable@jardins.demo.mutualise.coop",
        &[
            "/",
            "/bookings?status=all",
            "/allocations/2027-01/members/1",
        ],
    ),
    (
        "gestion (resource_manager)",
        "gestion@demo.mutualise.coop",
        &[
            "/",
            "/approvals",
            "/calendar?kind=vehicle&date=2027-01-05",
            "/closures",
        ],
    ),
    (
        "trésorerie (treasurer)",
        "tresorerie@demo.mutualise.coop",
        &["/", "/allocations", "/members"],
    ),
    (
        "groupement (ge_manager)",
        GE_MANAGER_EMAIL,
        &["/", "/staff/week?date=2027-01-04", "/staff/ledger"],
    ),
    (
        "administration (admin)",
        "admin@demo.mutualise.coop",
        &["/", "/users", "/admin/outbox", "/bookings.csv"],
    ),
];

pub fn main(args: PagesArgs, config: Config) -> anyhow::Result<()> {
    let rows = on_fresh_database(&config.database_url, 91, |url| {
        runtime()?.block_on(run(&args, &config, url.clone()))
    })?;
    println!(
        "Pages du pôle de démonstration, backend {} ({} requêtes par page)",
        backend_name(&config.database_url),
        args.runs
    );
    println!("{}", table(&rows));
    Ok(())
}

async fn run(
    args: &PagesArgs,
    config: &Config,
    url: DatabaseUrl,
) -> anyhow::Result<Vec<Vec<String>>> {
    let config = Config {
        database_url: url,
        now: Some(Utc.with_ymd_and_hms(2027, 1, 4, 8, 0, 0).unwrap()),
        ..config.clone()
    };
    let app = App::open(config)?;
    demo::fill(&app)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    let addr = crate::web::server::spawn_loopback(app.clone()).await?;
    let base = format!("http://{addr}");
    let mut rows = vec![vec![
        "rôle".to_string(),
        "page".to_string(),
        "octets".to_string(),
        "médiane".to_string(),
        "p95".to_string(),
        "max".to_string(),
    ]];
    for (role, email, pages) in ROLES {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = client
            .get(format!("{base}/login"))
            .send()
            .await?
            .text()
            .await?;
        let csrf = login
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| anyhow::anyhow!("no CSRF token on the sign-in page"))?
            .to_string();
        let signed = client
            .post(format!("{base}/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", email),
                ("password", DEMO_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await?;
        anyhow::ensure!(
            signed.status().is_redirection(),
            "sign-in of {email}: {}",
            signed.status()
        );
        for page in pages.iter() {
            let url = format!("{base}{page}");
            let mut size = 0;
            for _ in 0..3 {
                let res = client.get(&url).send().await?;
                anyhow::ensure!(res.status().is_success(), "{role} {page}: {}", res.status());
                size = res.bytes().await?.len();
            }
            let mut samples: Vec<Duration> = Vec::with_capacity(args.runs);
            for _ in 0..args.runs {
                let t = Instant::now();
                let res = client.get(&url).send().await?;
                let _ = res.bytes().await?;
                samples.push(t.elapsed());
            }
            let s = Summary::of(samples);
            rows.push(vec![
                role.to_string(),
                page.to_string(),
                format!("{} Ko", size.div_ceil(1024)),
                ms(s.p50),
                ms(s.p95),
                ms(s.max),
            ]);
        }
    }
    Ok(rows)
}
