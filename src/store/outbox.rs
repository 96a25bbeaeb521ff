//! The mail outbox, each user's notification settings, and who can be reached by mail (the
//! contacts a notification is addressed to).
//!
//! Claiming: a worker takes due rows by setting `locked_until` (a lease) in a short
//! transaction; on PostgreSQL the rows are selected `FOR UPDATE SKIP LOCKED`, so two
//! processes never take the same row, and SQLite's single writer gives the same guarantee.
//! A worker that dies leaves its lease to expire and another takes the row again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{memberships, notification_settings, outbox, user_roles, users};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{MemberId, UserId};
use crate::error::AppResult;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub event_key: String,
    pub kind: String,
    pub recipient: String,
    pub user_id: Option<UserId>,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A message to queue: the event it tells, to whom, and its payload.
pub struct NewMessage {
    /// Names the event and the recipient: the same event never queues twice.
    pub event_key: String,
    pub kind: &'static str,
    pub recipient: String,
    pub user_id: Option<UserId>,
    pub payload: String,
    pub now: NaiveDateTime,
}

/// Queues messages in one statement (one round trip on PostgreSQL) per 500, skipping those
/// queued already for their event and recipient; returns how many were queued.
pub fn enqueue(conn: &mut DbConn, messages: &[NewMessage]) -> AppResult<usize> {
    let row = |m: &NewMessage| {
        (
            outbox::event_key.eq(m.event_key.clone()),
            outbox::kind.eq(m.kind),
            outbox::recipient.eq(m.recipient.clone()),
            outbox::user_id.eq(m.user_id),
            outbox::payload.eq(m.payload.clone()),
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(m.now),
            outbox::created_at.eq(m.now),
        )
    };
    // A statement's text depends on its number of rows. Up to four (a booking tells its
    // creator, the employee and the member), the rows go as an array: one statement shape per
    // count, prepared once per connection; longer lists are rarer and compiled each time.
    macro_rules! insert {
        ($conn:ident, $rows:expr) => {
            db_run!($conn => diesel::insert_into(outbox::table)
                .values($rows)
                .on_conflict_do_nothing()
                .execute($conn))?
        };
    }
    Ok(match messages {
        [] => 0,
        [a] => insert!(conn, row(a)),
        [a, b] => insert!(conn, [row(a), row(b)]),
        [a, b, c] => insert!(conn, [row(a), row(b), row(c)]),
        [a, b, c, d] => insert!(conn, [row(a), row(b), row(c), row(d)]),
        // Bounded statements: 500 rows are 4 500 parameters, far below either backend's limit.
        _ => {
            let mut queued = 0;
            for chunk in messages.chunks(500) {
                let rows: Vec<_> = chunk.iter().map(row).collect();
                queued += insert!(conn, &rows);
            }
            queued
        }
    })
}

/// Which of `keys` name a message queued already (sent or not, until purged).
pub fn queued_keys(
    conn: &mut DbConn,
    keys: &[String],
) -> AppResult<std::collections::HashSet<String>> {
    let mut out = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<String> = db_run!(conn => outbox::table
            .filter(outbox::event_key.eq_any(chunk))
            .select(outbox::event_key)
            .load(conn))?;
        out.extend(found);
    }
    Ok(out)
}

