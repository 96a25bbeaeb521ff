//! `mutualise bench run`: starts `mutualise serve` as a child process on a free loopback port
//! against the seeded database, measures it over HTTP, and prints one table.
//!
//! The server is a separate process, as in production, so its memory can be read from
//! `/proc` and the client's work is not counted as the server's (they still share the
//! machine's cores: on a small machine the client's CPU use lowers the figures a little).
//! Everything is bounded in time and count, and the child is killed when the run ends,
//! whether it succeeded or not.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Months, NaiveDateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::queries::{self, BenchResource};
use super::raw::{self, RawResult};
use super::staff_run::{self, StaffData, StaffResult};
use super::stats::{mb, ms, rate, table, Summary};
use super::{booker_email, BENCH_ADMIN_EMAIL, BENCH_PASSWORD, BENCH_RUN_PURPOSE};
use crate::app::bookings::{self as booking_app, BookingEnv};
use crate::config::{Config, DatabaseUrl};
use crate::domain::ids::ResourceId;
use crate::domain::time::Interval;
use crate::store::{users as user_store, Db, DbConn};

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Concurrent clients creating bookings (each its own connection and booker account).
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Length of the booking-creation phase, in seconds.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Upper bound on booking-creation requests, all clients together.
    #[arg(long, default_value_t = 200_000)]
    pub max_requests: u64,
    /// Share of creation requests aimed at a slot already taken (answered 409), in percent.
    #[arg(long, default_value_t = 5)]
    pub conflict_percent: u8,
    /// Requests of each read scenario (availability, week page), sent one after the other.
    #[arg(long, default_value_t = 1_000)]
    pub read_requests: usize,
    /// Time limit of each read scenario, in seconds.
    #[arg(long, default_value_t = 15)]
    pub read_seconds: u64,
    /// Length of the raw-insert measure, in seconds.
    #[arg(long, default_value_t = 5)]
    pub raw_seconds: u64,
    /// Resource of the availability and week-page scenarios (default: the first seeded room).
    #[arg(long)]
    pub resource: Option<i64>,
    /// Availability asked with `min_quantity` (a pool: only where that many units are free).
    #[arg(long)]
    pub min_quantity: Option<i32>,
    /// File for the server's log (default: mutualise-bench-server-PID.log in the temp dir).
    #[arg(long)]
    pub server_log: Option<PathBuf>,
    /// Scenarios to run: `general` (bookings of rooms, vehicles…), `staff` (the employer
    /// group of `bench seed --staff`: assignments, week grid, hours ledger), or `all` (general,
    /// and staff when the database holds the group).
    #[arg(long, value_enum, default_value_t = Scenarios::All)]
    pub scenarios: Scenarios,
    /// Skill of the staff week grid's filter (`?skill=`): half of the seeded employees have
    /// « Cariste ».
    #[arg(long, default_value = "cariste")]
    pub skill: String,
    /// Server processes on the database for the create scenario, the clients spread over them
    /// (PostgreSQL is shared by several processes in larger deployments).
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenarios {
    All,
    General,
    Staff,
}

impl RunArgs {
    fn check(&self) -> anyhow::Result<()> {
        if !(1..=1_000).contains(&self.clients) {
            bail!("--clients: 1 to 1000");
        }
        if !(1..=3_600).contains(&self.seconds) || !(1..=3_600).contains(&self.read_seconds) {
            bail!("--seconds and --read-seconds: 1 to 3600");
        }
        if !(1..=600).contains(&self.raw_seconds) {
            bail!("--raw-seconds: 1 to 600");
        }
        if self.conflict_percent > 100 {
            bail!("--conflict-percent: 0 to 100");
        }
        if !(1..=4).contains(&self.servers) {
            bail!("--servers: 1 to 4");
        }
        if self.max_requests == 0 || self.read_requests == 0 {
            bail!("--max-requests and --read-requests must be at least 1");
        }
        Ok(())
    }
}

/// Night slots (20:00–06:00 UTC) are left free by `seed`; `run` books one-hour slots there.
const NIGHT_START_HOUR: i64 = 20;
const NIGHT_SLOTS: u64 = 10;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// What the run needs to know about the seeded dataset.
pub(super) struct Dataset {
    pub(super) first_day: NaiveDateTime,
    days: i64,
    pub(super) bookings: i64,
    pub(super) resources: Vec<BenchResource>,
    /// (booker e-mail, its member id)
    pub(super) bookers: Vec<(String, i64)>,
    taken: Vec<(i64, NaiveDateTime, NaiveDateTime)>,
    /// Days after `first_day` on which creates may start (inside the booking horizon).
    pub(super) usable_days: u64,
}

