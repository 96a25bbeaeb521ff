//! The demonstration pole's accounts: pricing terms, two closed months and the current one
//! open, with every kind of statement line (use at tariff with social pricing and a free
//! allowance, a late cancellation, cost shares by surface, usage, equal parts and a blend,
//! shared staff, adjustments both ways).

use chrono::{Datelike, Duration, NaiveDate};

use super::allocation::{self, AdjustmentInput, CostInput};
use super::authz::Actor;
use super::bookings::{book_tx, cancel_tx, BookingEnv, BookingInput, Scope};
use super::demo::{BUILDING, FLEET};
use super::pricing::{self, CoefficientVersion, KindRule, StatementSettings};
use super::{months, App};
use crate::domain::allocation::{Among, BlendPart, KeySpec, Method};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::month::Month;
use crate::domain::resource::ResourceKind;
use crate::domain::time::local_to_utc;
use crate::error::{AppError, AppResult};
use crate::store::resources as resource_store;
use crate::store::users as user_store;

/// (resource, member index, weekday rank in the month (0 = first weekday), start, end, quantity)
const MONTH_PLAN: [(&str, usize, usize, &str, &str, i32); 12] = [
    ("Salle Jaurès", 0, 1, "09:30", "11:30", 1),
    ("Salle Jaurès", 2, 3, "14:00", "17:00", 1),
    ("Salle Jaurès", 8, 6, "09:00", "12:30", 1),
    ("Salle Louise-Michel", 1, 2, "10:00", "12:00", 1),
    ("Salle Louise-Michel", 5, 8, "09:00", "16:00", 1),
    ("Espace de coworking", 8, 4, "09:00", "18:00", 3),
    ("Espace de coworking", 10, 5, "09:00", "13:00", 1),
    ("Renault Zoé", 3, 2, "08:00", "18:00", 1),
    ("Peugeot 208", 11, 7, "08:00", "12:00", 1),
    ("Peugeot 208", 5, 9, "13:00", "19:00", 1),
    ("Sonorisation portable", 4, 10, "14:00", "23:00", 1),
    ("Remorque", 10, 11, "09:00", "12:00", 1),
];

/// The `rank`-th weekday (Monday to Friday) of a month.
fn weekday_of(month: Month, rank: usize) -> NaiveDate {
    let mut d = month.first_day();
    let mut seen = 0;
    loop {
        if d.weekday().number_from_monday() <= 5 {
            if seen == rank {
                return d;
            }
            seen += 1;
        }
        d += Duration::days(1);
    }
}

fn spec(method: Method) -> KeySpec {
    KeySpec::simple(method)
}

/// Fills the accounts; returns the number of bookings made.
pub async fn fill(app: &App, members: &[MemberId]) -> AppResult<usize> {
    let account = |email: &'static str| {
        app.db().run(move |c| {
            let u = user_store::find_by_email(c, email)?.ok_or(AppError::NotFound)?;
            Ok(Actor::from_user(&user_store::with_roles(c, u)?))
        })
    };
    let treasurer = account("tresorerie@demo.mutualise.coop").await?;
    let admin = account("admin@demo.mutualise.coop").await?;
    let since = NaiveDate::from_ymd_opt(2000, 1, 1).ok_or(AppError::NotFound)?;
    for (category, permille) in [("insertion", 500), ("solidaire", 700)] {
        pricing::set_coefficient(
            app,
            &treasurer,
            CoefficientVersion {
                category: category.into(),
                effective_from: since,
                coefficient_permille: permille,
            },
        )
        .await?;
    }
    for rule in [
        KindRule {
            kind: ResourceKind::Room,
            late_notice_minutes: Some(24 * 60),
            late_charged_percent: 50,
            free_minutes_per_month: 4 * 60,
        },
        KindRule {
            kind: ResourceKind::Vehicle,
            late_notice_minutes: Some(12 * 60),
            late_charged_percent: 100,
            free_minutes_per_month: 0,
        },
    ] {
        pricing::set_kind_rule(app, &treasurer, rule).await?;
    }
    pricing::set_statement_settings(
        app,
        &treasurer,
        StatementSettings {
            cgi_261b: true,
            pole_details:
                "Pôle Val Coopératif — 12 rue de la Halle, 35000 Rennes — SIRET 812 345 600 00011"
                    .into(),
            ..StatementSettings::default()
        },
    )
    .await?;

    let resources = app
        .db()
        .run(|c| resource_store::list(c, &Default::default()))
        .await?;
    let id_of = |name: &str| -> AppResult<ResourceId> {
        resources
            .iter()
            .find(|r| r.row.name == name)
            .map(|r| r.row.id)
            .ok_or(AppError::NotFound)
    };
    let current = Month::containing(app.now(), app.tz());
    let months = [current.previous().previous(), current.previous()];
    let mut booked = 0;
    for (i, month) in months.iter().copied().enumerate() {
        booked += book_month(app, &admin, members, &id_of, month, i == 1).await?;
        costs_of(app, &treasurer, month, &id_of, i == 0).await?;
    }
    // Adjustments: a breakage billed in the last closed month, a credit in the open one.
    allocation::create_adjustment(
        app,
        &treasurer,
        AdjustmentInput {
            month: months[1],
            member_id: members[2],
            label: "Vaisselle cassée lors de l'assemblée (salle Jaurès)".into(),
            amount_cents: 3_500,
        },
    )
    .await?;
    for m in months {
        months::close(app, &treasurer, m).await?;
    }
    allocation::create_adjustment(
        app,
        &treasurer,
        AdjustmentInput {
            month: current,
            member_id: members[0],
            label: format!(
                "Trop-perçu sur le relevé de {}",
                crate::domain::month::label_fr(months[1])
            ),
            amount_cents: -2_000,
        },
    )
    .await?;
    Ok(booked)
}

