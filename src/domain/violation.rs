//! Business refusals as data: a machine code plus a specific French message, shared by the
//! JSON API and the HTML forms so both show the same reasons.

use std::fmt;

use serde::Serialize;

use super::time::{InstantError, LocalTimeError};

/// Which rule a request broke. The web layer maps codes to HTTP statuses; the domain only
/// says what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
        }
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule. `message` is shown to the user as is, so it names the figures
/// ("La durée (15 min) est inférieure au minimum de 30 min pour cette ressource.").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Violation {
    pub code: ViolationCode,
    pub message: String,
}

impl Violation {
    pub fn new(code: ViolationCode, message: impl Into<String>) -> Violation {
        Violation {
            code,
            message: message.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ViolationCode; 13] = [
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
