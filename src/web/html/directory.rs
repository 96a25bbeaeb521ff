//! Member pages: directory, detail, creation and edit forms, archive.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::paging;
use super::{
    action_button, checked, csrf_field, error_summary, field, field_for, or_page, page,
    page_with_status, select, submit, with_checks, Ctx, Nav, NoticeQuery,
};
use crate::app::authz;
use crate::app::feeds::FeedScope;
use crate::app::members::{self, MemberQuery};
use crate::domain::ids::MemberId;
use crate::domain::member::{category_label, LegalForm, MemberInput, DEFAULT_CATEGORIES};
use crate::domain::money::{format_amount, format_euros, parse_euros};
use crate::domain::validation::{parse_int, FieldErrors};
use crate::error::AppError;
use crate::export;
use crate::web::download;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    archived: Option<String>,
    /// active, inactive or archived.
    status: Option<String>,
    legal_form: Option<String>,
    page: Option<String>,
    notice: Option<String>,
}

/// The directory, fifty members a page in name order, filtered by name, state and legal form.
pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let number = paging::page_number(q.page.as_deref(), &mut errors);
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let keep: Vec<(&'static str, String)> = [
        ("q", text(&q.q)),
        ("status", text(&q.status)),
        ("legal_form", text(&q.legal_form)),
        ("archived", text(&q.archived)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let query = MemberQuery {
        include_archived: checked(&q.archived),
        q: q.q.clone(),
        status: q.status.clone(),
        legal_form: q.legal_form.clone(),
    };
    let listed = if errors.is_empty() {
        match members::page(&s.app, p.actor(), query, number, paging::PAGE_SIZE).await {
            Ok(l) => Some(l),
            Err(AppError::Validation(e)) => {
                errors = e;
                None
            }
            Err(e) => return super::error_page(&s, Some(&p.0), e),
        }
    } else {
        None
    };
    let statuses: Vec<(String, String)> = [
        ("", "Toutes (hors archivées)"),
        ("active", "Actives"),
        ("inactive", "Inactives"),
        ("archived", "Archivées"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let mut forms = vec![(String::new(), "Toutes".to_string())];
    forms.extend(
        LegalForm::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), f.label().to_string())),
    );
    let body = html! {
        h1 { "Structures membres" }
        @if authz::can_manage_members(p.actor()) { p { a.button href="/members/new" { "Ajouter une structure" } } }
        (error_summary(&errors))
        form.filters method="get" action="/members" {
            (field("Rechercher", "q", &text(&q.q), "search", &errors, None))
            (select("État", "status", &statuses, &text(&q.status), &errors))
            (select("Forme juridique", "legal_form", &forms, &text(&q.legal_form), &errors))
            (super::checkbox("Inclure les structures archivées", "archived", checked(&q.archived)))
            button type="submit" { "Filtrer" }
        }
        @if let Some(l) = &listed {
            (paging::pager("/members", &keep, number, l.items.len(), l.total))
            @if l.total > 0 {
                p.exports { "Exporter ces " (l.total) " structure(s) : "
                    a href=(paging::link("/members.csv", &keep, &[("format", "semicolon".into())])) download { "CSV pour tableur (point-virgule)" } " · "
                    a href=(paging::link("/members.csv", &keep, &[("format", "comma".into())])) download { "CSV (virgule, UTF-8)" } }
            }
            table {
                thead { tr { th { "Nom" } th { "Forme juridique" } th { "Catégorie tarifaire" } th { "État" } } }
                tbody {
                    @for m in &l.items {
                        tr {
                            td { a href={ "/members/" (m.id) } { (m.name) } }
                            td { (m.legal_form_label()) }
                            td { @if let Some(p) = &m.private { (category_label(&p.pricing_category)) } @else { "—" } }
                            td { (m.status_label()) }
                        }
                    }
                }
            }
            @if l.items.is_empty() { p { "Aucune structure." } }
        }
    };
    let status = if listed.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        super::layout(
            &ctx,
            "Structures membres",
            Nav::Members,
            super::notice_text(q.notice.as_deref()),
            body,
        ),
    )
        .into_response()
}