pub fn main(args: RunArgs, config: Config) -> anyhow::Result<()> {
    args.check()?;
    let db = Db::connect(&config.database_url).context("ouverture de la base")?;
    // The server measured keeps the WAL bounded; this process copying it too would be part
    // of what is measured.
    db.leave_checkpoints_to_others();
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let leftovers = queries::delete_run_bookings(&mut conn).map_err(detail)?;
    if leftovers > 0 {
        println!("Removed {leftovers} bookings left by an earlier bench run.");
    }
    let data = match args.scenarios {
        Scenarios::Staff => None,
        Scenarios::All | Scenarios::General => Some(load_dataset(&mut conn, &config)?),
    };
    let read_resource = match &data {
        None => None,
        Some(data) => Some(match args.resource {
            Some(id) => data
                .resources
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .with_context(|| format!("--resource {id} is not a resource made by bench seed"))?,
            None => data
                .resources
                .iter()
                .find(|r| r.kind == "room" && r.capacity == 1)
                .or(data.resources.first())
                .cloned()
                .context("no bench resource")?,
        }),
    };
    let general_now = data.as_ref().map(|d| d.first_day.and_utc());
    let staff = match args.scenarios {
        Scenarios::General => None,
        Scenarios::All | Scenarios::Staff => staff_run::load(&mut conn, &config, general_now)?,
    };
    if args.scenarios == Scenarios::Staff && staff.is_none() {
        bail!("no employer group made by `mutualise bench seed --staff` in this database: seed it with --staff first");
    }
    let now = match (general_now, &staff) {
        (Some(now), _) => now,
        (None, Some(s)) => s.now,
        (None, None) => bail!("nothing to measure"),
    };
    if let Some(data) = &data {
        println!(
            "bench run: {:?}, {} bookings on {} resources from {}; server clock fixed at {} (MUTUALISE_NOW)",
            db.backend(),
            data.bookings,
            data.resources.len(),
            data.first_day.date(),
            now.to_rfc3339()
        );
    } else {
        println!(
            "bench run: {:?}, staff scenarios only; server clock fixed at {} (MUTUALISE_NOW)",
            db.backend(),
            now.to_rfc3339()
        );
    }
    if let Some(s) = &staff {
        println!(
            "  employer group: {} employees, {} assignments over {} weeks from {}; {} legal assignments to propose ({} in the seeded weeks)",
            s.employees.len(),
            s.assignments,
            s.weeks,
            s.first_monday,
            s.proposals.len(),
            s.seeded_proposals
        );
    }

    let log_path = args.server_log.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("mutualise-bench-server-{}.log", std::process::id()))
    });
    let port = free_port()?;
    let mut server = Server::start(port, now, &log_path)?;
    println!(
        "Server child pid {} on http://127.0.0.1:{port} (log: {})",
        server.pid(),
        log_path.display()
    );
    let wal = match &config.database_url {
        crate::config::DatabaseUrl::Sqlite(path) => Some(PathBuf::from(format!("{path}-wal"))),
        crate::config::DatabaseUrl::Postgres(_) => None,
    };
    let sampler = RssSampler::start(server.pid(), wal.clone());
    let mut others = Vec::new();
    for i in 1..args.servers {
        let log = log_path.with_extension(format!("{i}.log"));
        let other = Server::start(free_port()?, now, &log)?;
        println!(
            "Server child pid {} on {} (log: {})",
            other.pid(),
            other.base,
            log.display()
        );
        others.push((other, log));
    }

    let general = data.as_ref().zip(read_resource.as_ref());
    let outcome = measure(
        &args,
        &config,
        &db,
        general,
        staff.as_ref(),
        now,
        &mut server,
        &mut others,
        &sampler,
    );
    // The WAL once the load is over: the server's checkpointer truncates it when idle.
    let wal_idle = wal.as_ref().map(|path| {
        std::thread::sleep(Duration::from_secs(2));
        std::fs::metadata(path).map_or(0, |m| m.len())
    });
    let wal_peak = sampler.wal_peak();
    let peak_sampled = sampler.stop();
    let hwm = read_status_kb(server.pid(), "VmHWM:").map(|kb| kb * 1024);
    server.stop();
    for (mut other, log) in others {
        other.stop();
        if args.server_log.is_none() {
            let _ = std::fs::remove_file(&log);
        }
    }

    // Leave the dataset as seeded, whatever happened.
    let created = queries::delete_run_bookings(&mut conn).map_err(detail);
    let mut report = outcome?;
    report.created_rows = created?;
    report.rss_peak = peak_sampled;
    report.rss_hwm = hwm;
    report.wal = wal_peak.zip(wal_idle);
    print_report(&args, &config, general, staff.as_ref(), &report);
    if args.server_log.is_none() {
        // Kept when the run fails (the error points at it); a successful run leaves nothing.
        let _ = std::fs::remove_file(&log_path);
    }
    Ok(())
}

pub(super) fn detail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.detail())
}

