//! The monthly allocation (DESIGN.md §5): every member's statement for a month, from the
//! three sources and the treasurer's adjustments, and per resource and pool what it cost,
//! what use recovered and how busy it was. Cost entries and adjustments are managed here;
//! closing, reopening and the hash chain live in `app::months`.
//!
//! One path computes a month (`compute_on`): the API, the pages, the CSV and FEC exports, the
//! CLI and the close all call it, so they cannot disagree. A closed month is read back from
//! the statement stored at its close instead, and never changes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::employees::all_staff_on;
use super::ledger::ledger_on;
use super::pricing::{terms_on, Terms};
use super::App;
use crate::domain::allocation::{split, Key, KeySpec, MemberBasis, Share};
use crate::domain::ids::{AdjustmentId, CostId, MemberId, ResourceId};
use crate::domain::month::{label_fr, Month};
use crate::domain::pricing::{in_force, price_month, Tariff, Use};
use crate::domain::resource::ResourceKind;
use crate::domain::statement::{
    self as st, adjustment_line, cost_share_line, staff_line, tariff_line, Line, MemberStatement,
    Refs, Source,
};
use crate::domain::status::BookingStatus;
use crate::domain::time::{format_date_fr, format_minutes, Interval};
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::store::allocation::{self as store, CostFields, CostRow};
use crate::store::members::{self as member_store, Member, MemberFilter};
use crate::store::pricing as pricing_store;
use crate::store::resources::{self as resource_store, Resource, ResourceFilter};
use crate::store::{from_db, months as month_store, to_db, DbConn};

/// A month's allocation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Allocation {
    #[schema(value_type = String, example = "2027-01")]
    pub month: Month,
    pub status: MonthStatus,
    pub total_cents: i64,
    /// Members with at least one line, by name.
    pub members: Vec<MemberStatement>,
    /// Per resource and pool: costs, recovered, occupancy (the treasurer's view).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceSummary>,
    /// Cost entries that cannot be split this month, and why: the month cannot be closed
    /// until they are fixed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<CostProblem>,
    /// The stored statement's hash chain, for a closed month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closing: Option<ClosingInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonthStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosingInfo {
    pub closed_at: DateTime<Utc>,
    pub previous_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostProblem {
    pub cost_id: CostId,
    pub label: String,
    pub message: String,
}

/// What one resource, or one pool, cost and recovered over the month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceSummary {
    /// `None` for a pool, or for the pole's general costs.
    pub resource_id: Option<ResourceId>,
    pub pool: Option<String>,
    pub name: String,
    /// Cost entries on it.
    pub costs_cents: i64,
    /// What its use brought in (tariff lines).
    pub recovered_cents: i64,
    /// Costs not covered by use: the price of idle capacity, shared by the keys.
    pub unrecovered_cents: i64,
    /// Unit-minutes booked and open in the month.
    pub used_minutes: i64,
    pub open_minutes: i64,
    /// Booked share of the open capacity, in thousandths.
    pub occupancy_permille: i64,
}

impl Allocation {
    pub fn member(&self, id: MemberId) -> Option<&MemberStatement> {
        self.members.iter().find(|m| m.member_id == id)
    }
}

/// The whole month's allocation, computed from today's records.
pub(crate) fn compute_on(
    conn: &mut DbConn,
    month: Month,
    tz: Tz,
    today: NaiveDate,
) -> AppResult<Allocation> {
    let costs = store::costs_of(conn, month)?;
    let adjustments = store::adjustments_of(conn, month)?;
    compute_with(conn, month, tz, today, &costs, &adjustments, None)
}

/// One member's statement computed from today's records: every booking is still read (the
/// keys weigh everyone's use) but only the member's lines are priced and written.
pub(crate) fn compute_for(
    conn: &mut DbConn,
    month: Month,
    tz: Tz,
    today: NaiveDate,
    member: MemberId,
) -> AppResult<Allocation> {
    let costs = store::costs_of(conn, month)?;
    let adjustments = store::adjustments_of(conn, month)?;
    compute_with(conn, month, tz, today, &costs, &adjustments, Some(member))
}

struct Month_<'a> {
    month: Month,
    tz: Tz,
    members: &'a [Member],
    resources: &'a HashMap<ResourceId, Resource>,
    /// Unit-minutes used per (member, resource), assignments included.
    usage: &'a HashMap<(MemberId, ResourceId), i64>,
}

impl Month_<'_> {
    /// The resources a cost entry concerns.
    fn scope(&self, c: &CostRow) -> Vec<ResourceId> {
        match (&c.resource_id, &c.pool) {
            (Some(r), _) => vec![*r],
            (None, Some(pool)) => self
                .resources
                .values()
                .filter(|r| r.row.pool.as_deref() == Some(pool.as_str()))
                .map(|r| r.row.id)
                .collect(),
            (None, None) => self.resources.keys().copied().collect(),
        }
    }

    /// Whether a member took part in the month: joined before its end, not archived before
    /// its start, and not set inactive.
    fn took_part(&self, m: &Member) -> bool {
        let b = self.month.bounds(self.tz);
        from_db(m.created_at) < b.end
            && m.archived_at.is_none_or(|a| from_db(a) >= b.start)
            && (m.active || m.archived_at.is_some())
    }

    /// The members a cost concerns with what the keys read of them: those that took part in
    /// the month, and any other member that used the scope.
    fn bases(&self, scope: &[ResourceId]) -> Vec<MemberBasis> {
        self.members
            .iter()
            .map(|m| MemberBasis {
                member: m.id,
                used_minutes: scope
                    .iter()
                    .map(|r| self.usage.get(&(m.id, *r)).copied().unwrap_or(0))
                    .sum(),
                headcount_hundredths: i64::from(m.headcount_hundredths),
                turnover_cents: m.turnover_cents,
                surface_m2: i64::from(m.surface_m2),
            })
            .filter(|b| {
                b.used_minutes > 0
                    || self
                        .members
                        .iter()
                        .any(|m| m.id == b.member && self.took_part(m))
            })
            .collect()
    }

    /// « surface : 40 m² sur 80 m² » — the member's weight under a key, for its line.
    fn describe(&self, spec: &KeySpec, key: &Key, b: &MemberBasis, all: &[MemberBasis]) -> String {
        let sum = |f: fn(&MemberBasis) -> i64| all.iter().map(f).sum::<i64>();
        let pct = |bp: i64| format!("{} %", crate::domain::money::format_permille(bp * 10));
        match key {
            Key::Usage => format!(
                "heures d'utilisation : {} sur {}",
                format_minutes(b.used_minutes),
                format_minutes(sum(|m| m.used_minutes))
            ),
            Key::EqualActive | Key::EqualUsers => spec.describe(),
            // Headcount and turnover are the member's own business: its share only, not the
            // pole's total (which, with two members, would give away the other's figure).
            Key::Headcount => format!(
                "effectif : {} ETP, soit {} de l'effectif pris en compte",
                crate::domain::money::format_amount(b.headcount_hundredths),
                share_of(b.headcount_hundredths, sum(|m| m.headcount_hundredths))
            ),
            Key::Turnover => format!(
                "chiffre d'affaires : {} du total pris en compte",
                share_of(b.turnover_cents, sum(|m| m.turnover_cents))
            ),
            Key::Surface => format!(
                "surface : {} m² sur {} m²",
                b.surface_m2,
                sum(|m| m.surface_m2)
            ),
            Key::Percentages { parts } => format!(
                "pourcentage fixe : {}",
                pct(parts
                    .iter()
                    .find(|(m, _)| *m == b.member)
                    .map(|p| p.1)
                    .unwrap_or(0))
            ),
            Key::Exact { .. } => "montant fixé".into(),
            Key::Blend { .. } => format!("clé composée : {}", spec.describe()),
        }
    }
}

