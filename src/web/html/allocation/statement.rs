//! A member's printable statement for a month: its lines by source, each linked to what it
//! stands for, the pole's details and the legal mention. Printing hides the navigation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::{path_month, prev_next, respond};
use crate::app::allocation::{self, MonthStatus};
use crate::app::authz;
use crate::app::pricing;
use crate::domain::ids::MemberId;
use crate::domain::money::{format_euros, format_permille};
use crate::domain::month::{label_fr, Month};
use crate::domain::statement::{Line, Source};
use crate::error::AppError;
use crate::web::extract::PageActor;
use crate::web::html::{error_page, fmt_local, or_page, Ctx};
use crate::web::AppState;

fn quantity_text(l: &Line) -> String {
    format!("{} {}", format_permille(l.quantity_milli), l.unit)
}

fn unit_price_text(l: &Line) -> String {
    match l.unit.as_str() {
        "h" | "km" => format!("{} / {}", format_euros(l.unit_price_cents), l.unit),
        _ => format_euros(l.unit_price_cents),
    }
}

/// A line's label with what it stands for: its bookings, the employee's month (for the
/// treasurer; the member's own hours of the month for its people), the cost.
fn line_label(l: &Line, month: Month, manage: bool, member: MemberId) -> Markup {
    html! {
        @match l.source {
            Source::Tariff => {
                @if let [only] = l.refs.bookings.as_slice() {
                    a href={ "/bookings/" (only) } { (l.label) }
                } @else {
                    (l.label)
                    @for b in &l.refs.bookings { " " a.ref href={ "/bookings/" (b) } { "réservation n° " (b) } }
                }
            },
            Source::Staff => {
                @match (manage, l.refs.employee_id) {
                    (true, Some(e)) => a href={ "/staff/" (e) "/month?month=" (month) } { (l.label) },
                    (false, Some(_)) => a href={ "/staff/hours?member_id=" (member) "&month=" (month) } { (l.label) },
                    (_, None) => (l.label),
                }
            },
            Source::CostShare => {
                @match (manage, l.refs.cost_id) {
                    (true, Some(c)) => a href={ "/allocations/costs/" (c) } { (l.label) },
                    _ => (l.label),
                }
            },
            Source::Adjustment => (l.label),
        }
    }
}

/// `GET /allocations/{month}/members/{member_id}`: the printable statement.
pub async fn statement_page(
    State(s): State<AppState>,
    p: PageActor,
    Path((raw_month, raw_member)): Path<(String, String)>,
) -> Response {
    let month = match path_month(&s, &p, &raw_month) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(member) = raw_member.parse::<MemberId>() else {
        return error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor();
    let data = async {
        Ok((
            allocation::statement(&s.app, actor, month, member).await?,
            pricing::statement_settings(&s.app, actor).await?,
        ))
    };
    let ((a, st), settings) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let manage = authz::can_manage_allocation(actor);
    let pole = &s.app.config().pole_name;
    let others: Vec<_> = actor
        .memberships
        .iter()
        .filter(|m| m.member_id != member)
        .collect();
    let title = format!("Relevé {} — {}", st.member_name, label_fr(month));
    let body = html! {
        nav.actions.no-print aria-label="Mois" {
            (prev_next(month, |m| format!("/allocations/{m}/members/{member}")))
            @if manage { a href={ "/allocations?month=" (month) } { "Répartition du mois" } }
        }
        p.print-hint.no-print { "Pour imprimer ce relevé ou l'enregistrer en PDF, utilisez la commande « Imprimer » de votre navigateur (Ctrl+P, ou ⌘P) : le menu et les boutons ne sont pas imprimés." }
        article.statement {
            header.statement-head {
                div.issuer {
                    strong { (pole) }
                    @if !settings.pole_details.is_empty() { p.pole-details { (settings.pole_details) } }
                }
                div.recipient {
                    span.meta { "Structure membre" }
                    strong { (st.member_name) }
                }
            }
            h1 { "Relevé de répartition — " (label_fr(month)) }
            @match (&a.status, &a.closing) {
                (MonthStatus::Closed, Some(c)) => p.meta { "Relevé définitif : mois clôturé le " (fmt_local(c.closed_at, ctx.tz())) ". Empreinte " code.hash { (c.hash) } },
                (MonthStatus::Closed, None) => p.meta { "Relevé définitif : mois clôturé." },
                _ => p.meta.provisional { "Relevé provisoire : le mois n'est pas clôturé, les montants peuvent encore changer." },
            }
            @if st.lines.is_empty() {
                p { "Aucune somme pour ce mois." }
            }
            @for source in Source::ALL {
                @let lines: Vec<&Line> = st.lines.iter().filter(|l| l.source == source).collect();
                @if !lines.is_empty() {
                    section.statement-group {
                        h2 { (source.label()) }
                        div.scroll role="region" tabindex="0" aria-label=(source.label()) { table.statement-lines {
                            thead { tr {
                                th scope="col" { "Libellé" }
                                th scope="col" { "Base de calcul" }
                                th.num scope="col" { "Quantité" }
                                th.num scope="col" { "Prix unitaire" }
                                th.num scope="col" { "Montant" }
                            } }
                            tbody {
                                @for l in &lines {
                                    tr {
                                        td { (line_label(l, month, manage, member)) }
                                        td.basis { (l.basis) }
                                        td.num { (quantity_text(l)) }
                                        td.num { (unit_price_text(l)) }
                                        td.num { (format_euros(l.amount_cents)) }
                                    }
                                }
                                tr.total {
                                    th scope="row" colspan="4" { "Sous-total " (source.label().to_lowercase()) }
                                    td.num { strong { (format_euros(st.total_of(source))) } }
                                }
                            }
                        } }
                    }
                }
            }
            p.statement-total { "Total du mois : " strong { (format_euros(st.total_cents)) } }
            @if settings.cgi_261b {
                p.legal { "Répartition établie selon l'article 261 B du CGI." }
            }
        }
        @if !others.is_empty() {
            p.no-print { "Vos autres structures : "
                @for (i, m) in others.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/allocations/" (month) "/members/" (m.member_id) } { (m.member_name) }
                }
            }
        }
    };
    respond(StatusCode::OK, &ctx, &title, None, body)
}