pub(super) fn load_dataset(conn: &mut DbConn, config: &Config) -> anyhow::Result<Dataset> {
    let bookings = queries::booking_count(conn).map_err(detail)?;
    let (Some(first), Some(last)) = queries::dataset_span(conn).map_err(detail)? else {
        bail!("the database holds no booking of `mutualise bench seed`: seed it first (or, for a dataset seeded with --bookings 0 --staff, run with --scenarios staff)");
    };
    let resources = queries::bench_resources(conn).map_err(detail)?;
    if resources.is_empty() {
        bail!("no resource made by `mutualise bench seed` in this database: seed it first");
    }
    let first_day = first.date().and_time(chrono::NaiveTime::MIN);
    let days = (last.date() - first.date()).num_days() + 1;
    let horizon = i64::from(config.booking_horizon_days);
    // The last night slot ends at 06:00 the next day and must start inside the horizon.
    let usable_days = (horizon - 2).min(days - 2);
    if usable_days < 1 {
        bail!("the dataset spans {days} days and the horizon {horizon}: too short to book fresh slots");
    }
    // The seeded administrator proves the dataset comes from `bench seed`.
    user_store::find_by_email(conn, BENCH_ADMIN_EMAIL)
        .map_err(detail)?
        .with_context(|| {
            format!("{BENCH_ADMIN_EMAIL} is missing: seed with `mutualise bench seed`")
        })?;
    let mut bookers = Vec::new();
    for i in 0..10_000 {
        let email = booker_email(i);
        let Some(user) = user_store::find_by_email(conn, &email).map_err(detail)? else {
            break;
        };
        let user = user_store::with_roles(conn, user).map_err(detail)?;
        if let Some(m) = user.memberships.first() {
            bookers.push((email, m.member_id.0));
        }
    }
    if bookers.is_empty() {
        bail!(
            "no bench booker account ({}) found: seed with `mutualise bench seed`",
            booker_email(0)
        );
    }
    // Slots known to be taken: a random sample of confirmed bookings on capacity-1 resources
    // inside the bookable range.
    let exclusive: Vec<i64> = resources
        .iter()
        .filter(|r| r.capacity == 1)
        .map(|r| r.id)
        .collect();
    let mut taken = Vec::new();
    if let (Some(lo), Some(hi)) = queries::id_range(conn).map_err(detail)? {
        let mut rng = StdRng::seed_from_u64(7);
        let ids: Vec<i64> = (0..2_000).map(|_| rng.gen_range(lo..=hi)).collect();
        taken = queries::taken_slots(
            conn,
            &ids,
            &exclusive,
            first_day + chrono::Duration::days(1),
            first_day + chrono::Duration::days(usable_days),
        )
        .map_err(detail)?;
    }
    Ok(Dataset {
        first_day,
        days,
        bookings,
        resources,
        bookers,
        taken,
        usable_days: usable_days as u64,
    })
}

// ---- the server child ----

pub(super) fn free_port() -> anyhow::Result<u16> {
    // Bind to port 0, read the port the kernel chose, release it for the child. Another
    // process could take it in between; the readiness check would then fail clearly.
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(l.local_addr()?.port())
}

pub(super) struct Server {
    child: Option<Child>,
    pid: u32,
    pub(super) base: String,
    log: PathBuf,
}

impl Server {
    pub(super) fn start(port: u16, now: DateTime<Utc>, log: &PathBuf) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the mutualise executable")?;
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut cmd = Command::new(exe);
        cmd.arg("serve")
            .arg("--bind")
            .arg(addr.to_string())
            .env("MUTUALISE_NOW", now.to_rfc3339())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // Per-request logs would measure the logger; keep the user's filter if they set one.
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let child = cmd.spawn().context("starting `mutualise serve`")?;
        Ok(Self {
            pid: child.id(),
            child: Some(child),
            base: format!("http://{addr}"),
            log: log.clone(),
        })
    }

    pub(super) fn pid(&self) -> u32 {
        self.pid
    }

    /// Fails if the child has exited, with the end of its log.
    pub(super) fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "the server child exited ({status}); end of its log {}:\n{}",
                    self.log.display(),
                    tail.join("\n")
                );
            }
        }
        Ok(())
    }

    pub(super) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---- resident memory of the child ----

/// A `/proc/<pid>/status` field in kB (Linux); `None` elsewhere or once the process is gone.
pub(super) fn read_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The processor time the process has used so far, all its threads, user and system
/// (`/proc/<pid>/stat`, in clock ticks); `None` elsewhere or once the process is gone.
pub(super) fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields are after its last ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // utime and stime, fields 14 and 15 of the line: 12th and 13th after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|&t| t > 0)?;
    Some(Duration::from_nanos(
        ticks.saturating_mul(1_000_000_000) / per_second,
    ))
}

/// The processor time `pid` uses while `phase` runs, with what it returns.
pub(super) fn timed_cpu<T>(pid: u32, phase: impl FnOnce() -> T) -> (T, Option<Duration>) {
    let before = cpu_time(pid);
    let out = phase();
    let used = cpu_time(pid)
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    (out, used)
}

/// Samples the child's VmRSS every 50 ms: the peak of the whole run and the peak of the
/// current phase (taken and reset between phases, to tell which scenario costs memory); and,
/// on SQLite, the WAL file's peak size.
pub(super) struct RssSampler {
    stop: Arc<AtomicBool>,
    overall: Arc<AtomicU64>,
    phase: Arc<AtomicU64>,
    wal: Option<Arc<AtomicU64>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32, wal_path: Option<PathBuf>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let overall = Arc::new(AtomicU64::new(0));
        let phase = Arc::new(AtomicU64::new(0));
        let wal = wal_path.as_ref().map(|_| Arc::new(AtomicU64::new(0)));
        let (flag, all, now, wal_peak) =
            (stop.clone(), overall.clone(), phase.clone(), wal.clone());
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Some(kb) = read_status_kb(pid, "VmRSS:") {
                    all.fetch_max(kb * 1024, Ordering::Relaxed);
                    now.fetch_max(kb * 1024, Ordering::Relaxed);
                }
                if let (Some(path), Some(peak)) = (&wal_path, &wal_peak) {
                    let size = std::fs::metadata(path).map_or(0, |m| m.len());
                    peak.fetch_max(size, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            stop,
            overall,
            phase,
            wal,
            handle: Some(handle),
        }
    }