/// « 28,6 % »: `part` of `whole`, to the tenth of a percent.
fn share_of(part: i64, whole: i64) -> String {
    st::format_rate(st::occupancy_permille(part, whole, 1))
}

/// What pricing sees of the bookings of a month, per member and resource kind (one free
/// allowance each): the tariff and coefficient in force on each start date, cancellations
/// read as DESIGN.md §5 says (a request cancelled before approval costs nothing, a booking
/// cancelled once begun took place until then). Staff are left out: the hours ledger bills
/// them.
#[allow(clippy::too_many_arguments)]
fn priced_uses(
    bookings: &[store::BilledBooking],
    resources: &HashMap<ResourceId, Resource>,
    tariffs: &HashMap<ResourceId, Vec<(NaiveDate, Tariff)>>,
    terms: &Terms,
    member_by_id: &HashMap<MemberId, &Member>,
    tz: Tz,
    wanted: impl Fn(MemberId) -> bool,
) -> BTreeMap<(MemberId, ResourceKind), Vec<(Use, ResourceId)>> {
    let mut uses: BTreeMap<(MemberId, ResourceKind), Vec<(Use, ResourceId)>> = BTreeMap::new();
    for b in bookings {
        let (Some(r), Some(booked)) = (
            resources.get(&b.resource_id),
            Interval::new(from_db(b.start_at), from_db(b.end_at)),
        ) else {
            continue;
        };
        let cancelled = b.status == BookingStatus::Cancelled;
        // A request cancelled before anyone approved it was never granted: no charge. (The
        // rules here and in `store::allocation::usage` are the same.)
        if cancelled && r.row.requires_approval && b.decided_at.is_none() {
            continue;
        }
        let cancelled_at = cancelled.then(|| b.cancelled_at.map(from_db).unwrap_or(booked.start));
        // A booking cancelled once begun (a vehicle brought back early) took place until then;
        // one cancelled before its start is a cancellation, charged only if late.
        let (iv, cancelled_at) = match cancelled_at {
            Some(at) if at > booked.start => {
                match Interval::new(booked.start, at.min(booked.end)) {
                    Some(used) => (used, None),
                    None => continue,
                }
            }
            other => (booked, other),
        };
        if r.row.kind == ResourceKind::Staff || !wanted(b.member_id) {
            continue; // staff: billed from the hours ledger below
        }
        let start_day = iv.start.with_timezone(&tz).date_naive();
        let Some(tariff) = tariffs
            .get(&b.resource_id)
            .and_then(|v| in_force(v, start_day))
        else {
            continue;
        };
        let category = member_by_id
            .get(&b.member_id)
            .map(|m| m.pricing_category.as_str())
            .unwrap_or("");
        let kind = terms.kind(r.row.kind);
        uses.entry((b.member_id, r.row.kind)).or_default().push((
            Use {
                booking: b.id,
                interval: iv,
                quantity: i64::from(b.quantity.max(1)),
                km: None,
                cancelled_at,
                tariff,
                coefficient_permille: terms.coefficient(category, start_day),
                late: kind.late(),
            },
            b.resource_id,
        ));
    }
    uses
}

