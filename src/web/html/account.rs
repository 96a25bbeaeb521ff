//! First administrator, sign-in and sign-out, the user's own account: password and API tokens.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use maud::html;
use serde::Deserialize;

use super::{
    csrf_field, error_summary, field, fmt_local, layout, or_page, page, see_other, Ctx, Nav,
    NoticeQuery,
};
use crate::app::{auth, password_reset, setup};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::web::extract::{ClientIp, CsrfForm, MaybePageActor, PageActor};
use crate::web::problem::status_of;
use crate::web::{AppState, ANON_CSRF_COOKIE, SESSION_COOKIE};

fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.app.config().secure_cookies)
        .path("/")
        .max_age(time_days(auth::SESSION_LIFETIME_DAYS))
        .build()
}

fn time_days(days: i64) -> time::Duration {
    time::Duration::days(days)
}

/// The anonymous CSRF token (double-submit cookie) for forms shown before sign-in.
fn anon_csrf(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(ANON_CSRF_COOKIE) {
        if c.value().len() == 64 {
            let v = c.value().to_string();
            return (jar, v);
        }
    }
    let token = auth::random_secret();
    let cookie = Cookie::build((ANON_CSRF_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.app.config().secure_cookies)
        .path("/")
        .build();
    (jar.add(cookie), token)
}

fn anon_layout(state: &AppState, title: &str, body: maud::Markup) -> maud::Markup {
    layout(
        &Ctx {
            state,
            session: None,
        },
        title,
        Nav::None,
        None,
        body,
    )
}

#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn setup_view(
    state: &AppState,
    csrf: &str,
    form: &SetupForm,
    errors: &FieldErrors,
) -> maud::Markup {
    anon_layout(
        state,
        "Première installation",
        html! {
            h1 { "Bienvenue sur Mutualise" }
            p { "Cette instance est vide. Créez le compte du premier administrateur du pôle." }
            (error_summary(errors))
            form method="post" action="/setup" {
                input type="hidden" name="_csrf" value=(csrf);
                (field("Nom complet", "name", &form.name, "text", errors, None))
                (field("Adresse e-mail", "email", &form.email, "email", errors, None))
                (field("Mot de passe", "password", "", "password", errors, Some("10 caractères au moins.")))
                (field("Confirmation du mot de passe", "confirm", "", "password", errors, None))
                button type="submit" { "Créer l'administrateur" }
            }
        },
    )
}

pub async fn setup_form(State(s): State<AppState>, jar: CookieJar) -> Response {
    match setup::needs_setup(&s.app).await {
        Ok(false) => return see_other("/login"),
        Err(e) => return super::error_page(&s, None, e),
        Ok(true) => {}
    }
    let (jar, csrf) = anon_csrf(&s, jar);
    (
        jar,
        setup_view(&s, &csrf, &SetupForm::default(), &FieldErrors::new()),
    )
        .into_response()
}

pub async fn setup_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Response {
    if form.password != form.confirm {
        let csrf = jar
            .get(ANON_CSRF_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let errors = FieldErrors::single("confirm", "Les deux mots de passe ne correspondent pas.");
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            setup_view(&s, &csrf, &form, &errors),
        )
            .into_response();
    }
    match setup::create_first_admin(&s.app, &form.email, &form.name, &form.password).await {
        Ok(session) => (
            jar.add(session_cookie(&s, session.token)),
            see_other("/?notice=welcome"),
        )
            .into_response(),
        Err(AppError::Validation(errors)) => {
            let csrf = jar
                .get(ANON_CSRF_COOKIE)
                .map(|c| c.value().to_string())
                .unwrap_or_default();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                setup_view(&s, &csrf, &form, &errors),
            )
                .into_response()
        }
        Err(AppError::Conflict { .. }) => see_other("/login"),
        Err(e) => super::error_page(&s, None, e),
    }
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    /// Sent here by a form whose session had expired (`web::resume`).
    expired: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

