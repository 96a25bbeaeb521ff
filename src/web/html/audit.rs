//! « Journal de sécurité » : the security events, filtered by kind, user and local dates,
//! fifty a page, for administrators.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::paging;
use super::{field, fmt_local, or_page, select, Ctx, Nav};
use crate::app::audit::{self, AuditQuery};
use crate::app::users;
use crate::domain::audit::AuditKind;
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::web::extract::PageActor;
use crate::web::AppState;

pub async fn audit_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<AuditQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    if !p.actor().is_admin() {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let mut errors = FieldErrors::new();
    let listed = match audit::list(&s.app, p.actor(), &q).await {
        Ok(l) => Some(l),
        Err(AppError::Validation(e)) => {
            errors = e;
            None
        }
        Err(e) => return super::error_page(&s, Some(&p.0), e),
    };
    let people = match or_page(&ctx, users::list(&s.app, p.actor()).await) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let mut keep: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in [
        ("kind", text(&q.kind)),
        ("user_id", text(&q.user_id)),
        ("from_date", text(&q.from_date)),
        ("to_date", text(&q.to_date)),
    ] {
        if !v.is_empty() {
            keep.push((k, v));
        }
    }
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let mut kinds = vec![(String::new(), "Tous".to_string())];
    kinds.extend(
        AuditKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string())),
    );
    let mut user_options = vec![(String::new(), "Tous".to_string())];
    user_options.extend(
        people
            .iter()
            .map(|u| (u.id.0.to_string(), format!("{} <{}>", u.name, u.email))),
    );
    let tz = ctx.tz();
    let who = |id: Option<i64>, name: &Option<String>| match (id, name) {
        (Some(_), Some(n)) => n.clone(),
        (Some(id), None) => format!("utilisateur n° {id}"),
        _ => String::new(),
    };
    let body = html! {
        h1 { "Journal de sécurité" }
        p { "Connexions (réussies, échouées, freinées), mots de passe oubliés, jetons d'API, rôles et comptes modifiés. Conservé un an." }
        (super::error_summary(&errors))
        form.filters method="get" action="/admin/audit" {
            (select("Événement", "kind", &kinds, &text(&q.kind), &errors))
            (select("Utilisateur", "user_id", &user_options, &text(&q.user_id), &errors))
            (field("Du (inclus)", "from_date", &text(&q.from_date), "date", &errors, None))
            (field("Au (inclus)", "to_date", &text(&q.to_date), "date", &errors, None))
            button type="submit" { "Filtrer" }
        }
        @if let Some(l) = &listed {
            (paging::pager("/admin/audit", &keep, page, l.items.len(), l.total))
            @if l.items.is_empty() {
                p { "Aucun événement." }
            } @else {
                table {
                    thead { tr { th { "Date" } th { "Événement" } th { "Par" } th { "Concerne" } th { "Adresse IP" } th { "Détail" } } }
                    tbody { @for e in &l.items {
                        tr.{ "audit-" (e.kind.as_str()) } {
                            td { (fmt_local(e.occurred_at, tz)) }
                            td { (e.label) }
                            td { (who(e.actor_id, &e.actor_name)) }
                            td {
                                (who(e.subject_id, &e.subject_name))
                                @if let Some(m) = &e.subject_email { " " span.muted { "(" (m) ")" } }
                            }
                            td { code { (e.ip) } }
                            td { (e.detail) }
                        }
                    } }
                }
            }
        } @else {
            p { "Corrigez les filtres pour voir le journal." }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        super::layout(&ctx, "Journal de sécurité", Nav::Users, None, body),
    )
        .into_response()
}
