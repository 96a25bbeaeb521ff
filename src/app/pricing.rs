//! What prices a month, as the treasurer sets it: each resource's tariffs by effective date,
//! the pricing categories' coefficients by effective date, the rules of each resource kind
//! (late cancellation, monthly free allowance), and the pole's statement and accounting
//! settings. A version may not take effect in a closed month: its statements are frozen.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::App;
use crate::domain::ids::ResourceId;
use crate::domain::month::{label_fr, Month};
use crate::domain::pricing::{LateCancellation, WHOLE_PERMILLE};
use crate::domain::resource::{ResourceKind, TariffInput};
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::store::{
    months as month_store, pricing as store, resources as resource_store, to_db, DbConn,
};

/// Refuses a version taking effect in a closed month (`409 month_closed`).
pub(crate) fn check_open_from(conn: &mut DbConn, from: NaiveDate) -> AppResult<()> {
    // Before 2000: the first version, in force « since always »; no month that old closes.
    let Some(month) = Month::of_date(from) else {
        return Ok(());
    };
    month_store::lock_open(conn, &[month])?;
    if month_store::first_closed(conn, &[month])?.is_some() {
        return Err(AppError::Conflict {
            code: "month_closed",
            detail: format!(
                "Le mois de {} est clôturé : un changement ne peut y prendre effet. Choisissez une date dans un mois ouvert.",
                label_fr(month)
            ),
        });
    }
    Ok(())
}

/// One version of a resource's tariff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TariffVersion {
    /// The first local day it prices (bookings starting that day or later).
    pub effective_from: NaiveDate,
    #[serde(flatten)]
    pub tariff: TariffInput,
}

/// Every version of a resource's tariff, oldest first (the first prices everything before
/// the second; it shows as 1970-01-01).
pub async fn tariffs(
    app: &App,
    actor: &Actor,
    resource: ResourceId,
) -> AppResult<Vec<TariffVersion>> {
    authz::require(authz::can_manage_allocation(actor) || actor.is_pole_team())?;
    app.db()
        .run(move |c| {
            resource_store::find(c, resource)?;
            Ok(store::tariffs(c, Some(&[resource]))?
                .into_iter()
                .map(|r| TariffVersion {
                    effective_from: r.effective_from,
                    tariff: r.tariff().into(),
                })
                .collect())
        })
        .await
}

/// Sets the tariff in force from a date (replacing a version of that date).
pub async fn set_tariff(
    app: &App,
    actor: &Actor,
    resource: ResourceId,
    version: TariffVersion,
) -> AppResult<Vec<TariffVersion>> {
    let tariff = version.tariff.validate().map_err(AppError::Validation)?;
    let (by, now) = (actor.recorded_id(), to_db(app.now()));
    let who = actor.clone();
    app.db()
        .write(move |c| {
            let r = resource_store::find(c, resource)?;
            authz::require(
                authz::can_manage_allocation(&who)
                    || authz::can_manage_resource(
                        &who,
                        authz::Bookable {
                            kind: r.row.kind,
                            employer: r.row.employer_member_id,
                        },
                    ),
            )?;
            check_open_from(c, version.effective_from)?;
            store::set_tariff(c, resource, version.effective_from, &tariff, by, now)
        })
        .await?;
    tariffs(app, actor, resource).await
}

/// Removes a version (not the only one: a resource always has a tariff).
pub async fn delete_tariff(
    app: &App,
    actor: &Actor,
    resource: ResourceId,
    from: NaiveDate,
) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;

    app.db()
        .write(move |c| {
            let versions = store::tariffs(c, Some(&[resource]))?;
            if !versions.iter().any(|v| v.effective_from == from) {
                return Err(AppError::NotFound);
            }
            if versions.len() == 1 {
                return Err(AppError::Conflict {
                    code: "last_tariff",
                    detail: "C'est le seul tarif de la ressource : modifiez-le plutôt.".into(),
                });
            }
            check_open_from(c, from)?;
            store::delete_tariff(c, resource, from)?;
            Ok(())
        })
        .await
}

/// A pricing category's coefficient from a date.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct CoefficientVersion {
    pub category: String,
    pub effective_from: NaiveDate,
    /// Thousandths: 500 is ×0.5, 1000 the full price.
    pub coefficient_permille: i32,
}

/// The pricing rules of a resource kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct KindRule {
    pub kind: ResourceKind,
    /// Cancelling less than this many minutes before the start is charged; `None`: never.
    pub late_notice_minutes: Option<i32>,
    /// The share of the price a late cancellation costs, in percent.
    pub late_charged_percent: i32,
    /// Minutes free per member and month on this kind, used in booking order.
    pub free_minutes_per_month: i32,
}