    /// The largest WAL file seen so far (SQLite only).
    fn wal_peak(&self) -> Option<u64> {
        self.wal.as_ref().map(|w| w.load(Ordering::Relaxed))
    }

    /// The phase's peak so far, and a new phase starting from the current value.
    pub(super) fn take_phase(&self, pid: u32) -> Option<u64> {
        let current = read_status_kb(pid, "VmRSS:").map(|kb| kb * 1024);
        let peak = self
            .phase
            .swap(0, Ordering::Relaxed)
            .max(current.unwrap_or(0));
        if let Some(c) = current {
            self.phase.fetch_max(c, Ordering::Relaxed);
        }
        (peak > 0).then_some(peak)
    }

    fn stop(mut self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let peak = self.overall.load(Ordering::Relaxed);
        (peak > 0).then_some(peak)
    }
}

// ---- the measures ----

/// A creation phase: every answer, and the accepted and refused ones apart.
#[derive(Default)]
pub(super) struct CreateResult {
    pub latencies: Summary,
    pub accepted: Summary,
    pub refused: Summary,
    pub elapsed: Duration,
    pub created: u64,
    /// 409 answers, all codes together, and by their machine `code`.
    pub conflicts: u64,
    pub refusals: BTreeMap<String, u64>,
    pub other: u64,
    pub samples_other: Vec<String>,
    pub exhausted: bool,
    /// The processor time the (first) server used during the phase: the cost of a request,
    /// steadier than the rates when the machine's speed drifts (by ±20 % here), though a
    /// slower hour costs more processor time per request too.
    pub server_cpu: Option<Duration>,
}

impl CreateResult {
    /// The note on the server's processor time per answer, if it was measured.
    pub fn cpu_note(&self, scenario: &str) -> Option<String> {
        let cpu = self.server_cpu?;
        let answers = self.latencies.count.max(1) as f64;
        Some(format!(
            "{scenario}: the server used {:.1} s of processor time over {:.1} s ({:.2} cores), {:.2} ms per answer",
            cpu.as_secs_f64(),
            self.elapsed.as_secs_f64(),
            cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9),
            cpu.as_secs_f64() * 1000.0 / answers
        ))
    }
}

enum WeekResult {
    Measured(Summary, Duration),
    NotAvailable(u16),
}

/// The general scenarios.
struct GeneralReport {
    create: CreateResult,
    /// Latencies, elapsed time, and the first answer's free intervals and bytes.
    availability: (Summary, Duration, (usize, usize)),
    availability_in_process: Summary,
    week: WeekResult,
}

struct Report {
    general: Option<GeneralReport>,
    staff: Option<StaffResult>,
    raw: RawResult,
    /// Peak resident memory of each phase, in order.
    rss_phases: Vec<(&'static str, Option<u64>)>,
    created_rows: usize,
    rss_peak: Option<u64>,
    rss_hwm: Option<u64>,
    /// SQLite: the WAL file's peak size during the run and its size 2 s after it.
    wal: Option<(u64, u64)>,
}

#[allow(clippy::too_many_arguments)]
fn measure(
    args: &RunArgs,
    config: &Config,
    db: &Db,
    general: Option<(&Dataset, &BenchResource)>,
    staff: Option<&StaffData>,
    now: DateTime<Utc>,
    server: &mut Server,
    others: &mut [(Server, PathBuf)],
    rss: &RssSampler,
) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let base = server.base.clone();
    runtime.block_on(wait_ready(&base, server))?;
    let mut bases = vec![base.clone()];
    for (other, _) in others.iter_mut() {
        let b = other.base.clone();
        runtime.block_on(wait_ready(&b, other))?;
        bases.push(b);
    }
    let pid = server.pid();
    let mut phases = vec![("start", rss.take_phase(pid))];
    let steps = 1 + if general.is_some() { 3 } else { 0 } + if staff.is_some() { 3 } else { 0 };
    let mut step = 0;
    let mut next_step = || {
        step += 1;
        format!("[{step}/{steps}]")
    };

    let general = match general {
        None => None,
        Some((data, read_resource)) => {
            println!(
                "{} create: {} clients for {} s …",
                next_step(),
                args.clients,
                args.seconds
            );
            let emails: Vec<String> = data.bookers.iter().map(|(e, _)| e.clone()).collect();
            let clients = runtime.block_on(sign_in_clients(args.clients, &base, &emails))?;
            phases.push(("sign-in", rss.take_phase(pid)));
            let members: Vec<i64> = (0..args.clients)
                .map(|c| data.bookers[c % data.bookers.len()].1)
                .collect();
            let (create, cpu) = timed_cpu(pid, || {
                runtime.block_on(create_phase(
                    args,
                    &bases,
                    clients,
                    general_bodies(args, data, members),
                ))
            });
            let mut create = create?;
            create.server_cpu = cpu;
            server.check_alive()?;
            for (other, _) in others.iter_mut() {
                other.check_alive()?;
            }
            phases.push(("create", rss.take_phase(pid)));

            println!(
                "{} availability: resource {} « {} », one-month windows …",
                next_step(),
                read_resource.id,
                read_resource.name
            );
            let availability =
                runtime.block_on(availability_phase(args, &base, data, read_resource))?;
            let env = BookingEnv {
                tz: config.timezone,
                now,
                horizon_days: config.booking_horizon_days,
            };
            let availability_in_process =
                availability_in_process(args, db, data, read_resource, &env)?;
            server.check_alive()?;
            phases.push(("availability", rss.take_phase(pid)));

            println!("{} week page: resource {} …", next_step(), read_resource.id);
            let week = runtime.block_on(week_phase(args, &base, data, read_resource))?;
            server.check_alive()?;
            phases.push(("week", rss.take_phase(pid)));
            Some(GeneralReport {
                create,
                availability,
                availability_in_process,
                week,
            })
        }
    };

