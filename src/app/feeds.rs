//! Calendar feeds: a secret URL per resource, member, employee or user, made by a user and
//! read with that user's eyes (other members' bookings show as « Réservé », as in the pages).
//! Posting again for the same scope regenerates the URL; the old one then answers 404.
//!
//! Reading is split for cheap polling: `version` (the token and one aggregate query) lets
//! the web answer `304 Not Modified`; `content` loads the events only when something changed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{random_secret, sha256_hex};
use super::authz::{self, Actor};
use super::App;
use crate::domain::calendar::{in_feed, CalEvent, EventFacts, FEED_PAST_DAYS};
use crate::domain::ids::{MemberId, ResourceId, UserId};
use crate::domain::resource::ResourceKind;
use crate::error::{AppError, AppResult};
use crate::store::feeds::{self as store, FeedFilter, FeedRow};
use crate::store::{from_db, members, resources, to_db, users, DbConn};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedScope {
    Resource,
    Member,
    Employee,
    User,
}

impl FeedScope {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedScope::Resource => "resource",
            FeedScope::Member => "member",
            FeedScope::Employee => "employee",
            FeedScope::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<FeedScope> {
        [
            FeedScope::Resource,
            FeedScope::Member,
            FeedScope::Employee,
            FeedScope::User,
        ]
        .into_iter()
        .find(|f| f.as_str() == s.trim())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedRequest {
    pub scope: FeedScope,
    /// The resource, member, employee (its resource id) or user the feed is about.
    pub id: i64,
}

/// A feed of the actor's, with its secret token (the web makes the URL of it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedView {
    pub id: i64,
    pub scope: FeedScope,
    pub scope_id: i64,
    /// What the feed shows, in words (« Salle Jaurès », « Mes réservations »).
    pub name: String,
    #[serde(skip)]
    pub token: String,
    pub created_at: DateTime<Utc>,
}

/// Checks the actor may follow this scope; returns its name and what it selects.
fn authorise(
    conn: &mut DbConn,
    actor: &Actor,
    scope: FeedScope,
    id: i64,
) -> AppResult<(String, FeedFilter)> {
    match scope {
        FeedScope::Resource | FeedScope::Employee => {
            let r = resources::find(conn, ResourceId(id))?.row;
            let staff = r.kind == ResourceKind::Staff;
            if staff != (scope == FeedScope::Employee) {
                return Err(AppError::validation(
                    "scope",
                    "Un salarié partagé se suit avec « employee », une autre ressource avec « resource ».",
                ));
            }
            // Everyone sees when a resource is booked; an employee's whole week is for those
            // who plan it.
            if staff {
                authz::require(authz::plans_staff(actor, r.employer_member_id))?;
            }
            Ok((r.name, FeedFilter::Resource(r.id)))
        }
        FeedScope::Member => {
            let m = MemberId(id);
            authz::require(authz::can_see_booking_details(actor, m))?;
            let member = members::find(conn, m)?;
            Ok((member.name, FeedFilter::Member(m)))
        }
        FeedScope::User => {
            if UserId(id) != actor.user_id {
                return Err(AppError::Forbidden);
            }
            Ok((
                "Mes réservations".into(),
                FeedFilter::CreatedBy(actor.user_id),
            ))
        }
    }
}

fn view(conn: &mut DbConn, actor: &Actor, row: FeedRow) -> AppResult<Option<FeedView>> {
    let Some(scope) = FeedScope::parse(&row.scope) else {
        return Ok(None);
    };
    let name = match authorise(conn, actor, scope, row.scope_id) {
        Ok((name, _)) => name,
        // A scope since removed, or no longer allowed: listed so it can be deleted.
        Err(_) => "(inaccessible)".into(),
    };
    Ok(Some(FeedView {
        id: row.id,
        scope,
        scope_id: row.scope_id,
        name,
        token: row.token,
        created_at: from_db(row.created_at),
    }))
}

/// Creates the actor's feed of a scope, or regenerates its URL.
pub async fn create(app: &App, actor: &Actor, req: FeedRequest) -> AppResult<FeedView> {
    let actor = actor.clone();
    let now = app.now();
    let created = app
        .db()
        .run(move |c| {
            authorise(c, &actor, req.scope, req.id)?;
            let token = random_secret();
            let row = c.write(|c| {
                store::replace(
                    c,
                    actor.user_id,
                    req.scope.as_str(),
                    req.id,
                    &token,
                    to_db(now),
                )
            })?;
            view(c, &actor, row)?.ok_or_else(|| AppError::internal("feed scope unreadable"))
        })
        .await;
    forget_versions(app);
    created
}

/// The actor's feeds.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<FeedView>> {
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let mut out = Vec::new();
            for row in store::of_user(c, actor.user_id)? {
                out.extend(view(c, &actor, row)?);
            }
            Ok(out)
        })
        .await
}

