//! Business refusals as data: a machine code plus a specific French message, and for rules
//! with a figure (durations, quotas, capacity, labour limits) the limit, the actual value and
//! the period concerned. Shared by the JSON API and the HTML forms so both show the same
//! reasons; the web layer alone turns them into HTTP statuses and bodies.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::time::{InstantError, LocalTimeError};

/// Which rule a request broke. The domain only says what is wrong; [`ViolationCode::kind`]
/// says whether the request itself is malformed or the state of the pole refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViolationCode {
    InvalidInterval,
    DurationOutOfBounds,
    OutsideOpeningHours,
    Closed,
    InPast,
    BeyondHorizon,
    NotAllowed,
    MemberInactive,
    CapacityExceeded,
    MonthClosed,
    InvalidRecurrence,
    QuotaExceeded,
    Validation,
    /// A shared employee put at the disposal of a member that no agreement names.
    NoAgreement,
    /// An assignment reaching past the end of the employee's contract.
    OutsideContract,
    /// More than 10 h of work in a civil day (8 h for a minor): L3121-18, L3162-1.
    DailyHours,
    /// More than 6 h of work without a 20-minute break (4 h 30 and 30 minutes for a minor):
    /// L3121-16, L3162-3.
    WorkWithoutBreak,
    /// More than 48 h of work in a week (35 h for a minor): L3121-20, L3162-1.
    WeeklyHours,
    /// More than 44 h a week on average over 12 consecutive weeks: L3121-22.
    AverageWeeklyHours,
    /// Less than 11 consecutive hours of rest between two working days (12 h for a minor,
    /// 14 h under 16): L3131-1, L3164-1.
    DailyRest,
    /// More than 6 working days in a week: L3132-1.
    WorkingDays,
    /// No weekly rest of 35 consecutive hours (two consecutive days for a minor): L3132-2,
    /// L3164-2.
    WeeklyRest,
    /// A minor working at night (22:00–06:00, 20:00–06:00 under 16): L3163-2.
    NightWork,
    /// A minor working on a public holiday: L3164-6.
    PublicHoliday,
    /// A part-time employee's complementary hours beyond a tenth of the contract, or reaching
    /// 35 h: L3123-9, L3123-20.
    ComplementaryHours,
}

/// Whether a refusal is about the request (it can never succeed as written) or about the
/// current state (it might succeed elsewhen, elsewhere, or after someone else's change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    Invalid,
    Conflict,
}

impl ViolationCode {
    /// The same string serde writes, for logs and problem+json `code` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationCode::InvalidInterval => "invalid_interval",
            ViolationCode::DurationOutOfBounds => "duration_out_of_bounds",
            ViolationCode::OutsideOpeningHours => "outside_opening_hours",
            ViolationCode::Closed => "closed",
            ViolationCode::InPast => "in_past",
            ViolationCode::BeyondHorizon => "beyond_horizon",
            ViolationCode::NotAllowed => "not_allowed",
            ViolationCode::MemberInactive => "member_inactive",
            ViolationCode::CapacityExceeded => "capacity_exceeded",
            ViolationCode::MonthClosed => "month_closed",
            ViolationCode::InvalidRecurrence => "invalid_recurrence",
            ViolationCode::QuotaExceeded => "quota_exceeded",
            ViolationCode::Validation => "validation",
            ViolationCode::NoAgreement => "no_agreement",
            ViolationCode::OutsideContract => "outside_contract",
            ViolationCode::DailyHours => "daily_hours",
            ViolationCode::WorkWithoutBreak => "work_without_break",
            ViolationCode::WeeklyHours => "weekly_hours",
            ViolationCode::AverageWeeklyHours => "average_weekly_hours",
            ViolationCode::DailyRest => "daily_rest",
            ViolationCode::WorkingDays => "working_days",
            ViolationCode::WeeklyRest => "weekly_rest",
            ViolationCode::NightWork => "night_work",
            ViolationCode::PublicHoliday => "public_holiday",
            ViolationCode::ComplementaryHours => "complementary_hours",
        }
    }

    /// Labour limits are conflicts: the same assignment may pass another week, or once
    /// another member's assignment of the employee moves.
    pub fn kind(self) -> RefusalKind {
        match self {
            ViolationCode::MonthClosed
            | ViolationCode::QuotaExceeded
            | ViolationCode::CapacityExceeded => RefusalKind::Conflict,
            code if code.is_labour_limit() => RefusalKind::Conflict,
            _ => RefusalKind::Invalid,
        }
    }

    /// Whether this is a rule of working-time law (issue 8), checked per employee across all
    /// members.
    pub fn is_labour_limit(self) -> bool {
        matches!(
            self,
            ViolationCode::DailyHours
                | ViolationCode::WorkWithoutBreak
                | ViolationCode::WeeklyHours
                | ViolationCode::AverageWeeklyHours
                | ViolationCode::DailyRest
                | ViolationCode::WorkingDays
                | ViolationCode::WeeklyRest
                | ViolationCode::NightWork
                | ViolationCode::PublicHoliday
                | ViolationCode::ComplementaryHours
        )
    }

    /// The code a whole refusal carries when this violation leads it (DESIGN.md §6): a
    /// capacity excess is a `conflict`, an inactive member is `not_allowed`, any broken
    /// working-time limit is `labour_limit` (issue 8).
    pub fn refusal_code(self) -> &'static str {
        match self {
            ViolationCode::CapacityExceeded => "conflict",
            ViolationCode::MemberInactive => "not_allowed",
            code if code.is_labour_limit() => "labour_limit",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Days,
    /// Units of a resource (3 of the 12 desks).
    Units,
    /// A number of bookings.
    Bookings,
}

