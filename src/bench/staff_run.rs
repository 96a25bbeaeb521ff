//! The staff scenarios of `bench run`, on the employer group of `bench seed --staff`: the week
//! grid of the employees with one skill, the month's hours ledger, and assignments created by
//! concurrent clients (each one checked by the booking engine against working-time law across
//! every member). The reads come first, so they see the dataset as seeded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use rand::Rng;
use serde_json::json;

use super::queries::{self, BenchEmployee};
use super::run::{
    api_token, create_phase, detail, http_client, refusal_codes, rfc3339, row, sign_in_clients,
    timed_cpu, timed_row, verdict, CreateResult, NextBody, RssSampler, RunArgs, Server,
};
use super::staff::{free_slots, local_instant, KnownShift, Proposal, SlotEmployee, WEEKS_BEFORE};
use super::stats::{rate, Summary};
use super::{BENCH_GE_MANAGER_EMAIL, BENCH_RUN_PURPOSE};
use crate::app::authz::Actor;
use crate::app::bookings::{self, BookingInput};
use crate::app::planning::{self, WeekQuery};
use crate::app::{ledger, App};
use crate::config::Config;
use crate::domain::ids::MemberId;
use crate::domain::labour::{self, Activity, Shift};
use crate::domain::month::Month;
use crate::domain::time::Interval;
use crate::error::AppError;
use crate::store::bookings as booking_store;
use crate::store::{employees as employee_store, from_db, to_db, users as user_store, Db, DbConn};

/// Targets of issue 8 (« Performance »).
const CREATE_P99: Duration = Duration::from_millis(25);
const WEEK_GRID_P99: Duration = Duration::from_millis(50);
const LEDGER_P99: Duration = Duration::from_millis(200);
/// Refused requests are drawn from this many seeded blocks.
const REFUSAL_SAMPLES: usize = 2_000;

/// What the staff scenarios need to know about the seeded employer group.
pub(super) struct StaffData {
    /// The service's clock for the run.
    pub now: DateTime<Utc>,
    pub employees: Vec<BenchEmployee>,
    /// First week of the seeded assignments, and how many weeks they span.
    pub first_monday: NaiveDate,
    pub weeks: u32,
    pub assignments: i64,
    /// Legal assignments on free days, week by week from the week after `now`.
    pub proposals: Vec<Proposal>,
    /// How many of `proposals` lie in the seeded weeks (they come first).
    pub seeded_proposals: usize,
    /// Seeded work blocks ahead: asked again, they are refused (`conflict`).
    pub taken: Vec<Proposal>,
    /// An evening after a full seeded workday: refused by working-time law (over 10 h a day).
    pub too_long: Vec<Proposal>,
    /// Months wholly inside the seeded weeks.
    pub months: Vec<Month>,
    /// What working-time law needs of each employee, by position in `employees`.
    pub labour: Vec<labour::Employee>,
}

pub(super) struct StaffResult {
    pub create: CreateResult,
    /// Fresh proposals taken by the creation phase.
    pub proposals_used: u64,
    pub week: Summary,
    pub week_elapsed: Duration,
    pub week_in_process: Summary,
    /// Employees in the first week grid answered, and its size in bytes.
    pub grid_employees: usize,
    pub grid_bytes: usize,
    pub ledger: Summary,
    pub ledger_elapsed: Duration,
    pub ledger_in_process: Summary,
    /// Employees with hours in the first ledger answered, and its size in bytes.
    pub ledger_employees: usize,
    pub ledger_bytes: usize,
    /// A refused assignment in this process, its alternatives included.
    pub refusal_in_process: Summary,
    /// The working-time check of a proposal in this process, in its two steps: loading the
    /// employee's shifts around it, and judging; with the shifts loaded on average.
    pub shifts_load: Summary,
    pub labour_check: Summary,
    pub shifts_per_check: f64,
}

