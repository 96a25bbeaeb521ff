//! Sign-in: password hashing (argon2id), fair throttling of attempts, sessions and API tokens.
//!
//! Throttling: every attempt is reserved on three counters before its password is checked —
//! the (account, address) pair, strict, and the account and the address, loose (rules in
//! `domain::throttle`). The reservation is one write transaction that locks the counters, so
//! concurrent attempts, from one process or several, never get more password checks than the
//! rules allow, and an attempt that must wait is refused (429) whatever its password. A
//! success gives back what it reserved and starts the pair again from zero.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use serde::Serialize;

use super::audit::{self, Event};
use super::authz::Actor;
use super::jobs::Purged;
use super::kept::Kept;
use super::App;
use crate::domain::audit::AuditKind;
use crate::domain::ids::UserId;
use crate::domain::throttle::{self, Counter, Policy};
use crate::domain::validation;
use crate::error::{AppError, AppResult, Throttled};
use crate::store::{self, auth as auth_store, outbox as outbox_store, users as user_store, DbConn};

pub const SESSION_LIFETIME_DAYS: i64 = 7;
pub const TOKEN_LIFETIME_DAYS: i64 = 90;
/// Scopes of the throttle counters: sign-in, and password-reset requests (counted apart, so
/// that reset requests never hold anyone's sign-in back).
pub const SIGN_IN: &str = "sign_in";
pub const RESET: &str = "reset";

pub fn hash_password(password: &str) -> AppResult<String> {
    let password = password.to_string();
    on_password_thread(move |memory| {
        let salt = SaltString::generate(&mut OsRng);
        argon2id(
            memory,
            password.as_bytes(),
            None,
            Params::default(),
            salt.as_salt(),
        )
        .map(|h| h.to_string())
        .map_err(|e| format!("argon2: {e}"))
    })
    .and_then(|r| r)
    .map_err(AppError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    on_password_thread(move |memory| {
        let Ok(stored) = PasswordHash::new(&hash) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
            return false;
        };
        let Ok(params) = Params::try_from(&stored) else {
            return false;
        };
        // A hash asking for more than 1 GiB of memory is not one of ours.
        if params.m_cost() > 1 << 20 {
            return false;
        }
        match argon2id(memory, password.as_bytes(), Some(&stored), params, salt) {
            // `Output` compares in constant time.
            Ok(computed) => computed.hash.is_some_and(|c| c == expected),
            Err(_) => false,
        }
    })
    .unwrap_or(false)
}

