//! Shared-employee pages: the list with a search by skill, an employee's page, the forms.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::html;
use serde::Deserialize;

use super::{
    action_button, checked, csrf_field, error_summary, field, field_for, or_page, page,
    page_with_status, select, submit, textarea, Ctx, Nav, NoticeQuery,
};
use crate::app::authz;
use crate::app::employees::{self, EmployeeQuery};
use crate::app::feeds::FeedScope;
use crate::app::members;
use crate::domain::employee::{ContractType, EmployeeInput};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::money::{format_amount, format_euros, parse_euros};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    skill: Option<String>,
    q: Option<String>,
    archived: Option<String>,
    notice: Option<String>,
}

fn hours_text(h: f64) -> String {
    let minutes = (h * 60.0).round() as i64;
    if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} h {:02}", minutes / 60, minutes % 60)
    }
}

pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let query = EmployeeQuery {
        skill: q.skill.clone(),
        q: q.q.clone(),
        include_archived: checked(&q.archived),
    };
    let list = match or_page(&ctx, employees::list(&s.app, p.actor(), query).await) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let body = html! {
        h1 { "Salariés partagés" }
        nav.actions aria-label="Salariés partagés" {
            @if authz::manages_some_employer(p.actor()) { a.button href="/staff/new" { "Ajouter un salarié" } }
            @if authz::plans_some_staff(p.actor()) {
                a href="/staff/week" { "Planning de la semaine" }
                a href="/staff/free" { "Qui est libre ?" }
            }
            @if authz::sees_some_staff_ledger(p.actor()) { a href="/staff/ledger" { "Relevé des heures" } }
            @if !p.actor().memberships.is_empty() { a href="/staff/hours" { "Heures reçues par ma structure" } }
            @else if p.actor().is_pole_team() { a href="/staff/hours" { "Heures reçues par structure" } }
        }
        form.filters method="get" action="/staff" {
            label for="skill" { "Compétence" }
            input #skill type="search" name="skill" value=(q.skill.as_deref().unwrap_or("")) placeholder="ex. chariot";
            label for="q" { "Nom" }
            input #q type="search" name="q" value=(q.q.as_deref().unwrap_or(""));
            (super::checkbox("Inclure les salariés archivés", "archived", checked(&q.archived)))
            button type="submit" { "Rechercher" }
        }
        table {
            thead { tr { th { "Nom" } th { "Employeur" } th { "Contrat" } th { "Durée hebdomadaire" } th { "Compétences" } } }
            tbody { @for e in &list {
                tr {
                    td { a href={ "/staff/" (e.id) } { (e.name) } @if e.archived { " (archivé)" } }
                    td { @if let Some(m) = &e.employer { (m.name) } }
                    td { (e.contract_type.label()) }
                    td { (hours_text(e.weekly_contract_hours)) }
                    td { (e.skills.join(", ")) }
                }
            } }
        }
        @if list.is_empty() { p { "Aucun salarié partagé." } }
    };
    page(
        &ctx,
        "Salariés partagés",
        Nav::Staff,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

pub async fn show(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let e = match or_page(&ctx, employees::get(&s.app, p.actor(), id).await) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let subscribe = if authz::plans_staff(p.actor(), e.employer.as_ref().map(|m| m.id)) {
        super::notifications::subscribe_for(&ctx, FeedScope::Employee, e.id.0).await
    } else {
        html! {}
    };
    let body = html! {
        h1 { (e.name) }
        p.meta { (e.contract_type.label()) @if let Some(m) = &e.employer { " · " (m.name) } @if e.archived { " · archivé" } }
        div.actions {
            @if !e.archived { a.button href={ "/bookings/new?resource_id=" (e.id) } { "Mettre à disposition" } }
            @if authz::plans_staff(p.actor(), e.employer.as_ref().map(|m| m.id)) {
                a href={ "/staff/" (e.id) "/month" } { "Planning du mois" }
            }
        }
        dl {
            dt { "Durée hebdomadaire du contrat" } dd { (hours_text(e.weekly_contract_hours)) }
            @if let Some(end) = e.contract_end { dt { "Fin du contrat" } dd { (end.format("%d/%m/%Y")) } }
            dt { "Mis à disposition de" } dd {
                @if e.agreement_members.is_empty() { "toute structure du pôle" }
                @else { (e.agreement_members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")) }
            }
            dt { "Compétences" } dd { @if e.skills.is_empty() { "—" } @else { (e.skills.join(", ")) } }
            @if !e.location.is_empty() { dt { "Lieu" } dd { (e.location) } }
            @if let Some(private) = &e.private {
                @if let Some(b) = private.birth_date { dt { "Date de naissance" } dd { (b.format("%d/%m/%Y")) @if private.minor { " (mineur : règles des jeunes travailleurs)" } } }
                dt { "Coût horaire chargé" } dd { (format_euros(private.hourly_cost_cents)) }
                dt { "Frais de gestion du groupement" } dd { @match private.fee { Some(f) => (f.describe()), None => "aucun" } }
            }
        }
        @if !e.description.is_empty() { p { (e.description) } }
        (subscribe)
        @if e.can_manage {
            div.actions {
                a.button href={ "/staff/" (e.id) "/edit" } { "Modifier" }
                @if !e.archived {
                    (action_button(&ctx, &format!("/staff/{}/archive", e.id), "Archiver", "danger"))
                } @else {
                    (action_button(&ctx, &format!("/staff/{}/restore", e.id), "Restaurer", ""))
                }
            }
        }
    };
    page(
        &ctx,
        &e.name,
        Nav::Staff,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

/// What the employee form posts: text as typed.
#[derive(Deserialize, Default, Clone)]
pub struct EmployeeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    employer_member_id: String,
    #[serde(default)]
    contract_type: String,
    #[serde(default)]
    contract_end: String,
    #[serde(default)]
    weekly_contract_hours: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    hourly_cost: String,
    #[serde(default)]
    fee_coefficient: String,
    #[serde(default)]
    fee_monthly: String,
    #[serde(default)]
    agreement_member_ids: Vec<String>,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    description: String,
}

fn parse_date(e: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    e.check(
        field,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| "Date attendue (JJ/MM/AAAA).".to_string()),
    )
}

fn parse_decimal(e: &mut FieldErrors, field: &str, raw: &str) -> Option<f64> {
    let raw = raw.trim().replace(',', ".");
    if raw.is_empty() {
        return None;
    }
    e.check(
        field,
        raw.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| "Nombre attendu (par exemple 24 ou 1,15).".to_string()),
    )
}

impl EmployeeForm {
    fn of(i: &EmployeeInput) -> Self {
        let decimal = |v: f64| format!("{v}").replace('.', ",");
        EmployeeForm {
            name: i.name.clone(),
            employer_member_id: i.employer_member_id.to_string(),
            contract_type: i.contract_type.clone(),
            contract_end: i.contract_end.map(|d| d.to_string()).unwrap_or_default(),
            weekly_contract_hours: decimal(i.weekly_contract_hours),
            birth_date: i.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            hourly_cost: format_amount(i.hourly_cost_cents),
            fee_coefficient: i.fee_coefficient.map(decimal).unwrap_or_default(),
            fee_monthly: i.fee_monthly_cents.map(format_amount).unwrap_or_default(),
            agreement_member_ids: i
                .agreement_member_ids
                .iter()
                .map(|m| m.to_string())
                .collect(),
            skills: i.skills.join(", "),
            email: i.email.clone().unwrap_or_default(),
            location: i.location.clone(),
            description: i.description.clone(),
        }
    }

    /// Parses what was typed (dates, decimals in French, euros); the app validates the rest.
    fn to_input(&self) -> Result<EmployeeInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let employer = e.check(
            "employer_member_id",
            self.employer_member_id
                .parse::<MemberId>()
                .map_err(|_| "Choisissez le groupement employeur.".to_string()),
        );
        let contract_end = parse_date(&mut e, "contract_end", &self.contract_end);
        let birth_date = parse_date(&mut e, "birth_date", &self.birth_date);
        let hours = parse_decimal(&mut e, "weekly_contract_hours", &self.weekly_contract_hours);
        if hours.is_none() && e.get("weekly_contract_hours").is_none() {
            e.add(
                "weekly_contract_hours",
                "Indiquez la durée hebdomadaire du contrat.",
            );
        }
        let cost = e
            .check("hourly_cost_cents", parse_euros(&self.hourly_cost, false))
            .flatten();
        if cost.is_none() && e.get("hourly_cost_cents").is_none() {
            e.add("hourly_cost_cents", "Indiquez le coût horaire chargé.");
        }
        let fee_coefficient = parse_decimal(&mut e, "fee_coefficient", &self.fee_coefficient);
        let fee_monthly = e
            .check("fee_monthly_cents", parse_euros(&self.fee_monthly, false))
            .flatten();
        let mut agreements = Vec::new();
        for raw in &self.agreement_member_ids {
            if let Some(m) = e.check(
                "agreement_member_ids",
                raw.parse::<MemberId>()
                    .map_err(|_| "Structure inconnue.".to_string()),
            ) {
                agreements.push(m);
            }
        }
        match (employer, hours, cost) {
            (Some(employer), Some(hours), Some(cost)) if e.is_empty() => Ok(EmployeeInput {
                name: self.name.clone(),
                employer_member_id: employer,
                contract_type: self.contract_type.clone(),
                contract_end,
                weekly_contract_hours: hours,
                birth_date,
                hourly_cost_cents: cost,
                fee_coefficient,
                fee_monthly_cents: fee_monthly,
                agreement_member_ids: agreements,
                skills: self
                    .skills
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                email: Some(self.email.trim().to_string()).filter(|m| !m.is_empty()),
                location: self.location.clone(),
                description: self.description.clone(),
            }),
            _ => Err(e),
        }
    }
}

async fn form_view(
    s: &AppState,
    p: &PageActor,
    action: &str,
    title: &str,
    form: &EmployeeForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            employees::employers(&s.app, actor).await?,
            members::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (employers, all_members) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let employer_options: Vec<(String, String)> = employers
        .iter()
        .map(|m| (m.id.to_string(), m.name.clone()))
        .collect();
    let contracts: Vec<(String, String)> = ContractType::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.label().to_string()))
        .collect();
    let body = html! {
        h1 { (title) }
        (error_summary(errors))
        @if employers.is_empty() {
            p.errors role="alert" { "Aucun groupement d'employeurs (structure de forme GE / GEIQ) que vous gériez : créez-le d'abord parmi les structures." }
        }
        form method="post" action=(action) novalidate {
            (csrf_field(&ctx))
            fieldset {
                legend { "Le salarié" }
                (field("Nom", "name", &form.name, "text", errors, None))
                (select("Groupement employeur", "employer_member_id", &employer_options, &form.employer_member_id, errors))
                (select("Contrat", "contract_type", &contracts, &form.contract_type, errors))
                (field("Fin du contrat (CDD, alternance)", "contract_end", &form.contract_end, "date", errors, None))
                (field("Durée hebdomadaire du contrat (heures)", "weekly_contract_hours", &form.weekly_contract_hours, "text", errors, Some("35 à temps plein ; moins à temps partiel.")))
                (field("Date de naissance", "birth_date", &form.birth_date, "date", errors, Some("Seulement pour appliquer les règles des jeunes travailleurs ; jamais montrée aux structures.")))
                (field("Compétences", "skills", &form.skills, "text", errors, Some("Séparées par des virgules : cariste, comptabilité…")))
                (field("Adresse e-mail du salarié", "email", &form.email, "email", errors, Some("Facultatif : le salarié y reçoit ses mises à disposition (créées, modifiées, annulées).")))
                (field("Lieu de rattachement", "location", &form.location, "text", errors, None))
                (textarea("Notes", "description", &form.description, errors))
            }
            fieldset {
                legend { "Coûts (visibles du groupement et de la trésorerie)" }
                (field_for("Coût horaire chargé (€)", "hourly_cost", "hourly_cost_cents", &form.hourly_cost, "text", errors, None))
                (field("Frais de gestion : coefficient", "fee_coefficient", &form.fee_coefficient, "text", errors, Some("Par exemple 1,15 ; ou bien un forfait mensuel ci-dessous.")))
                (field_for("Frais de gestion : forfait mensuel (€)", "fee_monthly", "fee_monthly_cents", &form.fee_monthly, "text", errors, None))
            }
            fieldset #f-agreement_member_ids {
                legend { "Conventions de mise à disposition (aucune cochée : toute structure)" }
                @for m in &all_members {
                    label.inline { input type="checkbox" name="agreement_member_ids" value=(m.id) checked[form.agreement_member_ids.contains(&m.id.to_string())]; " " (m.name) }
                }
                @if let Some(e) = errors.get("agreement_member_ids") { p.field-error { (e) } }
            }
            button type="submit" { "Enregistrer" }
            " " a href="/staff" { "Annuler" }
        }
    };
    page_with_status(status, &ctx, title, Nav::Staff, body)
}

