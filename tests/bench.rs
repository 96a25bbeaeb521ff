//! `bench seed` builds its dataset without asking the booking rules, so this checks by brute
//! force that what it writes obeys them: the capacity rule, zero buffers, the bounds that
//! keep overlap queries correct, and for the employer group of `--staff` working-time law and
//! the agreements. SQLite always; PostgreSQL too when TEST_POSTGRES_URL is set.

mod common;

use chrono::{NaiveDate, Timelike};
use mutualise::bench::seed::{seed, SeedOptions};
use mutualise::bench::staff::StaffOptions;
use mutualise::config::DatabaseUrl;
use mutualise::domain::employee::may_work_for;
use mutualise::domain::ids::ResourceId;
use mutualise::domain::labour::{self, Activity, Employee, Shift};
use mutualise::domain::resource::ResourceKind;
use mutualise::domain::status::BookingStatus;
use mutualise::domain::time::Interval;
use mutualise::store::bookings::{self, BookingFilter};
use mutualise::store::employees;
use mutualise::store::resources::{self, ResourceFilter};
use mutualise::store::Db;

fn options(resources: usize) -> SeedOptions {
    SeedOptions {
        bookings: 2_000,
        resources,
        members: 6,
        months: 1,
        start: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
        rng_seed: 3,
        staff: None,
    }
}

/// Seeds and checks one database: every kind of resource (10), then a dense pair (a
/// coworking space and a room, ~5 bookings a day on each desk and on the room).
fn seed_and_check(url: DatabaseUrl, resources: usize) {
    let db = Db::connect(&url).expect("open database");
    let opts = options(resources);
    let report = seed(&db, &opts, &mut |_, _, _| {}).expect("seed");
    assert_eq!(report.bookings, 2_000);
    assert!(report.cancelled > 0, "some bookings are cancelled");

    let mut conn = db.get().unwrap();
    let all = bookings::list(&mut conn, &BookingFilter::default(), None, 100_000).unwrap();
    assert_eq!(all.len(), 2_000);
    let catalogue = resources::list(
        &mut conn,
        &ResourceFilter {
            include_archived: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(catalogue.len(), resources);
    let first = opts.start.and_hms_opt(0, 0, 0).unwrap();
    for r in &catalogue {
        let row = &r.row;
        assert!(r.opening_hours.is_empty(), "always open");
        assert_eq!(
            (row.buffer_before_minutes, row.buffer_after_minutes),
            (0, 0)
        );
        let mine: Vec<_> = all.iter().filter(|b| b.resource_id == row.id).collect();
        assert!(!mine.is_empty(), "{} has bookings", row.name);
        let longest = mine
            .iter()
            .map(|b| (b.block_end_at - b.block_start_at).num_minutes())
            .max()
            .unwrap();
        assert!(
            i64::from(row.longest_block_minutes) >= longest,
            "{}: longest_block_minutes {} < {longest}",
            row.name,
            row.longest_block_minutes
        );
        for b in &mine {
            assert_eq!((b.block_start_at, b.block_end_at), (b.start_at, b.end_at));
            assert_eq!(b.exclusive, row.capacity == 1);
            let minutes = (b.end_at - b.start_at).num_minutes();
            assert!((30..=240).contains(&minutes), "duration {minutes}");
            assert!(b.start_at >= first && b.quantity >= 1);
            // Daytime only: the nights stay free for `bench run`.
            assert!(b.start_at.hour() >= 6 && b.end_at.date() == b.start_at.date());
            assert!(b.end_at.hour() < 20 || (b.end_at.hour(), b.end_at.minute()) == (20, 0));
            assert!(["confirmed", "cancelled"].contains(&b.status.as_str()));
        }
        // The capacity rule, brute force: the load is highest at some booking's start, so
        // checking every start checks every instant.
        let active: Vec<_> = mine.iter().filter(|b| b.status.is_active()).collect();
        for b in &active {
            let load: i32 = active
                .iter()
                .filter(|o| {
                    o.block_start_at <= b.block_start_at && b.block_start_at < o.block_end_at
                })
                .map(|o| o.quantity)
                .sum();
            assert!(
                load <= row.capacity,
                "{} holds {load} units at {} for a capacity of {}",
                row.name,
                b.start_at,
                row.capacity
            );
        }
    }
    let kinds: std::collections::BTreeSet<&str> =
        catalogue.iter().map(|r| r.row.kind.as_str()).collect();
    if resources >= 10 {
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["desk", "equipment", "room", "vehicle"]
        );
        assert!(
            all.iter().any(|b| b.quantity > 1),
            "pools take several units"
        );
    }
    drop(conn);
    let again = seed(&db, &opts, &mut |_, _, _| {}).unwrap_err();
    assert!(
        again.to_string().contains("already holds 2000 bookings"),
        "{again}"
    );
}

#[test]
fn seeded_data_respects_the_capacity_rule_on_sqlite() {
    for resources in [10, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.db");
        seed_and_check(
            DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
            resources,
        );
    }
}

#[test]
fn seeded_data_respects_the_capacity_rule_on_postgres() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let database = common::create_pg_database(&admin);
    seed_and_check(DatabaseUrl::Postgres(database.url.clone()), 10);
}