/// The month's allocation; with `only`, that member's statement alone (no resource
/// summaries).
fn compute_with(
    conn: &mut DbConn,
    month: Month,
    tz: Tz,
    today: NaiveDate,
    costs: &[CostRow],
    adjustments: &[store::AdjustmentRow],
    only: Option<MemberId>,
) -> AppResult<Allocation> {
    let wanted = |m: MemberId| only.is_none_or(|o| o == m);
    let bounds = month.bounds(tz);
    let members = member_store::list(
        conn,
        &MemberFilter {
            include_archived: true,
            ..Default::default()
        },
    )?;
    let member_by_id: HashMap<MemberId, &Member> = members.iter().map(|m| (m.id, m)).collect();
    let resources: HashMap<ResourceId, Resource> = resource_store::list(
        conn,
        &ResourceFilter {
            include_archived: true,
            ..Default::default()
        },
    )?
    .into_iter()
    .map(|r| (r.row.id, r))
    .collect();
    let mut tariffs: HashMap<ResourceId, Vec<(NaiveDate, Tariff)>> = HashMap::new();
    for t in pricing_store::tariffs(conn, None)? {
        tariffs
            .entry(t.resource_id)
            .or_default()
            .push((t.effective_from, t.tariff()));
    }
    let terms: Terms = terms_on(conn)?;
    let (from, to) = (to_db(bounds.start), to_db(bounds.end));
    // Everyone's use weighs in the keys (summed by the database); only the statements
    // computed need their bookings priced.
    let bookings = store::billed_bookings(conn, only, from, to)?;
    let usage_rows = match store::kept_usage(conn, month)? {
        Some(rows) => rows,
        None => store::usage(conn, from, to)?,
    };
    let usage: HashMap<(MemberId, ResourceId), i64> = usage_rows
        .into_iter()
        .map(|(m, r, minutes)| ((m, r), minutes))
        .collect();

    let mut lines: BTreeMap<MemberId, Vec<Line>> = BTreeMap::new();
    let mut recovered: HashMap<ResourceId, i64> = HashMap::new();

    // 1. Tariffs: per member and resource kind (one free allowance), in booking order.
    let uses = priced_uses(
        &bookings,
        &resources,
        &tariffs,
        &terms,
        &member_by_id,
        tz,
        wanted,
    );
    for ((member, kind), group) in &uses {
        let free = i64::from(terms.kind(*kind).free_minutes_per_month);
        let only: Vec<Use> = group.iter().map(|(u, _)| u.clone()).collect();
        let resource_of: HashMap<_, _> = group.iter().map(|(u, r)| (u.booking, (*r, u))).collect();
        for p in price_month(&only, free, tz) {
            let Some((rid, u)) = resource_of.get(&p.booking) else {
                continue;
            };
            let name = resources
                .get(rid)
                .map(|r| r.row.name.as_str())
                .unwrap_or("");
            let when = crate::domain::time::format_span(u.interval, tz);
            *recovered.entry(*rid).or_default() += p.amount_cents;
            lines
                .entry(*member)
                .or_default()
                .push(tariff_line(&p, *rid, name, &u.tariff, &when));
        }
    }

    // 2. Shared staff: the hours ledger's charges, billed members only.
    let staff = all_staff_on(conn, &Actor::operator(), today)?;
    let ledger = ledger_on(conn, &staff, month, tz)?;
    for e in &ledger.employees {
        let fee = e.fee.map(|f| f.describe());
        for l in e
            .lines
            .iter()
            .filter(|l| l.charge.billed && l.charge.total_cents != 0 && wanted(l.charge.member_id))
        {
            let c = &l.charge;
            lines.entry(c.member_id).or_default().push(staff_line(
                e.employee_id,
                &e.employee_name,
                c.hours.worked_minutes,
                e.hourly_cost_cents,
                c.cost_cents,
                c.overtime_premium_cents,
                c.fee_cents,
                fee.as_deref(),
            ));
        }
    }

    // 3. Cost shares.
    let ctx = Month_ {
        month,
        tz,
        members: &members,
        resources: &resources,
        usage: &usage,
    };
    let mut problems = Vec::new();
    let mut costs_on: HashMap<(Option<ResourceId>, Option<String>), i64> = HashMap::new();
    for c in costs {
        *costs_on.entry((c.resource_id, c.pool.clone())).or_default() += c.amount_cents;
        match split_cost(&ctx, c) {
            Ok(parts) => {
                for (share, basis) in parts {
                    if share.cents != 0 && wanted(share.member) {
                        lines.entry(share.member).or_default().push(cost_share_line(
                            c.id,
                            c.resource_id,
                            &c.label,
                            c.amount_cents,
                            &share,
                            &basis,
                        ));
                    }
                }
            }
            Err(message) => problems.push(CostProblem {
                cost_id: c.id,
                label: c.label.clone(),
                message,
            }),
        }
    }

    // 4. Adjustments.
    for a in adjustments.iter().filter(|a| wanted(a.member_id)) {
        lines
            .entry(a.member_id)
            .or_default()
            .push(adjustment_line(a.id, &a.label, a.amount_cents));
    }

    let mut statements: Vec<MemberStatement> = lines
        .into_iter()
        .map(|(id, l)| {
            let name = member_by_id
                .get(&id)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            MemberStatement::new(id, name, l)
        })
        .collect();
    sort_members(&mut statements);
    let summaries = if only.is_none() {
        summaries(&ctx, &costs_on, &recovered)
    } else {
        Vec::new()
    };
    Ok(Allocation {
        month,
        status: MonthStatus::Open,
        total_cents: statements.iter().map(|m| m.total_cents).sum(),
        members: statements,
        resources: summaries,
        problems,
        closing: None,
    })
}

fn sort_members(m: &mut [MemberStatement]) {
    m.sort_by(|a, b| {
        crate::domain::text::fold(&a.member_name)
            .cmp(&crate::domain::text::fold(&b.member_name))
            .then(a.member_id.cmp(&b.member_id))
    });
}

/// A cost's shares with each member's basis described, or why it cannot be split.
fn split_cost(ctx: &Month_, c: &CostRow) -> Result<Vec<(Share, String)>, String> {
    let spec: KeySpec = serde_json::from_str(&c.split_key)
        .map_err(|_| "Clé de répartition illisible : enregistrez-la à nouveau.".to_string())?;
    let key = spec.to_key()?;
    let scope = ctx.scope(c);
    let bases = ctx.bases(&scope);
    let shares = split(c.amount_cents, &key, &bases).map_err(|e| e.to_string())?;
    Ok(shares
        .into_iter()
        .map(|s| {
            let b = bases.iter().find(|b| b.member == s.member);
            let text = b
                .map(|b| ctx.describe(&spec, &key, b, &bases))
                .unwrap_or_default();
            (s, text)
        })
        .collect())
}

fn summaries(
    ctx: &Month_,
    costs_on: &HashMap<(Option<ResourceId>, Option<String>), i64>,
    recovered: &HashMap<ResourceId, i64>,
) -> Vec<ResourceSummary> {
    let used_on = |r: ResourceId| -> i64 {
        ctx.usage
            .iter()
            .filter(|((_, rid), _)| *rid == r)
            .map(|(_, m)| *m)
            .sum()
    };
    let mut out = Vec::new();
    let mut ids: Vec<&Resource> = ctx.resources.values().collect();
    ids.sort_by(|a, b| (a.row.kind, &a.row.name).cmp(&(b.row.kind, &b.row.name)));
    let mut pools: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for r in ids {
        let used = used_on(r.row.id);
        let open = st::open_minutes(ctx.month, ctx.tz, &r.opening_hours)
            * i64::from(r.row.capacity.max(1));
        let costs = costs_on.get(&(Some(r.row.id), None)).copied().unwrap_or(0)
            + costs_on
                .iter()
                .filter(|((rid, _), _)| *rid == Some(r.row.id))
                .filter(|((_, p), _)| p.is_some())
                .map(|(_, v)| *v)
                .sum::<i64>();
        let rec = recovered.get(&r.row.id).copied().unwrap_or(0);
        if let Some(pool) = &r.row.pool {
            let e = pools.entry(pool.clone()).or_default();
            e.0 += costs;
            e.1 += rec;
            e.2 += used;
            e.3 += open;
        }
        if r.row.archived_at.is_some() && used == 0 && costs == 0 && rec == 0 {
            continue;
        }
        out.push(ResourceSummary {
            resource_id: Some(r.row.id),
            pool: r.row.pool.clone(),
            name: r.row.name.clone(),
            costs_cents: costs,
            recovered_cents: rec,
            unrecovered_cents: (costs - rec).max(0),
            used_minutes: used,
            open_minutes: open,
            occupancy_permille: st::occupancy_permille(used, open, 1),
        });
    }
    for (pool, (costs, rec, used, open)) in pools {
        let costs = costs
            + costs_on
                .get(&(None, Some(pool.clone())))
                .copied()
                .unwrap_or(0);
        out.push(ResourceSummary {
            resource_id: None,
            pool: Some(pool.clone()),
            name: format!("Groupe « {pool} »"),
            costs_cents: costs,
            recovered_cents: rec,
            unrecovered_cents: (costs - rec).max(0),
            used_minutes: used,
            open_minutes: open,
            occupancy_permille: st::occupancy_permille(used, open, 1),
        });
    }
    let general = costs_on.get(&(None, None)).copied().unwrap_or(0);
    if general != 0 {
        out.push(ResourceSummary {
            resource_id: None,
            pool: None,
            name: "Frais généraux du pôle".into(),
            costs_cents: general,
            recovered_cents: 0,
            unrecovered_cents: general.max(0),
            used_minutes: 0,
            open_minutes: 0,
            occupancy_permille: 0,
        });
    }
    out
}