pub async fn new_form(State(s): State<AppState>, p: PageActor) -> Response {
    if !authz::manages_some_employer(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let form = EmployeeForm {
        contract_type: ContractType::Cdi.as_str().into(),
        weekly_contract_hours: "35".into(),
        ..Default::default()
    };
    form_view(
        &s,
        &p,
        "/staff",
        "Nouveau salarié partagé",
        &form,
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<EmployeeForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    submit(
        &ctx,
        form.to_input(),
        async |input| employees::create(&s.app, p.actor(), input).await,
        |e| format!("/staff/{}?notice=created", e.id),
        async |errors| {
            form_view(
                &s,
                &p,
                "/staff",
                "Nouveau salarié partagé",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub async fn edit_form(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, employees::edit_input(&s.app, p.actor(), id).await) {
        Ok(i) => {
            form_view(
                &s,
                &p,
                &format!("/staff/{id}"),
                &format!("Modifier {}", i.name),
                &EmployeeForm::of(&i),
                &FieldErrors::new(),
                StatusCode::OK,
            )
            .await
        }
        Err(r) => r,
    }
}

pub async fn update(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(form): CsrfForm<EmployeeForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let action = format!("/staff/{id}");
    submit(
        &ctx,
        form.to_input(),
        async |input| employees::replace(&s.app, p.actor(), id, input).await,
        |_| format!("/staff/{id}?notice=saved"),
        async |errors| {
            form_view(
                &s,
                &p,
                &action,
                "Modifier le salarié",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub async fn archive(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/staff/{id}"), true, async |a| {
        employees::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}

pub async fn restore(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/staff/{id}"), false, async |a| {
        employees::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}
