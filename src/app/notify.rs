//! Who hears about what. The use cases that change bookings, assignments and months call one
//! function here inside their write transaction: the messages are queued in the outbox with
//! the change and leave only if it commits (`app::outbox` sends them). Each message is the
//! facts of the event (`domain::notice::Notice`), for one recipient, under a key naming the
//! event and the recipient, so the same event never queues twice. All the messages of one
//! change go in one statement. A new booking is told from what it read and wrote
//! (`booked_tx`); other changes read the bookings they name (`bookings_changed_tx`).
//!
//! Also here: each user's notification preferences, and the reminders job.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::authz::Actor;
use super::App;
use crate::app::auth::sha256_hex;
use crate::domain::ids::{MemberId, UserId};
use crate::domain::notice::{
    self, BookingFacts, Notice, NoticeKind, StatementFacts, DEFAULT_REMINDER_HOURS, REMINDER_HOURS,
};
use crate::domain::resource::ResourceKind;
use crate::domain::role::{MemberRole, PoleRole};
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as bookings_store, Labelled};
use crate::store::outbox::{self as store, Contact, NewMessage};
use crate::store::{employees, from_db, to_db, DbConn};

use super::bookings::BookingEnv;

/// Someone a message goes to: a user (with their preferences) or a bare address (an
/// employee, a member's contact address).
enum Recipient {
    User(Contact),
    Address { email: String, name: String },
}

impl Recipient {
    fn email(&self) -> &str {
        match self {
            Recipient::User(c) => &c.email,
            Recipient::Address { email, .. } => email,
        }
    }

    fn wants(&self, kind: NoticeKind) -> bool {
        match self {
            Recipient::User(c) => !notice::parse_muted(&c.muted).contains(&kind),
            Recipient::Address { .. } => true,
        }
    }

    /// The part of the event key naming the recipient.
    fn tag(&self) -> String {
        match self {
            Recipient::User(c) => format!("u{}", c.user_id.0),
            Recipient::Address { email, .. } => {
                format!("e{}", &sha256_hex(&email.to_lowercase())[..12])
            }
        }
    }
}

/// The facts of a booking as messages tell them.
fn facts(b: &Labelled) -> BookingFacts {
    BookingFacts {
        booking_id: b.id,
        sequence: b.sequence,
        resource_name: b.resource_name.clone(),
        location: b.location.clone(),
        member_name: b.member_name.clone(),
        start: from_db(b.start_at),
        end: from_db(b.end_at),
        quantity: b.quantity,
        purpose: b.purpose.clone(),
        previous: None,
        stamp: from_db(b.updated_at),
    }
}

/// One event about some bookings (one, or the occurrences of a series) to tell.
struct Event<'a> {
    kind: NoticeKind,
    env: &'a BookingEnv,
    bookings: Vec<BookingFacts>,
    by: Option<String>,
    reason: Option<String>,
    employee: Option<String>,
    statement: Option<StatementFacts>,
    link: String,
}

