//! A member's monthly statement (DESIGN.md §5, §6): its lines from the three sources and the
//! treasurer's adjustments, the canonical text a closed month is hashed over, and the hash
//! chain that makes a stored statement tamper-evident. Pure: `app::allocation` gathers the
//! month's figures and calls the builders here.

use chrono::{Datelike, Duration, NaiveDate};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::allocation::Share;
use super::booking::OpeningSlot;
use super::ids::{AdjustmentId, BookingId, CostId, MemberId, ResourceId};
use super::money::{format_euros, format_permille};
use super::month::Month;
use super::pricing::{Priced, Tariff};
use super::time::format_minutes;

/// Where a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Tariff,
    CostShare,
    Staff,
    Adjustment,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Tariff,
        Source::CostShare,
        Source::Staff,
        Source::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Tariff => "tariff",
            Source::CostShare => "cost_share",
            Source::Staff => "staff",
            Source::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Tariff => "Utilisation",
            Source::CostShare => "Quote-part des coûts communs",
            Source::Staff => "Salariés partagés",
            Source::Adjustment => "Régularisation",
        }
    }
}

/// What a line stands for, so a member can check it: the bookings priced, the employee whose
/// hours are billed, the cost entry split, the adjustment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Refs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bookings: Vec<BookingId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_id: Option<CostId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_id: Option<AdjustmentId>,
}

/// One line of a statement. `quantity` is exact to the thousandth (hours, km, parts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Line {
    pub source: Source,
    pub resource_id: Option<ResourceId>,
    pub label: String,
    /// How the amount was reached, in French.
    pub basis: String,
    #[serde(rename = "quantity", serialize_with = "milli_as_number")]
    #[schema(value_type = f64, rename = "quantity")]
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_cents: i64,
    pub amount_cents: i64,
    pub refs: Refs,
}

fn milli_as_number<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    if v % 1000 == 0 {
        s.serialize_i64(v / 1000)
    } else {
        s.serialize_f64(*v as f64 / 1000.0)
    }
}

/// A member's statement for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MemberStatement {
    pub member_id: MemberId,
    pub member_name: String,
    pub total_cents: i64,
    pub lines: Vec<Line>,
}

impl MemberStatement {
    /// Lines in statement order with the total: by source and resource; a resource's
    /// bookings in the order given (the allocation gives them by start, the order its free
    /// hours are used in: their labels, « lundi 4 janvier » after « lundi 11 janvier », would
    /// not), other lines by label. A stable sort.
    pub fn new(member_id: MemberId, member_name: String, mut lines: Vec<Line>) -> Self {
        lines.sort_by(|a, b| {
            let label = |l: &Line| (l.source != Source::Tariff).then(|| l.label.clone());
            (a.source, a.resource_id, label(a)).cmp(&(b.source, b.resource_id, label(b)))
        });
        MemberStatement {
            member_id,
            member_name,
            total_cents: lines.iter().map(|l| l.amount_cents).sum(),
            lines,
        }
    }

    pub fn total_of(&self, source: Source) -> i64 {
        self.lines
            .iter()
            .filter(|l| l.source == source)
            .map(|l| l.amount_cents)
            .sum()
    }
}

/// Minutes as hours in thousandths (1 h 20 → 1 333).
pub fn minutes_as_milli_hours(minutes: i64) -> i64 {
    super::money::div_round(i128::from(minutes) * 1000, 60)
}

/// The line of one priced booking.
pub fn tariff_line(
    priced: &Priced,
    resource: ResourceId,
    resource_name: &str,
    tariff: &Tariff,
    when: &str,
) -> Line {
    let (label, quantity_milli, unit, unit_price) = if priced.billed_minutes == 0 && priced.km > 0 {
        (
            format!("{resource_name} — {when}"),
            priced.km * 1000,
            "km",
            tariff.per_km_cents.unwrap_or(0),
        )
    } else {
        (
            format!("{resource_name} — {when}"),
            minutes_as_milli_hours(priced.billed_minutes * priced.quantity - priced.free_minutes),
            "h",
            tariff.hourly_cents,
        )
    };
    Line {
        source: Source::Tariff,
        resource_id: Some(resource),
        label: if priced.late_cancellation {
            format!("{label} (annulée tardivement)")
        } else {
            label
        },
        basis: priced.basis.clone(),
        quantity_milli,
        unit: unit.into(),
        unit_price_cents: unit_price,
        amount_cents: priced.amount_cents,
        refs: Refs {
            bookings: vec![priced.booking],
            ..Refs::default()
        },
    }
}

