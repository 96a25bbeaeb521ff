//! `mutualise bench allocation`: how long a month's allocation takes, and how it grows with
//! the number of bookings. Each size gets a fresh database of its own at DATABASE_URL's
//! backend (a SQLite file next to the given path, or a new PostgreSQL database): members with
//! surfaces and headcounts, resources of every kind in two pools with tariffs, a month of
//! bookings (some cancelled, some of them late) and cost entries under every key. It then
//! times, in process, the whole allocation (median and worst of several runs), one member's
//! statement of the open month, the close, and one member's statement once closed.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::app::allocation::{self, CostInput};
use crate::app::authz::Actor;
use crate::app::{months, App};
use crate::config::{Config, DatabaseUrl};
use crate::domain::allocation::{BlendPart, KeySpec, Method};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour::Activity;
use crate::domain::member::MemberInput;
use crate::domain::month::Month;
use crate::domain::resource::{ResourceInput, ResourceKind, TariffInput};
use crate::domain::status::BookingStatus;
use crate::store::bookings::{insert, NewBooking};
use crate::store::{members as member_store, resources as resource_store, to_db};

#[derive(Debug, clap::Args)]
pub struct AllocationArgs {
    /// Bookings in the month, one size per value.
    #[arg(long, value_delimiter = ',', default_value = "50000,200000")]
    pub bookings: Vec<usize>,
    #[arg(long, default_value_t = 200)]
    pub members: usize,
    #[arg(long, default_value_t = 100)]
    pub resources: usize,
    /// Timed runs of the allocation per size.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

const MONTH: &str = "2027-03";

pub fn main(args: AllocationArgs, config: Config) -> anyhow::Result<()> {
    println!(
        "Répartition d'un mois : {} membres, {} ressources, backend {}",
        args.members,
        args.resources,
        backend_name(&config.database_url)
    );
    println!(
        "{:>10}  {:>14}  {:>14}  {:>16}  {:>10}  {:>16}",
        "bookings", "répartition", "(pire)", "relevé (ouvert)", "clôture", "relevé (clos)"
    );
    for (i, n) in args.bookings.iter().copied().enumerate() {
        let url = fresh_database(&config.database_url, i)?;
        let config = Config {
            database_url: url.clone(),
            // The month measured (March) is over, so it may be closed.
            now: Some(Utc.with_ymd_and_hms(2027, 4, 6, 8, 0, 0).unwrap()),
            ..config.clone()
        };
        let app = App::open(config)?;
        let rt = runtime()?;
        let members = rt.block_on(seed(&app, &args, n))?;
        let month: Month = MONTH.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        let op = Actor::operator();
        let mut times = Vec::new();
        for _ in 0..args.runs.max(1) {
            let t = Instant::now();
            let a = rt
                .block_on(allocation::allocation(&app, &op, month))
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            times.push(t.elapsed());
            anyhow::ensure!(
                a.problems.is_empty(),
                "cost entries not split: {:?}",
                a.problems
            );
        }
        times.sort();
        let statement = |app: &App| -> anyhow::Result<Duration> {
            let t = Instant::now();
            rt.block_on(allocation::statement(app, &op, month, members[7]))
                .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            Ok(t.elapsed())
        };
        let open = statement(&app)?;
        let t = Instant::now();
        rt.block_on(months::close(&app, &op, month))
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
        let close = t.elapsed();
        let closed = statement(&app)?;
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:>10}  {:>14}  {:>14}  {:>16}  {:>10}  {:>16}",
            n,
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
            ms(open),
            ms(close),
            ms(closed)
        );
        drop(app);
        drop_database(&url);
    }
    Ok(())
}

/// `postgres://host/db?query` as (`postgres://host`, `db`, `?query`).
fn pg_parts(url: &str) -> (&str, &str, &str) {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (head, name) = base.rsplit_once('/').unwrap_or((base, ""));
    (head, name, query)
}

