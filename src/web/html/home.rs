//! The home page (`/`): one section per role of the signed-in person, rendered from
//! `app::dashboard`, which has already decided what they may see.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};

use super::bookings::status_badge;
use super::{notice_text, or_page, page, see_other, Ctx, Nav, NoticeQuery};
use crate::app::allocation::MonthStatus;
use crate::app::dashboard::{self, Dashboard, MemberSection};
use crate::app::setup;
use crate::app::{authz::Actor, bookings::BookingView};
use crate::domain::money::format_euros;
use crate::domain::month::label_fr;
use crate::domain::time::{format_date_fr, format_minutes, format_when, Interval};
use crate::web::extract::PageActor;
use crate::web::AppState;

pub async fn dashboard(
    State(s): State<AppState>,
    page_actor: Result<PageActor, Response>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let page_actor = match page_actor {
        Ok(p) => p,
        Err(redirect) => {
            return match setup::needs_setup(&s.app).await {
                Ok(true) => see_other("/setup"),
                _ => redirect,
            };
        }
    };
    let ctx = Ctx::new(&s, &page_actor);
    let actor = page_actor.actor();
    let d = match or_page(&ctx, dashboard::dashboard(&s.app, actor).await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let body = html! {
        h1 { "Bonjour " (actor.name) }
        (who(actor))
        @for m in &d.members { (member_section(&ctx, &d, m)) }
        @if !d.members.is_empty() { (book_buttons(&d)) }
        @if let Some(r) = &d.resources { (resources_section(&ctx, &d, r)) }
        @if let Some(t) = &d.treasury { (treasury_section(t)) }
        @if let Some(st) = &d.staff { (staff_section(st)) }
        @if let Some(h) = &d.health { (health_section(h)) }
        @if d.is_empty() {
            p { "Aucun rôle ne vous est encore attribué : demandez à l'administrateur du pôle ou de votre structure de vous en donner un. Vous pouvez déjà consulter "
                a href="/resources" { "les ressources" } " et " a href="/calendar" { "le planning" } "." }
        }
    };
    page(
        &ctx,
        "Tableau de bord",
        Nav::Home,
        notice_text(q.notice.as_deref()),
        body,
    )
}

fn who(actor: &Actor) -> Markup {
    html! {
        @if !actor.memberships.is_empty() {
            p { "Vous agissez pour : "
                @for (i, m) in actor.memberships.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/members/" (m.member_id) } { (m.member_name) } " (" (m.role.label()) ")"
                }
            }
        }
        @if !actor.roles.is_empty() {
            p { "Vos rôles au pôle : " (actor.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
        }
    }
}

fn slot(ctx: &Ctx, d: &Dashboard, b: &BookingView) -> String {
    match Interval::new(b.start, b.end) {
        Some(iv) => format_when(iv, ctx.tz(), dashboard::this_year(d)),
        None => String::new(),
    }
}

/// Bookings as a list: when, what (a link to the booking), the state in words.
fn booking_list(ctx: &Ctx, d: &Dashboard, list: &[BookingView], with_member: bool) -> Markup {
    html! {
        ul.bookings {
            @for b in list {
                li {
                    a href={ "/bookings/" (b.id) } { (slot(ctx, d, b)) " — " (b.resource_name) }
                    @if with_member { " · " (b.member_name) }
                    @if b.quantity > 1 { " · " (b.quantity) " unités" }
                    " " (status_badge(b.status))
                }
            }
        }
    }
}

fn member_section(ctx: &Ctx, d: &Dashboard, m: &MemberSection) -> Markup {
    let id = format!("structure-{}", m.member_id);
    let month_href = format!("/allocations/{}/members/{}", m.month, m.member_id);
    html! {
        section.dashboard aria-labelledby=(id) {
            h2 #(id) { (m.member_name) }
            h3 { "Prochaines réservations" }
            @if m.upcoming.is_empty() {
                p { "Aucune réservation à venir." }
            } @else {
                (booking_list(ctx, d, &m.upcoming, false))
                @if m.upcoming_total > m.upcoming.len() as i64 {
                    p { (m.upcoming_total - m.upcoming.len() as i64) " autres à venir : "
                        a href="/bookings" { "toutes les réservations" } }
                }
            }
            h3 { "Ce mois-ci (" (label_fr(m.month)) ")" }
            dl.figures {
                dt { "Réservations du mois" }
                dd { (m.month_bookings) " (" (format_minutes(m.month_booked_minutes)) " réservées)" }
                @match m.month_status {
                    MonthStatus::Open => {
                        dt { "Coût estimé à ce jour" }
                        dd { strong { (format_euros(m.month_total_cents)) } }
                    }
                    MonthStatus::Closed => {
                        dt { "Montant du relevé (mois clos)" }
                        dd { strong { (format_euros(m.month_total_cents)) } }
                    }
                }
            }
            @if m.month_status == MonthStatus::Open {
                p.hint { "Estimation : le relevé définitif est établi à la clôture du mois par la trésorerie ; il peut encore changer (réservations, charges, ajustements)." }
            }
            p { a href=(month_href) { "Voir le relevé de " (label_fr(m.month)) } }
        }
    }
}

fn book_buttons(d: &Dashboard) -> Markup {
    html! {
        @if !d.bookable_kinds.is_empty() {
            nav.book aria-labelledby="reserver" {
                h2 #reserver { "Réserver" }
                ul.actions {
                    @for k in &d.bookable_kinds {
                        li { a.button href={ "/resources?kind=" (k.as_str()) } { "Réserver : " (k.plural_label().to_lowercase()) } }
                    }
                    li { a.button href="/bookings/new" { "Nouvelle réservation" } }
                }
            }
        }
    }
}

fn resources_section(ctx: &Ctx, d: &Dashboard, r: &dashboard::ResourcesSection) -> Markup {
    let tz = ctx.tz();
    html! {
        section.dashboard aria-labelledby="gestion" {
            h2 #gestion { "Ressources du pôle" }
            h3 { "Demandes à valider" }
            @if r.requests_total == 0 {
                p { "Aucune demande en attente." }
            } @else {
                p { strong { (r.requests_total) } @if r.requests_total > 1 { " demandes attendent" } @else { " demande attend" } " votre décision." }
                (booking_list(ctx, d, &r.requests, true))
                p { a.button href="/approvals" { "Ouvrir la file de validation" } }
            }
            h3 { "Aujourd'hui (" (format_date_fr(d.today)) ")" }
            @if r.today.is_empty() {
                p { "Aucune réservation aujourd'hui." }
            } @else {
                (booking_list(ctx, d, &r.today, true))
                @if r.today_total > r.today.len() as i64 {
                    p { (r.today_total - r.today.len() as i64) " autres : " a href="/calendar" { "le planning du jour" } }
                }
            }
            h3 { "Fermetures en cours et à venir" }
            @if r.closures.is_empty() {
                p { "Aucune fermeture prévue." }
            } @else {
                ul { @for c in &r.closures {
                    li {
                        @if c.start <= r.now { strong { "En cours : " } }
                        @match Interval::new(c.start, c.end) {
                            Some(iv) => (format_when(iv, tz, dashboard::this_year(d))),
                            None => "",
                        }
                        " — " (c.reason)
                        @match &c.resource_name { Some(n) => { " (" (n) ")" }, None => " (tout le pôle)" }
                    }
                } }
                @if r.closures_total > r.closures.len() {
                    p { a href="/closures" { "Toutes les fermetures (" (r.closures_total) ")" } }
                }
            }
        }
    }
}

fn treasury_section(t: &dashboard::TreasurySection) -> Markup {
    let month_href = format!("/allocations?month={}", t.month);
    html! {
        section.dashboard aria-labelledby="tresorerie" {
            h2 #tresorerie { "Répartition de " (label_fr(t.month)) }
            @if t.status == MonthStatus::Open {
                p { "Mois ouvert : montants provisoires, calculés aujourd'hui à partir des réservations, charges et ajustements enregistrés." }
            } @else {
                p { "Mois clos : montants des relevés émis." }
            }
            @if t.problems > 0 {
                p.warning { strong { "Attention : " } (t.problems) @if t.problems > 1 { " charges ne peuvent" } @else { " charge ne peut" } " pas encore être réparties ; le mois ne pourra être clos qu'après correction." }
            }
            @if t.members.is_empty() {
                p { "Aucun montant pour l'instant." }
            } @else {
                table {
                    caption { "Montant provisoire par structure, " (label_fr(t.month)) }
                    thead { tr { th scope="col" { "Structure" } th.num scope="col" { "Montant" } } }
                    tbody { @for m in &t.members {
                        tr {
                            th scope="row" { a href={ "/allocations/" (t.month) "/members/" (m.member_id) } { (m.member_name) } }
                            td.num { (format_euros(m.total_cents)) }
                        }
                    } }
                    tfoot { tr { th scope="row" { "Total" } td.num { strong { (format_euros(t.total_cents)) } } } }
                }
            }
            p { a href=(month_href) { "Relevés du mois" } }
        }
    }
}

fn staff_section(st: &dashboard::StaffSection) -> Markup {
    html! {
        section.dashboard aria-labelledby="salaries" {
            h2 #salaries { "Salariés partagés, semaine du " (format_date_fr(st.monday)) }
            p {
                (st.violations) @if st.violations > 1 { " limites légales dépassées" } @else { " limite légale dépassée" }
                ", " (st.warnings) @if st.warnings > 1 { " avertissements" } @else { " avertissement" }
                " (heures supplémentaires ou complémentaires, travail le dimanche…)."
            }
            @if st.employees.is_empty() {
                p { "Aucun salarié partagé." }
            } @else {
                table {
                    caption { "Heures de la semaine par salarié, comparées au contrat" }
                    thead { tr {
                        th scope="col" { "Salarié" }
                        th.num scope="col" { "Heures de la semaine" }
                        th.num scope="col" { "Contrat" }
                        th scope="col" { "À vérifier" }
                    } }
                    tbody { @for e in &st.employees {
                        tr {
                            th scope="row" { a href={ "/staff/" (e.id) } { (e.name) } }
                            td.num { (format_minutes(e.worked_minutes)) }
                            td.num { (format_minutes(e.contract_minutes)) }
                            td {
                                @if e.violations == 0 && e.warnings == 0 { "rien" }
                                @if e.violations > 0 { span.badge.violation { (e.violations) @if e.violations > 1 { " limites dépassées" } @else { " limite dépassée" } } " " }
                                @if e.warnings > 0 { span.badge.warning { (e.warnings) @if e.warnings > 1 { " avertissements" } @else { " avertissement" } } }
                            }
                        }
                    } }
                }
            }
            p { a href="/staff/week" { "Ouvrir le planning de la semaine" } }
        }
    }
}

fn health_section(h: &dashboard::HealthSection) -> Markup {
    html! {
        section.dashboard aria-labelledby="instance" {
            h2 #instance { "État du service" }
            dl.figures {
                dt { "Version" }
                dd { "Mutualise " (h.version) }
                dt { "Base de données" }
                dd {
                    @if h.backend == "postgres" { "PostgreSQL" } @else { "SQLite (fichier local)" }
                    ", " (format_bytes(h.database_bytes))
                }
                dt { "Sauvegardes" }
                dd { "Mutualise n'en fait pas lui-même : elles relèvent de l'hébergement (copie du fichier SQLite ou pg_dump), à vérifier de ce côté." }
                dt { "Courriels en attente d'envoi" }
                dd { (h.outbox.pending) }
                dt { "Courriels en échec (abandonnés)" }
                dd {
                    (h.outbox.dead)
                    @if h.outbox.dead > 0 { " — " a href="/admin/outbox?status=dead" { "voir et renvoyer" } }
                }
                dt { "Envoi des courriels" }
                dd { @if h.smtp_configured { "serveur SMTP configuré" } @else { "aucun serveur SMTP configuré : les messages restent lisibles dans la boîte d'envoi" } }
            }
            p { a href="/admin/outbox" { "Boîte d'envoi" } " · " a href="/users" { "Utilisateurs" } " · " a href="/admin/audit" { "Journal de sécurité" } }
        }
    }
}

/// "12,3 Mo": sizes the way a French file manager writes them.
fn format_bytes(b: i64) -> String {
    const UNITS: [&str; 4] = ["octets", "ko", "Mo", "Go"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} octets")
    } else {
        format!("{:.1} {}", v, UNITS[i]).replace('.', ",")
    }
}