/// The employer group's dataset, if the database holds one; the clock is `general_now` when the
/// general dataset is measured too, else the start the staff dataset was seeded around.
pub(super) fn load(
    conn: &mut DbConn,
    config: &Config,
    general_now: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<StaffData>> {
    let tz = config.timezone;
    let employees = queries::bench_staff(conn).map_err(detail)?;
    if employees.is_empty() {
        return Ok(None);
    }
    if user_store::find_by_email(conn, BENCH_GE_MANAGER_EMAIL)
        .map_err(detail)?
        .is_none()
    {
        bail!("{BENCH_GE_MANAGER_EMAIL} is missing: seed with `mutualise bench seed --staff`");
    }
    let ids: Vec<_> = employees.iter().map(|e| e.id).collect();
    let (Some(first), Some(last), assignments) = queries::staff_span(conn, &ids).map_err(detail)?
    else {
        bail!("the bench employees have no assignment: seed with `mutualise bench seed --staff`");
    };
    let local_date = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let first_monday = labour::week_start(local_date(from_db(first)));
    let last_monday = labour::week_start(local_date(from_db(last) - chrono::Duration::seconds(1)));
    let weeks = ((last_monday - first_monday).num_days() / 7 + 1) as u32;
    let seeded_end = labour::week_bounds(last_monday, tz).end;
    let now = general_now.unwrap_or_else(|| {
        (first_monday + chrono::Duration::weeks(i64::from(WEEKS_BEFORE)))
            .and_time(NaiveTime::MIN)
            .and_utc()
    });

    // Whole local weeks from the one after `now`, all inside the booking horizon.
    let from_monday = labour::week_start(local_date(now)) + chrono::Duration::weeks(1);
    let horizon_end = now + chrono::Duration::days(i64::from(config.booking_horizon_days) - 1);
    let mut proposal_weeks = 0u32;
    while labour::week_bounds(
        from_monday + chrono::Duration::weeks(i64::from(proposal_weeks)),
        tz,
    )
    .end <= horizon_end
    {
        proposal_weeks += 1;
    }
    let span_end = labour::week_bounds(from_monday, tz).start
        + chrono::Duration::weeks(i64::from(proposal_weeks));
    let shifts = booking_store::staff_shifts(
        conn,
        &ids,
        to_db(labour::week_bounds(from_monday, tz).start),
        to_db(span_end),
    )
    .map_err(detail)?;
    let known: Vec<KnownShift> = shifts
        .iter()
        .filter_map(|s| {
            Some(KnownShift {
                resource_id: s.resource_id,
                member_id: s.member_id,
                interval: Interval::new(from_db(s.start_at), from_db(s.end_at))?,
                activity: s.activity,
            })
        })
        .collect();
    let facts = employee_store::find_many(conn, &ids).map_err(detail)?;
    let slot_employees: Vec<SlotEmployee> = employees
        .iter()
        .zip(&facts)
        .map(|(e, f)| {
            // The agreements' members; with none (every member allowed), those the employee
            // already works for.
            let mut members: Vec<MemberId> = f.agreement_member_ids.clone();
            if members.is_empty() {
                for s in known.iter().filter(|s| {
                    s.resource_id == e.id
                        && s.activity == Activity::Work
                        && Some(s.member_id) != e.employer_member_id
                }) {
                    if !members.contains(&s.member_id) {
                        members.push(s.member_id);
                    }
                    if members.len() == 3 {
                        break;
                    }
                }
            }
            SlotEmployee {
                id: e.id,
                weekly_contract_minutes: e.weekly_contract_minutes.unwrap_or(0),
                members,
            }
        })
        .collect();
    let proposals = free_slots(&slot_employees, &known, from_monday, proposal_weeks, tz);
    let seeded_proposals = proposals
        .iter()
        .take_while(|p| p.interval.start < seeded_end)
        .count();

    // Refused requests: seeded work blocks ahead, and evenings after their full days.
    let work: Vec<&KnownShift> = known
        .iter()
        .filter(|s| s.activity == Activity::Work)
        .collect();
    let step = (work.len() / REFUSAL_SAMPLES).max(1);
    let sampled: Vec<&KnownShift> = work.iter().step_by(step).copied().collect();
    let taken = sampled
        .iter()
        .map(|s| Proposal {
            resource_id: s.resource_id,
            member_id: s.member_id,
            interval: s.interval,
        })
        .collect();
    let too_long = sampled
        .iter()
        .filter(|s| {
            let local = s.interval.start.with_timezone(&tz);
            (local.hour(), local.minute()) == (8, 0)
        })
        .map(|s| {
            let date = local_date(s.interval.start);
            let at = |h: u32| {
                local_instant(
                    date.and_time(NaiveTime::MIN) + chrono::Duration::hours(h.into()),
                    tz,
                )
            };
            Proposal {
                resource_id: s.resource_id,
                member_id: s.member_id,
                interval: Interval {
                    start: at(18),
                    end: at(21),
                },
            }
        })
        .collect();

    let seeded_last_day = local_date(seeded_end - chrono::Duration::seconds(1));
    let mut months = Vec::new();
    if let Some(mut m) = Month::new(first_monday.year(), first_monday.month()) {
        if m.first_day() < first_monday {
            m = m.next();
        }
        while m.next().first_day() <= seeded_last_day + chrono::Duration::days(1) {
            months.push(m);
            m = m.next();
        }
    }
    let labour = employees
        .iter()
        .zip(&facts)
        .map(|(e, f)| labour::Employee {
            birth_date: f.birth_date,
            weekly_contract_minutes: e.weekly_contract_minutes.unwrap_or(0),
        })
        .collect();
    Ok(Some(StaffData {
        now,
        labour,
        employees,
        first_monday,
        weeks,
        assignments,
        proposals,
        seeded_proposals,
        taken,
        too_long,
        months,
    }))
}

/// The three staff scenarios, one after the other; `phases` gets each one's peak memory.
#[allow(clippy::too_many_arguments)]
pub(super) fn measure(
    args: &RunArgs,
    config: &Config,
    db: &Db,
    data: &StaffData,
    now: DateTime<Utc>,
    runtime: &tokio::runtime::Runtime,
    server: &mut Server,
    bases: &[String],
    rss: &RssSampler,
    phases: &mut Vec<(&'static str, Option<u64>)>,
    next_step: &mut dyn FnMut() -> String,
) -> anyhow::Result<StaffResult> {
    let base = server.base.clone();
    let pid = server.pid();
    // The same use cases in this process, without HTTP: the server's share of the time.
    let app = App::new(
        db.clone(),
        Config {
            now: Some(now),
            ..config.clone()
        },
    );
    let actor = {
        let mut conn = db.get().map_err(detail)?;
        let user = user_store::find_by_email(&mut conn, BENCH_GE_MANAGER_EMAIL)
            .map_err(detail)?
            .context("the group's manager is missing")?;
        Actor::from_user(&user_store::with_roles(&mut conn, user).map_err(detail)?)
    };
    let client = http_client(false)?;
    let token = runtime.block_on(api_token(&client, &base, BENCH_GE_MANAGER_EMAIL))?;
    let limit = Duration::from_secs(args.read_seconds);

    println!(
        "{} staff week grid: ?skill={}, week after week …",
        next_step(),
        args.skill
    );
    let week_of = |i: usize| {
        data.first_monday + chrono::Duration::weeks((i % data.weeks.max(1) as usize) as i64)
    };
    let url = format!("{base}/api/v1/staff/week");
    let (week, week_elapsed, first) = runtime.block_on(timed_gets(args, limit, |i| {
        client
            .get(&url)
            .bearer_auth(&token)
            .query(&[
                ("date", week_of(i).format("%Y-%m-%d").to_string()),
                ("skill", args.skill.clone()),
            ])
            .send()
    }))?;
    let grid: serde_json::Value = serde_json::from_slice(&first).unwrap_or_default();
    let grid_employees = grid["employees"].as_array().map_or(0, Vec::len);
    let week_in_process = runtime.block_on(in_process(args, limit, |i| {
        let q = WeekQuery {
            date: Some(week_of(i)),
            employer_id: None,
            skill: Some(args.skill.clone()),
        };
        let (app, actor) = (&app, &actor);
        async move {
            let plan = planning::week(app, actor, q).await.map_err(detail)?;
            Ok(serde_json::to_vec(&plan)?.len())
        }
    }))?;
    server.check_alive()?;
    phases.push(("staff week", rss.take_phase(pid)));

    println!(
        "{} staff ledger: {} months in turn …",
        next_step(),
        data.months.len()
    );
    if data.months.is_empty() {
        bail!("the staff dataset holds no whole month: seed more --staff-weeks");
    }
    let month_of = |i: usize| data.months[i % data.months.len()];
    let (ledger_summary, ledger_elapsed, first) =
        runtime.block_on(timed_gets(args, limit, |i| {
            client
                .get(format!("{base}/api/v1/staff/ledger/{}", month_of(i)))
                .bearer_auth(&token)
                .send()
        }))?;
    let answered: serde_json::Value = serde_json::from_slice(&first).unwrap_or_default();
    let ledger_employees = answered["employees"].as_array().map_or(0, Vec::len);
    let ledger_in_process = runtime.block_on(in_process(args, limit, |i| {
        let (app, actor, month) = (&app, &actor, month_of(i));
        async move {
            let l = ledger::ledger(app, actor, month, None)
                .await
                .map_err(detail)?;
            Ok(serde_json::to_vec(&l)?.len())
        }
    }))?;
    server.check_alive()?;
    phases.push(("staff ledger", rss.take_phase(pid)));

    let (shifts_load, labour_check, shifts_per_check) =
        labour_in_process(args, db, data, config.timezone, limit)?;
    let refusal_in_process =
        runtime.block_on(refusals_in_process(args, &app, &actor, data, limit))?;

    println!(
        "{} staff create: {} clients for {} s …",
        next_step(),
        args.clients,
        args.seconds
    );
    let emails = vec![BENCH_GE_MANAGER_EMAIL.to_string()];
    let clients = runtime.block_on(sign_in_clients(args.clients, &base, &emails))?;
    let used = Arc::new(AtomicU64::new(0));
    let (create, cpu) = timed_cpu(pid, || {
        runtime.block_on(create_phase(
            args,
            bases,
            clients,
            bodies(args, data, used.clone()),
        ))
    });
    let mut create = create?;
    create.server_cpu = cpu;
    server.check_alive()?;
    phases.push(("staff create", rss.take_phase(pid)));
    Ok(StaffResult {
        create,
        proposals_used: used
            .load(Ordering::Relaxed)
            .min(data.proposals.len() as u64),
        week,
        week_elapsed,
        week_in_process,
        grid_employees,
        grid_bytes: first_len(&grid),
        ledger: ledger_summary,
        ledger_elapsed,
        ledger_in_process,
        ledger_employees,
        ledger_bytes: first_len(&answered),
        shifts_load,
        labour_check,
        shifts_per_check,
        refusal_in_process,
    })
}

/// A refused assignment in this process, without HTTP: the rules under the writer's lock,
/// then the lawful alternatives looked for (the same hours on the days around, other
/// employees at that hour), for the bench's refused proposals in turn, a seeded block asked
/// again (`conflict`) and an evening making a 10 h 30 day (`labour_limit`). Nothing is written.
async fn refusals_in_process(
    args: &RunArgs,
    app: &App,
    actor: &Actor,
    data: &StaffData,
    limit: Duration,
) -> anyhow::Result<Summary> {
    let refused: Vec<Proposal> = data
        .taken
        .iter()
        .zip(&data.too_long)
        .flat_map(|(a, b)| [*a, *b])
        .collect();
    let n = args.read_requests.min(refused.len());
    let step = (refused.len() / n.max(1)).max(1);
    let started = Instant::now();
    let mut lat = Vec::with_capacity(n);
    for p in refused.iter().step_by(step).take(n) {
        if !lat.is_empty() && started.elapsed() > limit {
            break;
        }
        let input = BookingInput {
            resource_id: p.resource_id,
            member_id: p.member_id,
            start: p.interval.start.to_rfc3339(),
            end: p.interval.end.to_rfc3339(),
            quantity: None,
            purpose: Some(BENCH_RUN_PURPOSE.into()),
            beneficiary: None,
            recurrence: None,
            skip_conflicts: false,
            activity: None,
        };
        let t0 = Instant::now();
        let answer = bookings::book(app, actor, input, None).await;
        lat.push(t0.elapsed());
        match answer {
            Err(AppError::Refused(_)) => {}
            Ok(_) => bail!("a refused proposal of the bench was booked: {p:?}"),
            Err(e) => bail!("a refused proposal of the bench failed otherwise: {e}"),
        }
    }
    Ok(Summary::of(lat))
}

/// What the booking engine does for working-time law on each assignment, in this process on a
/// read connection, proposal after proposal: load the employee's stored shifts over
/// `labour::lookup_range` (the query of `store::bookings::shifts`, bounded by the employee's
/// longest block), then `labour::check`. Timed apart, to tell which one dominates a create.
fn labour_in_process(
    args: &RunArgs,
    db: &Db,
    data: &StaffData,
    tz: chrono_tz::Tz,
    limit: Duration,
) -> anyhow::Result<(Summary, Summary, f64)> {
    let mut conn = db.get().map_err(detail)?;
    let n = args.read_requests.min(data.proposals.len());
    let step = (data.proposals.len() / n.max(1)).max(1);
    let started = Instant::now();
    let (mut load, mut check, mut rows) = (Vec::new(), Vec::new(), 0usize);
    for p in data.proposals.iter().step_by(step).take(n) {
        if !load.is_empty() && started.elapsed() > limit {
            break;
        }
        let Some(at) = data.employees.iter().position(|e| e.id == p.resource_id) else {
            continue;
        };
        let range = labour::lookup_range(&[p.interval], tz);
        let t0 = Instant::now();
        let existing: Vec<Shift> = booking_store::shifts(
            &mut conn,
            p.resource_id,
            to_db(range.start),
            to_db(range.end),
            i64::from(data.employees[at].longest_block_minutes),
        )
        .map_err(detail)?
        .into_iter()
        .filter_map(|s| {
            Some(Shift {
                id: s.id.0,
                interval: Interval::new(from_db(s.start_at), from_db(s.end_at))?,
                activity: s.activity,
            })
        })
        .collect();
        let t1 = Instant::now();
        let proposed = Shift {
            id: i64::MIN,
            interval: p.interval,
            activity: Activity::Work,
        };
        let verdict = labour::check(&data.labour[at], &existing, &[proposed], tz);
        check.push(t1.elapsed());
        load.push(t1 - t0);
        rows += existing.len();
        if !verdict.is_accepted() {
            bail!(
                "a proposal of the bench is refused by working-time law: {:?}",
                verdict.violations
            );
        }
    }
    let count = load.len().max(1);
    Ok((
        Summary::of(load),
        Summary::of(check),
        rows as f64 / count as f64,
    ))
}

fn first_len(v: &serde_json::Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

/// Sequential GETs (request `i` built by `send`) until `--read-requests` or `limit`: their
/// latencies, the time taken and the first answer's body. Any answer but 200 fails the run.
async fn timed_gets<F, Fut>(
    args: &RunArgs,
    limit: Duration,
    send: F,
) -> anyhow::Result<(Summary, Duration, Vec<u8>)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let started = Instant::now();
    let mut lat = Vec::with_capacity(args.read_requests);
    let mut first = Vec::new();
    for i in 0..args.read_requests {
        if i > 0 && started.elapsed() > limit {
            break;
        }
        let t0 = Instant::now();
        let r = send(i).await?;
        let (status, url) = (r.status(), r.url().clone());
        let body = r.bytes().await?;
        lat.push(t0.elapsed());
        if !status.is_success() {
            bail!(
                "GET {url} answered {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        if i == 0 {
            first = body.to_vec();
        }
    }
    Ok((Summary::of(lat), started.elapsed(), first))
}

/// The use case `call(i)` in this process, one call after the other, like [`timed_gets`].
async fn in_process<F, Fut>(args: &RunArgs, limit: Duration, call: F) -> anyhow::Result<Summary>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let started = Instant::now();
    let mut lat = Vec::with_capacity(args.read_requests);
    for i in 0..args.read_requests {
        if i > 0 && started.elapsed() > limit {
            break;
        }
        let t0 = Instant::now();
        std::hint::black_box(call(i).await?);
        lat.push(t0.elapsed());
    }
    Ok(Summary::of(lat))
}

/// The assignments asked for: the next fresh legal proposal, or with `--conflict-percent`
/// a refused one — half a seeded block again (`conflict`), half an evening making a day of
/// 10 h 30 (`labour_limit`). All for the group's manager, who assigns to every member.
fn bodies(args: &RunArgs, data: &StaffData, used: Arc<AtomicU64>) -> NextBody {
    let proposals = data.proposals.clone();
    let (taken, too_long) = (data.taken.clone(), data.too_long.clone());
    let refused_percent = args.conflict_percent;
    Arc::new(move |_, rng| {
        let p = if !taken.is_empty() && rng.gen_range(0..100u8) < refused_percent {
            if rng.gen_bool(0.5) || too_long.is_empty() {
                taken[rng.gen_range(0..taken.len())]
            } else {
                too_long[rng.gen_range(0..too_long.len())]
            }
        } else {
            *proposals.get(used.fetch_add(1, Ordering::Relaxed) as usize)?
        };
        Some(json!({
            "resource_id": p.resource_id.0, "member_id": p.member_id.0,
            "start": rfc3339(p.interval.start.naive_utc()),
            "end": rfc3339(p.interval.end.naive_utc()),
            "purpose": BENCH_RUN_PURPOSE,
        }))
    })
}

/// The staff rows of the table and their notes.
pub(super) fn rows(
    args: &RunArgs,
    data: &StaffData,
    r: &StaffResult,
    rows: &mut Vec<Vec<String>>,
    notes: &mut Vec<String>,
) {
    let c = &r.create;
    let secs = c.elapsed.as_secs_f64().max(1e-9);
    rows.push(row(
        format!("staff create, {} clients", args.clients),
        c.latencies.count.to_string(),
        rate(c.latencies.count as f64 / secs),
        Some(&c.latencies),
        "",
        String::new(),
    ));
    rows.push(row(
        "  201 created".into(),
        c.created.to_string(),
        rate(c.created as f64 / secs),
        (c.created > 0).then_some(&c.accepted),
        "p99 < 25 ms",
        verdict(c.created > 0 && c.accepted.p99 < CREATE_P99),
    ));
    rows.push(row(
        "  409 refused".into(),
        c.conflicts.to_string(),
        rate(c.conflicts as f64 / secs),
        (c.conflicts > 0).then_some(&c.refused),
        "",
        String::new(),
    ));
    rows.push(timed_row(
        "  409 refusal, in-process",
        &r.refusal_in_process,
    ));
    rows.push(timed_row("  shifts load, in-process", &r.shifts_load));
    rows.push(timed_row("  labour check, in-process", &r.labour_check));
    notes.push(format!(
        "staff create, in-process: for proposals spread over the weeks ahead, the working-time part of a create without HTTP nor lock: loading the employee's shifts over the 23 weeks labour::lookup_range asks for ({:.0} shifts on average), then labour::check",
        r.shifts_per_check
    ));
    let beyond = r
        .proposals_used
        .saturating_sub(data.seeded_proposals as u64);
    notes.push(format!(
        "staff create: 201 {}, 409 {} ({}), other {} over {:.1} s, as the group's manager; {} fresh legal assignments taken ({} of them beyond the seeded weeks, where the employees are free), {}% of requests aimed at a refusal (a seeded block again, or an evening making a 10 h 30 day); the target's verdict is on the 201s{}",
        c.created,
        c.conflicts,
        refusal_codes(c),
        c.other,
        secs,
        r.proposals_used,
        beyond,
        args.conflict_percent,
        if c.exhausted { "; stopped early: the legal free slots inside the horizon were used up" } else { "" }
    ));
    notes.extend(c.cpu_note("staff create"));
    for s in &c.samples_other {
        notes.push(format!("staff create: unexpected answer {s}"));
    }
    rows.push(row(
        format!("staff week grid, {} employees", r.grid_employees),
        r.week.count.to_string(),
        rate(r.week.count as f64 / r.week_elapsed.as_secs_f64().max(1e-9)),
        Some(&r.week),
        "< 50 ms",
        verdict(r.grid_employees > 0 && r.week.p99 < WEEK_GRID_P99),
    ));
    rows.push(timed_row("  same, in-process", &r.week_in_process));
    notes.push(format!(
        "staff week grid: GET /api/v1/staff/week?date=…&skill={} for each of the {} seeded weeks in turn, 1 client; {} employees, {} kB of JSON in the first answer; verdict on the client-side p99; \"in-process\" calls app::planning::week and encodes the JSON without HTTP",
        args.skill,
        data.weeks,
        r.grid_employees,
        r.grid_bytes / 1000
    ));
    rows.push(row(
        "staff ledger, 1 month".into(),
        r.ledger.count.to_string(),
        rate(r.ledger.count as f64 / r.ledger_elapsed.as_secs_f64().max(1e-9)),
        Some(&r.ledger),
        "< 200 ms",
        verdict(r.ledger_employees > 0 && r.ledger.p99 < LEDGER_P99),
    ));
    rows.push(timed_row("  same, in-process", &r.ledger_in_process));
    notes.push(format!(
        "staff ledger: GET /api/v1/staff/ledger/YYYY-MM for the {} whole months of the seeded weeks in turn ({} … {}), 1 client; {} employees with hours, {} kB of JSON in the first answer; verdict on the client-side p99",
        data.months.len(),
        data.months.first().map(|m| m.to_string()).unwrap_or_default(),
        data.months.last().map(|m| m.to_string()).unwrap_or_default(),
        r.ledger_employees,
        r.ledger_bytes / 1000
    ));
}
