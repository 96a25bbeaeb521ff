//! The user's notification preferences, their calendar subscriptions (with the « s'abonner »
//! box other pages embed), and the administrators' view of the mail outbox.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    action_button, csrf_field, error_summary, fmt_local, or_page, page, see_other, Ctx, Nav,
};
use crate::app::feeds::{self, FeedRequest, FeedScope, FeedView};
use crate::app::notify::{self, Preferences};
use crate::app::outbox::{self, OutboxEntry};
use crate::domain::notice::{NoticeKind, REMINDER_HOURS};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::mail::{self, MailContext};
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

/// The feed URL of a token, and its `webcal://` twin for one-click subscription.
pub fn feed_urls(s: &AppState, token: &str) -> (String, String) {
    crate::web::feeds::urls(&s.app.config().public_url, token)
}

/// « S'abonner » : a form that creates the actor's feed of this scope (or shows it).
pub fn subscribe_box(ctx: &Ctx, scope: FeedScope, id: i64, existing: Option<&FeedView>) -> Markup {
    html! {
        section.subscribe aria-labelledby={ "abo-" (scope.as_str()) "-" (id) } {
            h2 id={ "abo-" (scope.as_str()) "-" (id) } { "Agenda" }
            @if let Some(f) = existing {
                @let (url, webcal) = feed_urls(ctx.state, &f.token);
                p { "Abonnez votre agenda (téléphone, Thunderbird, Outlook…) à ce lien secret :" }
                p { a.button href=(webcal) { "S'abonner" } }
                div.field {
                    label for={ "feed-url-" (f.id) } { "Adresse à copier" }
                    input id={ "feed-url-" (f.id) } type="text" readonly value=(url);
                }
            } @else {
                p { "Suivez ces réservations dans votre agenda, mises à jour automatiquement." }
            }
            form.inline method="post" action="/account/calendars" {
                (csrf_field(ctx))
                input type="hidden" name="scope" value=(scope.as_str());
                input type="hidden" name="id" value=(id);
                button type="submit" class=(if existing.is_some() { "secondary" } else { "" }) {
                    @if existing.is_some() { "Régénérer le lien (l'ancien cessera de fonctionner)" } @else { "S'abonner dans mon agenda" }
                }
            }
        }
    }
}

/// The subscription box of a scope for the actor of a page, with the feed they already have.
pub async fn subscribe_for(ctx: &Ctx<'_>, scope: FeedScope, id: i64) -> Markup {
    let Some(actor) = ctx.actor() else {
        return html! {};
    };
    let existing = feeds::find(ctx.app(), actor, scope, id)
        .await
        .ok()
        .flatten();
    subscribe_box(ctx, scope, id, existing.as_ref())
}

fn scope_label(scope: FeedScope) -> &'static str {
    match scope {
        FeedScope::Resource => "Ressource",
        FeedScope::Member => "Structure",
        FeedScope::Employee => "Salarié partagé",
        FeedScope::User => "Mes réservations",
    }
}

pub async fn calendars_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<super::NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let list = match or_page(&ctx, feeds::list(&s.app, p.actor()).await) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let notice = match q.notice.as_deref() {
        Some("feed") => Some("Lien d'abonnement prêt : copiez-le dans votre agenda."),
        Some("deleted") => Some("Abonnement supprimé : son lien ne fonctionne plus."),
        _ => None,
    };
    let own = list.iter().find(|f| f.scope == FeedScope::User);
    let body = html! {
        h1 { "Mes agendas" }
        p { "Chaque lien est secret : qui le connaît voit les réservations qu'il montre. Régénérez-le si vous l'avez partagé par erreur." }
        @if own.is_none() {
            (subscribe_box(&ctx, FeedScope::User, p.actor().user_id.0, None))
        }
        @if list.is_empty() {
            p { "Aucun abonnement pour l'instant. Les pages des ressources, des structures et des salariés proposent aussi « S'abonner »." }
        } @else {
            table {
                caption { "Mes liens d'abonnement" }
                thead { tr { th scope="col" { "Quoi" } th scope="col" { "Lien" } th scope="col" { "Créé le" } th scope="col" { "Actions" } } }
                tbody {
                    @for f in &list {
                        @let (url, webcal) = feed_urls(&s, &f.token);
                        tr id={ "feed-" (f.id) } {
                            td { (scope_label(f.scope)) " : " (f.name) }
                            td {
                                label.visually-hidden for={ "u-" (f.id) } { "Adresse de l'agenda " (f.name) }
                                input id={ "u-" (f.id) } type="text" readonly value=(url);
                                " " a href=(webcal) { "S'abonner" }
                            }
                            td { (fmt_local(f.created_at, ctx.tz())) }
                            td {
                                form.inline method="post" action="/account/calendars" {
                                    (csrf_field(&ctx))
                                    input type="hidden" name="scope" value=(f.scope.as_str());
                                    input type="hidden" name="id" value=(f.scope_id);
                                    button.secondary type="submit" { "Régénérer" }
                                }
                                (action_button(&ctx, &format!("/account/calendars/{}/delete", f.id), "Supprimer", "danger"))
                            }
                        }
                    }
                }
            }
        }
        p { a href="/account/notifications" { "Choisir les courriels que je reçois" } }
    };
    page(&ctx, "Mes agendas", Nav::Account, notice, body)
}

