//! `mutualise bench soak`: a long, mixed, bounded load on a `mutualise serve` child over
//! loopback, against a database seeded by `bench seed`, reported every minute (throughput,
//! latency percentiles, the server's resident memory, the SQLite WAL's size) and ending with
//! the drift between the first and the last minute: what a leak or a growing WAL would show.
//!
//! Each client repeats one booking's life on a slot of its own: create, read the resource's
//! availability, move the booking by an hour, read the resource's week page, cancel. Slots
//! are night hours the seed leaves free, taken in turn, so a run of any length never runs
//! out of them; every booking carries `BENCH_RUN_PURPOSE` and is deleted at the end.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDateTime;
use serde_json::json;

use super::queries;
use super::run::{self, csrf_of, detail, http_client, rfc3339, Dataset, Server};
use super::stats::{mb, ms, rate, table, Summary};
use super::{BENCH_PASSWORD, BENCH_RUN_PURPOSE};
use crate::config::{Config, DatabaseUrl};
use crate::store::Db;

#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Length of the run, in minutes.
    #[arg(long, default_value_t = 10)]
    pub minutes: u64,
    /// Length of the run in seconds instead of minutes (a smoke run).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Concurrent clients, each with its own connections, token and session.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Seconds between two report lines.
    #[arg(long, default_value_t = 60)]
    pub report_seconds: u64,
    /// File for the server's log (default: mutualise-soak-server-PID.log in the temp dir).
    #[arg(long)]
    pub server_log: Option<PathBuf>,
}

impl SoakArgs {
    fn duration(&self) -> anyhow::Result<Duration> {
        let seconds = self.seconds.unwrap_or(self.minutes.saturating_mul(60));
        if !(1..=86_400).contains(&seconds) {
            bail!("--minutes / --seconds: from 1 second to 24 hours");
        }
        if !(1..=256).contains(&self.clients) {
            bail!("--clients: 1 to 256");
        }
        if !(1..=3_600).contains(&self.report_seconds) {
            bail!("--report-seconds: 1 to 3600");
        }
        Ok(Duration::from_secs(seconds))
    }
}

/// Night hours 20:00–06:00 (UTC) are free in the seeded data: five two-hour slots a night,
/// the booking made in the first hour and moved to the second.
const NIGHT_START_HOUR: i64 = 20;
const PAIRS_PER_NIGHT: u64 = 5;

/// The operations of a booking's life, in order.
const OPS: [&str; 5] = ["create", "availability", "move", "week page", "cancel"];

/// What the clients measured since the last report line.
#[derive(Default)]
struct Window {
    samples: Vec<Duration>,
    by_op: [Vec<Duration>; OPS.len()],
    created: u64,
    /// 409: the slot was taken (a client met another on a wrapped slot); not an error.
    conflicts: u64,
    errors: u64,
    error_samples: Vec<String>,
}

/// One report line.
struct Line {
    elapsed: Duration,
    span: Duration,
    requests: usize,
    latency: Summary,
    created: u64,
    conflicts: u64,
    errors: u64,
    rss: Option<u64>,
    wal: Option<u64>,
}

impl Line {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.span.as_secs_f64().max(1e-9)
    }
}

/// Slot `q` of the run: resource, start of the two-hour night slot.
struct Slots {
    first_day: NaiveDateTime,
    usable_days: u64,
    resources: Vec<i64>,
}

impl Slots {
    fn count(&self) -> u64 {
        self.resources.len() as u64 * self.usable_days * PAIRS_PER_NIGHT
    }

    fn get(&self, q: u64) -> (i64, NaiveDateTime) {
        let q = q % self.count();
        let r = self.resources.len() as u64;
        let (resource, rest) = (q % r, q / r);
        let (pair, day) = (rest % PAIRS_PER_NIGHT, 1 + rest / PAIRS_PER_NIGHT);
        let start = self.first_day
            + chrono::Duration::days(day as i64)
            + chrono::Duration::hours(NIGHT_START_HOUR + 2 * pair as i64);
        (self.resources[resource as usize], start)
    }
}

