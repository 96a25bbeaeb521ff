//! « Mot de passe oublié » : a one-hour, single-use link by mail, then a new password that ends
//! every other way in (sessions elsewhere, API tokens) and signs the person in.
//!
//! The request answers the same whether or not the address has an account, and is throttled
//! like sign-in (per address typed and per client address, counted in `login_attempts` under
//! a key of its own so that reset requests never lock anyone's sign-in).

use chrono::Duration;

use super::auth::{self, hash_password, random_secret, sha256_hex, NewSession};
use super::App;
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::store::{self, auth as auth_store, users as user_store};

/// How long a link works.
pub const LINK_LIFETIME_MINUTES: i64 = 60;

/// The path of the page a link leads to.
pub fn link_path(token: &str) -> String {
    format!("/password/reset/{token}")
}

fn throttle_key(email: &str) -> String {
    format!("reset:{email}")
}

/// Sends a reset link to `email` when it names an active account; the caller answers the same
/// either way. `TooManyRequests` after as many requests as sign-in tolerates failures.
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
            let key = throttle_key(&email);
            let since = store::to_db(now - Duration::minutes(auth::FAILURE_WINDOW_MINUTES));
            let (by_account, by_address) = auth_store::recent_failures(conn, &key, &ip, since)?;
            if by_account >= auth::MAX_FAILURES_PER_ACCOUNT
                || by_address >= auth::MAX_FAILURES_PER_ADDRESS
            {
                return Err(AppError::TooManyRequests(format!(
                    "Trop de demandes. Réessayez dans {} minutes.",
                    auth::FAILURE_WINDOW_MINUTES
                )));
            }
            let user = user_store::find_by_email(conn, &email)?.filter(|u| u.active);
            conn.write(|c| {
                // Counted like a failed sign-in (never cleared by one), account or not.
                auth_store::record_attempt(c, &key, &ip, false, store::to_db(now))?;
                let Some(user) = &user else { return Ok(()) };
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
                Ok(())
            })
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
pub async fn reset(app: &App, token: &str, new: &str, confirm: &str) -> AppResult<NewSession> {
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
    let (hash, now, new) = (sha256_hex(token), app.now(), new.to_string());
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
                auth_store::clear_failures(c, &user.email)?;
                auth::create_session(c, user_id, now)
            })
        })
        .await
}