/// The figures behind a limit: what the rule allows, what the request would make it, and over
/// which period (a day, a week, a month) when the limit is per period.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Measure {
    pub limit: i64,
    pub actual: i64,
    pub unit: Unit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_end: Option<DateTime<Utc>>,
}

/// A [`Measure`] flattened into a violation or warning, as the OpenAPI document describes it:
/// its fields are there together, or absent when the rule has no figures.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MeasureFields {
    #[schema(nullable = false)]
    limit: Option<i64>,
    #[schema(nullable = false)]
    actual: Option<i64>,
    #[schema(nullable = false)]
    unit: Option<Unit>,
    #[schema(nullable = false)]
    period_start: Option<DateTime<Utc>>,
    #[schema(nullable = false)]
    period_end: Option<DateTime<Utc>>,
}

impl Measure {
    pub fn new(limit: i64, actual: i64, unit: Unit) -> Measure {
        Measure {
            limit,
            actual,
            unit,
            period_start: None,
            period_end: None,
        }
    }

    pub fn over(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Measure {
        self.period_start = Some(start);
        self.period_end = Some(end);
        self
    }
}

/// One broken rule. `message` is shown to the user as is, so it names the figures
/// ("La durée (15 min) est inférieure au minimum de 30 min pour cette ressource.").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    pub code: ViolationCode,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = MeasureFields)]
    pub measure: Option<Measure>,
}

impl Violation {
    pub fn new(code: ViolationCode, message: impl Into<String>) -> Violation {
        Violation {
            code,
            message: message.into(),
            measure: None,
        }
    }