pub fn main(args: SoakArgs, config: Config) -> anyhow::Result<()> {
    let length = args.duration()?;
    let db = Db::connect(&config.database_url).context("ouverture de la base")?;
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let leftovers = queries::delete_run_bookings(&mut conn).map_err(detail)?;
    if leftovers > 0 {
        println!("Removed {leftovers} bookings left by an earlier bench run.");
    }
    let data = run::load_dataset(&mut conn, &config)?;
    let now = data.first_day.and_utc();
    let wal = match &config.database_url {
        DatabaseUrl::Sqlite(path) => Some(PathBuf::from(format!("{path}-wal"))),
        DatabaseUrl::Postgres(_) => None,
    };
    println!(
        "bench soak: {:?}, {} bookings on {} resources; {} clients for {} s, a line every {} s; server clock fixed at {}",
        db.backend(),
        data.bookings,
        data.resources.len(),
        args.clients,
        length.as_secs(),
        args.report_seconds,
        now.to_rfc3339()
    );
    let log_path = args.server_log.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("mutualise-soak-server-{}.log", std::process::id()))
    });
    let mut server = Server::start(run::free_port()?, now, &log_path)?;
    println!(
        "Server child pid {} on {} (log: {})",
        server.pid(),
        server.base,
        log_path.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(soak(&args, length, &data, &mut server, wal.as_deref()));
    server.stop();
    let removed = queries::delete_run_bookings(&mut conn).map_err(detail);
    let lines = outcome?;
    println!("Removed the {} bookings of the run.", removed?);
    print_drift(&lines);
    let errors: u64 = lines.iter().map(|l| l.errors).sum();
    if errors > 0 {
        bail!("{errors} request(s) failed (5xx or transport error): see the samples above and the server log {}", log_path.display());
    }
    if args.server_log.is_none() {
        let _ = std::fs::remove_file(&log_path);
    }
    Ok(())
}

/// A client of the soak: a bearer token for the API, a session cookie for the pages.
async fn client_for(base: &str, email: &str) -> anyhow::Result<(reqwest::Client, String)> {
    let api = http_client(false)?;
    let token = run::api_token(&api, base, email).await?;
    let web = http_client(true)?;
    let form = web
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = csrf_of(&form).context("GET /login has no `_csrf` input")?;
    let r = web
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", BENCH_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("POST /login as {email} answered {}", r.status());
    }
    // One client (cookie store) carries both: the bearer header is sent explicitly.
    Ok((web, token))
}

async fn soak(
    args: &SoakArgs,
    length: Duration,
    data: &Dataset,
    server: &mut Server,
    wal: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Line>> {
    let base = server.base.clone();
    run::wait_ready(&base, server).await?;
    let mut clients = Vec::with_capacity(args.clients);
    for c in 0..args.clients {
        let (email, member) = &data.bookers[c % data.bookers.len()];
        clients.push((client_for(&base, email).await?, *member));
    }
    let slots = Arc::new(Slots {
        first_day: data.first_day,
        usable_days: data.usable_days,
        resources: data.resources.iter().map(|r| r.id).collect(),
    });
    let window = Arc::new(Mutex::new(Window::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let n = args.clients as u64;
    for (c, ((client, token), member)) in clients.into_iter().enumerate() {
        let (slots, window, stop, base) =
            (slots.clone(), window.clone(), stop.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut j = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (resource, start) = slots.get(c as u64 + n * j);
                j += 1;
                life(&client, &token, &base, member, resource, start, &window).await;
            }
        }));
    }

    let started = Instant::now();
    let deadline = started + length;
    let every = Duration::from_secs(args.report_seconds);
    let mut lines = Vec::new();
    let mut last = started;
    println!();
    while last < deadline {
        let next = (last + every).min(deadline);
        tokio::time::sleep_until(next.into()).await;
        let now = Instant::now();
        let w = std::mem::take(&mut *window.lock().expect("window"));
        server.check_alive()?;
        for s in &w.error_samples {
            println!("  error: {s}");
        }
        let line = Line {
            elapsed: now - started,
            span: now - last,
            requests: w.samples.len(),
            latency: Summary::of(w.samples),
            created: w.created,
            conflicts: w.conflicts,
            errors: w.errors,
            rss: run::read_status_kb(server.pid(), "VmRSS:").map(|kb| kb * 1024),
            wal: wal.map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)),
        };
        print_line(&line, lines.is_empty());
        let by_op: Vec<String> = OPS
            .iter()
            .zip(w.by_op)
            .map(|(op, v)| format!("{op} p95 {}", ms(Summary::of(v).p95)))
            .collect();
        println!("      {}", by_op.join(", "));
        lines.push(line);
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    Ok(lines)
}