/// Takes up to `limit` due messages for one worker until `lease_until`, counting the attempt.
/// Runs inside the caller's write transaction.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> AppResult<Vec<OutboxRow>> {
    let due = outbox::table
        .filter(outbox::status.eq(PENDING))
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.le(now)),
        )
        .order(outbox::id)
        .limit(limit)
        .select(outbox::id);
    let ids: Vec<i64> = match conn {
        DbConn::Sqlite(c) => due.load(&mut **c)?,
        DbConn::Postgres(c) => due.for_update().skip_locked().load(&mut ***c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        db_run!(conn => diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set((
            outbox::locked_until.eq(Some(lease_until)),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .returning(OutboxRow::as_returning())
        .get_results(conn))?,
    )
}

/// Records messages as sent, those this worker's lease still holds.
pub fn mark_sent(
    conn: &mut DbConn,
    ids: &[i64],
    lease: NaiveDateTime,
    now: NaiveDateTime,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    db_run!(conn => diesel::update(outbox::table.filter(outbox::id.eq_any(ids)).filter(outbox::locked_until.eq(Some(lease))))
        .set((
            outbox::status.eq(SENT),
            outbox::sent_at.eq(Some(now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn))?;
    Ok(())
}

/// Records a failed attempt: to be tried again at `retry_at`, or set aside when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    lease: NaiveDateTime,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> AppResult<()> {
    let status = if retry_at.is_some() { PENDING } else { DEAD };
    db_run!(conn => diesel::update(outbox::table.find(id).filter(outbox::locked_until.eq(Some(lease))))
        .set((
            outbox::status.eq(status),
            outbox::last_error.eq(Some(error)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::next_attempt_at.eq(retry_at.unwrap_or(lease)),
        ))
        .execute(conn))?;
    Ok(())
}

/// Puts a message back in the queue (« renvoyer »), attempts counted afresh.
pub fn requeue(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> AppResult<bool> {
    let n = db_run!(conn => diesel::update(outbox::table.find(id).filter(outbox::status.ne(PENDING)))
        .set((
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn))?;
    Ok(n == 1)
}

pub fn find(conn: &mut DbConn, id: i64) -> AppResult<OutboxRow> {
    Ok(db_run!(conn => outbox::table.find(id).select(OutboxRow::as_select()).get_result(conn))?)
}

/// Messages with `status` (all when `None`), newest first.
pub fn list(
    conn: &mut DbConn,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<OutboxRow>> {
    Ok(db_run!(conn => {
        let mut q = outbox::table.select(OutboxRow::as_select()).into_boxed();
        if let Some(s) = status {
            q = q.filter(outbox::status.eq(s.to_string()));
        }
        q.order(outbox::id.desc()).offset(offset).limit(limit).load(conn)
    })?)
}

/// How many messages are in each state.
pub fn counts(conn: &mut DbConn) -> AppResult<Vec<(String, i64)>> {
    Ok(db_run!(conn => outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn))?)
}

/// Sent messages older than `before` are forgotten, at most `limit` of them.
pub fn purge_sent(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> AppResult<usize> {
    Ok(db_run!(conn => {
        let old: Vec<i64> = outbox::table
            .filter(outbox::status.eq(SENT))
            .filter(outbox::sent_at.lt(before))
            .select(outbox::id)
            .limit(limit)
            .load(conn)?;
        diesel::delete(outbox::table.filter(outbox::id.eq_any(old))).execute(conn)
    })?)
}

/// Someone a notification may be addressed to, with their settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub muted: String,
    /// `None`: never chose (the default applies); `Some(None)`: no reminders.
    pub reminder_hours: Option<Option<i32>>,
}

type ContactTuple = (
    UserId,
    String,
    String,
    Option<String>,
    Option<i32>,
    Option<NaiveDateTime>,
);

/// A user's notification settings as a left join reads them (all `None`: never saved).
pub type SettingsColumns = (Option<String>, Option<i32>, Option<NaiveDateTime>);

/// The contact of a user read with their notification settings (`SettingsColumns`).
pub fn contact_with(
    user_id: UserId,
    email: &str,
    name: &str,
    settings: SettingsColumns,
) -> Contact {
    let (muted, reminder, saved) = settings;
    contact((
        user_id,
        email.to_string(),
        name.to_string(),
        muted,
        reminder,
        saved,
    ))
}

fn contact((user_id, email, name, muted, reminder, saved): ContactTuple) -> Contact {
    Contact {
        user_id,
        email,
        name,
        muted: muted.unwrap_or_default(),
        reminder_hours: saved.map(|_| reminder),
    }
}

macro_rules! contacts_query {
    () => {
        users::table
            .left_join(notification_settings::table)
            .filter(users::active.eq(true))
            .select((
                users::id,
                users::email,
                users::name,
                notification_settings::muted.nullable(),
                notification_settings::reminder_hours.nullable(),
                notification_settings::updated_at.nullable(),
            ))
    };
}

/// Active users among `ids`.
pub fn contacts(conn: &mut DbConn, ids: &[UserId]) -> AppResult<Vec<Contact>> {
    let rows: Vec<ContactTuple> =
        db_run!(conn => contacts_query!().filter(users::id.eq_any(ids)).load(conn))?;
    Ok(rows.into_iter().map(contact).collect())
}

/// One active user: the statement has one shape, so it is prepared once per connection
/// (a list of ids is compiled again at every call).
pub fn contact_of(conn: &mut DbConn, id: UserId) -> AppResult<Option<Contact>> {
    let row: Option<ContactTuple> = db_run!(conn => contacts_query!()
        .filter(users::id.eq(id))
        .get_result(conn)
        .optional())?;
    Ok(row.map(contact))
}

/// Active users holding a pole-wide role.
pub fn contacts_with_role(conn: &mut DbConn, role: &str) -> AppResult<Vec<Contact>> {
    let holders = user_roles::table
        .filter(user_roles::role.eq(role.to_string()))
        .select(user_roles::user_id);
    let rows: Vec<ContactTuple> = db_run!(conn => contacts_query!()
        .filter(users::id.eq_any(holders))
        .order(users::id)
        .load(conn))?;
    Ok(rows.into_iter().map(contact).collect())
}

/// Active users of a member holding one of `roles` there.
pub fn contacts_of_member(
    conn: &mut DbConn,
    member: MemberId,
    roles: &[&str],
) -> AppResult<Vec<Contact>> {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let holders = memberships::table
        .filter(memberships::member_id.eq(member))
        .filter(memberships::role.eq_any(roles))
        .select(memberships::user_id);
    let rows: Vec<ContactTuple> = db_run!(conn => contacts_query!()
        .filter(users::id.eq_any(holders))
        .order(users::id)
        .load(conn))?;
    Ok(rows.into_iter().map(contact).collect())
}

/// A user's settings: muted kinds and reminder lead time (`None` when never set).
pub fn settings(conn: &mut DbConn, user: UserId) -> AppResult<Option<(String, Option<i32>)>> {
    Ok(db_run!(conn => notification_settings::table
        .find(user)
        .select((notification_settings::muted, notification_settings::reminder_hours))
        .get_result(conn)
        .optional())?)
}

pub fn save_settings(
    conn: &mut DbConn,
    user: UserId,
    muted: &str,
    reminder_hours: Option<i32>,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(notification_settings::table)
        .values((
            notification_settings::user_id.eq(user),
            notification_settings::muted.eq(muted),
            notification_settings::reminder_hours.eq(reminder_hours),
            notification_settings::updated_at.eq(now),
        ))
        .on_conflict(notification_settings::user_id)
        .do_update()
        .set((
            notification_settings::muted.eq(muted),
            notification_settings::reminder_hours.eq(reminder_hours),
            notification_settings::updated_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}
