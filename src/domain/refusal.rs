//! A refused request as typed data: every broken rule, who holds the slot, what could be had
//! instead, and for a series which occurrences failed and why. The app fills it; the pages
//! and the API render it; only the web layer decides the HTTP status (from [`Refusal::kind`]).

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::{BookingId, MemberId, ResourceId};
use super::labour::Activity;
use super::time::{format_when, Interval};
use super::validation::FieldErrors;
use super::violation::{Measure, RefusalKind, Unit, Violation, ViolationCode};

/// An existing booking that stands in the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conflict {
    pub booking_id: BookingId,
    pub resource_id: ResourceId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub member_id: MemberId,
    pub member_name: String,
    pub quantity: i32,
}

/// A slot that would be accepted instead: the same resource at another time, or another
/// resource of the same kind at the asked time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub resource_id: ResourceId,
    pub resource_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One occurrence of a series that could not be booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusedOccurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub violations: Vec<Violation>,
    pub conflicts: Vec<Conflict>,
}

/// What was asked, so alternatives can be searched for once the refusal is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub interval: Interval,
    pub quantity: i32,
    /// Bookings being moved: they must not count against their own new place.
    pub moving: Vec<BookingId>,
    /// What the booking is for (a shared employee's work, training or absence).
    pub activity: Activity,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    /// Every broken rule; a capacity excess is one of them (with `conflicts` naming who).
    pub violations: Vec<Violation>,
    pub conflicts: Vec<Conflict>,
    pub suggestions: Vec<Suggestion>,
    /// A series: the occurrences that failed (the first one's reasons are `violations`).
    pub occurrences: Vec<RefusedOccurrence>,
    /// A sentence for the whole refusal when the list of reasons is not enough (series).
    pub summary: Option<String>,
    /// The request refused, when alternatives to it make sense.
    pub asked: Option<Asked>,
    /// Fields of the request that could not be read (each also a `validation` violation), so
    /// a form shows them beside the fields.
    pub fields: FieldErrors,
}

impl Refusal {
    /// A refusal of one request. `violations` must be non-empty or `conflicts` non-empty.
    pub fn new(violations: Vec<Violation>, conflicts: Vec<Conflict>) -> Refusal {
        Refusal {
            violations,
            conflicts,
            ..Default::default()
        }
    }

    /// A request whose fields could not be read (dates, quantity…).
    pub fn invalid_fields(fields: FieldErrors) -> Refusal {
        Refusal {
            violations: fields
                .0
                .iter()
                .map(|f| {
                    Violation::new(
                        ViolationCode::Validation,
                        format!("{} : {}", f.field, f.message),
                    )
                })
                .collect(),
            fields,
            ..Default::default()
        }
    }

    /// The violation that leads: input errors first (the request can never pass as written),
    /// then a capacity excess, then the other state refusals in the order found.
    pub fn primary(&self) -> ViolationCode {
        if let Some(v) = self
            .violations
            .iter()
            .find(|v| v.code.kind() == RefusalKind::Invalid)
        {
            return v.code;
        }
        if !self.conflicts.is_empty() {
            return ViolationCode::CapacityExceeded;
        }
        self.violations
            .first()
            .map_or(ViolationCode::CapacityExceeded, |v| v.code)
    }