/// One booking's life; every answer is timed into `window`.
async fn life(
    client: &reqwest::Client,
    token: &str,
    base: &str,
    member: i64,
    resource: i64,
    start: NaiveDateTime,
    window: &Mutex<Window>,
) {
    let hour = chrono::Duration::hours(1);
    let create = client
        .post(format!("{base}/api/v1/bookings"))
        .bearer_auth(token)
        .json(&json!({
            "resource_id": resource, "member_id": member,
            "start": rfc3339(start), "end": rfc3339(start + hour),
            "purpose": BENCH_RUN_PURPOSE,
        }));
    let Some(created) = timed(window, 0, create).await else {
        return;
    };
    let Some(id) = created["id"].as_i64() else {
        return;
    };
    let day = start.date();
    let from = day.and_time(chrono::NaiveTime::MIN);
    let availability = client
        .get(format!("{base}/api/v1/resources/{resource}/availability"))
        .bearer_auth(token)
        .query(&[
            ("from", rfc3339(from)),
            ("to", rfc3339(from + chrono::Duration::days(7))),
        ]);
    timed(window, 1, availability).await;
    let moved = client
        .patch(format!("{base}/api/v1/bookings/{id}"))
        .bearer_auth(token)
        .json(&json!({"start": rfc3339(start + hour), "end": rfc3339(start + hour * 2)}));
    timed(window, 2, moved).await;
    let week = client
        .get(format!("{base}/resources/{resource}/week"))
        .query(&[("date", day.format("%Y-%m-%d").to_string())]);
    timed(window, 3, week).await;
    let cancel = client
        .post(format!("{base}/api/v1/bookings/{id}/cancel"))
        .bearer_auth(token);
    timed(window, 4, cancel).await;
}

