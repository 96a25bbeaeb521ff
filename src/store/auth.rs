//! Sessions, API tokens, sign-in throttle counters and password-reset links. Secrets are
//! stored only as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::outbox::SettingsColumns;
use super::schema::{
    access_epoch, api_tokens, login_throttles, notification_settings, password_resets, sessions,
    users,
};
use super::users::User;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::UserId;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_session(
    conn: &mut DbConn,
    id_hash: &str,
    user_id: UserId,
    csrf: &str,
    now: NaiveDateTime,
    expires: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(csrf),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires),
        ))
        .execute(conn))?;
    Ok(())
}

/// Who is behind a live session or token: the user, their notification settings (the
/// messages about their own changes are addressed with them) and the access epoch.
pub struct Owner {
    pub user: User,
    pub settings: SettingsColumns,
    pub access_epoch: i64,
}

macro_rules! owner_columns {
    () => {
        (
            User::as_select(),
            notification_settings::muted.nullable(),
            notification_settings::reminder_hours.nullable(),
            notification_settings::updated_at.nullable(),
            access_epoch::table
                .select(access_epoch::version)
                .single_value(),
        )
    };
}

type OwnerTuple = (
    User,
    Option<String>,
    Option<i32>,
    Option<NaiveDateTime>,
    Option<i64>,
);

fn owner((user, muted, reminder, saved, epoch): OwnerTuple) -> Owner {
    Owner {
        user,
        settings: (muted, reminder, saved),
        access_epoch: epoch.unwrap_or(0),
    }
}

/// The live session with this hash and its owner (see `Owner`), in one query: it runs on
/// every page request.
pub fn find_live_session(
    conn: &mut DbConn,
    id_hash: &str,
    now: NaiveDateTime,
) -> AppResult<Option<(Session, Owner)>> {
    let found: Option<(Session, OwnerTuple)> = db_run!(conn => sessions::table
        .inner_join(users::table)
        .left_join(notification_settings::table.on(notification_settings::user_id.eq(users::id)))
        .filter(sessions::id.eq(id_hash))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), owner_columns!()))
        .get_result(conn)
        .optional())?;
    Ok(found.map(|(s, o)| (s, owner(o))))
}

pub fn delete_session(conn: &mut DbConn, id_hash: &str) -> AppResult<()> {
    db_run!(conn => diesel::delete(sessions::table.find(id_hash)).execute(conn))?;
    Ok(())
}

/// Ends every session of a user but `keep` (after a password change).
pub fn delete_user_sessions(
    conn: &mut DbConn,
    user_id: UserId,
    keep: Option<&str>,
) -> AppResult<()> {
    db_run!(conn => {
        let q = sessions::table.filter(sessions::user_id.eq(user_id)).into_boxed();
        let q = match keep { Some(k) => q.filter(sessions::id.ne(k)), None => q };
        let ids: Vec<String> = q.select(sessions::id).load(conn)?;
        diesel::delete(sessions::table.filter(sessions::id.eq_any(ids))).execute(conn)
    })?;
    Ok(())
}

/// Sessions expired at `now` are forgotten, at most `limit` of them.
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> AppResult<usize> {
    Ok(db_run!(conn => {
        let old: Vec<String> = sessions::table
            .filter(sessions::expires_at.le(now))
            .select(sessions::id)
            .limit(limit)
            .load(conn)?;
        diesel::delete(sessions::table.filter(sessions::id.eq_any(old))).execute(conn)
    })?)
}

pub fn insert_token(
    conn: &mut DbConn,
    user_id: UserId,
    name: &str,
    hash: &str,
    now: NaiveDateTime,
    expires: NaiveDateTime,
) -> AppResult<ApiToken> {
    Ok(db_run!(conn => diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(hash),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(expires),
        ))
        .returning(ApiToken::as_returning())
        .get_result(conn))?)
}

/// The live (not revoked, not expired) token with this hash and its owner (see `Owner`), in
/// one query: it runs on every API request.
pub fn find_live_token(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> AppResult<Option<(ApiToken, Owner)>> {
    let found: Option<(ApiToken, OwnerTuple)> = db_run!(conn => api_tokens::table
        .inner_join(users::table)
        .left_join(notification_settings::table.on(notification_settings::user_id.eq(users::id)))
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .select((ApiToken::as_select(), owner_columns!()))
        .get_result(conn)
        .optional())?;
    Ok(found.map(|(t, o)| (t, owner(o))))
}

pub fn touch_token(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> AppResult<()> {
    db_run!(conn => diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(now)).execute(conn))?;
    Ok(())
}

pub fn list_tokens(conn: &mut DbConn, user_id: UserId) -> AppResult<Vec<ApiToken>> {
    Ok(db_run!(conn => api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::created_at.desc())
        .select(ApiToken::as_select())
        .load(conn))?)
}

/// Revokes a token of this user; false when there was none to revoke.
pub fn revoke_token(
    conn: &mut DbConn,
    user_id: UserId,
    id: i64,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let n = db_run!(conn => diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn))?;
    Ok(n == 1)
}

/// One throttle counter as stored (see `domain::throttle`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttles)]
pub struct ThrottleRow {
    pub scope: String,
    pub email: String,
    pub ip: String,
    pub failures: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: NaiveDateTime,
}