/// The statements stored at a month's close, in the order they were hashed (member id, then
/// line position), or why a stored row cannot be read back as it was written.
pub(crate) fn stored_members(
    conn: &mut DbConn,
    month: Month,
    member: Option<MemberId>,
) -> AppResult<Result<Vec<MemberStatement>, String>> {
    let mut statements: Vec<MemberStatement> = Vec::new();
    for r in store::statement_lines(conn, month, member)? {
        let Some(source) = Source::parse(&r.source) else {
            return Ok(Err(format!("source « {} » inconnue", r.source)));
        };
        let refs = match serde_json::from_str::<Refs>(&r.refs) {
            Ok(refs) if serde_json::to_string(&refs).ok().as_deref() == Some(r.refs.as_str()) => {
                refs
            }
            _ => return Ok(Err("références de ligne réécrites".into())),
        };
        let line = Line {
            source,
            resource_id: r.resource_id,
            label: r.label,
            basis: r.basis,
            quantity_milli: r.quantity_milli,
            unit: r.unit,
            unit_price_cents: r.unit_price_cents,
            amount_cents: r.amount_cents,
            refs,
        };
        match statements.last_mut() {
            Some(m) if m.member_id == r.member_id => {
                if m.member_name != r.member_name {
                    return Ok(Err("nom de membre différent d'une ligne à l'autre".into()));
                }
                m.total_cents = m.total_cents.saturating_add(line.amount_cents);
                m.lines.push(line);
            }
            _ => statements.push(MemberStatement {
                member_id: r.member_id,
                member_name: r.member_name,
                total_cents: line.amount_cents,
                lines: vec![line],
            }),
        }
    }
    Ok(Ok(statements))
}

/// A closed month's statement as stored at its close; `None` for an open month and for a
/// month closed before statements were stored (it is computed).
pub(crate) fn stored_on(
    conn: &mut DbConn,
    month: Month,
    member: Option<MemberId>,
) -> AppResult<Option<Allocation>> {
    let Some(closing) = store::closed_months(conn)?
        .into_iter()
        .find(|c| c.month == month && !c.hash.is_empty())
    else {
        return Ok(None);
    };
    let mut statements = stored_members(conn, month, member)?.map_err(|why| {
        AppError::internal(format!("relevé clôturé de {month} illisible : {why}"))
    })?;
    sort_members(&mut statements);
    Ok(Some(Allocation {
        month,
        status: MonthStatus::Closed,
        total_cents: if member.is_some() {
            statements.iter().map(|m| m.total_cents).sum()
        } else {
            closing.total_cents
        },
        members: statements,
        resources: Vec::new(),
        problems: Vec::new(),
        closing: Some(ClosingInfo {
            closed_at: from_db(closing.closed_at),
            previous_hash: closing.previous_hash,
            hash: closing.hash,
        }),
    }))
}

/// The month's allocation: as stored if closed, computed otherwise (a month closed before
/// statements were stored is computed and marked closed).
pub(crate) fn month_on(
    conn: &mut DbConn,
    month: Month,
    tz: Tz,
    today: NaiveDate,
    only: Option<MemberId>,
) -> AppResult<Allocation> {
    if let Some(a) = stored_on(conn, month, only)? {
        return Ok(a);
    }
    let mut a = match only {
        None => compute_on(conn, month, tz, today)?,
        Some(m) => compute_for(conn, month, tz, today, m)?,
    };
    if let Some(closing) = month_store::find(conn, month)? {
        a.status = MonthStatus::Closed;
        a.closing = Some(ClosingInfo {
            closed_at: from_db(closing.closed_at),
            previous_hash: String::new(),
            hash: String::new(),
        });
    }
    Ok(a)
}

/// The stored lines of a statement, in statement order.
pub(crate) fn to_stored(month: Month, members: &[MemberStatement]) -> Vec<store::StoredLine> {
    members
        .iter()
        .flat_map(|m| {
            m.lines
                .iter()
                .enumerate()
                .map(move |(i, l)| store::StoredLine {
                    month,
                    member_id: m.member_id,
                    position: i as i32,
                    member_name: m.member_name.clone(),
                    source: l.source.as_str().to_string(),
                    resource_id: l.resource_id,
                    label: l.label.clone(),
                    basis: l.basis.clone(),
                    quantity_milli: l.quantity_milli,
                    unit: l.unit.clone(),
                    unit_price_cents: l.unit_price_cents,
                    amount_cents: l.amount_cents,
                    refs: serde_json::to_string(&l.refs).unwrap_or_default(),
                })
        })
        .collect()
}

/// Generates the month's entries of running recurring costs, once each.
pub(crate) fn generate_recurring_on(
    conn: &mut DbConn,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    month_store::lock_open(conn, &[month])?;
    let due = store::recurring_due(conn, month)?;
    for t in &due {
        store::insert_generated(
            conn,
            &CostFields {
                month,
                label: t.label.clone(),
                amount_cents: t.amount_cents,
                resource_id: t.resource_id,
                pool: t.pool.clone(),
                split_key: t.split_key.clone(),
                recurring: false,
                until_month: None,
                updated_at: to_db(now),
            },
            t.id,
            t.created_by,
            to_db(now),
        )?;
    }
    Ok(due.len())
}