#[test]
fn too_many_bookings_for_the_catalogue_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into_owned())).unwrap();
    let opts = SeedOptions {
        bookings: 1_000_000,
        resources: 1,
        ..options(1)
    };
    let e = seed(&db, &opts, &mut |_, _, _| {}).unwrap_err().to_string();
    assert!(e.contains("cannot fit"), "{e}");
    let mut conn = db.get().unwrap();
    assert_eq!(mutualise::store::members::count(&mut conn).unwrap(), 0);
}

#[test]
fn bench_commands_have_help_and_need_an_explicit_database() {
    use std::process::Command;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run mutualise")
    };
    for args in [
        &["bench", "--help"][..],
        &["bench", "seed", "--help"],
        &["bench", "run", "--help"],
        &["bench", "allocation", "--help"],
    ] {
        let o = run(args);
        assert!(o.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let o = run(&["bench", "seed", "--bookings", "10"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("DATABASE_URL"));
}

/// A small employer group: 12 employees, 8 members (6 seeded, 2 more created), 20 weeks.
fn staff_options() -> SeedOptions {
    SeedOptions {
        bookings: 200,
        members: 6,
        staff: Some(StaffOptions {
            employees: 12,
            members: 8,
            weeks: 20,
            tz: chrono_tz::Europe::Paris,
        }),
        ..options(2)
    }
}

fn seed_staff_and_check(url: DatabaseUrl) {
    let db = Db::connect(&url).expect("open database");
    let opts = staff_options();
    let report = seed(&db, &opts, &mut |_, _, _| {}).expect("seed");
    let st = report.staff.expect("staff report");
    assert_eq!((st.employees, st.members, st.members_created), (12, 8, 2));
    assert_eq!(st.with_shared_skill, 6);
    assert!(
        st.work > 500 && st.training > 0 && st.absences > 0,
        "{st:?}"
    );

    let mut conn = db.get().unwrap();
    let staff = resources::list(
        &mut conn,
        &ResourceFilter {
            kind: Some(ResourceKind::Staff),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(staff.len(), 12);
    let ids: Vec<ResourceId> = staff.iter().map(|r| r.row.id).collect();
    let facts = employees::find_many(&mut conn, &ids).unwrap();
    let rows = bookings::list(
        &mut conn,
        &BookingFilter {
            resource_ids: Some(ids.clone()),
            ..Default::default()
        },
        None,
        100_000,
    )
    .unwrap();
    assert_eq!(rows.len() as u64, st.rows());
    for (r, f) in staff.iter().zip(&facts) {
        let row = &r.row;
        assert_eq!(row.employer_member_id, Some(st.group));
        assert_eq!(row.capacity, 1);
        let mine: Vec<_> = rows.iter().filter(|b| b.resource_id == row.id).collect();
        assert!(!mine.is_empty(), "{} has assignments", row.name);
        let longest = mine
            .iter()
            .map(|b| (b.block_end_at - b.block_start_at).num_minutes())
            .max()
            .unwrap();
        assert!(
            i64::from(row.longest_block_minutes) > longest,
            "{}: longest_block_minutes {} for a block of {longest}",
            row.name,
            row.longest_block_minutes
        );
        let mut shifts = Vec::new();
        for b in &mine {
            assert_eq!((b.block_start_at, b.block_end_at), (b.start_at, b.end_at));
            assert!(b.exclusive && b.quantity == 1 && b.status == BookingStatus::Confirmed);
            match b.activity {
                Activity::Work => assert!(
                    may_work_for(&f.agreement_member_ids, row.employer_member_id, b.member_id)
                        && b.member_id != st.group,
                    "{}: work for member {:?} outside the agreements",
                    row.name,
                    b.member_id
                ),
                _ => assert_eq!(b.member_id, st.group, "training and absences at the group"),
            }
            shifts.push(Shift {
                id: b.id.0,
                interval: Interval::new(b.start_at.and_utc(), b.end_at.and_utc()).unwrap(),
                activity: b.activity,
            });
        }
        // Working-time law, brute force: the whole year proposed at once breaks nothing.
        let employee = Employee {
            birth_date: f.birth_date,
            weekly_contract_minutes: row.weekly_contract_minutes.unwrap(),
        };
        let verdict = labour::check(&employee, &[], &shifts, chrono_tz::Europe::Paris);
        assert!(
            verdict.is_accepted(),
            "{}: {:?}",
            row.name,
            verdict.violations
        );
    }
    // The general dataset is untouched by the group.
    let general = bookings::count(&mut conn, &BookingFilter::default()).unwrap();
    assert_eq!(general as u64, 200 + st.rows());
}

#[test]
fn seeded_staff_obey_working_time_law_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    seed_staff_and_check(DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()));
}

#[test]
fn seeded_staff_obey_working_time_law_on_postgres() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let database = common::create_pg_database(&admin);
    seed_staff_and_check(DatabaseUrl::Postgres(database.url.clone()));
}

/// `bench seed --staff` then `bench run --scenarios staff` end to end on a tiny group, through
/// the binary (the run starts `mutualise serve` as a child). Nothing is timed: the figures are
/// printed, only the shape of the report and the clean-up are checked.
#[test]
fn bench_run_measures_the_staff_scenarios() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(args)
            .env("DATABASE_URL", &path)
            .env("RUST_LOG", "warn")
            .env_remove("MUTUALISE_NOW")
            .output()
            .expect("run mutualise");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{args:?}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let seeded = run(&[
        "bench",
        "seed",
        "--bookings",
        "0",
        "--resources",
        "1",
        "--members",
        "4",
        "--staff",
        "--employees",
        "6",
        "--staff-members",
        "5",
        "--staff-weeks",
        "20",
    ]);
    assert!(seeded.contains("6 employees (3 with the skill"), "{seeded}");
    let out = run(&[
        "bench",
        "run",
        "--scenarios",
        "staff",
        "--clients",
        "2",
        "--seconds",
        "1",
        "--read-requests",
        "3",
        "--raw-seconds",
        "1",
    ]);
    for expected in [
        "staff create, 2 clients",
        "201 created",
        "staff week grid, 3 employees",
        "staff ledger, 1 month",
        "raw insert",
    ] {
        assert!(out.contains(expected), "missing « {expected} » in:\n{out}");
    }
    assert!(!out.contains("unexpected answer"), "{out}");
    let db = Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into_owned())).unwrap();
    let mut conn = db.get().unwrap();
    let left = bookings::count(&mut conn, &BookingFilter::default()).unwrap();
    let staff_rows: u64 = seeded
        .lines()
        .find(|l| l.starts_with("Employer group"))
        .and_then(|l| l.split(" assignments (").next())
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("assignment count printed");
    assert_eq!(left as u64, staff_rows, "the run deleted what it created");
}