    let staff = match staff {
        None => None,
        Some(s) => Some(staff_run::measure(
            args,
            config,
            db,
            s,
            now,
            &runtime,
            server,
            &bases,
            rss,
            &mut phases,
            &mut next_step,
        )?),
    };

    println!(
        "{} raw inserts: single-row transactions for {} s …",
        next_step(),
        args.raw_seconds
    );
    let raw = raw::measure(&config.database_url, args.raw_seconds as f64, 10_000_000)?;
    Ok(Report {
        general,
        staff,
        raw,
        rss_phases: phases,
        created_rows: 0,
        rss_peak: None,
        rss_hwm: None,
        wal: None,
    })
}

pub(super) fn http_client(cookies: bool) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        // Loopback only: never route through a proxy from the environment.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .build()?)
}

pub(super) async fn wait_ready(base: &str, server: &mut Server) -> anyhow::Result<()> {
    let client = http_client(false)?;
    let started = Instant::now();
    loop {
        server.check_alive()?;
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!("the server child did not answer /healthz within {READY_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn api_token(
    client: &reqwest::Client,
    base: &str,
    email: &str,
) -> anyhow::Result<String> {
    let r = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": email, "password": BENCH_PASSWORD}))
        .send()
        .await?;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    match body["token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_string()),
        _ => bail!("POST /api/v1/auth/token for {email} answered {status}: {body}"),
    }
}

pub(super) fn rfc3339(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One connection and bearer token per client, signed in as `emails` in turn. Signing in
/// costs an argon2 check on the server each, so it happens before, and outside, the measured
/// window.
pub(super) async fn sign_in_clients(
    clients: usize,
    base: &str,
    emails: &[String],
) -> anyhow::Result<Vec<(reqwest::Client, String)>> {
    let mut out = Vec::with_capacity(clients);
    for c in 0..clients {
        let client = http_client(false)?;
        let token = api_token(&client, base, &emails[c % emails.len()]).await?;
        out.push((client, token));
    }
    Ok(out)
}

/// The body of a client's next creation request (`client`, its random generator), or `None`
/// once no fresh slot is left.
pub(super) type NextBody =
    Arc<dyn Fn(usize, &mut StdRng) -> Option<serde_json::Value> + Send + Sync>;

/// The general scenario's requests: fresh one-hour night slots, and `--conflict-percent` of
/// them aimed at a taken slot; each client books for its own member.
fn general_bodies(args: &RunArgs, data: &Dataset, members: Vec<i64>) -> NextBody {
    let next = AtomicU64::new(0);
    let taken = data.taken.clone();
    let conflict_percent = args.conflict_percent;
    let view = SlotView::of(data);
    Arc::new(move |c, rng| {
        let (resource_id, start, end) =
            if !taken.is_empty() && rng.gen_range(0..100u8) < conflict_percent {
                taken[rng.gen_range(0..taken.len())]
            } else {
                view.fresh(next.fetch_add(1, Ordering::Relaxed))?
            };
        Some(json!({
            "resource_id": resource_id, "member_id": members[c],
            "start": rfc3339(start), "end": rfc3339(end),
            "purpose": BENCH_RUN_PURPOSE,
        }))
    })
}

/// `clients` loop `POST /api/v1/bookings` with the bodies `next` gives for `--seconds` (or
/// `--max-requests`), each on its own connection; every answer is timed.
/// Client `c` sends to `bases[c % bases.len()]`.
pub(super) async fn create_phase(
    args: &RunArgs,
    bases: &[String],
    clients: Vec<(reqwest::Client, String)>,
    next: NextBody,
) -> anyhow::Result<CreateResult> {
    let issued = Arc::new(AtomicU64::new(0));
    let exhausted = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::with_capacity(clients.len());
    for (c, (client, token)) in clients.into_iter().enumerate() {
        let url = format!("{}/api/v1/bookings", bases[c % bases.len()]);
        let (issued, exhausted, next) = (issued.clone(), exhausted.clone(), next.clone());
        let max = args.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(1_000 + c as u64);
            let mut r = CreateResult::default();
            let (mut all, mut accepted, mut refused) = (Vec::new(), Vec::new(), Vec::new());
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                let Some(body) = next(c, &mut rng) else {
                    exhausted.store(true, Ordering::Relaxed);
                    break;
                };
                let t0 = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                let outcome = match answer {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let text = r.text().await.unwrap_or_default();
                        Ok((status, text))
                    }
                    Err(e) => Err(e.to_string()),
                };
                let took = t0.elapsed();
                all.push(took);
                match outcome {
                    Ok((201, _)) => {
                        r.created += 1;
                        accepted.push(took);
                    }
                    Ok((409, text)) => {
                        r.conflicts += 1;
                        refused.push(took);
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                        let code = v["code"].as_str().unwrap_or("?").to_string();
                        *r.refusals.entry(code).or_default() += 1;
                    }
                    Ok((status, text)) => {
                        r.other += 1;
                        if r.samples_other.len() < 3 {
                            r.samples_other.push(format!(
                                "{status}: {}",
                                text.chars().take(300).collect::<String>()
                            ));
                        }
                    }
                    Err(e) => {
                        r.other += 1;
                        if r.samples_other.len() < 3 {
                            r.samples_other.push(e);
                        }
                    }
                }
            }
            (r, all, accepted, refused)
        }));
    }
    let mut result = CreateResult::default();
    let (mut all, mut accepted, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (r, a, ok, no) = t.await?;
        all.extend(a);
        accepted.extend(ok);
        refused.extend(no);
        result.created += r.created;
        result.conflicts += r.conflicts;
        result.other += r.other;
        for (code, n) in r.refusals {
            *result.refusals.entry(code).or_default() += n;
        }
        for s in r.samples_other {
            if result.samples_other.len() < 3 {
                result.samples_other.push(s);
            }
        }
    }
    result.elapsed = started.elapsed();
    result.latencies = Summary::of(all);
    result.accepted = Summary::of(accepted);
    result.refused = Summary::of(refused);
    result.exhausted = exhausted.load(Ordering::Relaxed);
    Ok(result)
}

