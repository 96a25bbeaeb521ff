//! Sessions, API tokens, login attempts and password-reset links. Secrets are stored only as
//! SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_tokens, login_attempts, password_resets, sessions, users};
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

pub fn find_session(
    conn: &mut DbConn,
    id_hash: &str,
    now: NaiveDateTime,
) -> AppResult<Option<Session>> {
    Ok(db_run!(conn => sessions::table
        .filter(sessions::id.eq(id_hash))
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .get_result(conn)
        .optional())?)
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

pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<usize> {
    Ok(
        db_run!(conn => diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn))?,
    )
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

/// The live (not revoked, not expired) token with this hash and its owner, in one query: it
/// runs on every API request.
pub fn find_live_token(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> AppResult<Option<(ApiToken, User)>> {
    Ok(db_run!(conn => api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .select((ApiToken::as_select(), User::as_select()))
        .get_result(conn)
        .optional())?)
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

pub fn record_attempt(
    conn: &mut DbConn,
    email: &str,
    ip: &str,
    succeeded: bool,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::email.eq(email),
            login_attempts::ip.eq(ip),
            login_attempts::succeeded.eq(succeeded),
            login_attempts::attempted_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

/// Failed attempts since `since` for this e-mail and for this address.
pub fn recent_failures(
    conn: &mut DbConn,
    email: &str,
    ip: &str,
    since: NaiveDateTime,
) -> AppResult<(i64, i64)> {
    Ok(db_run!(conn => {
        let by_email: i64 = login_attempts::table
            .filter(login_attempts::email.eq(email))
            .filter(login_attempts::succeeded.eq(false))
            .filter(login_attempts::attempted_at.gt(since))
            .count()
            .get_result(conn)?;
        let by_ip: i64 = login_attempts::table
            .filter(login_attempts::ip.eq(ip))
            .filter(login_attempts::succeeded.eq(false))
            .filter(login_attempts::attempted_at.gt(since))
            .count()
            .get_result(conn)?;
        Ok::<_, diesel::result::Error>((by_email, by_ip))
    })?)
}

/// A success clears the account's failure count, so a user who finally remembers is not
/// locked by their earlier typos.
pub fn clear_failures(conn: &mut DbConn, email: &str) -> AppResult<()> {
    db_run!(conn => diesel::delete(
        login_attempts::table.filter(login_attempts::email.eq(email)).filter(login_attempts::succeeded.eq(false)),
    )
    .execute(conn))?;
    Ok(())
}

/// Login attempts older than `before` no longer count for throttling.
pub fn purge_attempts(conn: &mut DbConn, before: NaiveDateTime) -> AppResult<usize> {
    Ok(
        db_run!(conn => diesel::delete(login_attempts::table.filter(login_attempts::attempted_at.lt(before))).execute(conn))?,
    )
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