/// Runs `mutualise bench ARGS` on a SQLite file in a fresh folder; its standard output, and
/// the folder (to check the command removed its database).
fn run_bench(args: &[&str], file: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join(file).to_string_lossy().to_string();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mutualise"))
        .arg("bench")
        .args(args)
        .env("DATABASE_URL", &base)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mutualise");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (out, dir)
}

/// `bench allocation` on small sizes: it seeds, allocates, closes and cleans up after itself.
#[test]
fn bench_allocation_measures_small_months() {
    let (out, dir) = run_bench(
        &[
            "allocation",
            "--bookings",
            "300,600",
            "--members",
            "12",
            "--resources",
            "8",
            "--runs",
            "1",
        ],
        "alloc.db",
    );
    assert!(
        out.contains("300") && out.contains("600") && out.contains(" ms"),
        "{out}"
    );
    // Each size's database is removed once measured.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `bench notifications` on a small run: the messages queued all reach its SMTP server, the
/// feeds answer, and its database is removed afterwards.
#[test]
fn bench_notifications_measures_mail_and_feeds() {
    let (out, dir) = run_bench(
        &[
            "notifications",
            "--mails",
            "40",
            "--seconds",
            "1",
            "--clients",
            "4",
        ],
        "notif.db",
    );
    for row in [
        "40 courriels en file envoyés",
        "2000 événements",
        "304 (If-None-Match)",
    ] {
        assert!(out.contains(row), "{row} missing:\n{out}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `bench dashboard` on a few runs: every demonstration account's home page answers, timed,
/// and its database is removed afterwards.
#[test]
fn bench_dashboard_times_every_demo_account() {
    let (out, dir) = run_bench(&["dashboard", "--runs", "3"], "dash.db");
    for account in [
        "admin@demo.mutualise.coop",
        "gestion@demo.mutualise.coop",
        "tresorerie@demo.mutualise.coop",
        "ge@demo.mutualise.coop",
        "benevole@jardins.demo.mutualise.coop",
    ] {
        assert!(out.contains(account), "{account} missing:\n{out}");
    }
    assert!(out.contains(" ms"), "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `bench soak --seconds 5` on a small seeded SQLite file, through the binary: the report
/// lines, the drift line, and the run's bookings removed afterwards. Nothing is timed.
#[test]
fn bench_soak_smoke_run() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soak.db");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(args)
            .env("DATABASE_URL", &path)
            .env("RUST_LOG", "warn")
            .env_remove("MUTUALISE_NOW")
            .output()
            .expect("run mutualise");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{args:?}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    run(&[
        "bench",
        "seed",
        "--bookings",
        "2000",
        "--resources",
        "10",
        "--members",
        "4",
        "--months",
        "2",
    ]);
    let out = run(&[
        "bench",
        "soak",
        "--seconds",
        "5",
        "--report-seconds",
        "2",
        "--clients",
        "4",
    ]);
    // The report's rows are those whose first cell is a time (« 2 s »), whatever the widths.
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.split('|')
                .nth(1)
                .map(str::trim)
                .and_then(|c| c.strip_suffix(" s"))
                .is_some_and(|n| n.parse::<f64>().is_ok())
        })
        .collect();
    assert!(lines.len() >= 3, "a line every 2 s over 5 s:\n{out}");
    assert!(out.contains("drift (last line − first)"), "{out}");
    assert!(out.contains(", 0 errors."), "{out}");
    assert!(out.contains("Removed the "), "{out}");
    let db =
        mutualise::store::Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()))
            .unwrap();
    let mut conn = db.get().unwrap();
    let all = bookings::list(&mut conn, &BookingFilter::default(), None, 100_000).unwrap();
    assert_eq!(all.len(), 2_000, "the soak's bookings are removed");
}