/// What a client task needs to compute fresh slots (an owned copy of part of `Dataset`).
struct SlotView {
    first_day: NaiveDateTime,
    usable_days: u64,
    resource_ids: Vec<i64>,
}

impl SlotView {
    fn of(data: &Dataset) -> Self {
        Self {
            first_day: data.first_day,
            usable_days: data.usable_days,
            resource_ids: data.resources.iter().map(|r| r.id).collect(),
        }
    }

    /// The k-th fresh slot: resources vary fastest so concurrent requests rarely touch one
    /// resource, then the ten night hours, then the days. `None` once the horizon is used up.
    fn fresh(&self, k: u64) -> Option<(i64, NaiveDateTime, NaiveDateTime)> {
        let r = self.resource_ids.len() as u64;
        let (resource, rest) = (k % r, k / r);
        let (hour, day) = (rest % NIGHT_SLOTS, 1 + rest / NIGHT_SLOTS);
        if day > self.usable_days {
            return None;
        }
        let start = self.first_day
            + chrono::Duration::days(day as i64)
            + chrono::Duration::hours(NIGHT_START_HOUR + hour as i64);
        Some((
            self.resource_ids[resource as usize],
            start,
            start + chrono::Duration::hours(1),
        ))
    }
}

/// The month windows read in turn: every month of the dataset, from its first day.
fn month_window(data: &Dataset, i: usize) -> (NaiveDateTime, NaiveDateTime) {
    let months = ((data.days / 31).max(1)) as u32;
    let from = data
        .first_day
        .checked_add_months(Months::new(i as u32 % months))
        .unwrap_or(data.first_day);
    let to = from
        .checked_add_months(Months::new(1))
        .unwrap_or(from + chrono::Duration::days(30));
    (from, to)
}

async fn availability_phase(
    args: &RunArgs,
    base: &str,
    data: &Dataset,
    resource: &BenchResource,
) -> anyhow::Result<(Summary, Duration, (usize, usize))> {
    let client = http_client(false)?;
    let token = api_token(&client, base, &data.bookers[0].0).await?;
    let url = format!("{base}/api/v1/resources/{}/availability", resource.id);
    let started = Instant::now();
    let limit = Duration::from_secs(args.read_seconds);
    let mut lat = Vec::with_capacity(args.read_requests);
    let mut intervals = (0, 0);
    for i in 0..args.read_requests {
        if started.elapsed() > limit {
            break;
        }
        let (from, to) = month_window(data, i);
        let t0 = Instant::now();
        let r = client
            .get(&url)
            .bearer_auth(&token)
            .query(&[("from", rfc3339(from)), ("to", rfc3339(to))])
            .query(&args.min_quantity.map(|q| [("min_quantity", q)]))
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        lat.push(t0.elapsed());
        if !status.is_success() {
            bail!(
                "GET availability answered {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        if i == 0 {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            intervals = (v["free"].as_array().map_or(0, Vec::len), body.len());
        }
    }
    Ok((Summary::of(lat), started.elapsed(), intervals))
}

/// The same use case called in this process, without HTTP: what the server spends on it
/// (queries, free-interval computation, JSON encoding), minus the network and axum.
fn availability_in_process(
    args: &RunArgs,
    db: &Db,
    data: &Dataset,
    resource: &BenchResource,
    env: &BookingEnv,
) -> anyhow::Result<Summary> {
    let mut conn = db.get().map_err(detail)?;
    let started = Instant::now();
    let limit = Duration::from_secs(args.read_seconds);
    let mut lat = Vec::with_capacity(args.read_requests);
    for i in 0..args.read_requests {
        if started.elapsed() > limit {
            break;
        }
        let (from, to) = month_window(data, i);
        let t0 = Instant::now();
        let window = Interval {
            start: from.and_utc(),
            end: to.and_utc(),
        };
        let out = booking_app::availability_on(
            &mut conn,
            ResourceId(resource.id),
            window,
            env,
            args.min_quantity,
        )
        .map_err(detail)?;
        let body = serde_json::to_vec(&out)?;
        lat.push(t0.elapsed());
        std::hint::black_box(body);
    }
    Ok(Summary::of(lat))
}

/// The hidden `_csrf` input of the sign-in form.
pub(super) fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\"")?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let value = &tag[v..v + tag[v..].find('"')?];
    (value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit())).then(|| value.to_string())
}