/// The directory with the page's filters, every page, as a CSV file (`format=semicolon`, the
/// default, or `comma`).
pub async fn list_csv(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<ListQuery>,
    Query(f): Query<FormatQuery>,
) -> Response {
    let dialect = match crate::web::download::dialect(f.format.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            return super::error_page(
                &s,
                Some(&p.0),
                AppError::BadQuery(FieldErrors::single("format", e)),
            )
        }
    };
    let query = MemberQuery {
        include_archived: checked(&q.archived),
        q: q.q.clone(),
        status: q.status.clone(),
        legal_form: q.legal_form.clone(),
    };
    match members::list(&s.app, p.actor(), query).await {
        Ok(list) => download::csv(&export::directory::members(&list), dialect, "structures"),
        Err(e) => super::error_page(&s, Some(&p.0), e.in_query()),
    }
}

#[derive(Deserialize, Default)]
pub struct FormatQuery {
    pub(super) format: Option<String>,
}

pub async fn show(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<MemberId>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let m = match or_page(&ctx, members::get(&s.app, p.actor(), id).await) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let subscribe = if authz::can_see_booking_details(p.actor(), m.id) {
        super::notifications::subscribe_for(&ctx, FeedScope::Member, m.id.0).await
    } else {
        html! {}
    };
    let body = html! {
        h1 { (m.name) }
        p.meta { (m.legal_form_label()) " · " (m.status_label()) }
        @if let Some(private) = &m.private {
            dl {
                dt { "Catégorie tarifaire" } dd { (category_label(&private.pricing_category)) }
                dt { "SIRET" } dd { (private.siret.as_deref().unwrap_or("—")) }
                dt { "Contact" } dd { (private.email.as_deref().unwrap_or("—")) }
                dt { "Effectif (ETP)" } dd { (format!("{:.2}", private.headcount).replace('.', ",")) }
                dt { "Chiffre d'affaires annuel" } dd { (format_euros(private.turnover_cents)) }
                dt { "Surface occupée" } dd { (private.surface_m2) " m²" }
            }
        } @else {
            p { "Les informations détaillées de cette structure sont réservées à ses membres et à l'équipe du pôle." }
        }
        (subscribe)
        @if m.can_manage {
            div.actions {
                a.button href={ "/members/" (m.id) "/edit" } { "Modifier" }
                @if !m.archived {
                    (action_button(&ctx, &format!("/members/{}/archive", m.id), "Archiver", "danger"))
                } @else {
                    (action_button(&ctx, &format!("/members/{}/restore", m.id), "Restaurer", ""))
                }
            }
        }
    };
    page(
        &ctx,
        &m.name,
        Nav::Members,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

/// What the member form posts: text as typed, so it can be shown back unchanged.
#[derive(Deserialize, Default, Clone)]
pub struct MemberForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    legal_form: String,
    #[serde(default)]
    pricing_category: String,
    #[serde(default)]
    siret: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    turnover: String,
    #[serde(default)]
    surface_m2: String,
    active: Option<String>,
}

impl MemberForm {
    fn of(m: &MemberInput) -> Self {
        Self {
            name: m.name.clone(),
            legal_form: m.legal_form.clone(),
            pricing_category: m.pricing_category.clone(),
            siret: m.siret.clone().unwrap_or_default(),
            email: m.email.clone().unwrap_or_default(),
            headcount: format!("{}", m.headcount).replace('.', ","),
            turnover: format_amount(m.turnover_cents),
            surface_m2: m.surface_m2.to_string(),
            active: m.active.then(|| "on".into()),
        }
    }

    /// Parses the numbers typed in French; the domain validates the rest.
    fn to_input(&self) -> Result<MemberInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let headcount = self.headcount.trim().replace(',', ".");
        let headcount = if headcount.is_empty() {
            0.0
        } else {
            e.check(
                "headcount",
                headcount
                    .parse::<f64>()
                    .map_err(|_| "Nombre attendu (exemple : 2,5).".to_string()),
            )
            .unwrap_or(0.0)
        };
        let turnover = e
            .check("turnover_cents", parse_euros(&self.turnover, false))
            .flatten()
            .unwrap_or(0);
        let surface = e
            .check("surface_m2", parse_int(&self.surface_m2))
            .flatten()
            .unwrap_or(0);
        let input = MemberInput {
            name: self.name.clone(),
            legal_form: self.legal_form.clone(),
            pricing_category: if self.pricing_category.trim().is_empty() {
                "standard".into()
            } else {
                self.pricing_category.clone()
            },
            siret: Some(self.siret.clone()),
            email: Some(self.email.clone()),
            headcount,
            turnover_cents: turnover,
            surface_m2: i32::try_from(surface).unwrap_or(-1),
            active: checked(&self.active),
        };
        with_checks(e, input, MemberInput::validate)
    }
}