#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    id: String,
}

pub async fn create_feed(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<FeedForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let (Some(scope), Ok(id)) = (FeedScope::parse(&form.scope), form.id.trim().parse::<i64>())
    else {
        return super::error_page(
            &s,
            Some(&p.0),
            AppError::BadRequest("Abonnement : portée ou identifiant invalide.".into()),
        );
    };
    match or_page(
        &ctx,
        feeds::create(&s.app, p.actor(), FeedRequest { scope, id }).await,
    ) {
        Ok(f) => see_other(&format!("/account/calendars?notice=feed#feed-{}", f.id)),
        Err(r) => r,
    }
}

pub async fn delete_feed(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, feeds::delete(&s.app, p.actor(), id).await) {
        Ok(()) => see_other("/account/calendars?notice=deleted"),
        Err(r) => r,
    }
}

// ---- preferences ----

fn preferences_view(
    ctx: &Ctx,
    prefs: &Preferences,
    errors: &FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let reminder = prefs
        .reminder_hours
        .map(|h| h.to_string())
        .unwrap_or_default();
    let body = html! {
        h1 { "Mes notifications" }
        (error_summary(errors))
        form method="post" action="/account/notifications" {
            (csrf_field(ctx))
            fieldset {
                legend { "Je reçois un courriel quand…" }
                @for k in NoticeKind::ALL.into_iter().filter(|k| k.mutable()) {
                    div.field.check {
                        input id={ "k-" (k.as_str()) } type="checkbox" name="receive" value=(k.as_str()) checked[!prefs.muted.contains(&k)];
                        label for={ "k-" (k.as_str()) } { (k.label()) }
                    }
                }
            }
            div.field.invalid[errors.get("reminder_hours").is_some()] {
                label for="f-reminder_hours" { "Rappel avant chaque réservation" }
                select id="f-reminder_hours" name="reminder_hours" {
                    option value="" selected[reminder.is_empty()] { "Pas de rappel" }
                    @for h in REMINDER_HOURS {
                        option value=(h) selected[reminder == h.to_string()] {
                            @if h == 1 { "1 heure avant" } @else { (h) " heures avant" }
                        }
                    }
                }
                @if let Some(e) = errors.get("reminder_hours") { p.field-error { (e) } }
            }
            button type="submit" { "Enregistrer" }
        }
        p { a href="/account/calendars" { "Mes agendas (abonnements iCalendar)" } }
    };
    (
        status,
        super::layout(ctx, "Mes notifications", Nav::Account, notice, body),
    )
        .into_response()
}

