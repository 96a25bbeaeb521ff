//! How the domain's vocabulary types are stored: ids as `BIGINT`, statuses, kinds and months
//! as `TEXT`. The domain stays free of diesel; the impls live here (diesel's `foreign_derive`
//! writes the expression impls for a type defined elsewhere in the crate).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::domain::ids::{AdjustmentId, BookingId, CostId, MemberId, ResourceId, SeriesId, UserId};
use crate::domain::labour::Activity;
use crate::domain::month::Month;
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;

macro_rules! bigint_id {
    ($ty:ident, $proxy:ident) => {
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(foreign_derive)]
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl<DB: Backend> FromSql<BigInt, DB> for $ty
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(bytes).map($ty)
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $ty
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }
    };
}

bigint_id!(MemberId, MemberIdProxy);
bigint_id!(ResourceId, ResourceIdProxy);
bigint_id!(BookingId, BookingIdProxy);
bigint_id!(UserId, UserIdProxy);
bigint_id!(SeriesId, SeriesIdProxy);
bigint_id!(CostId, CostIdProxy);
bigint_id!(AdjustmentId, AdjustmentIdProxy);

/// Text columns holding a closed set of values: an unknown value in the database is an error,
/// never a silent default.
macro_rules! text_enum {
    (@parse $ty:ident, $what:literal, $parse:expr, $raw:expr) => {{
        let raw: &str = $raw;
        let parse: fn(&str) -> Option<$ty> = $parse;
        parse(raw).ok_or_else(|| format!("{} inconnu en base : {raw:?}", $what).into())
    }};
    ($ty:ident, $proxy:ident, $what:literal, $parse:expr, $print:expr) => {
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(foreign_derive)]
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        /// Read in place: a `String` per value was an allocation for every status and
        /// activity of every row read (an employee's ~110 shifts per assignment).
        impl FromSql<Text, diesel::sqlite::Sqlite> for $ty {
            fn from_sql(
                mut value: <diesel::sqlite::Sqlite as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                text_enum!(@parse $ty, $what, $parse, value.read_text())
            }
        }

        impl FromSql<Text, diesel::pg::Pg> for $ty {
            fn from_sql(
                value: <diesel::pg::Pg as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                text_enum!(@parse $ty, $what, $parse, std::str::from_utf8(value.as_bytes())?)
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                let print: fn(&$ty) -> &'static str = $print;
                print(self).to_sql(out)
            }
        }
    };
}

text_enum!(
    BookingStatus,
    BookingStatusProxy,
    "état de réservation",
    BookingStatus::parse,
    |s| s.as_str()
);
text_enum!(
    ResourceKind,
    ResourceKindProxy,
    "type de ressource",
    ResourceKind::parse,
    |k| k.as_str()
);

text_enum!(Activity, ActivityProxy, "activité", Activity::parse, |a| a
    .as_str());

#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(foreign_derive)]
#[diesel(sql_type = Text)]
#[allow(dead_code)]
struct MonthProxy(Month);

impl<DB: Backend> FromSql<Text, DB> for Month
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(String::from_sql(bytes)?.parse::<Month>()?)
    }
}

/// Months are written as "YYYY-MM" text, which sorts like the months themselves.
impl ToSql<Text, diesel::sqlite::Sqlite> for Month {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(serialize::IsNull::No)
    }
}

impl ToSql<Text, diesel::pg::Pg> for Month {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
        use std::io::Write;
        write!(out, "{self}")?;
        Ok(serialize::IsNull::No)
    }
}

/// A `Timestamp` column read the fast way where the rule checks read many rows (an
/// employee's 23 weeks of shifts, a resource's bookings around a request): use it as
/// `#[diesel(deserialize_as = StoredInstant)]` on a `NaiveDateTime` field.
///
/// SQLite keeps timestamps as text, which diesel writes as `YYYY-MM-DD HH:MM:SS[.fffffffff]`
/// and reads back by trying chrono format strings in turn: that parsing was close to half of
/// the time of loading an employee's shifts. This reads exactly that shape by hand and hands
/// anything else to diesel's parser; PostgreSQL's binary timestamps go to diesel as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::FromSqlRow)]
pub struct StoredInstant(pub NaiveDateTime);

impl From<StoredInstant> for NaiveDateTime {
    fn from(t: StoredInstant) -> NaiveDateTime {
        t.0
    }
}

impl FromSql<Timestamp, diesel::sqlite::Sqlite> for StoredInstant {
    fn from_sql(
        mut value: <diesel::sqlite::Sqlite as Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if value.value_type() == Some(diesel::sqlite::SqliteType::Text) {
            if let Some(t) = parse_stored_timestamp(value.read_text()) {
                return Ok(StoredInstant(t));
            }
        }
        <NaiveDateTime as FromSql<Timestamp, diesel::sqlite::Sqlite>>::from_sql(value)
            .map(StoredInstant)
    }
}

impl FromSql<Timestamp, diesel::pg::Pg> for StoredInstant {
    fn from_sql(value: <diesel::pg::Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, diesel::pg::Pg>>::from_sql(value).map(StoredInstant)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of one to nine digits, as diesel writes a
/// `NaiveDateTime` to SQLite; `None` for any other text (diesel then tries its formats).
pub fn parse_stored_timestamp(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let nanos = match b.len() {
        19 => 0,
        n if (21..=29).contains(&n) && b[19] == b'.' => num(20, n)? * 10u32.pow(29 - n as u32),
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What diesel writes to SQLite.
    fn written(t: NaiveDateTime) -> String {
        t.format("%F %T%.f").to_string()
    }

    #[test]
    fn reads_what_diesel_writes() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%F %T%.f").unwrap();
        for s in [
            "2027-01-04 08:00:00",
            "2026-03-29 01:00:00",
            "1970-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2027-01-04 08:00:00.5",
            "2027-01-04 08:00:00.123456",
            "2027-01-04 08:00:00.000000001",
            "2027-01-04 08:00:00.999999999",
        ] {
            assert_eq!(parse_stored_timestamp(s), Some(at(s)), "{s}");
        }
    }

    #[test]
    fn leaves_other_shapes_to_diesel() {
        for s in [
            "",
            "2027-01-04",
            "2027-01-04T08:00:00",
            "2027-01-04 08:00",
            "2027-01-04 08:00:00Z",
            "2027-01-04 08:00:00+01:00",
            "2027-01-04 08:00:00.",
            "2027-01-04 08:00:00.1234567890",
            "2027-13-04 08:00:00",
            "2027-02-30 08:00:00",
            "2027-01-04 24:00:00",
            "2027-01-04 23:59:60",
            "+2027-01-04 08:00:00",
            "2027-01-04 08:0a:00",
            "2461000.5",
        ] {
            assert_eq!(parse_stored_timestamp(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn round_trips_any_instant(secs in 0i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = chrono::DateTime::from_timestamp(secs, nanos).unwrap().naive_utc();
            prop_assert_eq!(parse_stored_timestamp(&written(t)), Some(t));
        }
    }
}
