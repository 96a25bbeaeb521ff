//! « Mot de passe oublié » : a one-hour, single-use link by mail, then a new password that ends
//! every other way in (sessions elsewhere, API tokens) and signs the person in.
//!
//! The request answers the same whether or not the address has an account, and is throttled
//! like sign-in (the same counters and rules, `auth::reserve_tx`, in a scope of their own so
//! that reset requests never hold anyone's sign-in back). Every request counts: none is a
//! « success » that gives its attempt back.

use chrono::Duration;

use super::audit::{self, Event};
use super::auth::{self, hash_password, random_secret, sha256_hex, NewSession};
use super::App;
use crate::domain::audit::AuditKind;
use crate::domain::throttle;
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::store::{self, auth as auth_store, users as user_store};

/// How long a link works.
pub const LINK_LIFETIME_MINUTES: i64 = 60;

/// The path of the page a link leads to.
pub fn link_path(token: &str) -> String {
    format!("/password/reset/{token}")
}

/// Sends a reset link to `email` when it names an active account; the caller answers the same
/// either way. `TooManyRequests` (with the wait) past the rules sign-in failures follow.
pub async fn request(app: &App, email: &str, ip: &str) -> AppResult<()> {
    let email = email.trim().to_lowercase();
    let mut e = FieldErrors::new();
    if email.is_empty() || email.chars().count() > 254 || !email.contains('@') {
        e.add("email", "Adresse e-mail attendue.");
    }
    e.into_result().map_err(AppError::Validation)?;
    let (ip, now, tz) = (ip.to_string(), app.now(), app.tz().name().to_string());
    app.db()
        .run(move |conn| {
            let user = user_store::find_by_email(conn, &email)?.filter(|u| u.active);
            let wait = conn.write(|c| {
                if let Err(wait) = auth::reserve_tx(c, auth::RESET, &email, &ip, now)? {
                    let mut event = Event::new(AuditKind::PasswordResetThrottled, &ip)
                        .email(&email)
                        .detail(format!(
                            "attente de {} s",
                            throttle::retry_after_seconds(wait)
                        ));
                    event.subject = user.as_ref().map(|u| u.id);
                    audit::record_tx(c, now, event)?;
                    return Ok(Some(wait));
                }
                let mut event = Event::new(AuditKind::PasswordResetRequested, &ip).email(&email);
                let Some(user) = &user else {
                    audit::record_tx(c, now, event.detail("aucun compte actif à cette adresse"))?;
                    return Ok(None);
                };
                event.subject = Some(user.id);
                audit::record_tx(c, now, event)?;
                let token = random_secret();
                let id = auth_store::insert_reset(
                    c,
                    user.id,
                    &sha256_hex(&token),
                    store::to_db(now),
                    store::to_db(now + Duration::minutes(LINK_LIFETIME_MINUTES)),
                )?;
                // The mail leaves only if the link was recorded, and the link only with it.
                super::notify::password_reset_tx(c, user.id, id, &link_path(&token), &tz)?;
                Ok(None)
            })?;
            match wait {
                Some(wait) => Err(auth::throttled("Trop de demandes.", wait)),
                None => Ok(()),
            }
        })
        .await
}

/// Whether a link still works (the page shows the form, or says why not).
pub async fn is_live(app: &App, token: &str) -> AppResult<bool> {
    if token.len() != 64 {
        return Ok(false);
    }
    let (hash, now) = (sha256_hex(token), app.now());
    app.db()
        .run(move |c| Ok(auth_store::live_reset(c, &hash, store::to_db(now))?.is_some()))
        .await
}

/// Why a link does not work: used, expired, or never sent.
pub fn dead_link() -> AppError {
    AppError::Conflict {
        code: "reset_link_invalid",
        detail: "Ce lien n'est plus valable : il a déjà servi, il a expiré (il vaut une heure) ou il est incomplet. Demandez-en un nouveau.".into(),
    }
}

/// Sets the new password through a live link, spends the link (and the user's other links),
/// ends the user's sessions and API tokens, clears their failed sign-ins, and opens a new
/// session. The password follows the rules of the change-password form.
pub async fn reset(
    app: &App,
    token: &str,
    new: &str,
    confirm: &str,
    ip: &str,
) -> AppResult<NewSession> {
    let mut errors = FieldErrors::new();
    if let Err(m) = validation::password(new) {
        errors.add("new_password", m);
    } else if new != confirm {
        errors.add(
            "confirm_password",
            "Les deux mots de passe ne correspondent pas.",
        );
    }
    errors.into_result().map_err(AppError::Validation)?;
    if token.len() != 64 {
        return Err(dead_link());
    }
    let (hash, now, new, ip) = (
        sha256_hex(token),
        app.now(),
        new.to_string(),
        ip.to_string(),
    );
    app.db()
        .run(move |conn| {
            if auth_store::live_reset(conn, &hash, store::to_db(now))?.is_none() {
                return Err(dead_link());
            }
            // Hashed before the write transaction: argon2 takes a while.
            let password_hash = hash_password(&new)?;
            conn.write(|c| {
                let Some((id, user_id)) = auth_store::live_reset(c, &hash, store::to_db(now))?
                else {
                    return Err(dead_link());
                };
                if !auth_store::use_reset(c, id, user_id, store::to_db(now))? {
                    return Err(dead_link());
                }
                let user = user_store::find(c, user_id)?;
                user_store::set_password(c, user_id, &password_hash, store::to_db(now))?;
                auth_store::revoke_user_tokens(c, user_id, store::to_db(now))?;
                auth_store::delete_user_sessions(c, user_id, None)?;
                auth_store::clear_account_throttles(c, auth::SIGN_IN, &user.email)?;
                audit::record_tx(
                    c,
                    now,
                    Event::new(AuditKind::PasswordReset, &ip)
                        .actor(user_id)
                        .subject(user_id)
                        .email(&user.email),
                )?;
                auth::create_session(c, user_id, now)
            })
        })
        .await
}