    pub fn measured(
        code: ViolationCode,
        message: impl Into<String>,
        measure: Measure,
    ) -> Violation {
        Violation {
            code,
            message: message.into(),
            measure: Some(measure),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An instant the client wrote badly is a plain input error; the interval rules come later.
impl From<InstantError> for Violation {
    fn from(e: InstantError) -> Self {
        Violation::new(ViolationCode::Validation, e.to_string())
    }
}

impl From<LocalTimeError> for Violation {
    fn from(e: LocalTimeError) -> Self {
        Violation::new(ViolationCode::Validation, e.to_string())
    }
}

/// Something worth knowing about an accepted request: it went through, but…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// A request awaiting approval starts soon: undecided at its start, it is rejected.
    ApprovalDeadlineNear,
    /// Hours beyond 35 in a week: overtime, +25 % up to 43 h and +50 % beyond (L3121-36).
    Overtime,
    /// A part-time employee working beyond the contract, within a tenth of it (L3123-20).
    ComplementaryHours,
    /// Work on a Sunday, the usual day of weekly rest (L3132-3).
    SundayWork,
    /// Work on 1 May, a public holiday off work and paid double when worked (L3133-4, L3133-6).
    MayDay,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = MeasureFields)]
    pub measure: Option<Measure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ViolationCode; 25] = [
        ViolationCode::InvalidInterval,
        ViolationCode::DurationOutOfBounds,
        ViolationCode::OutsideOpeningHours,
        ViolationCode::Closed,
        ViolationCode::InPast,
        ViolationCode::BeyondHorizon,
        ViolationCode::NotAllowed,
        ViolationCode::MemberInactive,
        ViolationCode::CapacityExceeded,
        ViolationCode::MonthClosed,
        ViolationCode::InvalidRecurrence,
        ViolationCode::QuotaExceeded,
        ViolationCode::Validation,
        ViolationCode::NoAgreement,
        ViolationCode::OutsideContract,
        ViolationCode::DailyHours,
        ViolationCode::WorkWithoutBreak,
        ViolationCode::WeeklyHours,
        ViolationCode::AverageWeeklyHours,
        ViolationCode::DailyRest,
        ViolationCode::WorkingDays,
        ViolationCode::WeeklyRest,
        ViolationCode::NightWork,
        ViolationCode::PublicHoliday,
        ViolationCode::ComplementaryHours,
    ];

    /// `as_str` must never drift from what serde puts in the JSON body.
    #[test]
    fn as_str_matches_serde_snake_case() {
        use serde::ser::{Impossible, Serializer};

        struct UnitVariantName;
        #[derive(Debug)]
        struct NotAUnitVariant;
        impl fmt::Display for NotAUnitVariant {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("not a unit variant")
            }
        }
        impl std::error::Error for NotAUnitVariant {}
        impl serde::ser::Error for NotAUnitVariant {
            fn custom<T: fmt::Display>(_: T) -> Self {
                NotAUnitVariant
            }
        }
        macro_rules! refuse {
            ($($name:ident($($t:ty),*) -> $ret:ty;)*) => {
                $(fn $name(self, $(_: $t),*) -> Result<$ret, NotAUnitVariant> {
                    Err(NotAUnitVariant)
                })*
            };
        }
        impl Serializer for UnitVariantName {
            type Ok = &'static str;
            type Error = NotAUnitVariant;
            type SerializeSeq = Impossible<&'static str, NotAUnitVariant>;
            type SerializeTuple = Impossible<&'static str, NotAUnitVariant>;
            type SerializeTupleStruct = Impossible<&'static str, NotAUnitVariant>;
            type SerializeTupleVariant = Impossible<&'static str, NotAUnitVariant>;
            type SerializeMap = Impossible<&'static str, NotAUnitVariant>;
            type SerializeStruct = Impossible<&'static str, NotAUnitVariant>;
            type SerializeStructVariant = Impossible<&'static str, NotAUnitVariant>;
            fn serialize_unit_variant(
                self,
                _: &'static str,
                _: u32,
                variant: &'static str,
            ) -> Result<&'static str, NotAUnitVariant> {
                Ok(variant)
            }
            refuse! {
                serialize_bool(bool) -> &'static str;
                serialize_i8(i8) -> &'static str;
                serialize_i16(i16) -> &'static str;
                serialize_i32(i32) -> &'static str;
                serialize_i64(i64) -> &'static str;
                serialize_u8(u8) -> &'static str;
                serialize_u16(u16) -> &'static str;
                serialize_u32(u32) -> &'static str;
                serialize_u64(u64) -> &'static str;
                serialize_f32(f32) -> &'static str;
                serialize_f64(f64) -> &'static str;
                serialize_char(char) -> &'static str;
                serialize_str(&str) -> &'static str;
                serialize_bytes(&[u8]) -> &'static str;
                serialize_none() -> &'static str;
                serialize_unit() -> &'static str;
                serialize_unit_struct(&'static str) -> &'static str;
                serialize_seq(Option<usize>) -> Self::SerializeSeq;
                serialize_tuple(usize) -> Self::SerializeTuple;
                serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
                serialize_tuple_variant(&'static str, u32, &'static str, usize)
                    -> Self::SerializeTupleVariant;
                serialize_map(Option<usize>) -> Self::SerializeMap;
                serialize_struct(&'static str, usize) -> Self::SerializeStruct;
                serialize_struct_variant(&'static str, u32, &'static str, usize)
                    -> Self::SerializeStructVariant;
            }
            fn serialize_some<T: ?Sized + Serialize>(
                self,
                _: &T,
            ) -> Result<&'static str, NotAUnitVariant> {
                Err(NotAUnitVariant)
            }
            fn serialize_newtype_struct<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: &T,
            ) -> Result<&'static str, NotAUnitVariant> {
                Err(NotAUnitVariant)
            }
            fn serialize_newtype_variant<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: &T,
            ) -> Result<&'static str, NotAUnitVariant> {
                Err(NotAUnitVariant)
            }
        }

        for code in ALL {
            assert_eq!(code.serialize(UnitVariantName).unwrap(), code.as_str());
            assert_eq!(code.to_string(), code.as_str());
        }
    }

    #[test]
    fn measures_flatten_into_the_violation() {
        let v = Violation::measured(
            ViolationCode::QuotaExceeded,
            "Quota dépassé",
            Measure::new(600, 660, Unit::Minutes).over(
                "2027-02-28T23:00:00Z".parse().unwrap(),
                "2027-03-31T22:00:00Z".parse().unwrap(),
            ),
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["code"], "quota_exceeded");
        assert_eq!(json["limit"], 600);
        assert_eq!(json["actual"], 660);
        assert_eq!(json["unit"], "minutes");
        assert_eq!(json["period_start"], "2027-02-28T23:00:00Z");
        let plain = serde_json::to_value(Violation::new(ViolationCode::InPast, "x")).unwrap();
        assert_eq!(plain.as_object().unwrap().len(), 2, "{plain}");
        // Stored answers (idempotent replays) read back the same.
        let back: Violation = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
        let back: Violation = serde_json::from_value(plain).unwrap();
        assert_eq!(back.measure, None);
    }

    #[test]
    fn kinds_and_refusal_codes() {
        assert_eq!(
            ViolationCode::CapacityExceeded.kind(),
            RefusalKind::Conflict
        );
        assert_eq!(ViolationCode::CapacityExceeded.refusal_code(), "conflict");
        assert_eq!(ViolationCode::MemberInactive.refusal_code(), "not_allowed");
        assert_eq!(ViolationCode::Closed.kind(), RefusalKind::Invalid);
        assert_eq!(ViolationCode::MonthClosed.kind(), RefusalKind::Conflict);
        let labour = ALL.iter().filter(|c| c.is_labour_limit()).count();
        assert_eq!(labour, 10);
        for code in ALL.into_iter().filter(|c| c.is_labour_limit()) {
            assert_eq!(code.kind(), RefusalKind::Conflict, "{code}");
            assert_eq!(code.refusal_code(), "labour_limit", "{code}");
        }
        assert_eq!(
            ViolationCode::QuotaExceeded.refusal_code(),
            "quota_exceeded"
        );
    }

    #[test]
    fn warning_codes_in_snake_case() {
        for (code, text) in [
            (
                WarningCode::ApprovalDeadlineNear,
                "\"approval_deadline_near\"",
            ),
            (WarningCode::Overtime, "\"overtime\""),
            (WarningCode::ComplementaryHours, "\"complementary_hours\""),
            (WarningCode::SundayWork, "\"sunday_work\""),
            (WarningCode::MayDay, "\"may_day\""),
        ] {
            assert_eq!(serde_json::to_string(&code).unwrap(), text);
        }
    }

    #[test]
    fn new_keeps_code_and_message() {
        let v = Violation::new(ViolationCode::InPast, "Le début est déjà passé.");
        assert_eq!(v.code, ViolationCode::InPast);
        assert_eq!(v.to_string(), "Le début est déjà passé.");
    }

    #[test]
    fn time_errors_become_validation_violations() {
        let e = crate_time_error();
        let v = Violation::from(e);
        assert_eq!(v.code, ViolationCode::Validation);
        assert!(v.message.contains("9999"));
    }

    fn crate_time_error() -> InstantError {
        super::super::time::parse_instant("9999-01-01T00:00", chrono_tz::Europe::Paris).unwrap_err()
    }
}