impl Event<'_> {
    fn key(&self, to: &Recipient) -> String {
        let subject = match (self.bookings.first(), self.bookings.last(), &self.statement) {
            (Some(first), _, _) if self.kind == NoticeKind::Reminder => {
                format!("b{}.t{}", first.booking_id.0, first.start.timestamp())
            }
            (Some(first), Some(last), _) => {
                let seq = self.bookings.iter().map(|b| b.sequence).max().unwrap_or(0);
                if first.booking_id == last.booking_id {
                    format!("b{}.s{seq}", first.booking_id.0)
                } else {
                    format!("b{}-{}.s{seq}", first.booking_id.0, last.booking_id.0)
                }
            }
            (_, _, Some(s)) => format!("m{}.{}", s.month, s.closing),
            _ => "x".into(),
        };
        format!("{}.{subject}.{}", self.kind.as_str(), to.tag())
    }

    /// The message to `to`; `None` when the recipient turned this kind off.
    fn message(&self, to: &Recipient) -> AppResult<Option<NewMessage>> {
        if !to.wants(self.kind) {
            return Ok(None);
        }
        let (name, has_account, user_id) = match to {
            Recipient::User(c) => (c.name.clone(), true, Some(c.user_id)),
            Recipient::Address { name, .. } => (name.clone(), false, None),
        };
        let notice = Notice {
            kind: self.kind,
            recipient_name: name,
            tz: self.env.tz.name().to_string(),
            bookings: self.bookings.clone(),
            by: self.by.clone(),
            reason: self.reason.clone(),
            employee: self.employee.clone(),
            statement: self.statement.clone(),
            link: self.link.clone(),
            has_account,
        };
        Ok(Some(NewMessage {
            event_key: self.key(to),
            kind: self.kind.as_str(),
            recipient: to.email().to_string(),
            user_id,
            payload: serde_json::to_string(&notice).map_err(AppError::internal)?,
            // Operational time, not the pole's business clock: retries and leases are
            // compared across processes.
            now: to_db(Utc::now()),
        }))
    }
}

fn user(conn: &mut DbConn, id: Option<UserId>) -> AppResult<Option<Recipient>> {
    let Some(id) = id else { return Ok(None) };
    Ok(store::contact_of(conn, id)?.map(Recipient::User))
}

/// The name to show as the author of a change, when the recipient did not make it.
fn by(actor: Option<&Actor>, recipient: &Recipient) -> Option<String> {
    match (actor, recipient) {
        (Some(a), Recipient::User(c)) if a.user_id == c.user_id => None,
        (Some(a), _) => Some(a.name.clone()),
        (None, _) => Some("la coordination (automatiquement)".into()),
    }
}

fn link_of(rows: &[Labelled]) -> String {
    match rows.first() {
        Some(b) => format!("/bookings/{}", b.id.0),
        None => "/bookings".into(),
    }
}

/// Where a shared employee hears about their assignments.
#[derive(Clone, Copy)]
pub enum EmployeeAddress<'a> {
    /// Read with the change.
    Read,
    /// As the caller read it in the same transaction (`None`: the employee has none).
    Known(Option<&'a str>),
}

/// The employee and the member's contact address hear about assignments of shared staff.
fn assignment_recipients(
    conn: &mut DbConn,
    b: &Labelled,
    employee: EmployeeAddress,
) -> AppResult<Vec<Recipient>> {
    let mut out = Vec::new();
    let email = match employee {
        EmployeeAddress::Read => employees::email_of(conn, b.resource_id)?,
        EmployeeAddress::Known(email) => email.map(str::to_string),
    };
    if let Some(email) = email.filter(|e| !e.trim().is_empty()) {
        out.push(Recipient::Address {
            email,
            name: b.resource_name.clone(),
        });
    }
    if let Some(email) = b.member_email.clone().filter(|e| !e.trim().is_empty()) {
        if !out.iter().any(|r| r.email().eq_ignore_ascii_case(&email)) {
            out.push(Recipient::Address {
                email,
                name: b.member_name.clone(),
            });
        }
    }
    Ok(out)
}

/// Groups rows by who made them, keeping order.
fn by_creator(rows: Vec<Labelled>) -> Vec<(Option<UserId>, Vec<Labelled>)> {
    let mut groups: Vec<(Option<UserId>, Vec<Labelled>)> = Vec::new();
    for r in rows {
        match groups.iter_mut().find(|(c, _)| *c == r.created_by) {
            Some((_, g)) => g.push(r),
            None => groups.push((r.created_by, vec![r])),
        }
    }
    groups
}

/// What a change of bookings is, for the messages about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Booked,
    Moved,
    Cancelled,
    Approved,
    Rejected,
}