/// One member's part of a cost entry, with the member's weight described in `basis`.
pub fn cost_share_line(
    cost: CostId,
    resource: Option<ResourceId>,
    label: &str,
    total_cents: i64,
    share: &Share,
    basis: &str,
) -> Line {
    Line {
        source: Source::CostShare,
        resource_id: resource,
        label: label.to_string(),
        basis: format!("{basis} ; part de {}", format_euros(total_cents)),
        quantity_milli: 1000,
        unit: "part".into(),
        unit_price_cents: share.cents,
        amount_cents: share.cents,
        refs: Refs {
            cost_id: Some(cost),
            ..Refs::default()
        },
    }
}

/// What one member owes for one shared employee's month: worked hours at the loaded cost,
/// overtime premiums and the group's management fee (`domain::ledger` computes them).
#[allow(clippy::too_many_arguments)]
pub fn staff_line(
    employee: ResourceId,
    employee_name: &str,
    worked_minutes: i64,
    hourly_cost_cents: i64,
    cost_cents: i64,
    premium_cents: i64,
    fee_cents: i64,
    fee: Option<&str>,
) -> Line {
    let mut basis = format!(
        "{} travaillées × {}/h = {}",
        format_minutes(worked_minutes),
        format_euros(hourly_cost_cents),
        format_euros(cost_cents)
    );
    if premium_cents != 0 {
        basis.push_str(&format!(
            " ; majorations heures supplémentaires {}",
            format_euros(premium_cents)
        ));
    }
    if fee_cents != 0 {
        basis.push_str(&format!(
            " ; frais de gestion du groupement{} {}",
            fee.map(|f| format!(" ({f})")).unwrap_or_default(),
            format_euros(fee_cents)
        ));
    }
    Line {
        source: Source::Staff,
        resource_id: Some(employee),
        label: format!("Mise à disposition — {employee_name}"),
        basis,
        quantity_milli: minutes_as_milli_hours(worked_minutes),
        unit: "h".into(),
        unit_price_cents: hourly_cost_cents,
        amount_cents: cost_cents + premium_cents + fee_cents,
        refs: Refs {
            employee_id: Some(employee),
            ..Refs::default()
        },
    }
}

pub fn adjustment_line(id: AdjustmentId, label: &str, amount_cents: i64) -> Line {
    Line {
        source: Source::Adjustment,
        resource_id: None,
        label: label.to_string(),
        basis: "Régularisation saisie par la trésorerie".into(),
        quantity_milli: 1000,
        unit: "forfait".into(),
        unit_price_cents: amount_cents,
        amount_cents,
        refs: Refs {
            adjustment_id: Some(id),
            ..Refs::default()
        },
    }
}

/// The text a closed month's hash covers: every member and line, one per row, fields
/// separated by tabs (tabs and newlines in text escaped), in statement order.
pub fn canonical(month: Month, members: &[MemberStatement]) -> String {
    fn esc(s: &str) -> String {
        s.replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    }
    let mut out = format!("mutualise-statement-v1\t{month}\n");
    for m in members {
        out.push_str(&format!(
            "M\t{}\t{}\t{}\n",
            m.member_id,
            esc(&m.member_name),
            m.total_cents
        ));
        for l in &m.lines {
            out.push_str(&format!(
                "L\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                l.source.as_str(),
                l.resource_id.map(|r| r.to_string()).unwrap_or_default(),
                esc(&l.label),
                esc(&l.basis),
                l.quantity_milli,
                esc(&l.unit),
                l.unit_price_cents,
                l.amount_cents,
                esc(&serde_json::to_string(&l.refs).unwrap_or_default()),
            ));
        }
    }
    out
}

/// The hash of a closed month: SHA-256 (hex) of the previous closed month's hash, a newline
/// and the canonical text. The first closed month chains to the empty string.
pub fn chain_hash(previous: &str, month: Month, members: &[MemberStatement]) -> String {
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(b"\n");
    h.update(canonical(month, members).as_bytes());
    hex::encode(h.finalize())
}

/// Minutes a resource is open in a month: its weekly opening hours laid on each local day
/// (always open: every minute of the month, 743 h in a Paris March). Capacity multiplies it
/// for the occupancy rate.
pub fn open_minutes(month: Month, tz: Tz, slots: &[OpeningSlot]) -> i64 {
    if slots.is_empty() {
        return month.bounds(tz).duration().num_minutes();
    }
    let mut day: NaiveDate = month.first_day();
    let end = month.next().first_day();
    let mut total = 0;
    while day < end {
        let wd = day.weekday().number_from_monday() as u8;
        total += slots
            .iter()
            .filter(|s| s.weekday == wd)
            .map(|s| i64::from(s.close_minute) - i64::from(s.open_minute))
            .sum::<i64>();
        day += Duration::days(1);
    }
    total
}