/// argon2 with a caller-owned memory area, so the 19 MiB work area is allocated once and
/// reused instead of once per sign-in (see `on_password_thread`). Produces the same PHC string
/// as `argon2::PasswordHasher`.
fn argon2id<'a>(
    memory: &mut Vec<Block>,
    password: &[u8],
    stored: Option<&PasswordHash<'a>>,
    params: Params,
    salt: argon2::password_hash::Salt<'a>,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let algorithm = match stored {
        Some(h) => Algorithm::try_from(h.algorithm)?,
        None => Algorithm::Argon2id,
    };
    let version = match stored.and_then(|h| h.version) {
        Some(v) => Version::try_from(v)?,
        None => Version::V0x13,
    };
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let hasher = Argon2::new(algorithm, version, params.clone());
    let len = stored
        .and_then(|h| h.hash.map(|o| o.len()))
        .or(params.output_len())
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = argon2::password_hash::Output::init_with(len, |out| {
        hasher
            .hash_password_into_with_memory(
                password,
                salt_bytes,
                out,
                &mut memory[..params.block_count()],
            )
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: argon2::password_hash::ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

type PasswordJob = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// argon2id works in 19 MiB of memory. Allocated afresh for every sign-in, on whatever thread
/// served it, that memory stayed resident (measured: +19 MB per sign-in, the allocator never
/// handing the space back). One thread does all password work in one reused work area instead:
/// memory stays flat, and sign-ins (rare, ~20 ms each) simply queue.
fn on_password_thread<T: Send + 'static>(
    f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, String> {
    static WORKER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<PasswordJob>>> =
        std::sync::OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<PasswordJob>();
        let spawned = std::thread::Builder::new()
            .name("mutualise-passwords".into())
            .spawn(move || {
                let mut memory: Vec<Block> = Vec::new();
                while let Ok(job) = rx.recv() {
                    // A panicking job must not take the thread, and every later sign-in, with it.
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "password thread could not start");
        }
        std::sync::Mutex::new(tx)
    });
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    let job: PasswordJob = Box::new(move |memory| {
        let _ = reply.send(f(memory));
    });
    worker
        .lock()
        .map_err(|_| "password thread poisoned".to_string())?
        .send(job)
        .map_err(|_| "password thread stopped".to_string())?;
    answer
        .recv()
        .map_err(|_| "password thread dropped the job".to_string())
}

/// A fresh 256-bit secret, hex-encoded.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// An e-mail as typed, as the counters and the journal key it: trimmed, lower case, and cut
/// to the longest address an account may have (hostile input stays small).
pub(crate) fn typed_email(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// The counters an attempt reserves, each with its rule, in the order they are locked (sorted:
/// concurrent transactions never wait for each other in a cycle).
fn counters(scope: &str, email: &str, ip: &str) -> Vec<(auth_store::ThrottleKey, Policy)> {
    let key = |e: &str, i: &str| (scope.to_string(), e.to_string(), i.to_string());
    let mut all: Vec<(auth_store::ThrottleKey, Policy)> = Vec::with_capacity(3);
    // The strictest first, so that it stays when two keys coincide (an empty e-mail).
    for (k, p) in [
        (key(email, ip), throttle::PAIR),
        (key(email, ""), throttle::ACCOUNT),
        (key("", ip), throttle::ADDRESS),
    ] {
        if !all.iter().any(|(seen, _)| *seen == k) {
            all.push((k, p));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// Reserves one attempt on every counter of (scope, e-mail, address), inside the caller's
/// write transaction: all of them, or none and `Err` with the longest remaining wait.
pub(crate) fn reserve_tx(
    conn: &mut DbConn,
    scope: &str,
    email: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> AppResult<Result<(), Duration>> {
    let mut locked = Vec::with_capacity(3);
    let mut wait: Option<Duration> = None;
    for (key, policy) in counters(scope, email, ip) {
        let row = auth_store::lock_throttle(conn, &key, store::to_db(now))?;
        let counter = Counter {
            failures: row.failures,
            next_attempt_at: store::from_db(row.next_attempt_at),
            last_attempt_at: store::from_db(row.last_attempt_at),
        };
        if let Err(w) = counter.check(&policy, now) {
            wait = Some(wait.map_or(w, |x| x.max(w)));
        }
        locked.push((key, policy, counter));
    }
    if let Some(w) = wait {
        return Ok(Err(w));
    }
    for (key, policy, counter) in locked {
        let next = counter.reserve(&policy, now);
        auth_store::save_throttle(
            conn,
            &key,
            next.failures,
            store::to_db(next.next_attempt_at),
            store::to_db(next.last_attempt_at),
        )?;
    }
    Ok(Ok(()))
}

/// A success: the pair starts again from zero, and the account and address counters give back
/// the attempt reserved for it.
fn succeeded_tx(conn: &mut DbConn, scope: &str, email: &str, ip: &str) -> AppResult<()> {
    for (key, policy) in counters(scope, email, ip) {
        if policy == throttle::PAIR {
            auth_store::delete_throttle(conn, &key)?;
        } else {
            auth_store::release_throttle(conn, &key)?;
        }
    }
    Ok(())
}

/// The refusal of an attempt that must wait: `Retry-After` is the wait rounded up.
pub(crate) fn throttled(what: &str, wait: Duration) -> AppError {
    let secs = throttle::retry_after_seconds(wait);
    AppError::TooManyRequests(Throttled {
        detail: format!("{what} Réessayez dans {}.", throttle::wait_in_words(secs)),
        retry_after_secs: secs,
    })
}

/// Verifies e-mail and password, throttled fairly (see the module's note), then runs
/// `on_success` in the transaction that records the sign-in. The same answer is given for an
/// unknown e-mail and a wrong password.
fn authenticate<T>(
    conn: &mut DbConn,
    email: &str,
    password: &str,
    ip: &str,
    now: DateTime<Utc>,
    on_success: impl FnOnce(&mut DbConn, &Actor) -> AppResult<T>,
) -> AppResult<T> {
    let email = typed_email(email);
    let reserved = conn.write(|c| match reserve_tx(c, SIGN_IN, &email, ip, now)? {
        Ok(()) => Ok(None),
        Err(wait) => {
            let subject = user_store::find_by_email(c, &email)?.map(|u| u.id);
            let mut event = Event::new(AuditKind::SignInThrottled, ip)
                .email(&email)
                .detail(format!(
                    "attente de {} s",
                    throttle::retry_after_seconds(wait)
                ));
            event.subject = subject;
            audit::record_tx(c, now, event)?;
            Ok(Some(wait))
        }
    })?;
    if let Some(wait) = reserved {
        tracing::warn!(client = %ip, "sign-in throttled");
        return Err(throttled("Trop de tentatives de connexion échouées.", wait));
    }
    let user = user_store::find_by_email(conn, &email)?;
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash) && u.active,
        None => {
            // Spend the same time as a real check so timing does not reveal which e-mails exist.
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    };
    match user {
        Some(u) if ok => conn.write(|c| {
            succeeded_tx(c, SIGN_IN, &email, ip)?;
            let actor = Actor::from_user(&user_store::with_roles(c, u.clone())?);
            audit::record_tx(
                c,
                now,
                Event::new(AuditKind::SignIn, ip)
                    .actor(u.id)
                    .subject(u.id)
                    .email(&email),
            )?;
            on_success(c, &actor)
        }),
        user => {
            tracing::warn!(client = %ip, "sign-in failed");
            conn.write(|c| {
                let mut event = Event::new(AuditKind::SignInFailed, ip).email(&email);
                if let Some(u) = &user {
                    event.subject = Some(u.id);
                    if !u.active {
                        event = event.detail("compte désactivé");
                    }
                }
                audit::record_tx(c, now, event)
            })?;
            Err(AppError::Unauthorized(
                "Adresse e-mail ou mot de passe incorrect.".into(),
            ))
        }
    }
}

/// argon2id hash of a random password, used only to equalise timing.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vm3Qn4vUoJ4C2bYm4Zb2mX0fN3vS2kQh7o8a9oT1rJc";

pub struct NewSession {
    /// Goes in the cookie; only its hash is stored.
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) fn create_session(
    conn: &mut DbConn,
    user_id: UserId,
    now: DateTime<Utc>,
) -> AppResult<NewSession> {
    let token = random_secret();
    let csrf_token = random_secret();
    let expires_at = now + Duration::days(SESSION_LIFETIME_DAYS);
    auth_store::insert_session(
        conn,
        &sha256_hex(&token),
        user_id,
        &csrf_token,
        store::to_db(now),
        store::to_db(expires_at),
    )?;
    Ok(NewSession {
        token,
        csrf_token,
        expires_at,
    })
}

/// Signs a person in from the login form: a new session.
pub async fn sign_in(app: &App, email: &str, password: &str, ip: &str) -> AppResult<NewSession> {
    let (email, password, ip, now) = (
        email.to_string(),
        password.to_string(),
        ip.to_string(),
        app.now(),
    );
    app.db()
        .run(move |c| {
            authenticate(c, &email, &password, &ip, now, |c, actor| {
                create_session(c, actor.user_id, now)
            })
        })
        .await
}

/// The signed-in person behind a page request, with the session's CSRF token.
pub struct SessionActor {
    pub actor: Actor,
    pub session_hash: String,
    pub csrf_token: String,
    /// Requests waiting for a decision, for the navigation's « Validation (n) »: counted only
    /// for a page that shows it (`with_requests`) and a person who decides.
    pub requests_to_decide: Option<i64>,
}

/// Pole roles and memberships kept between requests, by user, stamped with the access epoch
/// (`store::users::access_epoch`, raised by triggers on any change of roles, memberships or
/// members). The user row itself is read on every request.
#[derive(Default)]
pub struct AccessCache(Kept<UserId, (Vec<String>, Vec<user_store::MembershipRow>)>);

impl AccessCache {
    /// The actor of `user`, with roles and memberships kept at `epoch` or read now. `epoch`
    /// must have been read before or with `user`: data read after it is at least as new.
    fn actor(&self, conn: &mut DbConn, user: user_store::User, epoch: i64) -> AppResult<Actor> {
        let full = match self.0.at(&user.id, epoch) {
            Some((roles, memberships)) => user_store::UserWithRoles {
                user,
                roles,
                memberships,
            },
            None => {
                let full = user_store::with_roles(conn, user)?;
                // Roles and memberships come in two statements: kept only when no change of
                // access committed since `epoch` was read, or they could be a mix of before
                // and after that no request reading `epoch` should be served again.
                if user_store::access_epoch(conn)? == epoch {
                    self.0.keep(
                        full.user.id,
                        epoch,
                        (full.roles.clone(), full.memberships.clone()),
                    );
                }
                full
            }
        };
        Ok(Actor::from_user(&full))
    }

    /// The actor behind a session or a token, with their own contact (see `Actor::contact`).
    fn actor_of(&self, conn: &mut DbConn, owner: auth_store::Owner) -> AppResult<Actor> {
        let contact = outbox_store::contact_with(
            owner.user.id,
            &owner.user.email,
            &owner.user.name,
            owner.settings,
        );
        let mut actor = self.actor(conn, owner.user, owner.access_epoch)?;
        actor.contact = Some(contact);
        Ok(actor)
    }
}

/// The session of this cookie's token; with `with_requests`, also the number of requests the
/// person may decide (one `COUNT` in the same round trip to the database).
pub async fn resolve_session(
    app: &App,
    token: &str,
    with_requests: bool,
) -> AppResult<Option<SessionActor>> {
    if token.len() != 64 {
        return Ok(None);
    }
    let (hash, now) = (sha256_hex(token), app.now());
    let access = app.access();
    app.db()
        .run(move |c| {
            let Some((session, owner)) =
                auth_store::find_live_session(c, &hash, store::to_db(now))?
            else {
                return Ok(None);
            };
            if !owner.user.active {
                return Ok(None);
            }
            let actor = access.actor_of(c, owner)?;
            let requests_to_decide = if with_requests {
                super::dashboard::requests_to_decide(c, &actor, now)?
            } else {
                None
            };
            Ok(Some(SessionActor {
                actor,
                session_hash: hash,
                csrf_token: session.csrf_token,
                requests_to_decide,
            }))
        })
        .await
}

pub async fn end_session(app: &App, session_hash: &str) -> AppResult<()> {
    let hash = session_hash.to_string();
    app.db()
        .run(move |c| auth_store::delete_session(c, &hash))
        .await
}

pub struct IssuedToken {
    pub token: String,
    pub id: i64,
    pub expires_at: DateTime<Utc>,
}

/// Issues an API token for a user (also used by the command line and the tests' fixtures).
pub fn issue_token(
    conn: &mut DbConn,
    user_id: UserId,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<IssuedToken> {
    let name = validation::required_text(name, 80).map_err(|m| AppError::validation("name", m))?;
    let token = format!("mut_{}", random_secret());
    let expires_at = now + Duration::days(TOKEN_LIFETIME_DAYS);
    let row = auth_store::insert_token(
        conn,
        user_id,
        &name,
        &sha256_hex(&token),
        store::to_db(now),
        store::to_db(expires_at),
    )?;
    Ok(IssuedToken {
        token,
        id: row.id,
        expires_at,
    })
}

/// Exchanges e-mail and password for an API token (`POST /api/v1/auth/token`).
pub async fn token_for_credentials(
    app: &App,
    email: &str,
    password: &str,
    ip: &str,
    name: Option<&str>,
) -> AppResult<IssuedToken> {
    let (email, password, ip, now) = (
        email.to_string(),
        password.to_string(),
        ip.to_string(),
        app.now(),
    );
    let name = name.unwrap_or("API").to_string();
    app.db()
        .run(move |c| {
            authenticate(c, &email, &password, &ip, now, |c, actor| {
                let issued = issue_token(c, actor.user_id, &name, now)?;
                audit::record_tx(
                    c,
                    now,
                    Event::new(AuditKind::TokenCreated, &ip)
                        .actor(actor.user_id)
                        .subject(actor.user_id)
                        .detail(format!("« {name} », avec e-mail et mot de passe")),
                )?;
                Ok(issued)
            })
        })
        .await
}

/// A token for the signed-in person (account page).
pub async fn create_token(
    app: &App,
    actor: &Actor,
    name: &str,
    ip: &str,
) -> AppResult<IssuedToken> {
    let (user_id, name, now, ip) = (actor.user_id, name.to_string(), app.now(), ip.to_string());
    app.db()
        .run(move |c| {
            c.write(|c| {
                let issued = issue_token(c, user_id, &name, now)?;
                audit::record_tx(
                    c,
                    now,
                    Event::new(AuditKind::TokenCreated, &ip)
                        .actor(user_id)
                        .subject(user_id)
                        .detail(format!("« {} »", name.trim())),
                )?;
                Ok(issued)
            })
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

/// The actor's own tokens, newest first.
pub async fn list_tokens(app: &App, actor: &Actor) -> AppResult<Vec<TokenView>> {
    let user_id = actor.user_id;
    let rows = app
        .db()
        .run(move |c| auth_store::list_tokens(c, user_id))
        .await?;
    Ok(rows
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            created_at: store::from_db(t.created_at),
            expires_at: store::from_db(t.expires_at),
            last_used_at: t.last_used_at.map(store::from_db),
            revoked: t.revoked_at.is_some(),
        })
        .collect())
}

/// Revokes one of the actor's own tokens.
pub async fn revoke_token(app: &App, actor: &Actor, id: i64, ip: &str) -> AppResult<()> {
    let (user_id, now, ip) = (actor.user_id, app.now(), ip.to_string());
    match app
        .db()
        .run(move |c| {
            c.write(|c| {
                let revoked = auth_store::revoke_token(c, user_id, id, store::to_db(now))?;
                if revoked {
                    audit::record_tx(
                        c,
                        now,
                        Event::new(AuditKind::TokenRevoked, &ip)
                            .actor(user_id)
                            .subject(user_id)
                            .detail(format!("jeton n° {id}")),
                    )?;
                }
                Ok(revoked)
            })
        })
        .await?
    {
        true => Ok(()),
        false => Err(AppError::NotFound),
    }
}

/// The actor behind a bearer token. Its last use is recorded at most once a minute, through
/// the writer and in the background: a write on the request's path would wait for the write
/// lock.
pub async fn resolve_token(app: &App, token: &str) -> AppResult<Option<Actor>> {
    if !token.starts_with("mut_") || token.len() != 68 {
        return Ok(None);
    }
    let (hash, now) = (sha256_hex(token), app.now());
    let access = app.access();
    let found = app
        .db()
        .run(move |c| {
            let Some((row, owner)) = auth_store::find_live_token(c, &hash, store::to_db(now))?
            else {
                return Ok(None);
            };
            if !owner.user.active {
                return Ok(None);
            }
            let touch = row
                .last_used_at
                .is_none_or(|t| store::from_db(t) + Duration::minutes(1) < now)
                .then_some(row.id);
            Ok(Some((access.actor_of(c, owner)?, touch)))
        })
        .await?;
    let Some((actor, touch)) = found else {
        return Ok(None);
    };
    if let Some(id) = touch {
        let db = app.db().clone();
        tokio::spawn(async move {
            if let Err(e) = db
                .write(move |c| auth_store::touch_token(c, id, store::to_db(now)))
                .await
            {
                e.log();
            }
        });
    }
    Ok(Some(actor))
}

/// Changes the actor's own password after checking the current one; ends their other sessions
/// and tokens and keeps the current session.
pub async fn change_password(
    app: &App,
    actor: &Actor,
    current: &str,
    new: &str,
    confirm: &str,
    keep_session: Option<&str>,
) -> AppResult<()> {
    let (user_id, now) = (actor.user_id, app.now());
    let (current, new, confirm) = (current.to_string(), new.to_string(), confirm.to_string());
    let keep = keep_session.map(str::to_string);
    app.db()
        .run(move |conn| {
            let user = user_store::find(conn, user_id)?;
            let mut errors = crate::domain::validation::FieldErrors::new();
            if !verify_password(&current, &user.password_hash) {
                errors.add("current_password", "Mot de passe actuel incorrect.");
            }
            if let Err(m) = validation::password(&new) {
                errors.add("new_password", m);
            } else if new != confirm {
                errors.add(
                    "confirm_password",
                    "Les deux mots de passe ne correspondent pas.",
                );
            }
            errors.into_result().map_err(AppError::Validation)?;
            let hash = hash_password(&new)?;
            conn.write(|conn| {
                user_store::set_password(conn, user_id, &hash, store::to_db(now))?;
                // A new password ends every other way in: sessions elsewhere and API tokens.
                auth_store::revoke_user_tokens(conn, user_id, store::to_db(now))?;
                auth_store::delete_user_sessions(conn, user_id, keep.as_deref())
            })
        })
        .await
}

/// The signed-in person, with roles and memberships.
pub async fn me(app: &App, actor: &Actor) -> AppResult<crate::app::users::UserView> {
    let user_id = actor.user_id;
    app.db()
        .run(move |c| {
            let user = user_store::find(c, user_id)?;
            Ok(crate::app::users::UserView::from(&user_store::with_roles(
                c, user,
            )?))
        })
        .await
}

/// Sessions past their end (at most `limit`), throttle counters every rule has forgotten
/// (untouched for a day), security events past their retention (at most `limit`) and expired
/// password-reset links are removed.
pub(crate) fn purge_tx(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> AppResult<Purged> {
    let sessions = auth_store::purge_expired(conn, store::to_db(now), limit)?;
    let forgotten = [throttle::PAIR, throttle::ACCOUNT, throttle::ADDRESS]
        .iter()
        .map(|p| p.forget_after)
        .max()
        .unwrap_or(Duration::days(1));
    let attempts = auth_store::purge_throttles(conn, store::to_db(now - forgotten))?;
    let events = audit::purge_tx(conn, now, limit)?;
    let resets = auth_store::purge_resets(conn, store::to_db(now - Duration::days(1)))?;
    Ok(Purged::bounded(sessions, limit)
        .and(Purged::bounded(events, limit))
        .and(Purged::all(attempts + resets)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rights read after a change of access committed since the epoch was read (the reader
    /// read the epoch before it) serve that request but are not kept at that epoch: read in
    /// two statements, they could be half before and half after the change.
    #[test]
    fn rights_read_across_a_change_of_access_are_not_kept() {
        use crate::store::scratch::{self, sql};
        let (_dir, db) = scratch::database();
        let mut conn = db.get().unwrap();
        let c = &mut conn;
        let setup = "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
             VALUES (1, 'a@pole.test', 'A', 'x', '2027-01-01 00:00:00', '2027-01-01 00:00:00');";
        sql(c, setup);
        let access = AccessCache::default();
        let user = user_store::find(c, UserId(1)).unwrap();

        let before = user_store::access_epoch(c).unwrap();
        let grant = "INSERT INTO user_roles (user_id, role) VALUES (1, 'admin');";
        sql(c, grant);
        assert!(user_store::access_epoch(c).unwrap() > before);
        let actor = access.actor(c, user.clone(), before).unwrap();
        assert!(actor.is_admin(), "this request sees what it read");
        assert!(access.0.get(&UserId(1)).is_none(), "kept across a change");

        let now = user_store::access_epoch(c).unwrap();
        access.actor(c, user, now).unwrap();
        assert_eq!(access.0.get(&UserId(1)).map(|(e, _)| e), Some(now));
    }

    #[test]
    fn same_hashes_as_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"mot de passe", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_password("mot de passe", &theirs));
        assert!(!verify_password("mot de passf", &theirs));
        let ours = hash_password("mot de passe").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"mot de passe", &parsed)
            .is_ok());
    }

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("un mot de passe solide").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("un mot de passe solide", &h));
        assert!(!verify_password("un autre", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = random_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_secret());
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