impl KindRule {
    pub fn none(kind: ResourceKind) -> KindRule {
        KindRule {
            kind,
            late_notice_minutes: None,
            late_charged_percent: 0,
            free_minutes_per_month: 0,
        }
    }

    pub fn late(&self) -> Option<LateCancellation> {
        let notice = self.late_notice_minutes.filter(|m| *m > 0)?;
        (self.late_charged_percent > 0).then(|| LateCancellation {
            notice: chrono::Duration::minutes(i64::from(notice)),
            charged_permille: i64::from(self.late_charged_percent) * WHOLE_PERMILLE / 100,
        })
    }

    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if let Some(m) = self.late_notice_minutes {
            e.check(
                "late_notice_minutes",
                validation::int_in_range(m.into(), 0, 90 * 24 * 60),
            );
        }
        e.check(
            "late_charged_percent",
            validation::int_in_range(self.late_charged_percent.into(), 0, 100),
        );
        e.check(
            "free_minutes_per_month",
            validation::int_in_range(self.free_minutes_per_month.into(), 0, 31 * 24 * 60),
        );
        e.into_result()
    }
}

/// The pole's settings for statements and the accounting export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StatementSettings {
    /// Statements say « Répartition établie selon l'article 261 B du CGI ».
    pub cgi_261b: bool,
    /// The pole's name, address and SIRET as printed on statements.
    pub pole_details: String,
    /// FEC: journal code and label.
    pub journal_code: String,
    pub journal_label: String,
    /// FEC: the members' receivable account; each member gets an auxiliary account
    /// `<prefix><member id on 5 digits>` (« 411 » → « 41100007 »).
    pub customer_account: String,
    /// FEC: revenue accounts of the four sources.
    pub tariff_account: String,
    pub cost_share_account: String,
    pub staff_account: String,
    pub adjustment_account: String,
}

impl Default for StatementSettings {
    fn default() -> Self {
        StatementSettings {
            cgi_261b: false,
            pole_details: String::new(),
            journal_code: "VT".into(),
            journal_label: "Ventes".into(),
            customer_account: "411".into(),
            tariff_account: "706000".into(),
            cost_share_account: "708000".into(),
            staff_account: "708400".into(),
            adjustment_account: "708800".into(),
        }
    }
}

impl StatementSettings {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut s = StatementSettings::default();
        for (k, v) in pairs {
            match k.as_str() {
                "cgi_261b" => s.cgi_261b = v == "true",
                "pole_details" => s.pole_details = v,
                "journal_code" => s.journal_code = v,
                "journal_label" => s.journal_label = v,
                "customer_account" => s.customer_account = v,
                "tariff_account" => s.tariff_account = v,
                "cost_share_account" => s.cost_share_account = v,
                "staff_account" => s.staff_account = v,
                "adjustment_account" => s.adjustment_account = v,
                _ => {}
            }
        }
        s
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cgi_261b", self.cgi_261b.to_string()),
            ("pole_details", self.pole_details.clone()),
            ("journal_code", self.journal_code.clone()),
            ("journal_label", self.journal_label.clone()),
            ("customer_account", self.customer_account.clone()),
            ("tariff_account", self.tariff_account.clone()),
            ("cost_share_account", self.cost_share_account.clone()),
            ("staff_account", self.staff_account.clone()),
            ("adjustment_account", self.adjustment_account.clone()),
        ]
    }

    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        e.check(
            "pole_details",
            validation::optional_text(&self.pole_details.replace('\n', " "), 600),
        );
        e.check(
            "journal_code",
            validation::required_text(&self.journal_code, 10),
        );
        e.check(
            "journal_label",
            validation::required_text(&self.journal_label, 60),
        );
        for (field, v) in [
            ("customer_account", &self.customer_account),
            ("tariff_account", &self.tariff_account),
            ("cost_share_account", &self.cost_share_account),
            ("staff_account", &self.staff_account),
            ("adjustment_account", &self.adjustment_account),
        ] {
            if v.is_empty() || v.len() > 12 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                e.add(field, "Numéro de compte : 1 à 12 chiffres ou lettres.");
            }
        }
        e.into_result()
    }
}

/// Everything the treasurer sets about prices, in one view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PricingSettings {
    /// Every version, by category then date.
    pub coefficients: Vec<CoefficientVersion>,
    /// One rule per resource kind (kinds never set have none).
    pub kinds: Vec<KindRule>,
    pub statements: StatementSettings,
    /// Pricing categories the members use.
    pub categories: Vec<String>,
}