/// The month's bookings, made as they would have been the day before it began; with
/// `late`, one of them cancelled three hours before its start.
async fn book_month(
    app: &App,
    admin: &Actor,
    members: &[MemberId],
    id_of: &impl Fn(&str) -> AppResult<ResourceId>,
    month: Month,
    late: bool,
) -> AppResult<usize> {
    let tz = app.tz();
    let eve = (month.first_day() - Duration::days(1))
        .and_hms_opt(18, 0, 0)
        .ok_or(AppError::NotFound)?;
    let env = BookingEnv {
        now: local_to_utc(eve, tz).map_err(AppError::internal)?,
        ..BookingEnv::of(app)
    };
    let mut inputs = Vec::new();
    for (resource, member, rank, start, end, quantity) in MONTH_PLAN {
        let day = weekday_of(month, rank);
        inputs.push(BookingInput {
            resource_id: id_of(resource)?,
            member_id: members[member],
            start: format!("{day}T{start}"),
            end: format!("{day}T{end}"),
            quantity: (quantity > 1).then_some(quantity),
            purpose: Some("Réservation du mois".into()),
            beneficiary: None,
            recurrence: None,
            skip_conflicts: false,
            activity: None,
        });
    }
    let cancelled_day = weekday_of(month, 12);
    let cancelled = BookingInput {
        resource_id: id_of("Salle Louise-Michel")?,
        member_id: members[1],
        start: format!("{cancelled_day}T14:00"),
        end: format!("{cancelled_day}T16:00"),
        quantity: None,
        purpose: Some("Comité de pilotage (annulé)".into()),
        beneficiary: None,
        recurrence: None,
        skip_conflicts: false,
        activity: None,
    };
    let admin = admin.clone();
    let count = inputs.len();
    app.db()
        .run(move |conn| {
            for input in &inputs {
                conn.write(|c| book_tx(c, &admin, input, &env, None, None))?;
            }
            if late {
                let made = conn.write(|c| book_tx(c, &admin, &cancelled, &env, None, None))?;
                let id = made
                    .bookings
                    .first()
                    .map(|b| b.id)
                    .ok_or(AppError::NotFound)?;
                let start = made.bookings[0].start;
                let at_noon = BookingEnv {
                    now: start - Duration::hours(3),
                    ..env
                };
                conn.write(|c| cancel_tx(c, &admin, id, Scope::One, &at_noon))?;
            }
            Ok(())
        })
        .await?;
    Ok(count + usize::from(late))
}

async fn costs_of(
    app: &App,
    treasurer: &Actor,
    month: Month,
    id_of: &impl Fn(&str) -> AppResult<ResourceId>,
    first: bool,
) -> AppResult<()> {
    let mut entries = Vec::new();
    if first {
        // Running every month from the first: rent, fleet insurance, internet.
        entries.push(CostInput {
            month,
            label: "Loyer du bâtiment".into(),
            amount_cents: 480_000,
            resource_id: None,
            pool: Some(BUILDING.into()),
            recurring: true,
            until: None,
            key: spec(Method::Surface),
        });
        entries.push(CostInput {
            month,
            label: "Assurance de la flotte".into(),
            amount_cents: 36_000,
            resource_id: None,
            pool: Some(FLEET.into()),
            recurring: true,
            until: None,
            key: spec(Method::UsageHours),
        });
        entries.push(CostInput {
            month,
            label: "Abonnement internet".into(),
            amount_cents: 9_000,
            resource_id: None,
            pool: None,
            recurring: true,
            until: None,
            key: spec(Method::Equal),
        });
    } else {
        entries.push(CostInput {
            month,
            label: "Chauffage".into(),
            amount_cents: 62_000,
            resource_id: None,
            pool: Some(BUILDING.into()),
            recurring: false,
            until: None,
            key: KeySpec {
                method: Method::Blend,
                parts: vec![
                    BlendPart {
                        weight_percent: 50.0,
                        key: spec(Method::Surface),
                    },
                    BlendPart {
                        weight_percent: 50.0,
                        key: spec(Method::UsageHours),
                    },
                ],
                ..spec(Method::Blend)
            },
        });
        entries.push(CostInput {
            month,
            label: "Ménage de l'espace de coworking".into(),
            amount_cents: 15_000,
            resource_id: Some(id_of("Espace de coworking")?),
            pool: None,
            recurring: false,
            until: None,
            key: KeySpec {
                among: Some(Among::Users),
                ..spec(Method::Equal)
            },
        });
    }
    for e in entries {
        allocation::create_cost(app, treasurer, e).await?;
    }
    Ok(())
}
