//! How the domain's vocabulary types are stored: ids as `BIGINT`, statuses, kinds and months
//! as `TEXT`. The domain stays free of diesel; the impls live here (diesel's `foreign_derive`
//! writes the expression impls for a type defined elsewhere in the crate).

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text};

use crate::domain::ids::{BookingId, MemberId, ResourceId, SeriesId, UserId};
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

/// Text columns holding a closed set of values: an unknown value in the database is an error,
/// never a silent default.
macro_rules! text_enum {
    ($ty:ident, $proxy:ident, $what:literal, $parse:expr, $print:expr) => {
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(foreign_derive)]
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = String::from_sql(bytes)?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(&raw).ok_or_else(|| format!("{} inconnu en base : {raw:?}", $what).into())
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