fn login_view(
    state: &AppState,
    csrf: &str,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> maud::Markup {
    login_view_with(state, csrf, email, next, error, None)
}

fn login_view_with(
    state: &AppState,
    csrf: &str,
    email: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> maud::Markup {
    anon_layout(
        state,
        "Connexion",
        html! {
            h1 { "Connexion" }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error { div.errors role="alert" { p { (e) } } }
            form method="post" action="/login" {
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                div.field { label for="f-email" { "Adresse e-mail" } input #f-email type="email" name="email" value=(email) autocomplete="username" required; }
                div.field { label for="f-password" { "Mot de passe" } input #f-password type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { "Se connecter" }
            }
            p { a href="/password/forgot" { "Mot de passe oublié ?" } }
        },
    )
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if local {
        next
    } else {
        "/"
    }
}

pub async fn login_form(
    State(s): State<AppState>,
    jar: CookieJar,
    MaybePageActor(session): MaybePageActor,
    Query(q): Query<LoginQuery>,
) -> Response {
    if session.is_some() {
        return see_other("/");
    }
    if let Ok(true) = setup::needs_setup(&s.app).await {
        return see_other("/setup");
    }
    let (jar, csrf) = anon_csrf(&s, jar);
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    let notice = super::checked(&q.expired).then_some(
        "Votre session a expiré. Connectez-vous : vous retrouverez ce que vous aviez saisi.",
    );
    (jar, login_view_with(&s, &csrf, "", next, None, notice)).into_response()
}

pub async fn login_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    match auth::sign_in(&s.app, &form.email, &form.password, &ip).await {
        Ok(session) => (
            jar.add(session_cookie(&s, session.token)),
            see_other(safe_next(&form.next)),
        )
            .into_response(),
        Err(e @ (AppError::Unauthorized(_) | AppError::TooManyRequests(_))) => {
            let csrf = jar
                .get(ANON_CSRF_COOKIE)
                .map(|c| c.value().to_string())
                .unwrap_or_default();
            let mut page = (
                status_of(&e),
                login_view(&s, &csrf, &form.email, &form.next, Some(&e.detail())),
            )
                .into_response();
            if let Some(secs) = crate::web::problem::retry_after(&e) {
                e.log();
                page.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(secs),
                );
            }
            page
        }
        Err(e) => super::error_page(&s, None, e),
    }
}

// ---- « Mot de passe oublié » ----

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

fn forgot_view(state: &AppState, csrf: &str, email: &str, errors: &FieldErrors) -> maud::Markup {
    anon_layout(
        state,
        "Mot de passe oublié",
        html! {
            h1 { "Mot de passe oublié" }
            p { "Indiquez l'adresse e-mail de votre compte : vous recevrez un lien pour choisir un nouveau mot de passe, valable une heure." }
            (error_summary(errors))
            form method="post" action="/password/forgot" {
                input type="hidden" name="_csrf" value=(csrf);
                (field("Adresse e-mail", "email", email, "email", errors, None))
                button type="submit" { "Recevoir un lien" }
            }
            p { a href="/login" { "Retour à la connexion" } }
        },
    )
}

/// What every request hears, whether the address has an account or not.
fn forgot_sent(state: &AppState) -> maud::Markup {
    anon_layout(
        state,
        "Mot de passe oublié",
        html! {
            h1 { "Mot de passe oublié" }
            p.notice role="status" { "Si un compte existe pour cette adresse, un message vient d'y être envoyé avec un lien pour choisir un nouveau mot de passe. Le lien vaut une heure et ne sert qu'une fois." }
            p { "Rien reçu ? Vérifiez le dossier des indésirables, ou demandez à la coordination du pôle quelle adresse votre compte utilise." }
            p { a href="/login" { "Retour à la connexion" } }
        },
    )
}

/// The CSRF token a form shown before sign-in carries: the session's when someone is signed
/// in after all (`CsrfForm` checks that one then), the anonymous cookie's otherwise.
fn form_csrf(state: &AppState, jar: CookieJar, session: &MaybePageActor) -> (CookieJar, String) {
    match &session.0 {
        Some(s) => (jar, s.csrf_token.clone()),
        None => anon_csrf(state, jar),
    }
}

pub async fn forgot_form(
    State(s): State<AppState>,
    jar: CookieJar,
    session: MaybePageActor,
) -> Response {
    let (jar, csrf) = form_csrf(&s, jar, &session);
    (jar, forgot_view(&s, &csrf, "", &FieldErrors::new())).into_response()
}

pub async fn forgot_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    session: MaybePageActor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Response {
    match password_reset::request(&s.app, &form.email, &ip).await {
        Ok(()) => forgot_sent(&s).into_response(),
        Err(AppError::Validation(errors)) => {
            let (jar, csrf) = form_csrf(&s, jar, &session);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                forgot_view(&s, &csrf, &form.email, &errors),
            )
                .into_response()
        }
        Err(e @ AppError::TooManyRequests(_)) => {
            e.log();
            let (jar, csrf) = form_csrf(&s, jar, &session);
            let errors = FieldErrors::single("email", e.detail());
            let mut page = (
                StatusCode::TOO_MANY_REQUESTS,
                jar,
                forgot_view(&s, &csrf, &form.email, &errors),
            )
                .into_response();
            if let Some(secs) = crate::web::problem::retry_after(&e) {
                page.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(secs),
                );
            }
            page
        }
        Err(e) => super::error_page(&s, None, e),
    }
}