/// Queues the messages about a change of these bookings (one booking, or occurrences of one
/// series), made by `actor` (`None`: the automatic rejection). `previous` gives where moved
/// bookings were; `reason` the reason of a rejection.
pub fn bookings_changed_tx(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    change: Change,
    ids: &[crate::domain::ids::BookingId],
    previous: &[(crate::domain::ids::BookingId, DateTime<Utc>, DateTime<Utc>)],
    reason: Option<&str>,
    env: &BookingEnv,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = bookings_store::labelled(conn, ids)?;
    let told = Told {
        actor,
        change,
        previous,
        reason,
        employee: EmployeeAddress::Read,
        env,
    };
    told.queue(conn, rows)
}

/// Queues the messages about bookings just made, told from what the booking read and wrote
/// in the same transaction (`rows`, labelled; the shared employee's address) rather than read
/// again: the writer's transaction is the one every booking waits for.
pub fn booked_tx(
    conn: &mut DbConn,
    actor: &Actor,
    rows: Vec<Labelled>,
    employee: EmployeeAddress,
    env: &BookingEnv,
) -> AppResult<()> {
    let told = Told {
        actor: Some(actor),
        change: Change::Booked,
        previous: &[],
        reason: None,
        employee,
        env,
    };
    told.queue(conn, rows)
}

/// A change of bookings to tell, and what telling it needs besides the bookings.
struct Told<'a> {
    actor: Option<&'a Actor>,
    change: Change,
    previous: &'a [(crate::domain::ids::BookingId, DateTime<Utc>, DateTime<Utc>)],
    reason: Option<&'a str>,
    employee: EmployeeAddress<'a>,
    env: &'a BookingEnv,
}

impl Told<'_> {
    /// Queues, in one statement, every message about `rows`.
    fn queue(&self, conn: &mut DbConn, rows: Vec<Labelled>) -> AppResult<()> {
        let mut messages = Vec::new();
        for (creator, rows) in by_creator(rows) {
            self.messages(conn, creator, &rows, &mut messages)?;
        }
        store::enqueue(conn, &messages)?;
        Ok(())
    }

    /// The messages about the bookings of one creator.
    fn messages(
        &self,
        conn: &mut DbConn,
        creator: Option<UserId>,
        rows: &[Labelled],
        out: &mut Vec<NewMessage>,
    ) -> AppResult<()> {
        let (actor, change) = (self.actor, self.change);
        let mut all_facts: Vec<BookingFacts> = rows.iter().map(facts).collect();
        for f in &mut all_facts {
            f.previous = self
                .previous
                .iter()
                .find(|(id, _, _)| *id == f.booking_id)
                .map(|(_, s, e)| (*s, *e));
        }
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let pending = first.status == crate::domain::status::BookingStatus::Pending;
        let kind = match change {
            Change::Booked if pending => NoticeKind::BookingPending,
            Change::Booked => NoticeKind::BookingConfirmed,
            Change::Moved => NoticeKind::BookingMoved,
            Change::Cancelled => NoticeKind::BookingCancelled,
            Change::Approved => NoticeKind::BookingApproved,
            Change::Rejected => NoticeKind::BookingRejected,
        };
        let event = |kind| Event {
            kind,
            env: self.env,
            bookings: all_facts.clone(),
            by: None,
            reason: self.reason.map(str::to_string),
            employee: None,
            statement: None,
            link: link_of(rows),
        };
        // The actor's own contact came with their session or token.
        let own = actor
            .filter(|a| creator == Some(a.user_id))
            .and_then(|a| a.contact.clone());
        let to = match own {
            Some(c) => Some(Recipient::User(c)),
            None => user(conn, creator)?,
        };
        if let Some(to) = to {
            let mut e = event(kind);
            e.by = by(actor, &to);
            out.extend(e.message(&to)?);
        }
        if kind == NoticeKind::BookingPending {
            let mut managers = store::contacts_with_role(conn, PoleRole::ResourceManager.as_str())?;
            if managers.is_empty() {
                managers = store::contacts_with_role(conn, PoleRole::Admin.as_str())?;
            }
            for m in managers {
                let to = Recipient::User(m);
                let mut e = event(NoticeKind::ApprovalRequested);
                e.by = actor.map(|a| a.name.clone());
                e.link = "/approvals".into();
                out.extend(e.message(&to)?);
            }
        }
        // Shared staff: the employee and the member hear about what is (or stops being)
        // planned; a request still pending is not yet an assignment.
        let assignment = match (change, pending) {
            (Change::Booked | Change::Approved, false) => Some(NoticeKind::AssignmentCreated),
            (Change::Moved, false) => Some(NoticeKind::AssignmentChanged),
            (Change::Cancelled, _) => Some(NoticeKind::AssignmentCancelled),
            _ => None,
        };
        // Training and absences are the employer group's own records, not assignments.
        let work = first.activity == crate::domain::labour::Activity::Work;
        if let (ResourceKind::Staff, Some(kind), true) = (first.resource_kind, assignment, work) {
            for to in assignment_recipients(conn, first, self.employee)? {
                let mut e = event(kind);
                e.by = actor.map(|a| a.name.clone());
                e.employee = Some(first.resource_name.clone());
                out.extend(e.message(&to)?);
            }
        }
        Ok(())
    }
}