    /// The machine code of the whole refusal (`conflict`, `closed`, `quota_exceeded`…).
    pub fn code(&self) -> &'static str {
        self.primary().refusal_code()
    }

    pub fn kind(&self) -> RefusalKind {
        self.primary().kind()
    }

    /// One human sentence: the summary, or the reasons one after the other.
    pub fn detail(&self) -> String {
        match &self.summary {
            Some(s) => s.clone(),
            None => self
                .violations
                .iter()
                .map(|v| v.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Alternatives help when the slot is taken or shut, or when an employee may not work it
    /// under working-time law (another slot, another employee may), not when the request is
    /// wrong in itself (past, too long, not allowed) nor for a whole series.
    pub fn wants_alternatives(&self) -> bool {
        self.occurrences.is_empty()
            && self.asked.as_ref().is_some_and(|a| a.interval.is_valid())
            && self.violations.iter().all(|v| {
                v.code.is_labour_limit()
                    || matches!(
                        v.code,
                        ViolationCode::CapacityExceeded
                            | ViolationCode::Closed
                            | ViolationCode::OutsideOpeningHours
                    )
            })
    }

    /// A whole series refused: nothing was booked because `refused` of `total` occurrences
    /// failed (all or nothing), or because none could be booked at all.
    pub fn series(refused: Vec<RefusedOccurrence>, total: usize, skip_allowed: bool) -> Refusal {
        let summary = format!(
            "{} sur {} ne {} être réservée{} ; rien n'a été réservé.{}",
            if refused.len() == 1 {
                "1 occurrence".to_string()
            } else {
                format!("{} occurrences", refused.len())
            },
            total,
            if refused.len() == 1 {
                "peut"
            } else {
                "peuvent"
            },
            if refused.len() == 1 { "" } else { "s" },
            if skip_allowed {
                ""
            } else {
                " Vous pouvez réserver les autres en ignorant celles-ci."
            }
        );
        let (violations, conflicts) = refused
            .first()
            .map(|o| (o.violations.clone(), o.conflicts.clone()))
            .unwrap_or_default();
        Refusal {
            violations,
            conflicts,
            suggestions: Vec::new(),
            occurrences: refused,
            summary: Some(summary),
            asked: None,
            fields: FieldErrors::new(),
        }
    }
}

/// The capacity violation, in words a member understands: who holds the slot, or how many
/// units are left.
pub fn capacity_violation(
    requested: Interval,
    quantity: i32,
    capacity: i32,
    conflicts: &[Conflict],
    tz: Tz,
) -> Violation {
    let held: i64 = conflicts.iter().map(|c| i64::from(c.quantity)).sum();
    let taken = held.min(i64::from(capacity));
    let message = if capacity <= 1 {
        let who = conflicts
            .iter()
            .map(|c| {
                let span = Interval {
                    start: c.start,
                    end: c.end,
                };
                let year = c.start.with_timezone(&tz).year();
                format!("{} ({})", c.member_name, format_when(span, tz, year))
            })
            .collect::<Vec<_>>();
        if who.is_empty() {
            "Ce créneau est déjà pris, temps de préparation et de remise en état compris.".into()
        } else {
            format!(
                "Ce créneau est déjà pris, temps de préparation et de remise en état compris : {}.",
                who.join(", ")
            )
        }
    } else {
        let left = (i64::from(capacity) - taken).max(0);
        let units = |n: i64| match n {
            0 => "aucune unité libre".to_string(),
            1 => "1 unité libre".to_string(),
            n => format!("{n} unités libres"),
        };
        format!(
            "Il ne reste {} sur {capacity} à ce moment-là ; vous en demandez {quantity}.",
            units(left)
        )
    };
    Violation::measured(
        ViolationCode::CapacityExceeded,
        message,
        Measure::new(
            i64::from(capacity),
            taken + i64::from(quantity),
            Unit::Units,
        )
        .over(requested.start, requested.end),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn conflict(name: &str, q: i32) -> Conflict {
        Conflict {
            booking_id: BookingId(1),
            resource_id: ResourceId(2),
            start: t("2027-01-05T09:00:00Z"),
            end: t("2027-01-05T11:00:00Z"),
            member_id: MemberId(3),
            member_name: name.into(),
            quantity: q,
        }
    }

    fn req() -> Interval {
        Interval::new(t("2027-01-05T10:00:00Z"), t("2027-01-05T11:00:00Z")).unwrap()
    }

    #[test]
    fn input_errors_lead_then_capacity_then_state() {
        let closed = Violation::new(ViolationCode::Closed, "fermé");
        let month = Violation::new(ViolationCode::MonthClosed, "clos");
        let cap = capacity_violation(req(), 1, 1, &[conflict("A", 1)], PARIS);
        let r = Refusal::new(
            vec![month.clone(), cap.clone(), closed],
            vec![conflict("A", 1)],
        );
        assert_eq!(r.code(), "closed");
        assert_eq!(r.kind(), RefusalKind::Invalid);
        let r = Refusal::new(vec![month.clone(), cap], vec![conflict("A", 1)]);
        assert_eq!(r.code(), "conflict");
        assert_eq!(r.kind(), RefusalKind::Conflict);
        let r = Refusal::new(vec![month], vec![]);
        assert_eq!(r.code(), "month_closed");
        assert!(!r.wants_alternatives());
    }

    #[test]
    fn capacity_message_names_the_holder_or_the_units_left() {
        let v = capacity_violation(req(), 1, 1, &[conflict("Coop'Atelier", 1)], PARIS);
        assert!(
            v.message
                .contains("Coop'Atelier (mardi 5 janvier, 10 h – 12 h)"),
            "{}",
            v.message
        );
        assert!(!v.message.contains('{'), "no raw data in messages");
        let v = capacity_violation(req(), 3, 12, &[conflict("A", 6), conflict("B", 4)], PARIS);
        assert!(
            v.message.contains("Il ne reste 2 unités libres sur 12"),
            "{}",
            v.message
        );
        let m = v.measure.unwrap();
        assert_eq!((m.limit, m.actual, m.unit), (12, 13, Unit::Units));
    }

    #[test]
    fn unreadable_fields_are_validation_violations_too() {
        let r = Refusal::invalid_fields(FieldErrors::single("start", "Date illisible."));
        assert_eq!(r.code(), "validation");
        assert_eq!(r.kind(), RefusalKind::Invalid);
        assert_eq!(r.violations[0].message, "start : Date illisible.");
        assert_eq!(r.fields.get("start"), Some("Date illisible."));
    }

    #[test]
    fn a_series_refusal_counts_and_keeps_each_occurrence() {
        let occ = RefusedOccurrence {
            start: t("2027-03-16T08:00:00Z"),
            end: t("2027-03-16T09:00:00Z"),
            violations: vec![capacity_violation(req(), 1, 1, &[conflict("A", 1)], PARIS)],
            conflicts: vec![conflict("A", 1)],
        };
        let r = Refusal::series(vec![occ], 4, false);
        assert_eq!(r.code(), "conflict");
        assert!(
            r.detail().starts_with("1 occurrence sur 4 ne peut"),
            "{}",
            r.detail()
        );
        assert!(
            !r.wants_alternatives(),
            "no alternative slot for a whole series"
        );
        assert_eq!(r.occurrences.len(), 1);
    }

    #[test]
    fn alternatives_for_a_taken_slot_or_a_labour_limit_only() {
        let asked = |violations: Vec<Violation>| {
            let mut r = Refusal::new(violations, vec![]);
            r.asked = Some(Asked {
                resource_id: ResourceId(1),
                member_id: MemberId(2),
                interval: req(),
                quantity: 1,
                moving: vec![],
                activity: Activity::Work,
            });
            r
        };
        let cap = capacity_violation(req(), 1, 1, &[conflict("A", 1)], PARIS);
        let daily = Violation::new(ViolationCode::DailyHours, "10 h 30");
        let quota = Violation::new(ViolationCode::QuotaExceeded, "quota");
        assert!(asked(vec![cap.clone()]).wants_alternatives());
        assert!(asked(vec![daily.clone()]).wants_alternatives());
        assert!(asked(vec![cap, daily.clone()]).wants_alternatives());
        assert!(!asked(vec![daily, quota]).wants_alternatives());
    }
}