/// Removes a size's database once measured (best effort).
pub(super) fn drop_database(url: &DatabaseUrl) {
    match url {
        DatabaseUrl::Sqlite(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        DatabaseUrl::Postgres(u) => {
            use diesel::{Connection, RunQueryDsl};
            let (head, name, query) = pg_parts(u);
            if let Ok(mut c) = diesel::PgConnection::establish(&format!("{head}/postgres{query}")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

/// Runs `measure` on a new empty database of the backend of `base` (`fresh_database(base, i)`)
/// and drops the database afterwards, whatever the outcome. Whatever `measure` opened on it
/// (a runtime, a pool) is closed by then.
pub(super) fn on_fresh_database<T>(
    base: &DatabaseUrl,
    i: usize,
    measure: impl FnOnce(&DatabaseUrl) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let url = fresh_database(base, i)?;
    let result = measure(&url);
    drop_database(&url);
    result
}

/// The backend's name as the benchmarks print it.
pub(super) fn backend_name(url: &DatabaseUrl) -> &'static str {
    match url {
        DatabaseUrl::Sqlite(_) => "SQLite",
        DatabaseUrl::Postgres(_) => "PostgreSQL",
    }
}

/// The runtime the benchmarks drive the service with: two workers, the machine's cores.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A new empty database for size number `i`, on the backend of `base`.
pub(super) fn fresh_database(base: &DatabaseUrl, i: usize) -> anyhow::Result<DatabaseUrl> {
    let stamp = std::process::id();
    Ok(match base {
        DatabaseUrl::Sqlite(path) => {
            let p = format!("{path}.allocation-{stamp}-{i}.db");
            let _ = std::fs::remove_file(&p);
            DatabaseUrl::Sqlite(p)
        }
        DatabaseUrl::Postgres(url) => {
            use diesel::{Connection, RunQueryDsl};
            let name = format!("mutualise_bench_alloc_{stamp}_{i}");
            let mut c = diesel::PgConnection::establish(url)?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c)?;
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
            let (head, _, query) = pg_parts(url);
            DatabaseUrl::Postgres(format!("{head}/{name}{query}"))
        }
    })
}

async fn seed(app: &App, args: &AllocationArgs, bookings: usize) -> anyhow::Result<Vec<MemberId>> {
    let (members, resources) = (args.members, args.resources);
    let mut rng = StdRng::seed_from_u64(7);
    let now = to_db(app.now());
    let categories = ["standard", "standard", "standard", "insertion", "solidaire"];
    let mut member_inputs = Vec::new();
    for i in 0..members {
        member_inputs.push(MemberInput {
            name: format!("Membre {i:03}"),
            legal_form: "association".into(),
            pricing_category: categories[i % categories.len()].into(),
            siret: None,
            email: None,
            headcount: f64::from(rng.gen_range(0..400)) / 10.0,
            turnover_cents: rng.gen_range(0..100_000_000),
            surface_m2: rng.gen_range(0..300),
            active: true,
        });
    }
    let kinds = [
        ResourceKind::Room,
        ResourceKind::Desk,
        ResourceKind::Vehicle,
        ResourceKind::Equipment,
    ];
    let mut resource_inputs = Vec::new();
    for i in 0..resources {
        let kind = kinds[i % kinds.len()];
        resource_inputs.push(ResourceInput {
            capacity: if kind == ResourceKind::Desk { 12 } else { 1 },
            pool: Some(
                if kind == ResourceKind::Vehicle {
                    "flotte"
                } else {
                    "bâtiment"
                }
                .into(),
            ),
            tariff: TariffInput {
                hourly_cents: rng.gen_range(100..3_000),
                daily_cap_cents: Some(rng.gen_range(3_000..20_000)),
                per_km_cents: None,
                billing_unit_minutes: [15, 30, 60][i % 3],
            },
            ..ResourceInput::new(kind, &format!("Ressource {i:03}"))
        });
    }
    let (member_ids, resource_ids) = app
        .db()
        .write(move |c| {
            let mut m = Vec::new();
            for input in &member_inputs {
                let d = input
                    .validate()
                    .map_err(crate::error::AppError::Validation)?;
                m.push(member_store::insert(c, &d, now)?.id);
            }
            let mut r = Vec::new();
            for input in &resource_inputs {
                let d = input
                    .validate()
                    .map_err(crate::error::AppError::Validation)?;
                r.push(resource_store::insert(c, &d, now)?.row.id);
            }
            Ok((m, r))
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    // Bookings of 30 min to 8 h starting in March (local time is UTC+1 until the 28th):
    // rules are not checked, only what the allocation reads matters.
    let day0 = NaiveDate::from_ymd_opt(2027, 3, 1)
        .unwrap()
        .and_hms_opt(7, 0, 0)
        .unwrap();
    let rows: Vec<(ResourceId, MemberId, i64, i64, i32, BookingStatus, u8)> = (0..bookings)
        .map(|_| {
            let r = resource_ids[rng.gen_range(0..resource_ids.len())];
            let m = member_ids[rng.gen_range(0..member_ids.len())];
            let start = rng.gen_range(0..30 * 24 * 4) * 15;
            let len = rng.gen_range(2..32) * 15;
            let status = if rng.gen_ratio(1, 20) {
                BookingStatus::Cancelled
            } else {
                BookingStatus::Confirmed
            };
            (
                r,
                m,
                start,
                len,
                rng.gen_range(1..3),
                status,
                rng.gen_range(0..3),
            )
        })
        .collect();
    for chunk in rows.chunks(20_000) {
        let chunk = chunk.to_vec();
        app.db()
            .write(move |c| {
                for (r, m, start, len, q, status, late) in &chunk {
                    let s = day0 + chrono::Duration::minutes(*start);
                    let e = s + chrono::Duration::minutes(*len);
                    let row = insert(
                        c,
                        &NewBooking {
                            resource_id: *r,
                            member_id: *m,
                            created_by: None,
                            series_id: None,
                            start_at: s,
                            end_at: e,
                            block_start_at: s,
                            block_end_at: e,
                            quantity: *q,
                            exclusive: false,
                            status: *status,
                            purpose: "",
                            beneficiary: None,
                            created_at: now,
                            updated_at: now,
                            activity: Activity::Work,
                        },
                    )?;
                    if *status == BookingStatus::Cancelled {
                        // A third of the cancellations came less than a day before the start.
                        let at = if *late == 0 {
                            s - chrono::Duration::hours(3)
                        } else {
                            s - chrono::Duration::days(3)
                        };
                        use crate::store::schema::bookings::dsl as b;
                        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
                        crate::db_run!(c => diesel::update(b::bookings.find(row.id))
                            .set(b::cancelled_at.eq(Some(at)))
                            .execute(c))?;
                    }
                }
                Ok(())
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    }
    // Cancellation instants were written past the store.
    app.db()
        .write(crate::store::allocation::forget_all_usage)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    let month: Month = MONTH.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let op = Actor::operator();
    let simple = |label: &str, cents: i64, pool: Option<&str>, method: Method| CostInput {
        month,
        label: label.into(),
        amount_cents: cents,
        resource_id: None,
        pool: pool.map(str::to_string),
        recurring: true,
        until: None,
        key: KeySpec::simple(method),
    };
    let mut costs = vec![
        simple("Loyer", 1_250_000, Some("bâtiment"), Method::Surface),
        simple(
            "Assurance flotte",
            180_000,
            Some("flotte"),
            Method::UsageHours,
        ),
        simple("Internet", 12_000, None, Method::Equal),
        simple("Comptabilité", 90_000, None, Method::Turnover),
        simple("Médecine du travail", 40_000, None, Method::Headcount),
    ];
    costs.push(CostInput {
        key: KeySpec {
            method: Method::Blend,
            parts: vec![
                BlendPart {
                    weight_percent: 50.0,
                    key: KeySpec::simple(Method::Surface),
                },
                BlendPart {
                    weight_percent: 50.0,
                    key: KeySpec::simple(Method::UsageHours),
                },
            ],
            ..KeySpec::simple(Method::Blend)
        },
        ..simple("Chauffage", 310_000, Some("bâtiment"), Method::Blend)
    });
    for (i, r) in resource_ids.iter().enumerate().take(20) {
        costs.push(CostInput {
            resource_id: Some(*r),
            pool: None,
            ..simple(
                &format!("Entretien ressource {i}"),
                5_000 + i as i64 * 137,
                None,
                Method::UsageHours,
            )
        });
    }
    for c in costs {
        allocation::create_cost(app, &op, c)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    }
    Ok(member_ids)
}