/// Queues the mail carrying a password-reset link (`link`, a path holding the secret) to the
/// user, in the transaction that recorded the link (`reset_id`).
pub fn password_reset_tx(
    conn: &mut DbConn,
    user_id: UserId,
    reset_id: i64,
    link: &str,
    tz: &str,
) -> AppResult<bool> {
    let Some(Recipient::User(c)) = user(conn, Some(user_id))? else {
        return Ok(false);
    };
    let notice = Notice {
        kind: NoticeKind::PasswordReset,
        recipient_name: c.name.clone(),
        tz: tz.to_string(),
        bookings: Vec::new(),
        by: None,
        reason: None,
        employee: None,
        statement: None,
        link: link.to_string(),
        has_account: true,
    };
    let queued = store::enqueue(
        conn,
        &[NewMessage {
            event_key: format!("password_reset.r{reset_id}.u{}", user_id.0),
            kind: NoticeKind::PasswordReset.as_str(),
            recipient: c.email.clone(),
            user_id: Some(user_id),
            payload: serde_json::to_string(&notice).map_err(AppError::internal)?,
            now: to_db(Utc::now()),
        }],
    )?;
    Ok(queued == 1)
}

/// Queues « relevé disponible » to the member admins of each member of a closed month.
pub fn statements_ready_tx(
    conn: &mut DbConn,
    month: &str,
    chain_hash: &str,
    totals: &[(MemberId, String, i64)],
    env: &BookingEnv,
) -> AppResult<()> {
    let mut messages = Vec::new();
    for (member_id, member_name, total) in totals {
        let admins =
            store::contacts_of_member(conn, *member_id, &[MemberRole::MemberAdmin.as_str()])?;
        for c in admins {
            let to = Recipient::User(c);
            let e = Event {
                kind: NoticeKind::StatementReady,
                env,
                bookings: Vec::new(),
                by: None,
                reason: None,
                employee: None,
                statement: Some(StatementFacts {
                    month: month.to_string(),
                    member_name: member_name.clone(),
                    total_cents: *total,
                    closing: chain_hash.chars().take(12).collect(),
                }),
                link: format!("/allocations/{month}/members/{}", member_id.0),
            };
            messages.extend(e.message(&to)?);
        }
    }
    store::enqueue(conn, &messages)?;
    Ok(())
}