/// Sends one request, records its latency and outcome; the JSON body of a success (`Null`
/// for a page), `None` otherwise.
async fn timed(
    window: &Mutex<Window>,
    op: usize,
    request: reqwest::RequestBuilder,
) -> Option<serde_json::Value> {
    let t0 = Instant::now();
    let answer = match request.send().await {
        Ok(r) => {
            let status = r.status();
            r.bytes()
                .await
                .map(|b| (status, b))
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    let took = t0.elapsed();
    let mut w = window.lock().expect("window");
    w.samples.push(took);
    w.by_op[op].push(took);
    match answer {
        Ok((status, body)) if status.is_success() => {
            if op == 0 {
                w.created += 1;
            }
            Some(serde_json::from_slice(&body).unwrap_or_default())
        }
        Ok((status, _)) if status == reqwest::StatusCode::CONFLICT => {
            w.conflicts += 1;
            None
        }
        Ok((status, body)) => {
            w.errors += 1;
            if w.error_samples.len() < 3 {
                let text = String::from_utf8_lossy(&body);
                w.error_samples.push(format!(
                    "{}: {status} {}",
                    OPS[op],
                    text.chars().take(200).collect::<String>()
                ));
            }
            None
        }
        Err(e) => {
            w.errors += 1;
            if w.error_samples.len() < 3 {
                w.error_samples.push(format!("{}: {e}", OPS[op]));
            }
            None
        }
    }
}

fn opt_mb(bytes: Option<u64>) -> String {
    bytes.map(mb).unwrap_or_else(|| "n/a".into())
}

const HEADER: [&str; 11] = [
    "at",
    "requests",
    "req/s",
    "p50",
    "p95",
    "p99",
    "created",
    "409",
    "errors",
    "server RSS",
    "WAL",
];

fn cells(l: &Line) -> Vec<String> {
    vec![
        format!("{:.0} s", l.elapsed.as_secs_f64()),
        l.requests.to_string(),
        rate(l.throughput()),
        ms(l.latency.p50),
        ms(l.latency.p95),
        ms(l.latency.p99),
        l.created.to_string(),
        l.conflicts.to_string(),
        l.errors.to_string(),
        opt_mb(l.rss),
        opt_mb(l.wal),
    ]
}

/// One line as it comes, padded like the table's header so the columns line up.
fn print_line(l: &Line, first: bool) {
    // Header cells as wide as the widest value expected, so later lines still align.
    let header = HEADER.iter().map(|s| format!("{s:<9}")).collect();
    let rows = vec![header, cells(l)];
    let t = table(&rows);
    let mut it = t.lines();
    let (head, rule, row) = (it.next(), it.next(), it.next());
    if first {
        println!("{}\n{}", head.unwrap_or(""), rule.unwrap_or(""));
    }
    println!("{}", row.unwrap_or(""));
}

/// The first line against the last: what changed while the load stayed the same.
fn print_drift(lines: &[Line]) {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return;
    };
    let total: usize = lines.iter().map(|l| l.requests).sum();
    let errors: u64 = lines.iter().map(|l| l.errors).sum();
    println!(
        "\nTotal: {total} requests, {} bookings created, {errors} errors.",
        lines.iter().map(|l| l.created).sum::<u64>()
    );
    let pct = |a: f64, b: f64| {
        if a > 0.0 {
            format!("{:+.1} %", (b - a) / a * 100.0)
        } else {
            "n/a".into()
        }
    };
    let delta_ms =
        |a: Duration, b: Duration| format!("{:+.2} ms", (b.as_secs_f64() - a.as_secs_f64()) * 1e3);
    let delta_mb = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:+.1} MB", (b as f64 - a as f64) / 1e6),
        _ => "n/a".into(),
    };
    let rows = vec![
        vec![
            "drift (last line − first)".to_string(),
            "req/s".into(),
            "p50".into(),
            "p95".into(),
            "p99".into(),
            "server RSS".into(),
            "WAL".into(),
        ],
        vec![
            format!(
                "{:.0} s → {:.0} s",
                first.elapsed.as_secs_f64(),
                last.elapsed.as_secs_f64()
            ),
            pct(first.throughput(), last.throughput()),
            delta_ms(first.latency.p50, last.latency.p50),
            delta_ms(first.latency.p95, last.latency.p95),
            delta_ms(first.latency.p99, last.latency.p99),
            delta_mb(first.rss, last.rss),
            delta_mb(first.wal, last.wal),
        ],
    ];
    println!("{}", table(&rows));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_night_pairs_and_wrap() {
        let first_day = chrono::NaiveDate::from_ymd_opt(2027, 1, 4)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let s = Slots {
            first_day,
            usable_days: 3,
            resources: vec![7, 8],
        };
        assert_eq!(s.count(), 30);
        assert_eq!(s.get(0), (7, first_day + chrono::Duration::hours(44)));
        assert_eq!(s.get(1), (8, first_day + chrono::Duration::hours(44)));
        assert_eq!(s.get(2), (7, first_day + chrono::Duration::hours(46)));
        // The last pair of a night ends at 06:00 the next morning.
        assert_eq!(s.get(9), (8, first_day + chrono::Duration::hours(52)));
        assert_eq!(s.get(30), s.get(0));
    }
}
