//! `mutualise bench seed`: a dense but valid dataset — members, users, resources of every
//! kind, and bookings that respect the capacity rule by construction.
//!
//! Each resource's capacity is cut into *tracks*: a capacity-1 room is one track of width 1,
//! a coworking space of 12 desks is 12 tracks of width 1, a pool of 100 chairs is 25 tracks
//! of width 4. Bookings on one track never overlap and take at most the track's width, so
//! at any instant the active quantities of a resource sum to at most its capacity — the rule
//! holds without checking anything, which is what lets a million rows go in within minutes.
//!
//! Bookings lie between 06:00 and 20:00 UTC, on a 15-minute grid, 30 min to 4 h long. The
//! night (20:00–06:00 UTC) stays free so `bench run` can book fresh slots next to dense days.

use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context};
use chrono::{Months, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::staff::{self, StaffOptions, StaffReport, SHARED_SKILL};
use super::{
    booker_email, BENCH_ADMIN_EMAIL, BENCH_GE_MANAGER_EMAIL, BENCH_PASSWORD,
    BENCH_RESOURCE_DESCRIPTION,
};
use crate::app::{auth, users};
use crate::config::Config;
use crate::db_run;
use crate::domain::ids::{MemberId, ResourceId, SeriesId, UserId};
use crate::domain::labour::Activity;
use crate::domain::member::MemberInput;
use crate::domain::resource::ResourceInput;
use crate::domain::status::BookingStatus;
use crate::domain::user::{MembershipInput, UserInput};
use crate::error::AppError;
use crate::store::schema::{bookings, resources};
use crate::store::{
    self, members as member_store, resources as resource_store, Backend, Db, DbConn,
};

/// First bookable quarter-hour of a day (06:00 UTC) and the length of the daytime window.
pub const DAY_OPEN_MINUTES: u32 = 6 * 60;
pub const DAY_QUARTERS: u32 = 56; // 06:00 → 20:00
pub const MIN_QUARTERS: u32 = 2; // 30 min
pub const MAX_QUARTERS: u32 = 16; // 4 h
/// Rows per INSERT statement: 1 000 × 16 columns stays under SQLite's 32 766 and
/// PostgreSQL's 65 535 bind parameters.
const ROWS_PER_STATEMENT: usize = 1_000;
/// Rows per transaction: few commits (few fsyncs), bounded memory and rollback size.
pub(super) const ROWS_PER_TRANSACTION: usize = 50_000;
/// Share of bookings stored as cancelled (they block nothing).
const CANCELLED_PER_MILLE: u32 = 60;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Bookings to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub bookings: u64,
    /// Resources to create (rooms, one coworking space, vehicles, equipment).
    #[arg(long, default_value_t = 50)]
    pub resources: usize,
    /// Months the bookings are spread over, from --start.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Member structures to create (each gets one booker account).
    #[arg(long, default_value_t = 36)]
    pub members: usize,
    /// First day of the dataset (UTC); `bench run` fixes the service's clock there.
    #[arg(long, default_value = "2027-01-04")]
    pub start: NaiveDate,
    /// Random seed: the same seed gives the same dataset.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also seed an employer group (GE / GEIQ): its shared employees, the members they work
    /// for, and a year of their assignments, all legal under working-time law.
    #[arg(long)]
    pub staff: bool,
    /// With --staff: shared employees of the group (half of them with the skill « Cariste »).
    #[arg(long, default_value_t = 200)]
    pub employees: usize,
    /// With --staff: members the employees are put at the disposal of (the seeded members
    /// first; more are created when --members is lower).
    #[arg(long, default_value_t = 60)]
    pub staff_members: usize,
    /// With --staff: weeks of assignments, 13 of them before the week of --start.
    #[arg(long, default_value_t = 52)]
    pub staff_weeks: u32,
}

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub bookings: u64,
    pub resources: usize,
    pub members: usize,
    pub months: u32,
    pub start: NaiveDate,
    pub rng_seed: u64,
    /// The employer group's dataset, if asked for.
    pub staff: Option<StaffOptions>,
}