/// Queues the reminders due at `now`: for each active booking starting within the longest
/// lead time, to its author when their chosen lead time has come (unless the booking was made
/// after that moment). Idempotent (the event key
/// names the booking and its start), so every instance may run it every minute.
pub async fn queue_reminders(app: &App) -> AppResult<usize> {
    let env = BookingEnv::of(app);
    let longest = REMINDER_HOURS.iter().copied().max().unwrap_or(48);
    // Which reminders have come due and are not queued yet, read beside the writer: the
    // window holds every booking of the next two days, and all but a few were reminded at
    // an earlier round.
    let due = app
        .db()
        .run(move |c| {
            let now = env.now;
            let rows = bookings_store::starting_between(
                c,
                to_db(now),
                to_db(now + Duration::hours(i64::from(longest))),
            )?;
            let creators: Vec<UserId> = rows.iter().filter_map(|r| r.created_by).collect();
            let contacts = store::contacts(c, &creators)?;
            let mut due = Vec::new();
            for r in rows {
                let Some(contact) = contacts.iter().find(|k| Some(k.user_id) == r.created_by)
                else {
                    continue;
                };
                let lead = contact.reminder_hours.unwrap_or(DEFAULT_REMINDER_HOURS);
                let Some(hours) = lead else { continue };
                let due_at = from_db(r.start_at) - Duration::hours(i64::from(hours));
                // Not due yet; or booked within the lead time, when the confirmation
                // just said it all.
                if due_at > now || from_db(r.created_at) > due_at {
                    continue;
                }
                let to = Recipient::User(contact.clone());
                let key = reminder(&env, &r).key(&to);
                due.push((key, r, to));
            }
            let keys: Vec<String> = due.iter().map(|(k, _, _)| k.clone()).collect();
            let queued = store::queued_keys(c, &keys)?;
            due.retain(|(k, _, _)| !queued.contains(k));
            Ok(due)
        })
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    app.db()
        .write(move |c| {
            let mut messages = Vec::new();
            for (_, r, to) in &due {
                messages.extend(reminder(&env, r).message(to)?);
            }
            // Those queued meanwhile by another process are skipped: the key keeps each once.
            store::enqueue(c, &messages)
        })
        .await
}

/// The reminder of one booking. The start, not the revision, names it: moving a booking to
/// another time reminds again, renaming its purpose does not.
fn reminder<'a>(env: &'a BookingEnv, r: &Labelled) -> Event<'a> {
    Event {
        kind: NoticeKind::Reminder,
        env,
        bookings: vec![facts(r)],
        by: None,
        reason: None,
        employee: None,
        statement: None,
        link: format!("/bookings/{}", r.id.0),
    }
}

/// A user's notification preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preferences {
    /// Kinds the user does not want.
    pub muted: Vec<NoticeKind>,
    /// Hours before each booking to be reminded; `null` for no reminder.
    pub reminder_hours: Option<i32>,
}

pub async fn preferences(app: &App, actor: &Actor) -> AppResult<Preferences> {
    let user = actor.user_id;
    app.db()
        .run(move |c| {
            Ok(match store::settings(c, user)? {
                Some((muted, reminder)) => Preferences {
                    muted: notice::parse_muted(&muted),
                    reminder_hours: reminder,
                },
                None => Preferences {
                    muted: Vec::new(),
                    reminder_hours: DEFAULT_REMINDER_HOURS,
                },
            })
        })
        .await
}

pub async fn save_preferences(app: &App, actor: &Actor, p: Preferences) -> AppResult<Preferences> {
    if let Some(h) = p.reminder_hours {
        if !REMINDER_HOURS.contains(&h) {
            return Err(AppError::validation(
                "reminder_hours",
                format!(
                    "Délai de rappel attendu parmi {} heures, ou aucun rappel.",
                    REMINDER_HOURS.map(|h| h.to_string()).join(", ")
                ),
            ));
        }
    }
    if p.muted.contains(&NoticeKind::Reminder) {
        return Err(AppError::validation(
            "muted",
            "Les rappels se règlent par leur délai (aucun rappel : reminder_hours vide).",
        ));
    }
    let user = actor.user_id;
    let now = app.now();
    let muted = notice::format_muted(&p.muted);
    app.db()
        .run(move |c| {
            c.write(|c| store::save_settings(c, user, &muted, p.reminder_hours, to_db(now)))
        })
        .await?;
    preferences(app, actor).await
}