fn form_view(
    ctx: &Ctx,
    action: &str,
    title: &str,
    form: &MemberForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let forms: Vec<(String, String)> = LegalForm::ALL
        .iter()
        .map(|f| (f.as_str().to_string(), f.label().to_string()))
        .collect();
    let body = html! {
        h1 { (title) }
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (csrf_field(ctx))
            (field("Nom", "name", &form.name, "text", errors, None))
            (select("Forme juridique", "legal_form", &forms, &form.legal_form, errors))
            (field("Catégorie tarifaire", "pricing_category", &form.pricing_category, "text", errors,
                Some("standard, solidaire, insertion… (coefficient de tarification sociale)")))
            datalist #categories { @for (c, _) in DEFAULT_CATEGORIES { option value=(c) {} } }
            (field("SIRET", "siret", &form.siret, "text", errors, Some("14 chiffres, facultatif.")))
            (field("E-mail de contact", "email", &form.email, "email", errors, None))
            (field("Effectif (ETP)", "headcount", &form.headcount, "text", errors, Some("En équivalents temps plein, par exemple 2,5.")))
            (field_for("Chiffre d'affaires annuel (€)", "turnover", "turnover_cents", &form.turnover, "text", errors, None))
            (field("Surface occupée (m²)", "surface_m2", &form.surface_m2, "text", errors, None))
            (super::checkbox("Structure active (peut réserver)", "active", checked(&form.active)))
            button type="submit" { "Enregistrer" }
            " " a href="/members" { "Annuler" }
        }
    };
    page_with_status(status, ctx, title, Nav::Members, body)
}

pub async fn new_form(State(s): State<AppState>, p: PageActor) -> Response {
    let ctx = Ctx::new(&s, &p);
    if !authz::can_manage_members(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let form = MemberForm {
        legal_form: "association".into(),
        pricing_category: "standard".into(),
        active: Some("on".into()),
        ..Default::default()
    };
    form_view(
        &ctx,
        "/members",
        "Nouvelle structure",
        &form,
        &FieldErrors::new(),
        StatusCode::OK,
    )
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    submit(
        &ctx,
        form.to_input(),
        async |input| members::create(&s.app, p.actor(), input).await,
        |m| format!("/members/{}?notice=created", m.id),
        async |errors| {
            form_view(
                &ctx,
                "/members",
                "Nouvelle structure",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn edit_form(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<MemberId>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, members::edit_input(&s.app, p.actor(), id).await) {
        Ok(m) => form_view(
            &ctx,
            &format!("/members/{id}"),
            &format!("Modifier {}", m.name),
            &MemberForm::of(&m),
            &FieldErrors::new(),
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

pub async fn update(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<MemberId>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let action = format!("/members/{id}");
    submit(
        &ctx,
        form.to_input(),
        async |input| members::replace(&s.app, p.actor(), id, input).await,
        |_| format!("/members/{id}?notice=saved"),
        async |errors| {
            form_view(
                &ctx,
                &action,
                "Modifier la structure",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn archive(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<MemberId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/members/{id}"), true, async |a| {
        members::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}

pub async fn restore(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<MemberId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/members/{id}"), false, async |a| {
        members::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}