impl SeedOptions {
    /// The options of the command line, in the pole's time zone `tz`.
    pub fn of(a: &SeedArgs, tz: Tz) -> Self {
        Self {
            bookings: a.bookings,
            resources: a.resources,
            members: a.members,
            months: a.months,
            start: a.start,
            rng_seed: a.seed,
            staff: a.staff.then_some(StaffOptions {
                employees: a.employees,
                members: a.staff_members,
                weeks: a.staff_weeks,
                tz,
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SeedReport {
    pub bookings: u64,
    pub cancelled: u64,
    pub members: usize,
    pub resources: usize,
    pub tracks: usize,
    pub days: u32,
    pub first_day: NaiveDate,
    /// Time spent inserting bookings (members, users and resources excluded).
    pub insert_time: StdDuration,
    pub staff: Option<StaffReport>,
}

/// A resource as the seeder plans it.
#[derive(Debug, Clone)]
pub struct ResourcePlan {
    pub kind: &'static str,
    pub name: String,
    pub capacity: i32,
    /// Units one track holds; the capacity is `tracks × track_width`.
    pub track_width: i32,
    pub input: serde_json::Value,
}

impl ResourcePlan {
    pub fn tracks(&self) -> usize {
        (self.capacity / self.track_width) as usize
    }
}

/// Equipment pools: (name, capacity, track width).
const POOLS: [(&str, i32, i32); 5] = [
    ("Chaises pliantes", 100, 4),
    ("Ordinateurs portables", 24, 1),
    ("Tables pliantes", 50, 2),
    ("Kits de visioconférence", 24, 1),
    ("Gobelets réutilisables (caisses)", 48, 2),
];
const SINGLE_EQUIPMENT: [&str; 4] = [
    "Vidéoprojecteur",
    "Sonorisation portable",
    "Remorque",
    "Scie à panneaux",
];
const ENERGIES: [&str; 3] = ["electrique", "essence", "diesel"];

/// The resource catalogue for `n` resources: a coworking space of 12 desks first, then a
/// repeating mix of rooms, vehicles, single equipment and equipment pools. Every resource is
/// always open with zero buffers, so any slot of the plan is bookable.
pub fn catalogue(n: usize) -> Vec<ResourcePlan> {
    let mut out = Vec::with_capacity(n);
    let (mut rooms, mut vehicles, mut singles, mut pools) = (0, 0, 0, 0);
    for i in 0..n {
        let plan = if i == 0 {
            ResourcePlan {
                kind: "desk",
                name: "Espace de coworking".into(),
                capacity: 12,
                track_width: 1,
                input: json!({}),
            }
        } else {
            match (i - 1) % 7 {
                0 | 3 | 5 => {
                    rooms += 1;
                    ResourcePlan {
                        kind: "room",
                        name: format!("Salle de réunion {rooms:02}"),
                        capacity: 1,
                        track_width: 1,
                        input: json!({"seats": 6 + (rooms % 5) * 4}),
                    }
                }
                2 | 6 => {
                    vehicles += 1;
                    ResourcePlan {
                        kind: "vehicle",
                        name: format!("Véhicule partagé {vehicles:02}"),
                        capacity: 1,
                        track_width: 1,
                        input: json!({"plate": format!("BN-{vehicles:03}-CH"),
                                      "energy": ENERGIES[vehicles % ENERGIES.len()],
                                      "odometer_km": 20_000 + 7_919 * vehicles as i64}),
                    }
                }
                4 => {
                    singles += 1;
                    ResourcePlan {
                        kind: "equipment",
                        name: format!(
                            "{} {}",
                            SINGLE_EQUIPMENT[(singles - 1) % SINGLE_EQUIPMENT.len()],
                            singles
                        ),
                        capacity: 1,
                        track_width: 1,
                        input: json!({}),
                    }
                }
                _ => {
                    pools += 1;
                    let (name, capacity, width) = POOLS[(pools - 1) % POOLS.len()];
                    ResourcePlan {
                        kind: "equipment",
                        name: format!("{name} — lot {pools}"),
                        capacity,
                        track_width: width,
                        input: json!({}),
                    }
                }
            }
        };
        out.push(plan);
    }
    for p in &mut out {
        let mut input = json!({
            "kind": p.kind,
            "name": p.name,
            "capacity": p.capacity,
            "description": BENCH_RESOURCE_DESCRIPTION,
            "location": "Site du banc d'essai",
            "tariff": {"hourly_cents": 200 * p.capacity.min(10) as i64, "billing_unit_minutes": 15},
        });
        if let (Some(obj), Some(extra)) = (input.as_object_mut(), p.input.as_object()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        p.input = input;
    }
    out
}

/// One planned booking of a day: start and length in quarter-hours from 06:00, quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySlot {
    pub start_q: u32,
    pub len_q: u32,
    pub quantity: i32,
}

/// Durations in quarter-hours and their weights: short meetings are the most common.
const DURATIONS: [(u32, u32); 6] = [(2, 25), (4, 30), (6, 15), (8, 15), (12, 10), (16, 5)];

fn draw_duration(rng: &mut impl Rng) -> u32 {
    let total: u32 = DURATIONS.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (q, w) in DURATIONS {
        if pick < w {
            return q;
        }
        pick -= w;
    }
    MIN_QUARTERS
}

/// `k` non-overlapping bookings of one track within one day's window. Needs
/// `k × MIN_QUARTERS ≤ DAY_QUARTERS` (checked by the caller for the whole plan).
pub fn plan_day(k: u32, width: i32, rng: &mut impl Rng) -> Vec<DaySlot> {
    if k == 0 {
        return Vec::new();
    }
    let mut lens: Vec<u32> = (0..k).map(|_| draw_duration(rng)).collect();
    let mut used: u32 = lens.iter().sum();
    // Too long for the day: shorten the longest bookings until they fit.
    while used > DAY_QUARTERS {
        let Some(longest) = lens
            .iter_mut()
            .filter(|l| **l > MIN_QUARTERS)
            .max_by_key(|l| **l)
        else {
            break;
        };
        *longest -= 1;
        used -= 1;
    }
    // Spread the free time into k + 1 gaps (before, between and after the bookings).
    let slack = DAY_QUARTERS.saturating_sub(used);
    let mut cuts: Vec<u32> = (0..k).map(|_| rng.gen_range(0..=slack)).collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(k as usize);
    let (mut cursor, mut previous_cut) = (0u32, 0u32);
    for (len, cut) in lens.into_iter().zip(cuts) {
        cursor += cut - previous_cut;
        previous_cut = cut;
        out.push(DaySlot {
            start_q: cursor,
            len_q: len,
            quantity: rng.gen_range(1..=width.max(1)),
        });
        cursor += len;
    }
    out
}

/// How many of `total` items fall on day `d` of `days`, spread evenly. Rounded up, so the
/// first day always has some: `bench run` takes the first booked day as the dataset's start.
fn share(total: u64, d: u32, days: u32) -> u32 {
    let days = u64::from(days.max(1));
    let d = u64::from(d);
    ((d + 1) * total)
        .div_ceil(days)
        .saturating_sub((d * total).div_ceil(days)) as u32
}

/// The bookings table as the seeders write it (the general one and the employer group's):
/// `Option`s are written as NULL rather than omitted, so diesel sends one multi-row INSERT on
/// SQLite too (with omitted columns it would fall back to one statement per row).
#[derive(Insertable)]
#[diesel(table_name = bookings, treat_none_as_default_value = false)]
pub(super) struct SeedBooking {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub created_by: Option<UserId>,
    pub series_id: Option<SeriesId>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub exclusive: bool,
    pub status: BookingStatus,
    pub purpose: &'static str,
    pub beneficiary: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub activity: Activity,
}

const PURPOSES: [&str; 8] = [
    "",
    "",
    "",
    "Réunion d'équipe",
    "Formation",
    "Comité de pilotage",
    "Permanence",
    "Livraison",
];

/// Inserts seeded rows, a few hundred per statement.
pub(super) fn insert_rows(conn: &mut DbConn, rows: &[SeedBooking]) -> Result<(), AppError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        db_run!(conn => diesel::insert_into(bookings::table).values(chunk).execute(conn))?;
    }
    // Written past the store: the allocation's kept use is no longer current.
    crate::store::allocation::forget_all_usage(conn)
}

fn count_bookings(conn: &mut DbConn) -> anyhow::Result<i64> {
    Ok(db_run!(conn => bookings::table.count().get_result::<i64>(conn))?)
}

pub fn main(args: SeedArgs, config: Config) -> anyhow::Result<()> {
    let opts = SeedOptions::of(&args, config.timezone);
    let db = Db::connect(&config.database_url).context("ouverture de la base")?;
    println!(
        "bench seed: {} bookings, {} resources, {} members, {} months from {} ({:?})",
        opts.bookings,
        opts.resources,
        opts.members,
        opts.months,
        opts.start,
        db.backend()
    );
    if let Some(s) = &opts.staff {
        println!(
            "  and an employer group: {} employees working for {} members, {} weeks of assignments ({} before {})",
            s.employees, s.members, s.weeks, staff::WEEKS_BEFORE, opts.start
        );
    }
    let mut last_print = Instant::now();
    let started = Instant::now();
    let mut phase_started = Instant::now();
    let mut phase = String::new();
    let report = seed(&db, &opts, &mut |what, done, total| {
        if what != phase {
            phase = what.to_string();
            phase_started = Instant::now();
        }
        if done == 0 {
            return;
        }
        if last_print.elapsed() >= StdDuration::from_secs(5) || done == total {
            last_print = Instant::now();
            let secs = phase_started.elapsed().as_secs_f64().max(1e-9);
            println!(
                "  {done:>10} / {total} {what}  ({:.0} rows/s)",
                done as f64 / secs
            );
        }
    })?;
    let secs = report.insert_time.as_secs_f64().max(1e-9);
    println!(
        "Seeded {} bookings ({} cancelled) on {} resources ({} booking tracks) for {} members over {} days from {}.",
        report.bookings, report.cancelled, report.resources, report.tracks, report.members, report.days, report.first_day
    );
    println!(
        "Bookings inserted in {:.1} s: {:.0} rows/s. Total with setup: {:.1} s.",
        secs,
        report.bookings as f64 / secs,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Accounts: {BENCH_ADMIN_EMAIL} (admin) and {} … (one booker per member), password « {BENCH_PASSWORD} ».",
        booker_email(0)
    );
    if let Some(st) = &report.staff {
        let secs = st.insert_time.as_secs_f64().max(1e-9);
        println!(
            "Employer group « {} » (member {}): {} employees ({} with the skill « {SHARED_SKILL} »), working for {} members ({} of them created for it); {} assignments ({} work, {} training, {} absences) over {} weeks from {}, inserted in {:.1} s: {:.0} rows/s.",
            staff::GROUP_NAME, st.group.0, st.employees, st.with_shared_skill, st.members, st.members_created,
            st.rows(), st.work, st.training, st.absences, st.weeks, st.first_monday,
            secs, st.rows() as f64 / secs
        );
        println!("Its manager: {BENCH_GE_MANAGER_EMAIL} (ge_manager), same password.");
    }
    println!("Next: mutualise bench run --clients 32 --seconds 20");
    Ok(())
}

/// The `i`-th member structure (0-based) of a bench dataset: « Structure 001 (banc d'essai) »…
pub(super) fn member_input(i: usize) -> MemberInput {
    const FORMS: [&str; 8] = [
        "association",
        "scop",
        "scic",
        "sarl_sas",
        "collectivite",
        "siae",
        "ge_geiq",
        "other",
    ];
    const CATEGORIES: [&str; 3] = ["standard", "solidaire", "insertion"];
    MemberInput {
        name: format!("Structure {:03} (banc d'essai)", i + 1),
        legal_form: FORMS[i % FORMS.len()].into(),
        pricing_category: CATEGORIES[i % CATEGORIES.len()].into(),
        siret: None,
        email: Some(format!(
            "contact-{:03}@{}",
            i + 1,
            super::BENCH_EMAIL_DOMAIN
        )),
        headcount: 1.0 + (i % 20) as f64,
        turnover_cents: 1_000_000 * (1 + (i as i64 % 50)),
        surface_m2: 10 * (i as i32 % 30),
        active: true,
    }
}

/// Seeds the database; `progress(what, done, total)` is called with `done` = 0 when a kind of
/// rows starts ("bookings", "assignments") and after each of its transactions.
pub fn seed(
    db: &Db,
    opts: &SeedOptions,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> anyhow::Result<SeedReport> {
    if opts.resources == 0 || opts.members == 0 || opts.months == 0 {
        bail!("--resources, --members and --months must each be at least 1");
    }
    if opts.resources > 10_000 || opts.members > 10_000 {
        bail!("--resources and --members are limited to 10 000");
    }
    let end = opts
        .start
        .checked_add_months(Months::new(opts.months))
        .context("--start + --months is beyond the supported calendar")?;
    let days = u32::try_from((end - opts.start).num_days()).context("too many days")?;
    let plans = catalogue(opts.resources);
    let tracks: Vec<(usize, i32)> = plans
        .iter()
        .enumerate()
        .flat_map(|(r, p)| std::iter::repeat_n((r, p.track_width), p.tracks()))
        .collect();
    let max_per_track_day = u64::from(DAY_QUARTERS / MIN_QUARTERS);
    let max_bookings = tracks.len() as u64 * u64::from(days) * max_per_track_day;
    if opts.bookings > max_bookings {
        bail!(
            "{} bookings cannot fit: {} resources give {} booking tracks, at most {} bookings of 30 min a day each between 06:00 and 20:00 UTC, over {} days = {} at most. Raise --months or --resources.",
            opts.bookings, opts.resources, tracks.len(), max_per_track_day, days, max_bookings
        );
    }

    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let existing = count_bookings(&mut conn)?;
    if existing > 0 {
        bail!(
            "the database of DATABASE_URL already holds {existing} bookings: bench seed fills a database without bookings (point DATABASE_URL at a new file or database)"
        );
    }
    if crate::store::users::find_by_email(&mut conn, BENCH_ADMIN_EMAIL)?.is_some() {
        bail!(
            "{BENCH_ADMIN_EMAIL} already exists: an earlier bench seed stopped half-way; start again on a new database"
        );
    }

    let now = opts
        .start
        .checked_sub_days(chrono::Days::new(30))
        .unwrap_or(opts.start)
        .and_time(NaiveTime::MIN)
        .and_utc();
    let setup = |e: AppError| anyhow::anyhow!("{}", e.detail());

    // Members, resources and accounts: a few dozen rows through the normal store functions.
    let mut member_ids = Vec::with_capacity(opts.members);
    let mut resource_ids = Vec::with_capacity(plans.len());
    conn.write(|conn| {
        for i in 0..opts.members {
            let draft = member_input(i).validate().map_err(AppError::Validation)?;
            member_ids.push(member_store::insert(conn, &draft, store::to_db(now))?.id);
        }
        for p in &plans {
            let input: ResourceInput =
                serde_json::from_value(p.input.clone()).map_err(AppError::internal)?;
            let draft = input.validate().map_err(AppError::Validation)?;
            resource_ids.push(
                resource_store::insert(conn, &draft, store::to_db(now))?
                    .row
                    .id,
            );
        }
        Ok(())
    })
    .map_err(setup)?;
    let hash = auth::hash_password(BENCH_PASSWORD).map_err(setup)?;
    let account = |email: String, name: String, roles: Vec<String>, memberships| UserInput {
        email,
        name,
        password: Some(BENCH_PASSWORD.into()),
        roles,
        memberships,
        active: true,
    };
    let admin = account(
        BENCH_ADMIN_EMAIL.into(),
        "Administration du banc d'essai".into(),
        vec!["admin".into()],
        vec![],
    );
    let draft = admin.validate(true).map_err(|e| anyhow::anyhow!("{e}"))?;
    users::create_unchecked(&mut conn, &draft, &hash, now).map_err(setup)?;
    let mut booker_ids = Vec::with_capacity(member_ids.len());
    for (i, member_id) in member_ids.iter().enumerate() {
        let input = account(
            booker_email(i),
            format!("Réservation structure {:03}", i + 1),
            vec![],
            vec![MembershipInput {
                member_id: *member_id,
                role: "booker".into(),
            }],
        );
        let draft = input.validate(true).map_err(|e| anyhow::anyhow!("{e}"))?;
        booker_ids.push(
            users::create_unchecked(&mut conn, &draft, &hash, now)
                .map_err(setup)?
                .user
                .id,
        );
    }

    // Bookings, day by day so memory stays bounded and rows go in roughly in time order,
    // interleaved across resources as real bookings are (one resource's rows are not
    // clustered on disk, which would flatter the read queries).
    let mut rng = StdRng::seed_from_u64(opts.rng_seed);
    let per_track: Vec<u64> = (0..tracks.len())
        .map(|t| {
            let n = tracks.len() as u64;
            opts.bookings / n + u64::from((t as u64) < opts.bookings % n)
        })
        .collect();
    let mut longest_minutes = vec![0i64; plans.len()];
    let mut pending: Vec<SeedBooking> = Vec::with_capacity(ROWS_PER_TRANSACTION + 4_096);
    let (mut done, mut cancelled) = (0u64, 0u64);
    progress("bookings", 0, opts.bookings);
    let started = Instant::now();
    let flush = |conn: &mut DbConn, rows: &mut Vec<SeedBooking>| -> anyhow::Result<()> {
        conn.write(|c| insert_rows(c, rows))
            .map_err(|e| anyhow::anyhow!("inserting bookings: {}", e.detail()))?;
        rows.clear();
        Ok(())
    };
    for d in 0..days {
        let day = opts.start + chrono::Days::new(u64::from(d));
        let midnight = day.and_time(NaiveTime::MIN);
        let day_start = pending.len();
        for (t, (r, width)) in tracks.iter().enumerate() {
            let k = share(per_track[t], d, days);
            for slot in plan_day(k, *width, &mut rng) {
                let start = midnight
                    + chrono::Duration::minutes(i64::from(DAY_OPEN_MINUTES + 15 * slot.start_q));
                let end = start + chrono::Duration::minutes(i64::from(15 * slot.len_q));
                longest_minutes[*r] = longest_minutes[*r].max(i64::from(15 * slot.len_q));
                // Skewed towards the first members: a few structures book most.
                let m = rng
                    .gen_range(0..member_ids.len())
                    .min(rng.gen_range(0..member_ids.len()));
                let is_cancelled = rng.gen_range(0..1000) < CANCELLED_PER_MILLE;
                cancelled += u64::from(is_cancelled);
                let created = start - chrono::Duration::days(rng.gen_range(1..60));
                pending.push(SeedBooking {
                    resource_id: resource_ids[*r],
                    member_id: member_ids[m],
                    created_by: Some(booker_ids[m]),
                    series_id: None,
                    start_at: start,
                    end_at: end,
                    // Zero buffers: the blocked span is the booking itself.
                    block_start_at: start,
                    block_end_at: end,
                    quantity: slot.quantity,
                    exclusive: plans[*r].capacity == 1,
                    status: if is_cancelled {
                        BookingStatus::Cancelled
                    } else {
                        BookingStatus::Confirmed
                    },
                    purpose: PURPOSES[rng.gen_range(0..PURPOSES.len())],
                    beneficiary: None,
                    created_at: created,
                    updated_at: if is_cancelled {
                        created + chrono::Duration::hours(20)
                    } else {
                        created
                    },
                    activity: Activity::Work,
                });
            }
        }
        pending[day_start..].sort_by_key(|b| b.start_at);
        if pending.len() >= ROWS_PER_TRANSACTION {
            done += pending.len() as u64;
            flush(&mut conn, &mut pending)?;
            progress("bookings", done, opts.bookings);
        }
    }
    if !pending.is_empty() {
        done += pending.len() as u64;
        flush(&mut conn, &mut pending)?;
        progress("bookings", done, opts.bookings);
    }
    let insert_time = started.elapsed();

    // Overlap queries look back from a window's start by the longest span ever booked on the
    // resource; the app keeps that column up to date on each booking (blocked minutes + 1),
    // the seeder must do the same or the queries would miss bookings.
    conn.write(|conn| {
        for (r, minutes) in longest_minutes.iter().enumerate() {
            let value = i32::try_from(minutes + 1).unwrap_or(i32::MAX);
            db_run!(conn => diesel::update(resources::table.find(resource_ids[r]))
                .set(resources::longest_block_minutes.eq(value))
                .execute(conn))?;
        }
        Ok(())
    })
    .map_err(setup)?;
    let staff = match &opts.staff {
        Some(s) => Some(staff::seed_staff(
            &mut conn,
            s,
            opts.start,
            &member_ids,
            &hash,
            now,
            opts.rng_seed,
            progress,
        )?),
        None => None,
    };
    if conn.backend() == Backend::Postgres {
        // Autovacuum would analyse the fresh table within minutes anyway; do it now so the
        // first run is not measured with an empty statistics table. (On SQLite the service
        // gathers them itself when it opens the database: `DbConn::refresh_statistics`.)
        if let DbConn::Postgres(c) = &mut conn {
            use diesel::connection::SimpleConnection;
            c.batch_execute(
                "ANALYZE bookings; ANALYZE resources; ANALYZE employees; ANALYZE employee_members;",
            )?;
        }
    }
    Ok(SeedReport {
        bookings: done,
        cancelled,
        members: member_ids.len(),
        resources: resource_ids.len(),
        tracks: tracks.len(),
        days,
        first_day: opts.start,
        insert_time,
        staff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_never_overlaps_and_stays_in_the_window() {
        let mut rng = StdRng::seed_from_u64(7);
        for k in 0..=(DAY_QUARTERS / MIN_QUARTERS) {
            for _ in 0..50 {
                let slots = plan_day(k, 3, &mut rng);
                assert_eq!(slots.len(), k as usize);
                let mut end = 0;
                for s in &slots {
                    assert!(s.start_q >= end, "overlap in {slots:?}");
                    assert!((MIN_QUARTERS..=MAX_QUARTERS).contains(&s.len_q));
                    assert!((1..=3).contains(&s.quantity));
                    end = s.start_q + s.len_q;
                }
                assert!(end <= DAY_QUARTERS, "{slots:?}");
            }
        }
    }

    #[test]
    fn shares_sum_to_the_total() {
        for (total, days) in [(0u64, 10u32), (7, 10), (4444, 730), (10_000, 3)] {
            let sum: u64 = (0..days).map(|d| u64::from(share(total, d, days))).sum();
            assert_eq!(sum, total);
            assert_eq!(share(total, 0, days) > 0, total > 0);
            assert!(
                (0..days).all(|d| share(total, d, days) <= total.div_ceil(u64::from(days)) as u32)
            );
        }
    }

    #[test]
    fn catalogue_mixes_kinds_and_tracks_fill_capacity() {
        let c = catalogue(50);
        assert_eq!(c.len(), 50);
        assert_eq!((c[0].kind, c[0].capacity), ("desk", 12));
        for kind in ["room", "vehicle", "equipment"] {
            assert!(c.iter().any(|p| p.kind == kind), "{kind}");
        }
        for p in &c {
            assert_eq!(p.tracks() as i32 * p.track_width, p.capacity, "{}", p.name);
            let input: ResourceInput = serde_json::from_value(p.input.clone()).unwrap();
            input.validate().unwrap();
        }
    }
}