pub async fn preferences_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<super::NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, notify::preferences(&s.app, p.actor()).await) {
        Ok(prefs) => preferences_view(
            &ctx,
            &prefs,
            &FieldErrors::new(),
            super::notice_text(q.notice.as_deref()),
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

#[derive(Deserialize, Default)]
pub struct PreferencesForm {
    #[serde(default)]
    receive: Vec<String>,
    #[serde(default)]
    reminder_hours: String,
}

pub async fn save_preferences(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<PreferencesForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let muted: Vec<NoticeKind> = NoticeKind::ALL
        .into_iter()
        .filter(|k| k.mutable() && !form.receive.iter().any(|r| r == k.as_str()))
        .collect();
    let reminder = form.reminder_hours.trim();
    let reminder_hours = if reminder.is_empty() {
        Ok(None)
    } else {
        reminder.parse::<i32>().map(Some)
    };
    let prefs = Preferences {
        muted,
        reminder_hours: reminder_hours.clone().unwrap_or(None),
    };
    if reminder_hours.is_err() {
        let errors = FieldErrors::single("reminder_hours", "Choisissez un délai dans la liste.");
        return preferences_view(
            &ctx,
            &prefs,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match notify::save_preferences(&s.app, p.actor(), prefs.clone()).await {
        Ok(_) => see_other("/account/notifications?notice=saved"),
        Err(AppError::Validation(errors)) => preferences_view(
            &ctx,
            &prefs,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

// ---- outbox (administrators) ----

pub fn mail_context(s: &AppState) -> MailContext {
    let c = s.app.config();
    MailContext {
        pole_name: c.pole_name.clone(),
        public_url: c.public_url.clone(),
        from_address: crate::mail::smtp::address_of(&c.mail_from),
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "En file",
        "sent" => "Envoyé",
        "dead" => "En échec",
        _ => "?",
    }
}

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<i64>,
    notice: Option<String>,
}

const OUTBOX_PAGE: i64 = 50;

pub async fn outbox_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<OutboxQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let status = match or_page(&ctx, outbox::parse_status(&q.status)) {
        Ok(st) => st,
        Err(r) => return r,
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 100_000);
    let counts = match or_page(&ctx, outbox::counts(&s.app, p.actor()).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let list = match or_page(
        &ctx,
        outbox::list(
            &s.app,
            p.actor(),
            status,
            (page_no - 1) * OUTBOX_PAGE,
            OUTBOX_PAGE + 1,
        )
        .await,
    ) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let more = list.len() as i64 > OUTBOX_PAGE;
    let mail = mail_context(&s);
    let configured = s.app.config().smtp_url.is_some();
    let notice = match q.notice.as_deref() {
        Some("resent") => Some("Message remis en file d'envoi."),
        _ => None,
    };
    let filter = |value: &str, label: &str, n: Option<i64>| {
        html! {
            a href={ "/admin/outbox?status=" (value) } aria-current=[(q.status == value).then_some("page")] {
                (label) @if let Some(n) = n { " (" (n) ")" }
            }
        }
    };
    let body = html! {
        h1 { "Courriels" }
        @if !configured {
            p.notice role="status" { "Aucun serveur d'envoi n'est configuré (SMTP_URL) : les messages restent ici, lisibles en entier, et partiront dès qu'un serveur sera configuré." }
        }
        nav.filters aria-label="Filtrer les courriels" {
            (filter("", "Tous", None)) " · "
            (filter("pending", "En file", Some(counts.pending))) " · "
            (filter("sent", "Envoyés", Some(counts.sent))) " · "
            (filter("dead", "En échec", Some(counts.dead)))
        }
        @if list.is_empty() {
            p { "Aucun message." }
        }
        @for e in list.iter().take(OUTBOX_PAGE as usize) {
            (entry_view(&ctx, e, &mail))
        }
        nav.pager aria-label="Pages" {
            @if page_no > 1 { a href={ "/admin/outbox?status=" (q.status) "&page=" (page_no - 1) } { "← Plus récents" } " " }
            @if more { a href={ "/admin/outbox?status=" (q.status) "&page=" (page_no + 1) } { "Plus anciens →" } }
        }
    };
    page(&ctx, "Courriels", Nav::Users, notice, body)
}

fn entry_view(ctx: &Ctx, e: &OutboxEntry, mail: &MailContext) -> Markup {
    let composed = e.notice.as_ref().map(|n| mail::compose(n, &e.to, mail));
    html! {
        article.mail id={ "m-" (e.id) } {
            h2 {
                @match &composed { Some(c) => (c.subject), None => "(message illisible)" }
            }
            dl.facts {
                dt { "À" } dd { (e.to) }
                dt { "État" } dd { (status_label(&e.status)) " — " (e.attempts) " tentative(s)" }
                dt { "Créé le" } dd { (fmt_local(e.created_at, ctx.tz())) }
                @if let Some(t) = e.sent_at { dt { "Envoyé le" } dd { (fmt_local(t, ctx.tz())) } }
                @if let (Some(t), true) = (e.next_attempt_at, e.attempts > 0) { dt { "Prochain essai" } dd { (fmt_local(t, ctx.tz())) } }
                @if let Some(err) = &e.last_error { dt { "Dernière erreur" } dd { (err) } }
            }
            @if let Some(c) = &composed {
                details {
                    summary { "Contenu du message" }
                    pre.mail-text { (c.text) }
                    @if let Some((method, ics)) = &c.calendar {
                        p { "Pièce jointe : invitation.ics (" (method.as_str()) ")" }
                        pre.mail-text { (ics) }
                    }
                }
            }
            @if e.status != "pending" {
                (action_button(ctx, &format!("/admin/outbox/{}/resend", e.id), "Renvoyer", "secondary"))
            }
        }
    }
}

pub async fn resend(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, outbox::resend(&s.app, p.actor(), id).await) {
        Ok(_) => see_other("/admin/outbox?notice=resent"),
        Err(r) => r,
    }
}
