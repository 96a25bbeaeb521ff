//! What prices a month: tariffs and pricing coefficients versioned by effective date, the
//! rules of each resource kind (late cancellation, free allowance), and the pole's settings.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{kind_pricing, pricing_coefficients, settings, tariffs};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{ResourceId, UserId};
use crate::domain::pricing::Tariff;
use crate::domain::resource::ResourceKind;
use crate::error::AppResult;

/// The effective date of a resource's first tariff: it prices every booking before the next.
pub const SINCE_ALWAYS: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = tariffs)]
pub struct TariffRow {
    pub resource_id: ResourceId,
    pub effective_from: NaiveDate,
    pub hourly_cents: i64,
    pub daily_cap_cents: Option<i64>,
    pub per_km_cents: Option<i64>,
    pub billing_unit_minutes: i32,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

impl TariffRow {
    pub fn tariff(&self) -> Tariff {
        Tariff {
            hourly_cents: self.hourly_cents,
            daily_cap_cents: self.daily_cap_cents,
            per_km_cents: self.per_km_cents,
            billing_unit_minutes: self.billing_unit_minutes,
        }
    }
}

/// Every version of these resources' tariffs (all of them with `None`), by resource then date.
pub fn tariffs(conn: &mut DbConn, resources: Option<&[ResourceId]>) -> AppResult<Vec<TariffRow>> {
    Ok(db_run!(conn => {
        let mut q = tariffs::table
            .select(TariffRow::as_select())
            .order((tariffs::resource_id.asc(), tariffs::effective_from.asc()))
            .into_boxed();
        if let Some(ids) = resources {
            q = q.filter(tariffs::resource_id.eq_any(ids));
        }
        q.load(conn)
    })?)
}

/// Sets the tariff in force from `from` (replacing a version of the same date).
pub fn set_tariff(
    conn: &mut DbConn,
    resource: ResourceId,
    from: NaiveDate,
    t: &Tariff,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<()> {
    delete_tariff(conn, resource, from)?;
    db_run!(conn => diesel::insert_into(tariffs::table)
        .values((
            tariffs::resource_id.eq(resource),
            tariffs::effective_from.eq(from),
            tariffs::hourly_cents.eq(t.hourly_cents),
            tariffs::daily_cap_cents.eq(t.daily_cap_cents),
            tariffs::per_km_cents.eq(t.per_km_cents),
            tariffs::billing_unit_minutes.eq(t.billing_unit_minutes),
            tariffs::created_by.eq(by),
            tariffs::created_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

/// Removes one version; `false` when there was none.
pub fn delete_tariff(conn: &mut DbConn, resource: ResourceId, from: NaiveDate) -> AppResult<bool> {
    let n = db_run!(conn => diesel::delete(tariffs::table
        .filter(tariffs::resource_id.eq(resource))
        .filter(tariffs::effective_from.eq(from)))
        .execute(conn))?;
    Ok(n > 0)
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = pricing_coefficients)]
pub struct CoefficientRow {
    pub category: String,
    pub effective_from: NaiveDate,
    pub coefficient_permille: i32,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn coefficients(conn: &mut DbConn) -> AppResult<Vec<CoefficientRow>> {
    Ok(db_run!(conn => pricing_coefficients::table
        .select(CoefficientRow::as_select())
        .order((pricing_coefficients::category.asc(), pricing_coefficients::effective_from.asc()))
        .load(conn))?)
}

pub fn set_coefficient(
    conn: &mut DbConn,
    category: &str,
    from: NaiveDate,
    permille: i32,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<()> {
    delete_coefficient(conn, category, from)?;
    db_run!(conn => diesel::insert_into(pricing_coefficients::table)
        .values((
            pricing_coefficients::category.eq(category),
            pricing_coefficients::effective_from.eq(from),
            pricing_coefficients::coefficient_permille.eq(permille),
            pricing_coefficients::created_by.eq(by),
            pricing_coefficients::created_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

pub fn delete_coefficient(conn: &mut DbConn, category: &str, from: NaiveDate) -> AppResult<bool> {
    let n = db_run!(conn => diesel::delete(pricing_coefficients::table
        .filter(pricing_coefficients::category.eq(category))
        .filter(pricing_coefficients::effective_from.eq(from)))
        .execute(conn))?;
    Ok(n > 0)
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = kind_pricing)]
pub struct KindPricingRow {
    pub kind: ResourceKind,
    pub late_notice_minutes: Option<i32>,
    pub late_charged_permille: i32,
    pub free_minutes_per_month: i32,
    pub updated_at: NaiveDateTime,
}

pub fn kind_rules(conn: &mut DbConn) -> AppResult<Vec<KindPricingRow>> {
    Ok(db_run!(conn => kind_pricing::table
        .select(KindPricingRow::as_select())
        .order(kind_pricing::kind.asc())
        .load(conn))?)
}

pub fn set_kind_rule(
    conn: &mut DbConn,
    kind: ResourceKind,
    late_notice_minutes: Option<i32>,
    late_charged_permille: i32,
    free_minutes_per_month: i32,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => {
        diesel::delete(kind_pricing::table.find(kind)).execute(conn)?;
        diesel::insert_into(kind_pricing::table)
            .values((
                kind_pricing::kind.eq(kind),
                kind_pricing::late_notice_minutes.eq(late_notice_minutes),
                kind_pricing::late_charged_permille.eq(late_charged_permille),
                kind_pricing::free_minutes_per_month.eq(free_minutes_per_month),
                kind_pricing::updated_at.eq(now),
            ))
            .execute(conn)
    })?;
    Ok(())
}

/// Every stored setting, by name.
pub fn settings(conn: &mut DbConn) -> AppResult<Vec<(String, String)>> {
    Ok(db_run!(conn => settings::table
        .select((settings::name, settings::value))
        .order(settings::name.asc())
        .load(conn))?)
}

pub fn set_setting(conn: &mut DbConn, name: &str, value: &str) -> AppResult<()> {
    db_run!(conn => {
        diesel::delete(settings::table.find(name)).execute(conn)?;
        diesel::insert_into(settings::table)
            .values((settings::name.eq(name), settings::value.eq(value)))
            .execute(conn)
    })?;
    Ok(())
}