/// What `domain::pricing` needs besides tariffs, read once per allocation.
pub(crate) struct Terms {
    pub coefficients: BTreeMap<String, Vec<(NaiveDate, i64)>>,
    pub kinds: BTreeMap<ResourceKind, KindRule>,
    pub statements: StatementSettings,
}

impl Terms {
    pub fn coefficient(&self, category: &str, date: NaiveDate) -> i64 {
        self.coefficients
            .get(category)
            .and_then(|v| crate::domain::pricing::in_force(v, date))
            .unwrap_or(WHOLE_PERMILLE)
    }

    pub fn kind(&self, kind: ResourceKind) -> KindRule {
        self.kinds
            .get(&kind)
            .cloned()
            .unwrap_or(KindRule::none(kind))
    }
}

pub(crate) fn terms_on(conn: &mut DbConn) -> AppResult<Terms> {
    let mut coefficients: BTreeMap<String, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for r in store::coefficients(conn)? {
        coefficients
            .entry(r.category)
            .or_default()
            .push((r.effective_from, i64::from(r.coefficient_permille)));
    }
    let kinds = store::kind_rules(conn)?
        .into_iter()
        .map(|r| {
            (
                r.kind,
                KindRule {
                    kind: r.kind,
                    late_notice_minutes: r.late_notice_minutes,
                    late_charged_percent: r.late_charged_permille / 10,
                    free_minutes_per_month: r.free_minutes_per_month,
                },
            )
        })
        .collect();
    Ok(Terms {
        coefficients,
        kinds,
        statements: StatementSettings::from_pairs(store::settings(conn)?),
    })
}

pub async fn settings(app: &App, actor: &Actor) -> AppResult<PricingSettings> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db()
        .run(|c| {
            let terms = terms_on(c)?;
            let categories = crate::store::members::pricing_categories(c)?;
            Ok(PricingSettings {
                coefficients: terms
                    .coefficients
                    .iter()
                    .flat_map(|(cat, v)| {
                        v.iter().map(|(from, p)| CoefficientVersion {
                            category: cat.clone(),
                            effective_from: *from,
                            coefficient_permille: *p as i32,
                        })
                    })
                    .collect(),
                kinds: ResourceKind::ALL
                    .into_iter()
                    .map(|k| terms.kind(k))
                    .collect(),
                statements: terms.statements,
                categories,
            })
        })
        .await
}

pub async fn set_coefficient(app: &App, actor: &Actor, v: CoefficientVersion) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;
    let mut e = FieldErrors::new();
    let category = e.check("category", validation::slug(&v.category));
    e.check(
        "coefficient_permille",
        validation::int_in_range(v.coefficient_permille.into(), 0, 10_000),
    );
    e.into_result().map_err(AppError::Validation)?;
    let category = category.unwrap_or_default();
    let (by, now) = (actor.recorded_id(), to_db(app.now()));
    app.db()
        .write(move |c| {
            check_open_from(c, v.effective_from)?;
            store::set_coefficient(
                c,
                &category,
                v.effective_from,
                v.coefficient_permille,
                by,
                now,
            )
        })
        .await
}

pub async fn delete_coefficient(
    app: &App,
    actor: &Actor,
    category: String,
    from: NaiveDate,
) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;

    app.db()
        .write(move |c| {
            check_open_from(c, from)?;
            if store::delete_coefficient(c, &category, from)? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

pub async fn set_kind_rule(app: &App, actor: &Actor, rule: KindRule) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;
    rule.validate().map_err(AppError::Validation)?;
    let now: NaiveDateTime = to_db(app.now());
    app.db()
        .write(move |c| {
            store::set_kind_rule(
                c,
                rule.kind,
                rule.late_notice_minutes.filter(|m| *m > 0),
                rule.late_charged_percent * 10,
                rule.free_minutes_per_month,
                now,
            )
        })
        .await
}

pub async fn set_statement_settings(
    app: &App,
    actor: &Actor,
    s: StatementSettings,
) -> AppResult<()> {
    authz::require(authz::can_manage_allocation(actor))?;
    let s = StatementSettings {
        pole_details: s.pole_details.trim().to_string(),
        journal_code: s.journal_code.trim().to_string(),
        journal_label: s.journal_label.trim().to_string(),
        ..s
    };
    s.validate().map_err(AppError::Validation)?;
    app.db()
        .write(move |c| {
            for (k, v) in s.pairs() {
                store::set_setting(c, k, &v)?;
            }
            Ok(())
        })
        .await
}

/// The statement settings, for printing a statement (anyone who may see one) and the
/// accounting export.
pub async fn statement_settings(app: &App, _actor: &Actor) -> AppResult<StatementSettings> {
    app.db()
        .run(|c| Ok(StatementSettings::from_pairs(store::settings(c)?)))
        .await
}