/// A counter's key: scope (`sign_in`, `reset`), e-mail ('' for an address-wide counter) and
/// client address ('' for an account-wide counter).
pub type ThrottleKey = (String, String, String);

/// Reads the counter of `key` for the caller's write transaction, creating it when missing, in
/// one statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`). The no-op update is what
/// makes it a lock: on PostgreSQL it holds the row until the transaction ends, so concurrent
/// attempts on one key, from any process, are decided one after the other; on SQLite the
/// transaction already holds the write lock (BEGIN IMMEDIATE). Callers lock keys in one
/// order (sorted), so two attempts never wait for each other in a cycle.
pub fn lock_throttle(
    conn: &mut DbConn,
    key: &ThrottleKey,
    now: NaiveDateTime,
) -> AppResult<ThrottleRow> {
    use diesel::upsert::excluded;
    Ok(db_run!(conn => diesel::insert_into(login_throttles::table)
        .values((
            login_throttles::scope.eq(&key.0),
            login_throttles::email.eq(&key.1),
            login_throttles::ip.eq(&key.2),
            login_throttles::failures.eq(0),
            login_throttles::next_attempt_at.eq(now),
            login_throttles::last_attempt_at.eq(now),
        ))
        .on_conflict((login_throttles::scope, login_throttles::email, login_throttles::ip))
        .do_update()
        .set(login_throttles::scope.eq(excluded(login_throttles::scope)))
        .returning(ThrottleRow::as_returning())
        .get_result(conn))?)
}

/// Writes a counter back (after a reservation).
pub fn save_throttle(
    conn: &mut DbConn,
    key: &ThrottleKey,
    failures: i32,
    next_attempt_at: NaiveDateTime,
    last_attempt_at: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::update(login_throttles::table.find((&key.0, &key.1, &key.2)))
        .set((
            login_throttles::failures.eq(failures),
            login_throttles::next_attempt_at.eq(next_attempt_at),
            login_throttles::last_attempt_at.eq(last_attempt_at),
        ))
        .execute(conn))?;
    Ok(())
}

/// Takes back one reserved attempt that turned out to be a success.
pub fn release_throttle(conn: &mut DbConn, key: &ThrottleKey) -> AppResult<()> {
    db_run!(conn => diesel::update(
        login_throttles::table
            .find((&key.0, &key.1, &key.2))
            .filter(login_throttles::failures.gt(0)),
    )
    .set(login_throttles::failures.eq(login_throttles::failures - 1))
    .execute(conn))?;
    Ok(())
}

/// Forgets a counter (a success resets the pair's).
pub fn delete_throttle(conn: &mut DbConn, key: &ThrottleKey) -> AppResult<()> {
    db_run!(conn => diesel::delete(login_throttles::table.find((&key.0, &key.1, &key.2))).execute(conn))?;
    Ok(())
}

/// Forgets every counter of an account in a scope, from every address (a password reset).
pub fn clear_account_throttles(conn: &mut DbConn, scope: &str, email: &str) -> AppResult<()> {
    db_run!(conn => diesel::delete(
        login_throttles::table
            .filter(login_throttles::scope.eq(scope))
            .filter(login_throttles::email.eq(email)),
    )
    .execute(conn))?;
    Ok(())
}

/// Counters untouched since `before` are forgotten by every rule.
pub fn purge_throttles(conn: &mut DbConn, before: NaiveDateTime) -> AppResult<usize> {
    Ok(db_run!(conn => diesel::delete(
        login_throttles::table.filter(login_throttles::last_attempt_at.lt(before)),
    )
    .execute(conn))?)
}

/// Revokes every live token of a user (password changed or reset).
pub fn revoke_user_tokens(
    conn: &mut DbConn,
    user_id: UserId,
    now: NaiveDateTime,
) -> AppResult<usize> {
    Ok(db_run!(conn => diesel::update(
        api_tokens::table.filter(api_tokens::user_id.eq(user_id)).filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn))?)
}

/// Records a password-reset link sent to a user; returns its id.
pub fn insert_reset(
    conn: &mut DbConn,
    user_id: UserId,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> AppResult<i64> {
    Ok(db_run!(conn => diesel::insert_into(password_resets::table)
        .values((
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(token_hash),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .returning(password_resets::id)
        .get_result(conn))?)
}

/// The user of a reset link that is neither used nor expired.
pub fn live_reset(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> AppResult<Option<(i64, UserId)>> {
    Ok(db_run!(conn => password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .select((password_resets::id, password_resets::user_id))
        .first(conn)
        .optional())?)
}

/// Spends a live link: true for the one caller that did (a second use, even concurrent,
/// finds it spent). Every other live link of the user ends with it.
pub fn use_reset(
    conn: &mut DbConn,
    id: i64,
    user_id: UserId,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let n = db_run!(conn => diesel::update(
        password_resets::table
            .filter(password_resets::id.eq(id))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn))?;
    if n == 1 {
        db_run!(conn => diesel::update(
            password_resets::table
                .filter(password_resets::user_id.eq(user_id))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(now))
        .execute(conn))?;
    }
    Ok(n == 1)
}

/// Links that expired more than a day ago are of no use to anyone.
pub fn purge_resets(conn: &mut DbConn, before: NaiveDateTime) -> AppResult<usize> {
    Ok(db_run!(conn => diesel::delete(
        password_resets::table.filter(password_resets::expires_at.lt(before)),
    )
    .execute(conn))?)
}