async fn week_phase(
    args: &RunArgs,
    base: &str,
    data: &Dataset,
    resource: &BenchResource,
) -> anyhow::Result<WeekResult> {
    let client = http_client(true)?;
    let form = client.get(format!("{base}/login")).send().await?;
    let status = form.status();
    let html = form.text().await?;
    let csrf = csrf_of(&html)
        .with_context(|| format!("GET /login ({status}) has no 64-hex `_csrf` input"))?;
    let email = &data.bookers[0].0;
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email.as_str()),
            ("password", BENCH_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await?;
    let signed_in = r.status() == reqwest::StatusCode::SEE_OTHER
        && r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|s| s.starts_with("mutualise_session="))
            });
    if !signed_in {
        bail!(
            "POST /login as {email} answered {} without a session cookie",
            r.status()
        );
    }
    let url = format!("{base}/resources/{}/week", resource.id);
    let week_of = |i: usize| {
        (data.first_day.date() + chrono::Days::new(7 * (i as u64 % (data.days as u64 / 7).max(1))))
            .format("%Y-%m-%d")
            .to_string()
    };
    let first = client
        .get(&url)
        .query(&[("date", week_of(0))])
        .send()
        .await?;
    let status = first.status();
    let _ = first.bytes().await?;
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(WeekResult::NotAvailable(404));
    }
    if !status.is_success() {
        bail!("GET {url} answered {status}");
    }
    let started = Instant::now();
    let limit = Duration::from_secs(args.read_seconds);
    let mut lat = Vec::with_capacity(args.read_requests);
    for i in 0..args.read_requests {
        if started.elapsed() > limit {
            break;
        }
        let t0 = Instant::now();
        let r = client
            .get(&url)
            .query(&[("date", week_of(i))])
            .send()
            .await?;
        let status = r.status();
        let _ = r.bytes().await?;
        lat.push(t0.elapsed());
        if !status.is_success() {
            bail!("GET {url} answered {status}");
        }
    }
    Ok(WeekResult::Measured(Summary::of(lat), started.elapsed()))
}

// ---- the table ----

fn opt_mb(bytes: Option<u64>) -> String {
    bytes.map(mb).unwrap_or_else(|| "n/a".into())
}

pub(super) fn verdict(ok: bool) -> String {
    if ok {
        "ok".into()
    } else {
        "MISSED".into()
    }
}

/// A row of timings alone (an in-process measure beside the scenario above it): its count
/// and latencies, no rate and no target.
pub(super) fn timed_row(name: &str, lat: &Summary) -> Vec<String> {
    row(
        name.to_string(),
        lat.count.to_string(),
        String::new(),
        Some(lat),
        "",
        String::new(),
    )
}

/// One table row: name, request count, rate, latencies (or blanks), target, verdict.
pub(super) fn row(
    name: String,
    count: String,
    rate: String,
    lat: Option<&Summary>,
    target: &str,
    verdict: String,
) -> Vec<String> {
    let l = |f: fn(&Summary) -> Duration| lat.map(|s| ms(f(s))).unwrap_or_default();
    vec![
        name,
        count,
        rate,
        l(|s| s.p50),
        l(|s| s.p95),
        l(|s| s.p99),
        l(|s| s.max),
        target.to_string(),
        verdict,
    ]
}