#[derive(Deserialize, Default)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn reset_view(state: &AppState, csrf: &str, token: &str, errors: &FieldErrors) -> maud::Markup {
    anon_layout(
        state,
        "Nouveau mot de passe",
        html! {
            h1 { "Choisir un nouveau mot de passe" }
            (error_summary(errors))
            form method="post" action=(password_reset::link_path(token)) {
                input type="hidden" name="_csrf" value=(csrf);
                (field("Nouveau mot de passe", "new_password", "", "password", errors, Some("10 caractères au moins.")))
                (field("Confirmation", "confirm_password", "", "password", errors, None))
                button type="submit" { "Enregistrer et me connecter" }
            }
        },
    )
}

/// A link that does not work (used, expired, unknown): a page that says so, and the way on.
fn dead_link_page(state: &AppState) -> Response {
    (
        StatusCode::GONE,
        anon_layout(
            state,
            "Lien expiré",
            html! {
                h1 { "Ce lien n'est plus valable" }
                p { (password_reset::dead_link().detail()) }
                p { a.button href="/password/forgot" { "Demander un nouveau lien" } " " a href="/login" { "Se connecter" } }
            },
        ),
    )
        .into_response()
}

pub async fn reset_form(
    State(s): State<AppState>,
    jar: CookieJar,
    session: MaybePageActor,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    match password_reset::is_live(&s.app, &token).await {
        Ok(true) => {
            let (jar, csrf) = form_csrf(&s, jar, &session);
            (jar, reset_view(&s, &csrf, &token, &FieldErrors::new())).into_response()
        }
        Ok(false) => dead_link_page(&s),
        Err(e) => super::error_page(&s, None, e),
    }
}