/// The actor's feed of one scope, if they made one.
pub async fn find(
    app: &App,
    actor: &Actor,
    scope: FeedScope,
    id: i64,
) -> AppResult<Option<FeedView>> {
    Ok(list(app, actor)
        .await?
        .into_iter()
        .find(|f| f.scope == scope && f.scope_id == id))
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> AppResult<()> {
    let user = actor.user_id;
    let deleted = app
        .db()
        .run(move |c| c.write(|c| store::delete(c, id, user)))
        .await?;
    forget_versions(app);
    if deleted {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// What a feed's content depends on, as an entity tag, and its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedVersion {
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

fn filter_of(row: &FeedRow) -> Option<FeedFilter> {
    match FeedScope::parse(&row.scope)? {
        FeedScope::Resource | FeedScope::Employee => {
            Some(FeedFilter::Resource(ResourceId(row.scope_id)))
        }
        FeedScope::Member => Some(FeedFilter::Member(MemberId(row.scope_id))),
        FeedScope::User => Some(FeedFilter::CreatedBy(row.user_id)),
    }
}

/// The feed window starts at the beginning of a day, so that the version changes at most
/// once a day by the passing of time.
fn since(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = (now - Duration::days(FEED_PAST_DAYS)).date_naive();
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The version of a feed as its owner now sees it: `None` once the owner is deactivated.
fn version_on(
    conn: &mut DbConn,
    row: &FeedRow,
    owner: &users::User,
    now: DateTime<Utc>,
) -> AppResult<Option<FeedVersion>> {
    let filter = filter_of(row).ok_or(AppError::NotFound)?;
    // The owner's rights decide what the events show; changing them updates the account.
    if !owner.active {
        return Ok(None);
    }
    let from = since(now);
    let (count, revisions, latest, names) = store::version(conn, filter, to_db(from))?;
    let last_modified = latest
        .max(names)
        .map(from_db)
        .unwrap_or(from_db(row.created_at));
    let tag = sha256_hex(&format!(
        "{}|{}|{}|{count}|{revisions}|{}|{}",
        row.token,
        from.timestamp(),
        row.created_at.and_utc().timestamp(),
        last_modified.timestamp_micros(),
        owner.updated_at.and_utc().timestamp_micros()
    ));
    Ok(Some(FeedVersion {
        etag: format!("\"{}\"", &tag[..32]),
        last_modified,
    }))
}

/// Versions computed lately, by token. An entry holds while this process has committed no
/// write since and for at most `VERSION_TTL`: a change made through another process sharing
/// the database shows within that delay, which calendar apps polling every few minutes never
/// notice, and polls in between cost no query.
#[derive(Default)]
pub struct VersionCache {
    entries: Mutex<HashMap<String, CachedVersion>>,
}

/// A feed's version, when it was computed, and the process's write count then.
type CachedVersion = (Option<FeedVersion>, Instant, u64);

const VERSION_TTL: std::time::Duration = std::time::Duration::from_secs(2);
const VERSION_ENTRIES: usize = 4096;

/// The version of the feed behind a token; `None` for an unknown token.
pub async fn version(app: &App, token: String) -> AppResult<Option<FeedVersion>> {
    let writes = app.db().writes();
    if let Ok(entries) = app.feed_versions().entries.lock() {
        if let Some((v, at, w)) = entries.get(&token) {
            if *w == writes && at.elapsed() < VERSION_TTL {
                return Ok(v.clone());
            }
        }
    }
    let now = app.now();
    let key = token.clone();
    let v = app
        .db()
        .run(move |c| {
            let Some(row) = store::by_token(c, &key)? else {
                return Ok(None);
            };
            let owner = users::find(c, row.user_id)?;
            version_on(c, &row, &owner, now)
        })
        .await?;
    if let Ok(mut entries) = app.feed_versions().entries.lock() {
        if entries.len() >= VERSION_ENTRIES {
            entries.clear();
        }
        entries.insert(token, (v.clone(), Instant::now(), writes));
    }
    Ok(v)
}

/// Forgets the cached versions (a feed regenerated or deleted through this process).
fn forget_versions(app: &App) {
    if let Ok(mut entries) = app.feed_versions().entries.lock() {
        entries.clear();
    }
}

/// A feed's events, as its owner sees them.
#[derive(Debug, Clone)]
pub struct FeedContent {
    pub name: String,
    pub version: FeedVersion,
    pub events: Vec<CalEvent>,
}

pub async fn content(app: &App, token: String) -> AppResult<Option<FeedContent>> {
    let now = app.now();
    app.db()
        .run(move |c| {
            let Some(row) = store::by_token(c, &token)? else {
                return Ok(None);
            };
            let owner = users::find(c, row.user_id)?;
            let Some(version) = version_on(c, &row, &owner, now)? else {
                return Ok(None);
            };
            let actor = Actor::from_user(&users::with_roles(c, owner)?);
            let Some(scope) = FeedScope::parse(&row.scope) else {
                return Ok(None);
            };
            // The owner may have lost the right since: the feed then shows nothing.
            let Ok((name, filter)) = authorise(c, &actor, scope, row.scope_id) else {
                return Ok(None);
            };
            let rows = store::bookings(c, filter, to_db(since(now)))?;
            let mut resource_ids: Vec<ResourceId> = rows.iter().map(|b| b.resource_id).collect();
            let mut member_ids: Vec<MemberId> = rows.iter().map(|b| b.member_id).collect();
            resource_ids.sort_unstable();
            resource_ids.dedup();
            member_ids.sort_unstable();
            member_ids.dedup();
            let (resource_names, member_names) = store::names(c, &resource_ids, &member_ids)?;
            let resource_names: HashMap<ResourceId, (String, String)> = resource_names
                .into_iter()
                .map(|(id, name, location)| (id, (name, location)))
                .collect();
            let member_names: HashMap<MemberId, String> = member_names.into_iter().collect();
            let unknown = (String::new(), String::new());
            let events = rows
                .iter()
                .filter(|b| in_feed(b.status, from_db(b.end_at), from_db(b.updated_at), now))
                .map(|b| {
                    let (resource_name, location) =
                        resource_names.get(&b.resource_id).unwrap_or(&unknown);
                    CalEvent::of(&EventFacts {
                        booking_id: b.id,
                        sequence: b.sequence,
                        start: from_db(b.start_at),
                        end: from_db(b.end_at),
                        stamp: from_db(b.updated_at),
                        status: b.status,
                        resource_name,
                        location,
                        member_name: member_names.get(&b.member_id).map_or("", String::as_str),
                        purpose: &b.purpose,
                        quantity: b.quantity,
                        detailed: authz::can_see_booking_details(&actor, b.member_id),
                    })
                })
                .collect();
            Ok(Some(FeedContent {
                name,
                version,
                events,
            }))
        })
        .await
}