/// How the 409 answers of a creation phase split by code: "conflict 12, labour_limit 30".
pub(super) fn refusal_codes(c: &CreateResult) -> String {
    if c.refusals.is_empty() {
        return "none".into();
    }
    c.refusals
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn general_rows(
    args: &RunArgs,
    g: &GeneralReport,
    rows: &mut Vec<Vec<String>>,
    notes: &mut Vec<String>,
) -> f64 {
    let c = &g.create;
    let secs = c.elapsed.as_secs_f64().max(1e-9);
    let created_per_s = c.created as f64 / secs;
    rows.push(row(
        match args.servers {
            1 => format!("create, {} clients", args.clients),
            n => format!("create, {} clients, {n} servers", args.clients),
        },
        c.latencies.count.to_string(),
        rate(c.latencies.count as f64 / secs),
        Some(&c.latencies),
        "≥ 2000 created/s, p99 < 25 ms",
        verdict(created_per_s >= 2000.0 && c.latencies.p99 < Duration::from_millis(25)),
    ));
    notes.push(format!(
        "create: 201 {} ({} created), 409 {}, other {} over {:.1} s; client-side latency of every request{}",
        c.created,
        rate(created_per_s),
        c.conflicts,
        c.other,
        secs,
        if c.exhausted { "; stopped early: the fresh night slots inside the horizon were used up" } else { "" }
    ));
    notes.extend(c.cpu_note("create"));
    for s in &c.samples_other {
        notes.push(format!("create: unexpected answer {s}"));
    }

    let (a, a_elapsed, (intervals, bytes)) = &g.availability;
    rows.push(row(
        "availability, 1 month".into(),
        a.count.to_string(),
        rate(a.count as f64 / a_elapsed.as_secs_f64().max(1e-9)),
        Some(a),
        "p50 < 2 ms",
        verdict(a.p50 < Duration::from_millis(2)),
    ));
    rows.push(timed_row("  same, in-process", &g.availability_in_process));
    notes.push(format!(
        "availability: client-side on loopback, 1 client ({intervals} free intervals, {bytes} bytes, in the first month{}); \"in-process\" calls the same use case without HTTP (queries, computation, JSON), an estimate of the server-side time",
        args.min_quantity.map(|q| format!(", min_quantity={q}")).unwrap_or_default()
    ));

    match &g.week {
        WeekResult::Measured(w, elapsed) => {
            rows.push(row(
                "week page (HTML)".into(),
                w.count.to_string(),
                rate(w.count as f64 / elapsed.as_secs_f64().max(1e-9)),
                Some(w),
                "p99 < 15 ms",
                verdict(w.p99 < Duration::from_millis(15)),
            ));
            notes.push("week page: client-side on loopback, 1 client signed in through /login (session cookie)".into());
        }
        WeekResult::NotAvailable(status) => {
            rows.push(row(
                "week page (HTML)".into(),
                "0".into(),
                String::new(),
                None,
                "p99 < 15 ms",
                format!("not available ({status})"),
            ));
            notes.push(format!(
                "week page: not available ({status}): this build has no /resources/{{id}}/week"
            ));
        }
    }
    created_per_s
}

fn print_report(
    args: &RunArgs,
    config: &Config,
    general: Option<(&Dataset, &BenchResource)>,
    staff: Option<&StaffData>,
    r: &Report,
) {
    let backend = match &config.database_url {
        DatabaseUrl::Sqlite(p) => format!("SQLite {p}"),
        DatabaseUrl::Postgres(_) => "PostgreSQL".to_string(),
    };
    let header = [
        "scenario", "requests", "rate", "p50", "p95", "p99", "max", "target", "",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    let mut notes = Vec::new();

    let mut created_per_s = None;
    if let Some(g) = &r.general {
        created_per_s = Some(general_rows(args, g, &mut rows, &mut notes));
    }
    if let (Some(data), Some(result)) = (staff, &r.staff) {
        staff_run::rows(args, data, result, &mut rows, &mut notes);
    }

    let raw_rate = r.raw.per_second();
    rows.push(row(
        "raw insert, 1 writer".into(),
        r.raw.inserts.to_string(),
        rate(raw_rate),
        None,
        "reference",
        String::new(),
    ));
    if let Some(created_per_s) = created_per_s {
        rows.push(row(
            "creates ÷ raw inserts".into(),
            String::new(),
            format!("{:.2}", created_per_s / raw_rate.max(1e-9)),
            None,
            "",
            String::new(),
        ));
    }
    notes.push(format!(
        "raw insert: single-row INSERT transactions one after the other, {}; the ratio is created/s over raw inserts/s",
        r.raw.setting
    ));

    let rss = r.rss_peak.or(r.rss_hwm);
    let mut memory = row(
        "server RSS, peak".into(),
        String::new(),
        String::new(),
        None,
        "< 100 MB",
        rss.map(|b| verdict(b < 100_000_000)).unwrap_or_default(),
    );
    memory[6] = opt_mb(rss);
    rows.push(memory);
    notes.push(format!(
        "memory: VmRSS of the server child sampled every 50 ms, peak {}, VmHWM {}; peak by phase: {}",
        opt_mb(r.rss_peak),
        opt_mb(r.rss_hwm),
        r.rss_phases
            .iter()
            .map(|(name, b)| format!("{name} {}", opt_mb(*b)))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    if let Some((peak, idle)) = r.wal {
        let limit = config.sqlite_wal_limit_bytes;
        let mut wal = row(
            "SQLite WAL file, peak".into(),
            String::new(),
            String::new(),
            None,
            &format!("< {} MB", limit / (1024 * 1024)),
            verdict(peak < limit),
        );
        wal[6] = opt_mb(Some(peak));
        rows.push(wal);
        notes.push(format!(
            "WAL: file size sampled every 50 ms, peak {}; 2 s after the load {}",
            opt_mb(Some(peak)),
            opt_mb(Some(idle))
        ));
    }

    println!();
    match general {
        Some((data, resource)) => println!(
            "Mutualise bench — {backend}: {} bookings, {} resources, {} days; read scenarios on « {} » (id {}).",
            data.bookings,
            data.resources.len(),
            data.days,
            resource.name,
            resource.id
        ),
        None => println!("Mutualise bench — {backend}: staff scenarios."),
    }
    if let Some(s) = staff {
        println!(
            "Employer group: {} employees ({} with the skill of the week grid), {} assignments over {} weeks from {}.",
            s.employees.len(),
            r.staff.as_ref().map_or(0, |x| x.grid_employees),
            s.assignments,
            s.weeks,
            s.first_monday
        );
    }
    println!("{}", table(&rows));
    for n in notes {
        println!("  - {n}");
    }
    println!(
        "  - {} bookings made by this run were deleted afterwards: the dataset is as seeded.",
        r.created_rows
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_read_from_the_hidden_input() {
        let token = "ab".repeat(32);
        let html = format!(
            r#"<form><input type="hidden" name="_csrf" value="{token}"><input name="email"></form>"#
        );
        assert_eq!(csrf_of(&html), Some(token));
        assert_eq!(csrf_of(r#"<input name="_csrf" value="short">"#), None);
        assert_eq!(csrf_of("<p>nothing</p>"), None);
    }
}