pub async fn reset_submit(
    State(s): State<AppState>,
    jar: CookieJar,
    session: MaybePageActor,
    axum::extract::Path(token): axum::extract::Path<String>,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Response {
    match password_reset::reset(
        &s.app,
        &token,
        &form.new_password,
        &form.confirm_password,
        &ip,
    )
    .await
    {
        Ok(session) => (
            jar.add(session_cookie(&s, session.token)),
            see_other("/?notice=password_reset"),
        )
            .into_response(),
        Err(AppError::Validation(errors)) => {
            let (jar, csrf) = form_csrf(&s, jar, &session);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                jar,
                reset_view(&s, &csrf, &token, &errors),
            )
                .into_response()
        }
        Err(AppError::Conflict { .. }) => dead_link_page(&s),
        Err(e) => super::error_page(&s, None, e),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(s): State<AppState>,
    jar: CookieJar,
    page_actor: PageActor,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Err(e) = auth::end_session(&s.app, &page_actor.0.session_hash).await {
        e.log();
    }
    (
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        see_other("/login"),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn account_view(
    s: &AppState,
    p: &PageActor,
    notice: Option<&str>,
    errors: &FieldErrors,
    new_token: Option<&str>,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let tokens = match or_page(&ctx, auth::list_tokens(&s.app, p.actor()).await) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let actor = p.actor();
    let body = html! {
        h1 { "Mon compte" }
        p { (actor.name) " — " (actor.email) }
        ul.links {
            li { a href="/account/notifications" { "Mes notifications" } " : les courriels que je reçois, le rappel avant mes réservations" }
            li { a href="/account/calendars" { "Mes agendas" } " : mes réservations dans mon agenda (iCalendar)" }
            @if actor.is_admin() { li { a href="/admin/outbox" { "Courriels envoyés par le service" } } }
        }
        section {
            h2 { "Changer de mot de passe" }
            (error_summary(errors))
            form method="post" action="/account/password" {
                (csrf_field(&ctx))
                (field("Mot de passe actuel", "current_password", "", "password", errors, None))
                (field("Nouveau mot de passe", "new_password", "", "password", errors, Some("10 caractères au moins.")))
                (field("Confirmation", "confirm_password", "", "password", errors, None))
                button type="submit" { "Modifier le mot de passe" }
            }
        }
        section {
            h2 { "Jetons d'accès à l'API" }
            p { "Un jeton permet à un outil (tableur, script, logiciel comptable) d'utiliser l'API en votre nom. Il n'est affiché qu'une fois." }
            @if let Some(t) = new_token {
                div.notice role="status" { p { "Nouveau jeton : " code #new-token { (t) } } p { "Copiez-le maintenant : il ne sera plus affiché." } }
            }
            @if !tokens.is_empty() {
                table {
                    thead { tr { th { "Nom" } th { "Créé le" } th { "Expire le" } th { "Dernier usage" } th { "État" } th { span.visually-hidden { "Actions" } } } }
                    tbody { @for t in &tokens {
                        tr {
                            td { (t.name) }
                            td { (fmt_local(t.created_at, ctx.tz())) }
                            td { (fmt_local(t.expires_at, ctx.tz())) }
                            td { @if let Some(u) = t.last_used_at { (fmt_local(u, ctx.tz())) } @else { "—" } }
                            td { @if t.revoked { "révoqué" } @else { "actif" } }
                            td { @if !t.revoked { (super::action_button(&ctx, &format!("/account/tokens/{}/revoke", t.id), "Révoquer", "danger")) } }
                        }
                    } }
                }
            }
            form method="post" action="/account/tokens" {
                (csrf_field(&ctx))
                (field("Nom du jeton", "name", "", "text", errors, Some("Par exemple : tableur de la trésorerie.")))
                button type="submit" { "Créer un jeton" }
            }
        }
    };
    (status, page(&ctx, "Mon compte", Nav::Account, notice, body)).into_response()
}

pub async fn account_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    account_view(
        &s,
        &p,
        super::notice_text(q.notice.as_deref()),
        &FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn change_password(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let result = auth::change_password(
        &s.app,
        p.actor(),
        &form.current_password,
        &form.new_password,
        &form.confirm_password,
        Some(&p.0.session_hash),
    )
    .await;
    match result {
        Ok(()) => see_other("/account?notice=password"),
        Err(AppError::Validation(errors)) => {
            account_view(
                &s,
                &p,
                None,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn create_token(
    State(s): State<AppState>,
    p: PageActor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Response {
    match auth::create_token(&s.app, p.actor(), &form.name, &ip).await {
        Ok(t) => {
            account_view(
                &s,
                &p,
                Some("Jeton créé."),
                &FieldErrors::new(),
                Some(&t.token),
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            account_view(
                &s,
                &p,
                None,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn revoke_token(
    State(s): State<AppState>,
    p: PageActor,
    axum::extract::Path(id): axum::extract::Path<i64>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    match auth::revoke_token(&s.app, p.actor(), id, &ip).await {
        Ok(()) => see_other("/account?notice=revoked"),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/members?x=1"), "/members?x=1");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "/\n/x",
            "",
            "evil",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