/// Sums and keeps the month's use per member and resource unless it is current, so that a
/// member's statement need not read every booking of the month. The month's exclusive lock
/// (PostgreSQL) waits for the booking writes of the month in flight, and holds off new ones
/// while the sum is made; each booking write forgets the months it may touch
/// (`store::allocation::forget_usage`). SQLite serialises writers anyway.
async fn keep_usage_current(app: &App, month: Month) -> AppResult<()> {
    let done = app
        .db()
        .run(move |c| Ok(store::usage_is_kept(c, month)? || month_store::find(c, month)?.is_some()))
        .await?;
    if done {
        return Ok(());
    }
    let (tz, now) = (app.tz(), app.now());
    app.db()
        .write(move |c| {
            month_store::lock_for_close(c, month)?;
            if store::usage_is_kept(c, month)? {
                return Ok(());
            }
            let b = month.bounds(tz);
            let rows = store::usage(c, to_db(b.start), to_db(b.end))?;
            store::keep_usage(c, month, &rows, to_db(now))
        })
        .await
}

/// Generates recurring entries of an open month up to the current one (never ahead: a
/// running entry stopped before then would leave them behind).
async fn ensure_recurring(app: &App, month: Month) -> AppResult<()> {
    let (now, tz) = (app.now(), app.tz());
    if month > Month::containing(now, tz) {
        return Ok(());
    }
    let due = app
        .db()
        .run(move |c| {
            Ok(month_store::find(c, month)?.is_none()
                && !store::recurring_due(c, month)?.is_empty())
        })
        .await?;
    if due {
        app.db()
            .write(move |c| {
                if month_store::find(c, month)?.is_none() {
                    generate_recurring_on(c, month, now)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(())
}

/// The month's allocation as the actor may see it: every member for the treasurer and the
/// administrator, its own members' statements for anyone else (nothing about others: no
/// pole total, no resource summary).
pub async fn allocation(app: &App, actor: &Actor, month: Month) -> AppResult<Allocation> {
    let all = authz::can_manage_allocation(actor);
    if !all && actor.memberships.is_empty() {
        return Err(AppError::Forbidden);
    }
    ensure_recurring(app, month).await?;
    keep_usage_current(app, month).await?;
    let (tz, today, actor) = (app.tz(), app.today(), actor.clone());
    app.db()
        .run(move |c| {
            if all {
                return month_on(c, month, tz, today, None);
            }
            // A member's users: the statements of their own members only, each computed
            // alone; nothing pole-wide (no total, no resource summary, no problems).
            let mut mine: Option<Allocation> = None;
            for id in actor.member_ids() {
                let one = month_on(c, month, tz, today, Some(id))?;
                match &mut mine {
                    None => mine = Some(one),
                    Some(a) => a.members.extend(one.members),
                }
            }
            let mut a = mine.ok_or(AppError::Forbidden)?;
            a.members
                .retain(|m| authz::can_see_statement(&actor, m.member_id));
            sort_members(&mut a.members);
            a.total_cents = a.members.iter().map(|m| m.total_cents).sum();
            a.resources.clear();
            a.problems.clear();
            Ok(a)
        })
        .await
}

/// One member's statement of a month (empty lines when it owes nothing).
pub async fn statement(
    app: &App,
    actor: &Actor,
    month: Month,
    member: MemberId,
) -> AppResult<(Allocation, MemberStatement)> {
    authz::require(authz::can_see_statement(actor, member))?;
    ensure_recurring(app, month).await?;
    keep_usage_current(app, month).await?;
    let (tz, today) = (app.tz(), app.today());
    let a = app
        .db()
        .run(move |c| month_on(c, month, tz, today, Some(member)))
        .await?;
    let s = match a.member(member) {
        Some(s) => s.clone(),
        None => {
            let name = app
                .db()
                .run(move |c| Ok(member_store::find(c, member)?.name))
                .await?;
            MemberStatement::new(member, name, Vec::new())
        }
    };
    Ok((a, s))
}

/// Every member's monthly totals over the twelve months ending with `month` (closed months
/// as stored, open ones as computed today), for the trend.
pub async fn trend(app: &App, actor: &Actor, month: Month) -> AppResult<Trend> {
    trend_beside(app, actor, month, None).await
}

/// The trend, with `month`'s allocation already computed by the caller (the month page shows
/// both): it is not computed a second time.
pub async fn trend_beside(
    app: &App,
    actor: &Actor,
    month: Month,
    current: Option<&Allocation>,
) -> AppResult<Trend> {
    authz::require(authz::can_manage_allocation(actor))?;
    let (tz, today) = (app.tz(), app.today());
    let current: Option<Vec<(MemberId, i64)>> = current.map(|a| {
        a.members
            .iter()
            .map(|s| (s.member_id, s.total_cents))
            .collect()
    });
    app.db()
        .run(move |c| {
            let mut months = vec![month];
            for _ in 0..11 {
                let prev = months[0].previous();
                months.insert(0, prev);
            }
            // Closed months from their stored lines (months closed before statements were stored
            // are computed, like open ones up to the current month).
            let stored: Vec<Month> = store::closed_months(c)?
                .into_iter()
                .filter(|m| !m.hash.is_empty())
                .map(|m| m.month)
                .collect();
            let mut totals: BTreeMap<MemberId, Vec<i64>> = BTreeMap::new();
            for (m, id, cents) in store::closed_totals(c, months[0], months[11])? {
                if let (true, Some(i)) = (stored.contains(&m), months.iter().position(|x| *x == m))
                {
                    totals.entry(id).or_insert_with(|| vec![0; 12])[i] = cents;
                }
            }
            for (i, m) in months.iter().enumerate() {
                if stored.contains(m) || Some(*m) > Month::of_date(today) {
                    continue;
                }
                if let (true, Some(known)) = (*m == month, current.as_ref()) {
                    for (id, cents) in known {
                        totals.entry(*id).or_insert_with(|| vec![0; 12])[i] = *cents;
                    }
                    continue;
                }
                // A month with nothing to allocate adds nothing: no need to compute it.
                let bounds = m.bounds(tz);
                if !store::any_billed_between(c, to_db(bounds.start), to_db(bounds.end))?
                    && store::costs_of(c, *m)?.is_empty()
                    && store::adjustments_of(c, *m)?.is_empty()
                {
                    continue;
                }
                for s in compute_on(c, *m, tz, today)?.members {
                    totals.entry(s.member_id).or_insert_with(|| vec![0; 12])[i] = s.total_cents;
                }
            }
            let ids: Vec<MemberId> = totals.keys().copied().collect();
            let mut names: BTreeMap<MemberId, String> =
                member_store::names(c, &ids)?.into_iter().collect();
            let mut members: Vec<TrendRow> = totals
                .into_iter()
                .map(|(id, cents)| TrendRow {
                    member_id: id,
                    member_name: names.remove(&id).unwrap_or_default(),
                    cents,
                })
                .collect();
            members.sort_by_cached_key(|m| crate::domain::text::fold(&m.member_name));
            Ok(Trend { months, members })
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trend {
    #[schema(value_type = Vec<String>)]
    pub months: Vec<Month>,
    pub members: Vec<TrendRow>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrendRow {
    pub member_id: MemberId,
    pub member_name: String,
    /// One total per month of `months`.
    pub cents: Vec<i64>,
}

// ---------------------------------------------------------------------------------------
// Cost entries

/// A cost entry as the API and the form send it (DESIGN.md §6 `POST /costs`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CostInput {
    #[schema(value_type = String, example = "2027-01")]
    pub month: Month,
    pub label: String,
    pub amount_cents: i64,
    #[serde(default)]
    pub resource_id: Option<ResourceId>,
    #[serde(default)]
    pub pool: Option<String>,
    /// Generate the same entry every later month, until `until` (included) if given.
    #[serde(default)]
    pub recurring: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2027-12")]
    pub until: Option<Month>,
    pub key: KeySpec,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostView {
    pub id: CostId,
    #[schema(value_type = String)]
    pub month: Month,
    pub label: String,
    pub amount_cents: i64,
    pub resource_id: Option<ResourceId>,
    pub pool: Option<String>,
    pub recurring: bool,
    #[schema(value_type = Option<String>)]
    pub until: Option<Month>,
    /// The recurring entry it was generated from.
    pub generated_from: Option<CostId>,
    pub key: KeySpec,
    /// The key in French.
    pub key_text: String,
}

impl CostView {
    fn of(r: CostRow) -> CostView {
        let key: KeySpec = serde_json::from_str(&r.split_key)
            .unwrap_or_else(|_| KeySpec::simple(crate::domain::allocation::Method::Equal));
        CostView {
            id: r.id,
            month: r.month,
            label: r.label,
            amount_cents: r.amount_cents,
            resource_id: r.resource_id,
            pool: r.pool,
            recurring: r.recurring,
            until: r.until_month,
            generated_from: r.generated_from,
            key_text: key.describe(),
            key,
        }
    }
}

/// The entry's fields, checked: label, amount, target (an existing resource not archived
/// before the month, or a pool with such resources) and, with `key`, the key itself.
fn cost_fields(conn: &mut DbConn, input: &CostInput, key: bool, tz: Tz) -> AppResult<CostFields> {
    let mut e = FieldErrors::new();
    let label = e.check("label", validation::required_text(&input.label, 200));
    e.check(
        "amount_cents",
        validation::int_in_range(input.amount_cents, -MAX_COST_CENTS, MAX_COST_CENTS),
    );
    let pool = match input
        .pool
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => e.check("pool", validation::required_text(p, 60)),
        None => None,
    };
    if input.resource_id.is_some() && pool.is_some() {
        e.add("pool", "Une ressource ou un groupe, pas les deux.");
    }
    if let Some(until) = input.until {
        if !input.recurring {
            e.add("until", "Seule une dépense récurrente a une fin.");
        } else if until < input.month {
            e.add("until", "La fin doit suivre le premier mois.");
        }
    }
    if key {
        e.check("key", input.key.to_key());
    }
    e.into_result().map_err(AppError::Validation)?;
    let start = to_db(input.month.bounds(tz).start);
    let live = |r: &Resource| r.row.archived_at.is_none_or(|a| a >= start);
    if let Some(r) = input.resource_id {
        match resource_store::find(conn, r) {
            Err(AppError::NotFound) => {
                return Err(AppError::validation("resource_id", "Ressource inconnue."))
            }
            Ok(r) if !live(&r) => {
                return Err(AppError::validation(
                    "resource_id",
                    "Cette ressource était archivée avant ce mois.",
                ))
            }
            other => {
                other?;
            }
        }
    }
    if let (Some(p), None) = (&pool, input.resource_id) {
        let all = resource_store::list(
            conn,
            &ResourceFilter {
                include_archived: true,
                ..Default::default()
            },
        )?;
        if !all
            .iter()
            .any(|r| r.row.pool.as_deref() == Some(p.as_str()) && live(r))
        {
            return Err(AppError::validation(
                "pool",
                format!("Aucune ressource en service n'appartient au groupe « {p} »."),
            ));
        }
    }
    Ok(CostFields {
        month: input.month,
        label: label.unwrap_or_default(),
        amount_cents: input.amount_cents,
        resource_id: input.resource_id,
        pool,
        split_key: serde_json::to_string(&input.key).map_err(AppError::internal)?,
        recurring: input.recurring,
        until_month: input.until,
        updated_at: to_db(Utc::now()),
    })
}

/// An amount no pole's month comes near (100 M€), so no sum of lines can overflow.
const MAX_COST_CENTS: i64 = 10_000_000_000;

/// A cost entry not saved, as the allocation would read it.
fn probe(f: &CostFields) -> CostRow {
    CostRow {
        id: CostId(0),
        month: f.month,
        label: f.label.clone(),
        amount_cents: f.amount_cents,
        resource_id: f.resource_id,
        pool: f.pool.clone(),
        split_key: f.split_key.clone(),
        recurring: false,
        until_month: None,
        generated_from: None,
        deleted_at: None,
        created_by: None,
        created_at: f.updated_at,
        updated_at: f.updated_at,
    }
}

/// Checks a cost entry against the month's members: the key must split it now (all-zero
/// weights, percentages not making 100 %, amounts not summing to the total are refused). A
/// key on use (usage hours, equal parts among users) of a month not over may have nobody to
/// split on yet: allowed; the close refuses what still cannot be split then.
fn validate_cost(
    conn: &mut DbConn,
    input: &CostInput,
    tz: Tz,
    today: NaiveDate,
) -> AppResult<CostFields> {
    let fields = cost_fields(conn, input, true, tz)?;
    let a = compute_with(
        conn,
        input.month,
        tz,
        today,
        std::slice::from_ref(&probe(&fields)),
        &[],
        None,
    )?;
    if let Some(p) = a.problems.first() {
        let usage_based = input.key.method == crate::domain::allocation::Method::UsageHours
            || input.key.among == Some(crate::domain::allocation::Among::Users);
        if !(usage_based && Some(input.month) >= Month::of_date(today)) {
            return Err(AppError::validation("key", p.message.clone()));
        }
    }
    Ok(fields)
}

/// Refuses a write in a closed month (`409 month_closed`). On PostgreSQL it first takes the
/// month's shared lock, so a close cannot commit between this check and the write.
fn require_open(conn: &mut DbConn, month: Month) -> AppResult<()> {
    month_store::lock_open(conn, &[month])?;
    if month_store::find(conn, month)?.is_some() {
        return Err(AppError::Conflict {
            code: "month_closed",
            detail: format!(
                "Le mois de {} est clôturé : saisissez une régularisation dans un mois ouvert.",
                label_fr(month)
            ),
        });
    }
    Ok(())
}

pub async fn costs(app: &App, actor: &Actor, month: Month) -> AppResult<Vec<CostView>> {
    authz::require(authz::can_manage_allocation(actor))?;
    ensure_recurring(app, month).await?;
    app.db()
        .run(move |c| {
            Ok(store::costs_of(c, month)?
                .into_iter()
                .map(CostView::of)
                .collect())
        })
        .await
}

pub async fn cost(app: &App, actor: &Actor, id: CostId) -> AppResult<CostView> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db()
        .run(move |c| {
            store::find_cost(c, id)?
                .map(CostView::of)
                .ok_or(AppError::NotFound)
        })
        .await
}

pub async fn create_cost(app: &App, actor: &Actor, input: CostInput) -> AppResult<CostView> {
    authz::require(authz::can_manage_allocation(actor))?;
    let (tz, today, now, by) = (app.tz(), app.today(), app.now(), actor.recorded_id());
    // Checked on a read connection: the split is computed outside the writer.
    let mut f = app
        .db()
        .run(move |c| validate_cost(c, &input, tz, today))
        .await?;
    f.updated_at = to_db(now);
    app.db()
        .write(move |c| {
            require_open(c, f.month)?;
            Ok(CostView::of(store::insert_cost(
                c,
                &f,
                None,
                by,
                to_db(now),
            )?))
        })
        .await
}

pub async fn update_cost(
    app: &App,
    actor: &Actor,
    id: CostId,
    input: CostInput,
) -> AppResult<CostView> {
    authz::require(authz::can_manage_allocation(actor))?;
    let (tz, today, now) = (app.tz(), app.today(), app.now());
    let mut f = app
        .db()
        .run(move |c| validate_cost(c, &input, tz, today))
        .await?;
    f.updated_at = to_db(now);
    app.db()
        .write(move |c| {
            let current = store::find_cost(c, id)?.ok_or(AppError::NotFound)?;
            if current.recurring && store::generated_count(c, id)? > 0 {
                // It has generated later months: only its end may change, even once its own
                // month is closed (« until further notice » stops here).
                let unchanged = (
                    f.month,
                    &f.label,
                    f.amount_cents,
                    f.resource_id,
                    &f.pool,
                    &f.split_key,
                    f.recurring,
                ) == (
                    current.month,
                    &current.label,
                    current.amount_cents,
                    current.resource_id,
                    &current.pool,
                    &current.split_key,
                    true,
                );
                if !unchanged {
                    return Err(AppError::Conflict {
                        code: "recurring_started",
                        detail: "Cette dépense récurrente a déjà produit les mois suivants : seule sa date de fin peut changer. Modifiez le mois concerné, ou arrêtez-la et créez-en une nouvelle.".into(),
                    });
                }
                return Ok(CostView::of(store::set_until(c, id, f.until_month, to_db(now))?));
            }
            require_open(c, current.month)?;
            require_open(c, f.month)?;
            Ok(CostView::of(store::update_cost(c, id, &f)?))
        })
        .await
}

pub async fn delete_cost(app: &App, actor: &Actor, id: CostId) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;
    let now = to_db(app.now());
    app.db()
        .write(move |c| {
            let current = store::find_cost(c, id)?.ok_or(AppError::NotFound)?;
            require_open(c, current.month)?;
            if current.recurring && store::generated_count(c, id)? > 0 {
                return Err(AppError::Conflict {
                    code: "recurring_started",
                    detail: "Cette dépense récurrente a déjà produit les mois suivants : donnez-lui une date de fin plutôt que de la supprimer.".into(),
                });
            }
            store::delete_cost(c, &current, now)
        })
        .await
}

/// Each member's share of a cost entry not yet saved, under two keys side by side.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhatIf {
    pub keys: [String; 2],
    pub rows: Vec<WhatIfRow>,
    /// Why a key cannot split the entry, per key.
    pub errors: [Option<String>; 2],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhatIfRow {
    pub member_id: MemberId,
    pub member_name: String,
    pub cents: [i64; 2],
}

pub async fn what_if(
    app: &App,
    actor: &Actor,
    input: CostInput,
    other: KeySpec,
) -> AppResult<WhatIf> {
    authz::require(authz::can_manage_allocation(actor))?;
    let (tz, today) = (app.tz(), app.today());
    app.db()
        .run(move |c| {
            // The entry's own fields must hold; the keys may not split it (that is the answer).
            let fields = cost_fields(c, &input, false, tz)?;
            let mut rows: BTreeMap<MemberId, WhatIfRow> = BTreeMap::new();
            let mut errors = [None, None];
            let specs = [input.key.clone(), other.clone()];
            for (i, spec) in specs.iter().enumerate() {
                let probe = CostRow {
                    split_key: serde_json::to_string(spec).map_err(AppError::internal)?,
                    ..probe(&fields)
                };
                let a = compute_with(
                    c,
                    input.month,
                    tz,
                    today,
                    std::slice::from_ref(&probe),
                    &[],
                    None,
                )?;
                if let Some(p) = a.problems.first() {
                    errors[i] = Some(p.message.clone());
                }
                for m in &a.members {
                    let share = m.total_of(Source::CostShare);
                    rows.entry(m.member_id)
                        .or_insert_with(|| WhatIfRow {
                            member_id: m.member_id,
                            member_name: m.member_name.clone(),
                            cents: [0, 0],
                        })
                        .cents[i] = share;
                }
            }
            let mut rows: Vec<WhatIfRow> =
                rows.into_values().filter(|r| r.cents != [0, 0]).collect();
            rows.sort_by_cached_key(|r| crate::domain::text::fold(&r.member_name));
            Ok(WhatIf {
                keys: [specs[0].describe(), specs[1].describe()],
                rows,
                errors,
            })
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Adjustments

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdjustmentInput {
    #[schema(value_type = String, example = "2027-02")]
    pub month: Month,
    pub member_id: MemberId,
    /// The reason, printed on the statement.
    pub label: String,
    /// Positive: the member owes more; negative: a credit.
    pub amount_cents: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdjustmentView {
    pub id: AdjustmentId,
    #[schema(value_type = String)]
    pub month: Month,
    pub member_id: MemberId,
    pub label: String,
    pub amount_cents: i64,
}

pub async fn adjustments(app: &App, actor: &Actor, month: Month) -> AppResult<Vec<AdjustmentView>> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db()
        .run(move |c| {
            Ok(store::adjustments_of(c, month)?
                .into_iter()
                .map(|a| AdjustmentView {
                    id: a.id,
                    month: a.month,
                    member_id: a.member_id,
                    label: a.label,
                    amount_cents: a.amount_cents,
                })
                .collect())
        })
        .await
}

pub async fn create_adjustment(
    app: &App,
    actor: &Actor,
    input: AdjustmentInput,
) -> AppResult<AdjustmentView> {
    authz::require(authz::can_manage_allocation(actor))?;
    let mut e = FieldErrors::new();
    let label = e.check("label", validation::required_text(&input.label, 300));
    e.check(
        "amount_cents",
        validation::int_in_range(input.amount_cents, -10_000_000_000, 10_000_000_000),
    );
    if input.amount_cents == 0 {
        e.add("amount_cents", "Une régularisation de 0 € ne change rien.");
    }
    e.into_result().map_err(AppError::Validation)?;
    let (now, by) = (app.now(), actor.recorded_id());
    let label = label.unwrap_or_default();
    app.db()
        .write(move |c| {
            require_open(c, input.month)?;
            if matches!(
                member_store::find(c, input.member_id),
                Err(AppError::NotFound)
            ) {
                return Err(AppError::validation("member_id", "Membre inconnu."));
            }
            let a = store::insert_adjustment(
                c,
                input.month,
                input.member_id,
                &label,
                input.amount_cents,
                by,
                to_db(now),
            )?;
            Ok(AdjustmentView {
                id: a.id,
                month: a.month,
                member_id: a.member_id,
                label: a.label,
                amount_cents: a.amount_cents,
            })
        })
        .await
}

pub async fn delete_adjustment(app: &App, actor: &Actor, id: AdjustmentId) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db()
        .write(move |c| {
            let a = store::find_adjustment(c, id)?.ok_or(AppError::NotFound)?;
            require_open(c, a.month)?;
            store::delete_adjustment(c, id)
        })
        .await
}

/// The local date, in French, of a month's first day (« 1er janvier 2027 »), for pages.
pub fn month_start_fr(month: Month) -> String {
    format_date_fr(month.first_day())
}

/// What a booking would cost its member, before it is made: the booking form shows it as soon
/// as a resource and times are chosen, and each suggestion carries its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Estimate {
    /// What the member's month costs more with the booking: its own line, plus what it takes
    /// from the free allowance of later bookings (the allowance goes in booking order).
    pub amount_cents: i64,
    /// How the line is reached, in French (« 2 h × 12,00 € × 0,5 », allowance used…).
    pub basis: String,
    /// Of the unit-minutes billed, those the month's free allowance covers.
    pub free_minutes: i64,
    /// The member's pricing coefficient in force (×0.5 = 500).
    pub coefficient_permille: i64,
}

/// The estimate of a booking of `quantity` units of `resource_id` over `interval` for
/// `member_id`: `None` when the resource has no tariff in force (staff are priced by the
/// hours ledger). Until the month is closed this is what the statement would say now.
pub async fn estimate(
    app: &App,
    actor: &Actor,
    member_id: MemberId,
    resource_id: ResourceId,
    interval: Interval,
    quantity: i32,
) -> AppResult<Option<Estimate>> {
    let mine = authz::bookable_members(actor).is_none_or(|ids| ids.contains(&member_id))
        || authz::can_see_booking_details(actor, member_id);
    if !mine {
        return Err(AppError::Forbidden);
    }
    let tz = app.tz();
    app.db()
        .run(move |c| estimate_on(c, member_id, resource_id, interval, quantity, tz))
        .await
}

pub fn estimate_on(
    conn: &mut DbConn,
    member_id: MemberId,
    resource_id: ResourceId,
    interval: Interval,
    quantity: i32,
    tz: Tz,
) -> AppResult<Option<Estimate>> {
    let member = member_store::find(conn, member_id)?;
    let resource = resource_store::find(conn, resource_id)?;
    if resource.row.kind == ResourceKind::Staff {
        return Ok(None);
    }
    let kind = resource.row.kind;
    let bounds = Month::containing(interval.start, tz).bounds(tz);
    let bookings = store::billed_bookings(
        conn,
        Some(member_id),
        to_db(bounds.start),
        to_db(bounds.end),
    )?;
    let mut ids: Vec<ResourceId> = bookings.iter().map(|b| b.resource_id).collect();
    ids.push(resource_id);
    ids.sort();
    ids.dedup();
    let mut resources: HashMap<ResourceId, Resource> = HashMap::new();
    for id in &ids {
        resources.insert(*id, resource_store::find(conn, *id)?);
    }
    let mut tariffs: HashMap<ResourceId, Vec<(NaiveDate, Tariff)>> = HashMap::new();
    for t in pricing_store::tariffs(conn, Some(&ids))? {
        tariffs
            .entry(t.resource_id)
            .or_default()
            .push((t.effective_from, t.tariff()));
    }
    let start_day = interval.start.with_timezone(&tz).date_naive();
    let Some(tariff) = tariffs
        .get(&resource_id)
        .and_then(|v| in_force(v, start_day))
    else {
        return Ok(None);
    };
    let terms = terms_on(conn)?;
    let member_by_id: HashMap<MemberId, &Member> = [(member_id, &member)].into_iter().collect();
    let mut group: Vec<Use> = priced_uses(
        &bookings,
        &resources,
        &tariffs,
        &terms,
        &member_by_id,
        tz,
        |_| true,
    )
    .remove(&(member_id, kind))
    .unwrap_or_default()
    .into_iter()
    .map(|(u, _)| u)
    .collect();
    let free = i64::from(terms.kind(kind).free_minutes_per_month);
    let total = |uses: &[Use]| -> i64 {
        price_month(uses, free, tz)
            .iter()
            .map(|p| p.amount_cents)
            .sum()
    };
    let before = total(&group);
    // An id no stored booking has: the new booking, last among those starting with it.
    let new = crate::domain::ids::BookingId(i64::MAX);
    let coefficient_permille = terms.coefficient(&member.pricing_category, start_day);
    group.push(Use {
        booking: new,
        interval,
        quantity: i64::from(quantity.max(1)),
        km: None,
        cancelled_at: None,
        tariff,
        coefficient_permille,
        late: terms.kind(kind).late(),
    });
    let priced = price_month(&group, free, tz);
    let after: i64 = priced.iter().map(|p| p.amount_cents).sum();
    let line = priced.into_iter().find(|p| p.booking == new);
    Ok(line.map(|l| Estimate {
        amount_cents: after - before,
        basis: l.basis,
        free_minutes: l.free_minutes,
        coefficient_permille,
    }))
}