/// Occupancy in thousandths of the capacity-minutes open (0 when nothing was open).
pub fn occupancy_permille(used_unit_minutes: i64, open_minutes: i64, capacity: i64) -> i64 {
    let available = open_minutes.saturating_mul(capacity.max(1));
    if available <= 0 {
        0
    } else {
        super::money::div_round(i128::from(used_unit_minutes) * 1000, i128::from(available))
    }
}

/// « 42,5 % » from thousandths.
pub fn format_rate(permille: i64) -> String {
    format!("{} %", format_permille(permille * 100))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_statement_keeps_a_resources_bookings_in_the_order_given() {
        let at = |label: &str, booking: i64| Line {
            label: label.into(),
            resource_id: Some(ResourceId(3)),
            refs: Refs {
                bookings: vec![BookingId(booking)],
                ..Refs::default()
            },
            ..line(Source::Tariff, 100)
        };
        let m = MemberStatement::new(
            MemberId(1),
            "Jardins".into(),
            vec![
                line(Source::Adjustment, 5),
                at("Salle — lundi 4 janvier 2027", 9),
                at("Salle — lundi 11 janvier 2027", 2),
                at("Salle — lundi 18 janvier 2027", 5),
            ],
        );
        let labels: Vec<&str> = m.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels[..3],
            [
                "Salle — lundi 4 janvier 2027",
                "Salle — lundi 11 janvier 2027",
                "Salle — lundi 18 janvier 2027"
            ]
        );
        assert_eq!(m.lines[3].source, Source::Adjustment);
        assert_eq!(m.total_cents, 305);
    }
    use super::*;
    use chrono_tz::Europe::Paris;

    fn line(source: Source, amount: i64) -> Line {
        Line {
            source,
            resource_id: None,
            label: "x".into(),
            basis: String::new(),
            quantity_milli: 1000,
            unit: "forfait".into(),
            unit_price_cents: amount,
            amount_cents: amount,
            refs: Refs::default(),
        }
    }

    #[test]
    fn the_total_is_the_sum_of_the_lines_in_source_order() {
        let m = MemberStatement::new(
            MemberId(1),
            "A".into(),
            vec![
                line(Source::Adjustment, -500),
                line(Source::Tariff, 1200),
                line(Source::CostShare, 333),
            ],
        );
        assert_eq!(m.total_cents, 1033);
        assert_eq!(m.lines[0].source, Source::Tariff);
        assert_eq!(m.lines[2].source, Source::Adjustment);
        assert_eq!(m.total_of(Source::CostShare), 333);
    }

    #[test]
    fn the_hash_chains_and_changes_with_any_line() {
        let month = Month::new(2027, 1).unwrap();
        let members = vec![MemberStatement::new(
            MemberId(1),
            "Tab\there".into(),
            vec![line(Source::Tariff, 1200)],
        )];
        let h1 = chain_hash("", month, &members);
        assert_eq!(h1.len(), 64);
        assert_eq!(h1, chain_hash("", month, &members));
        assert_ne!(h1, chain_hash("abc", month, &members));
        let mut tampered = members.clone();
        tampered[0].lines[0].amount_cents = 1201;
        assert_ne!(h1, chain_hash("", month, &tampered));
        let mut renamed = members.clone();
        renamed[0].lines[0].label = "y".into();
        assert_ne!(h1, chain_hash("", month, &renamed));
        // Escaping keeps a tab in a name from passing for a field separator.
        assert!(canonical(month, &members).contains("Tab\\there"));
    }

    #[test]
    fn quantities_serialise_as_plain_numbers() {
        let mut l = line(Source::Tariff, 100);
        assert_eq!(serde_json::to_value(&l).unwrap()["quantity"], 1);
        l.quantity_milli = 1_500;
        assert_eq!(serde_json::to_value(&l).unwrap()["quantity"], 1.5);
        assert_eq!(minutes_as_milli_hours(80), 1_333);
        assert_eq!(minutes_as_milli_hours(90), 1_500);
    }

    #[test]
    fn open_minutes_follow_opening_hours_and_dst() {
        let march = Month::new(2027, 3).unwrap();
        // Always open: 31 days minus the hour lost on the last Sunday.
        assert_eq!(open_minutes(march, Paris, &[]), (31 * 24 - 1) * 60);
        // Monday to Friday 09:00–18:00: 23 weekdays in March 2027.
        let slots: Vec<OpeningSlot> = (1..=5)
            .map(|weekday| OpeningSlot {
                weekday,
                open_minute: 9 * 60,
                close_minute: 18 * 60,
            })
            .collect();
        assert_eq!(open_minutes(march, Paris, &slots), 23 * 9 * 60);
        assert_eq!(occupancy_permille(23 * 9 * 60, 23 * 9 * 60, 2), 500);
        assert_eq!(occupancy_permille(10, 0, 1), 0);
        assert_eq!(format_rate(425), "42,5 %");
    }
}
