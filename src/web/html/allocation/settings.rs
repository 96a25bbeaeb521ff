//! The pricing settings (coefficients by pricing category, each resource kind's rules, the
//! statements' mention and the accounting export) and the check of the statements' hash
//! chain.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    again, alert_box, choose, filled, notice_of, number_text, required, respond, short_hash,
    with_parsed,
};
use crate::app::months;
use crate::app::pricing::{self, CoefficientVersion, KindRule, PricingSettings, StatementSettings};
use crate::domain::member::{category_label, DEFAULT_CATEGORIES};
use crate::domain::money::{div_round, format_permille};
use crate::domain::month::label_fr;
use crate::domain::resource::ResourceKind;
use crate::domain::validation::{parse_int, FieldErrors};
use crate::error::AppError;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::html::{
    checkbox, checked, csrf_field, error_page, error_summary, field, field_for, fmt_local, or_page,
    see_other, select, textarea, Ctx, NoticeQuery,
};
use crate::web::AppState;

// ---------------------------------------------------------------------------------------
// Pricing settings

#[derive(Deserialize, Default, Clone)]
pub struct CoefficientForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    coefficient: String,
}

impl CoefficientForm {
    fn to_version(&self) -> Result<CoefficientVersion, FieldErrors> {
        let mut e = FieldErrors::new();
        if self.category.trim().is_empty() {
            e.add("category", "Choisissez la catégorie tarifaire.");
        }
        let from = required(
            &mut e,
            "effective_from",
            filled(&self.effective_from, parse_date),
            "Indiquez la date d'effet.",
        );
        let permille = required(
            &mut e,
            "coefficient_permille",
            parse_decimal(&self.coefficient, 3),
            "Indiquez le coefficient (1 = plein tarif, 0,5 = moitié prix).",
        )
        .map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        match (from, permille) {
            (Some(effective_from), Some(coefficient_permille)) if e.is_empty() => {
                Ok(CoefficientVersion {
                    category: self.category.trim().to_string(),
                    effective_from,
                    coefficient_permille,
                })
            }
            _ => Err(e),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct CoefficientDeleteForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    effective_from: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct KindForm {
    #[serde(default)]
    late_notice_hours: String,
    #[serde(default)]
    late_charged_percent: String,
    #[serde(default)]
    free_hours: String,
}

impl KindForm {
    fn of(r: &KindRule) -> Self {
        KindForm {
            late_notice_hours: r.late_notice_minutes.map(hours_text).unwrap_or_default(),
            late_charged_percent: r.late_charged_percent.to_string(),
            free_hours: hours_text(r.free_minutes_per_month),
        }
    }

    fn to_rule(&self, kind: ResourceKind) -> Result<KindRule, FieldErrors> {
        let mut e = FieldErrors::new();
        let notice = e
            .check("late_notice_minutes", parse_hours(&self.late_notice_hours))
            .flatten();
        let percent = e
            .check(
                "late_charged_percent",
                parse_int(&self.late_charged_percent),
            )
            .flatten()
            .unwrap_or(0);
        let free = e
            .check("free_minutes_per_month", parse_hours(&self.free_hours))
            .flatten()
            .unwrap_or(0);
        e.into_result()?;
        Ok(KindRule {
            kind,
            late_notice_minutes: notice,
            late_charged_percent: i32::try_from(percent).unwrap_or(i32::MAX),
            free_minutes_per_month: free,
        })
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct StatementForm {
    cgi_261b: Option<String>,
    #[serde(default)]
    pole_details: String,
    #[serde(default)]
    journal_code: String,
    #[serde(default)]
    journal_label: String,
    #[serde(default)]
    customer_account: String,
    #[serde(default)]
    tariff_account: String,
    #[serde(default)]
    cost_share_account: String,
    #[serde(default)]
    staff_account: String,
    #[serde(default)]
    adjustment_account: String,
}

impl StatementForm {
    fn of(s: &StatementSettings) -> Self {
        StatementForm {
            cgi_261b: s.cgi_261b.then(|| "on".into()),
            pole_details: s.pole_details.clone(),
            journal_code: s.journal_code.clone(),
            journal_label: s.journal_label.clone(),
            customer_account: s.customer_account.clone(),
            tariff_account: s.tariff_account.clone(),
            cost_share_account: s.cost_share_account.clone(),
            staff_account: s.staff_account.clone(),
            adjustment_account: s.adjustment_account.clone(),
        }
    }

    fn to_settings(&self) -> StatementSettings {
        let t = |v: &str| v.trim().to_string();
        StatementSettings {
            cgi_261b: checked(&self.cgi_261b),
            pole_details: self.pole_details.replace("\r\n", "\n").trim().to_string(),
            journal_code: t(&self.journal_code),
            journal_label: t(&self.journal_label),
            customer_account: t(&self.customer_account),
            tariff_account: t(&self.tariff_account),
            cost_share_account: t(&self.cost_share_account),
            staff_account: t(&self.staff_account),
            adjustment_account: t(&self.adjustment_account),
        }
    }
}

#[derive(Default)]
struct SettingsView {
    coefficient: CoefficientForm,
    coefficient_errors: FieldErrors,
    /// The kind form posted, kept with its errors.
    kind: Option<(ResourceKind, KindForm, FieldErrors)>,
    statements: Option<StatementForm>,
    statement_errors: FieldErrors,
    alert: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

fn category_options(settings: &PricingSettings) -> Vec<(String, String)> {
    let mut cats: Vec<String> = DEFAULT_CATEGORIES
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    for c in settings
        .categories
        .iter()
        .chain(settings.coefficients.iter().map(|v| &v.category))
    {
        if !cats.contains(c) {
            cats.push(c.clone());
        }
    }
    choose(cats.into_iter().map(|c| {
        let label = category_label(&c);
        (c, label)
    }))
}

fn kind_form(ctx: &Ctx, rule: &KindRule, v: &SettingsView) -> Markup {
    let kind = rule.kind;
    let (form, errors) = match &v.kind {
        Some((k, f, e)) if *k == kind => (f.clone(), e.clone()),
        _ => (KindForm::of(rule), FieldErrors::new()),
    };
    // Error keys carry the kind, so each form's ids are its own.
    let mut keyed = FieldErrors::new();
    for e in &errors.0 {
        keyed.add(&format!("{}.{}", kind.as_str(), e.field), e.message.clone());
    }
    let key = |f: &str| format!("{}.{f}", kind.as_str());
    html! {
        form.kind-rule method="post" action={ "/allocations/settings/kinds/" (kind.as_str()) } novalidate {
            (csrf_field(ctx))
            fieldset {
                legend { (kind.plural_label()) }
                (error_summary(&keyed))
                div.row {
                    (field_for("Annulation tardive : moins de (heures avant le début)", "late_notice_hours", &key("late_notice_minutes"), &form.late_notice_hours, "text", &keyed, Some("Vide : une annulation n'est jamais facturée.")))
                    (field_for("Part facturée (%)", "late_charged_percent", &key("late_charged_percent"), &form.late_charged_percent, "number", &keyed, None))
                    (field_for("Heures gratuites par structure et par mois", "free_hours", &key("free_minutes_per_month"), &form.free_hours, "text", &keyed, None))
                }
                button type="submit" { "Enregistrer" }
            }
        }
    }
}

async fn settings_view(s: &AppState, p: &PageActor, v: SettingsView) -> Response {
    let ctx = Ctx::new(s, p);
    let settings = match or_page(&ctx, pricing::settings(&s.app, p.actor()).await) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = v
        .statements
        .clone()
        .unwrap_or_else(|| StatementForm::of(&settings.statements));
    let se = &v.statement_errors;
    let ce = &v.coefficient_errors;
    let body = html! {
        h1 { "Paramètres de tarification" }
        nav.actions { a href="/allocations" { "← Répartition du mois" } a href="/allocations/verify" { "Vérifier la chaîne des relevés" } }
        (alert_box(&v.alert))
        p.meta { "Chaque changement prend effet à une date : un mois clôturé n'est jamais modifié. Les tarifs de chaque ressource se règlent sur sa fiche (" a href="/resources" { "Ressources" } ")." }

        h2 #coefficients { "Coefficients par catégorie tarifaire" }
        p.hint { "Le coefficient multiplie le tarif des ressources pour les structures de la catégorie : 0,5 = moitié prix, 1 = plein tarif (sans version, le plein tarif s'applique)." }
        @if settings.coefficients.is_empty() {
            p { "Aucun coefficient : toutes les catégories paient le plein tarif." }
        } @else {
            table {
                thead { tr { th { "Catégorie" } th { "À partir du" } th.num { "Coefficient" } th { span.visually-hidden { "Action" } } } }
                tbody { @for c in &settings.coefficients {
                    tr {
                        td { (category_label(&c.category)) }
                        td { (date_text(c.effective_from)) }
                        td.num { "× " (format_permille(i64::from(c.coefficient_permille))) }
                        td {
                            form.inline method="post" action="/allocations/settings/coefficients/delete" {
                                (csrf_field(&ctx))
                                input type="hidden" name="category" value=(c.category);
                                input type="hidden" name="effective_from" value=(c.effective_from);
                                button.danger type="submit" { "Supprimer" }
                            }
                        }
                    }
                } }
            }
        }
        h3 { "Nouvelle version" }
        (error_summary(ce))
        form.filters method="post" action="/allocations/settings/coefficients" novalidate {
            (csrf_field(&ctx))
            (select("Catégorie", "category", &category_options(&settings), &v.coefficient.category, ce))
            (field("À partir du", "effective_from", &v.coefficient.effective_from, "date", ce, None))
            (field_for("Coefficient", "coefficient", "coefficient_permille", &v.coefficient.coefficient, "text", ce, Some("ex. 0,5")))
            button type="submit" { "Ajouter" }
        }

        h2 #types { "Règles par type de ressource" }
        p.hint { "Une annulation moins de N heures avant le début est facturée pour la part indiquée ; les heures gratuites s'imputent dans l'ordre des réservations du mois. Les salariés partagés sont facturés d'après le relevé des heures." }
        @for rule in settings.kinds.iter().filter(|r| r.kind != ResourceKind::Staff) {
            (kind_form(&ctx, rule, &v))
        }

        h2 #releves { "Relevés et export comptable" }
        (error_summary(se))
        form method="post" action="/allocations/settings" novalidate {
            (csrf_field(&ctx))
            fieldset {
                legend { "Relevés" }
                (checkbox("Mentionner « Répartition établie selon l'article 261 B du CGI » sur les relevés", "cgi_261b", checked(&st.cgi_261b)))
                (textarea("Coordonnées du pôle (nom, adresse, SIRET), imprimées sur les relevés", "pole_details", &st.pole_details, se))
            }
            fieldset {
                legend { "Export comptable (FEC)" }
                (field("Code journal", "journal_code", &st.journal_code, "text", se, None))
                (field("Libellé du journal", "journal_label", &st.journal_label, "text", se, None))
                (field("Compte des structures membres", "customer_account", &st.customer_account, "text", se, Some("Chaque structure a un compte auxiliaire : ce préfixe suivi de son numéro.")))
                (field("Compte des utilisations (tarifs)", "tariff_account", &st.tariff_account, "text", se, None))
                (field("Compte des quotes-parts de coûts", "cost_share_account", &st.cost_share_account, "text", se, None))
                (field("Compte des salariés partagés", "staff_account", &st.staff_account, "text", se, None))
                (field("Compte des régularisations", "adjustment_account", &st.adjustment_account, "text", se, None))
            }
            button type="submit" { "Enregistrer" }
        }
    };
    respond(v.status, &ctx, "Paramètres de tarification", v.notice, body)
}

/// `GET /allocations/settings`.
pub async fn settings_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    settings_view(
        &s,
        &p,
        SettingsView {
            notice: notice_of(q.notice.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// The settings page again after a refused form, or an error page.
async fn settings_again(
    s: &AppState,
    p: &PageActor,
    e: AppError,
    keep: impl FnOnce(FieldErrors, &mut SettingsView),
) -> Response {
    match again(e) {
        Ok(a) => {
            let mut v = SettingsView {
                alert: a.alert,
                status: a.status,
                ..Default::default()
            };
            keep(a.errors, &mut v);
            settings_view(s, p, v).await
        }
        Err(e) => error_page(s, Some(&p.0), e),
    }
}

/// `POST /allocations/settings`: the statement and accounting settings.
pub async fn save_statement_settings(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<StatementForm>,
) -> Response {
    match pricing::set_statement_settings(&s.app, p.actor(), form.to_settings()).await {
        Ok(()) => see_other("/allocations/settings?notice=saved#releves"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.statements = Some(form);
                v.statement_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/settings/coefficients`: a new coefficient version.
pub async fn add_coefficient(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<CoefficientForm>,
) -> Response {
    let result = with_parsed(form.to_version(), async |version| {
        pricing::set_coefficient(&s.app, p.actor(), version).await
    })
    .await;
    match result {
        Ok(()) => see_other("/allocations/settings?notice=saved#coefficients"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.coefficient = form;
                v.coefficient_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/settings/coefficients/delete`.
pub async fn delete_coefficient(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<CoefficientDeleteForm>,
) -> Response {
    let Ok(from) = parse_date(form.effective_from.trim()) else {
        return error_page(&s, Some(&p.0), AppError::NotFound);
    };
    match pricing::delete_coefficient(&s.app, p.actor(), form.category.clone(), from).await {
        Ok(()) => see_other("/allocations/settings?notice=deleted#coefficients"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                if !errors.is_empty() {
                    v.alert = Some(errors.summary());
                }
            })
            .await
        }
    }
}

/// `POST /allocations/settings/kinds/{kind}`: one resource kind's rules.
pub async fn save_kind_rule(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<KindForm>,
) -> Response {
    let Some(kind) = ResourceKind::parse(&raw) else {
        return error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let result = with_parsed(form.to_rule(kind), async |rule| {
        pricing::set_kind_rule(&s.app, p.actor(), rule).await
    })
    .await;
    match result {
        Ok(()) => see_other("/allocations/settings?notice=saved#types"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.kind = Some((kind, form, errors));
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The hash chain

/// `GET /allocations/verify`: every closed month's statement checked against its hash and
/// the previous month's, and the reopenings on record.
pub async fn verify_page(State(s): State<AppState>, p: PageActor) -> Response {
    let ctx = Ctx::new(&s, &p);
    let data = async {
        Ok((
            months::verify(&s.app, p.actor()).await?,
            months::reopenings(&s.app, p.actor()).await?,
        ))
    };
    let (checks, reopenings) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let broken = checks.iter().filter(|c| !c.ok).count();
    let body = html! {
        h1 { "Vérification de la chaîne des relevés" }
        nav.actions { a href="/allocations" { "← Répartition du mois" } }
        p.meta { "À la clôture, le relevé de chaque structure est enregistré avec une empreinte (SHA-256) calculée sur ses lignes et sur l'empreinte du mois clôturé avant lui. Chaque mois est recalculé ici à partir des lignes enregistrées : une ligne modifiée, supprimée ou ajoutée après coup rompt la chaîne." }
        @if checks.is_empty() {
            p { "Aucun mois clôturé." }
        } @else if broken == 0 {
            p.notice role="status" { "Chaîne intègre : " (checks.len()) " mois clôturé(s) vérifié(s)." }
        } @else {
            div.errors role="alert" { p { (broken) " mois sur " (checks.len()) " ne correspondent plus à leur empreinte." } }
        }
        @if !checks.is_empty() {
            table.chain {
                thead { tr { th { "Mois" } th { "État" } th { "Empreinte" } th { "Constat" } } }
                tbody { @for c in &checks {
                    tr.ko[!c.ok] {
                        td { a href={ "/allocations?month=" (c.month) } { (label_fr(c.month)) } }
                        td { @if c.ok { span.badge.confirmed { "OK" } } @else { span.badge.violation { "KO" } } }
                        td { (short_hash(&c.hash)) }
                        td { (c.problem.as_deref().unwrap_or("—")) }
                    }
                } }
            }
        }
        h2 { "Réouvertures" }
        @if reopenings.is_empty() {
            p { "Aucun mois rouvert." }
        } @else {
            table {
                thead { tr { th { "Mois" } th { "Rouvert le" } th { "Motif" } th { "Empreinte mise de côté" } } }
                tbody { @for r in &reopenings {
                    tr {
                        td { (label_fr(r.month)) }
                        td { (fmt_local(r.reopened_at, ctx.tz())) }
                        td { (r.reason) }
                        td { (short_hash(&r.statement_hash)) }
                    }
                } }
            }
        }
    };
    respond(
        StatusCode::OK,
        &ctx,
        "Vérification de la chaîne des relevés",
        None,
        body,
    )
}

// ---------------------------------------------------------------------------------------
// Reading typed numbers and dates

/// A decimal number as typed (« 1,5 », « 0.25 »), non-negative, with at most `places`
/// decimals, scaled to an integer (`places` = 2: hundredths). Empty is `None`.
fn parse_decimal(raw: &str, places: u32) -> Result<Option<i64>, String> {
    let cleaned = number_text(raw.trim());
    if cleaned.is_empty() {
        return Ok(None);
    }
    let err = || "Nombre attendu (exemple : 1,5).".to_string();
    let (units, decimals) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if (units.is_empty() && decimals.is_empty())
        || !units.chars().all(|c| c.is_ascii_digit())
        || !decimals.chars().all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    if decimals.len() > places as usize {
        return Err(format!("Au plus {places} décimale(s)."));
    }
    if units.len() > 9 {
        return Err("Nombre trop grand.".into());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| err())?
    };
    let scale = 10_i64.pow(places);
    let mut fraction: i64 = if decimals.is_empty() {
        0
    } else {
        decimals.parse().map_err(|_| err())?
    };
    for _ in decimals.len()..places as usize {
        fraction *= 10;
    }
    Ok(Some(units * scale + fraction))
}

/// Hours as typed (« 1,5 ») in minutes; empty is `None`.
fn parse_hours(raw: &str) -> Result<Option<i32>, String> {
    Ok(parse_decimal(raw, 2)?.map(|hundredths| {
        i32::try_from(div_round(i128::from(hundredths) * 60, 100)).unwrap_or(i32::MAX)
    }))
}

/// Minutes as hours for a field (« 1,5 »).
fn hours_text(minutes: i32) -> String {
    format_permille(div_round(i128::from(minutes) * 100, 60) * 10)
}

/// A date as typed in a date field (`2027-01-31`).
fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| "Date attendue (AAAA-MM-JJ).".to_string())
}

fn date_text(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_hours() {
        assert_eq!(parse_decimal("0,5", 3), Ok(Some(500)));
        assert_eq!(parse_decimal("1", 3), Ok(Some(1000)));
        assert_eq!(parse_decimal(" 1.25 ", 2), Ok(Some(125)));
        assert_eq!(parse_decimal("", 2), Ok(None));
        assert!(parse_decimal("1,234", 2).is_err());
        assert!(parse_decimal("-1", 2).is_err());
        assert!(parse_decimal("abc", 2).is_err());
        assert_eq!(parse_hours("1,5"), Ok(Some(90)));
        assert_eq!(hours_text(90), "1,5");
        assert_eq!(hours_text(20), "0,33");
        assert_eq!(parse_hours(&hours_text(20)), Ok(Some(20)));
    }
}
