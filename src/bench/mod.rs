//! `mutualise bench`: a dense, valid dataset (`seed`) and a measured run of the real service
//! against it (`run`). Benchmarks live here, never as timed assertions in tests (DESIGN §7).
//!
//! `seed` writes straight through diesel (multi-row inserts in large transactions) because
//! going through HTTP would take hours for a million rows and measure nothing useful; `run`
//! then talks to a `mutualise serve` child process over loopback HTTP only, like a client.

pub mod allocation;
pub mod dashboard;
pub mod notifications;
pub mod pages;
pub mod queries;
pub mod raw;
pub mod run;
pub mod seed;
pub mod soak;
pub mod staff;
mod staff_run;
pub mod stats;

use clap::Subcommand;

use crate::config::Config;

/// Password of every account `bench seed` creates. Public on purpose: a bench dataset is
/// throw-away and `seed` refuses a database that already holds bookings.
pub const BENCH_PASSWORD: &str = "mutualise-bench";
/// Every address of the bench dataset (accounts, members' contacts) is in this domain: `run`
/// deletes the messages it queued to them with the bookings it made.
pub const BENCH_EMAIL_DOMAIN: &str = "bench.mutualise.test";
/// Accounts created by `seed`: one administrator and one booker per member.
pub const BENCH_ADMIN_EMAIL: &str = "bench-admin@bench.mutualise.test";
pub fn booker_email(member_index: usize) -> String {
    format!("bench-booker-{:03}@{BENCH_EMAIL_DOMAIN}", member_index + 1)
}
/// Marks the resources `seed` created, so `run` never books anything else.
pub const BENCH_RESOURCE_DESCRIPTION: &str =
    "Jeu de données de performance (mutualise bench seed).";
/// Marks the shared employees `seed --staff` created: `run` finds the employer group's dataset
/// by it, and the general scenarios leave those resources alone.
pub const BENCH_STAFF_DESCRIPTION: &str =
    "Salarié partagé du jeu de données de performance (mutualise bench seed --staff).";
/// The employer group's manager that `seed --staff` creates (role ge_manager, member_admin of
/// the group): `run` assigns the employees and reads the planning and the ledger as them.
pub const BENCH_GE_MANAGER_EMAIL: &str = "bench-ge-manager@bench.mutualise.test";
/// Marks the bookings `run` creates: they are deleted before and after each run, so runs on
/// one dataset are comparable.
pub const BENCH_RUN_PURPOSE: &str = "mutualise bench run";

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fill the database of DATABASE_URL (it must hold no booking) with a dense, valid dataset:
    /// members, users, resources of every kind and bookings spread over several months; with
    /// --staff, also an employer group's shared employees and a year of their assignments.
    Seed(seed::SeedArgs),
    /// Start `mutualise serve` as a child process on a free loopback port against the same
    /// DATABASE_URL and measure booking creation, availability, the week page, raw insert
    /// speed and the server's memory, and for a --staff dataset the creation of assignments,
    /// the staff week grid and the monthly hours ledger; prints one table.
    Run(run::RunArgs),
    /// Time a month's allocation on fresh databases of the DATABASE_URL's backend (one per
    /// size given with --bookings): the whole month, a member's statement open and closed,
    /// the close.
    Allocation(allocation::AllocationArgs),
    /// Time the mail outbox (messages sent to a loopback SMTP server, booking creates with and
    /// without sending beside them) and the calendar feeds (render of a year's feed, requests
    /// per second for 32 polling clients, new and conditional) on a fresh database of the
    /// DATABASE_URL's backend.
    Notifications(notifications::NotificationsArgs),
    /// Time the home page of every demonstration account on a fresh database of the
    /// DATABASE_URL's backend filled by `mutualise demo`: the dashboard's use case alone and
    /// the whole `GET /` over loopback HTTP (median and worst).
    Dashboard(dashboard::DashboardArgs),
    /// Time the main pages of the demonstration pole, as each demo role, over loopback HTTP
    /// on a fresh database of the DATABASE_URL's backend.
    Pages(pages::PagesArgs),
    /// Start `mutualise serve` as a child process against the seeded database of
    /// DATABASE_URL and run a mixed load (bookings created, moved and cancelled, availability
    /// and week pages read) for --minutes (default 10), printing every minute the throughput,
    /// the latency percentiles, the server's memory and the WAL's size, then their drift.
    Soak(soak::SoakArgs),
}

pub fn main(command: BenchCommand, config: Config) -> anyhow::Result<()> {
    // The default database is the one `serve` uses: never fill it with a million test
    // bookings by accident.
    if !std::env::var("DATABASE_URL").is_ok_and(|v| !v.trim().is_empty()) {
        anyhow::bail!(
            "set DATABASE_URL explicitly for bench commands (a SQLite path such as /tmp/bench.db, or postgres://…): they write test data"
        );
    }
    match command {
        BenchCommand::Seed(args) => seed::main(args, config),
        BenchCommand::Run(args) => run::main(args, config),
        BenchCommand::Allocation(args) => allocation::main(args, config),
        BenchCommand::Notifications(args) => notifications::main(args, config),
        BenchCommand::Dashboard(args) => dashboard::main(args, config),
        BenchCommand::Pages(args) => pages::main(args, config),
        BenchCommand::Soak(args) => soak::main(args, config),
    }
}
