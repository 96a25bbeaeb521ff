//! User use cases: directory, creation with roles and memberships, edits, password resets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::audit::{self, Event};
use super::auth::hash_password;
use super::authz::{self, Actor, ActorMembership};
use super::App;
use crate::domain::audit::AuditKind;
use crate::domain::ids::{MemberId, UserId};
use crate::domain::role::{MemberRole, PoleRole};
use crate::domain::user::{MembershipInput, UserDraft, UserInput};
use crate::error::{AppError, AppResult};
use crate::store::users::{self as store, NewUser, UserWithRoles};
use crate::store::{auth as auth_store, members as member_store, to_db, DbConn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<PoleRole>,
    pub memberships: Vec<ActorMembership>,
}

impl From<&UserWithRoles> for UserView {
    fn from(u: &UserWithRoles) -> Self {
        let actor = Actor::from_user(u);
        Self {
            id: u.user.id,
            email: u.user.email.clone(),
            name: u.user.name.clone(),
            active: u.user.active,
            roles: actor.roles,
            memberships: actor.memberships,
        }
    }
}

impl UserView {
    /// The user's profile and roles as an input, to edit them (no password).
    pub fn input(&self) -> UserInput {
        UserInput {
            email: self.email.clone(),
            name: self.name.clone(),
            password: None,
            roles: self.roles.iter().map(|r| r.as_str().to_string()).collect(),
            memberships: self
                .memberships
                .iter()
                .map(|m| MembershipInput {
                    member_id: m.member_id,
                    role: m.role.as_str().to_string(),
                })
                .collect(),
            active: self.active,
        }
    }
}

/// Admins see everyone; member admins see the users of their members; others see themselves.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<UserView>> {
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let users = if authz::can_list_all_users(&actor) {
                store::list(c, None)?
            } else {
                let mine = actor.administered_members();
                if mine.is_empty() {
                    let me = store::find(c, actor.user_id)?;
                    vec![store::with_roles(c, me)?]
                } else {
                    store::list(c, Some(&mine))?
                }
            };
            Ok(users.iter().map(UserView::from).collect())
        })
        .await
}

/// The user as the actor may see it: not found rather than forbidden, since the directory of
/// another member is private.
fn visible(conn: &mut DbConn, actor: &Actor, id: UserId) -> AppResult<UserWithRoles> {
    let user = store::find(conn, id)?;
    let user = store::with_roles(conn, user)?;
    if !authz::can_view_user(actor, &user) {
        return Err(AppError::NotFound);
    }
    Ok(user)
}

pub async fn get(app: &App, actor: &Actor, id: UserId) -> AppResult<UserView> {
    let actor = actor.clone();
    app.db()
        .run(move |c| Ok(UserView::from(&visible(c, &actor, id)?)))
        .await
}

/// What the user form needs: the user, and whether the actor may edit its roles.
pub async fn edit(app: &App, actor: &Actor, id: UserId) -> AppResult<(UserView, bool)> {
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let u = visible(c, &actor, id)?;
            let manage = authz::can_manage_user(&actor, &u);
            if !manage && actor.user_id != id {
                return Err(AppError::Forbidden);
            }
            Ok((UserView::from(&u), manage))
        })
        .await
}

fn member_ids(draft: &UserDraft) -> Vec<MemberId> {
    draft.memberships.iter().map(|(id, _)| *id).collect()
}

/// The actor may hand out these roles, and the members exist.
fn check_assignable(conn: &mut DbConn, actor: &Actor, draft: &UserDraft) -> AppResult<()> {
    let member_ids = member_ids(draft);
    authz::require(authz::can_assign(actor, &draft.roles, &member_ids))?;
    let known = member_store::names(conn, &member_ids)?;
    if let Some(missing) = member_ids
        .iter()
        .find(|id| !known.iter().any(|(k, _)| k == *id))
    {
        return Err(AppError::validation(
            "memberships",
            format!("Structure {missing} inconnue."),
        ));
    }
    Ok(())
}

const EMAIL_TAKEN: &str = "Un compte utilise déjà cette adresse.";

pub async fn create(app: &App, actor: &Actor, input: UserInput) -> AppResult<UserView> {
    authz::require(authz::can_create_users(actor))?;
    let draft = input.validate(true).map_err(AppError::Validation)?;
    authz::require(authz::can_assign(actor, &draft.roles, &member_ids(&draft)))?;
    if !actor.is_admin() && draft.memberships.is_empty() {
        return Err(AppError::validation(
            "memberships",
            "Rattachez l'utilisateur à votre structure.",
        ));
    }
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            check_assignable(c, &actor, &draft)?;
            let hash = hash_password(draft.password.as_deref().unwrap_or_default())?;
            create_unchecked(c, &draft, &hash, now)
        })
        .await
        .map(|u| UserView::from(&u))
}

/// Creates a user without an actor: the first administrator, the command line, the demo.
pub fn create_unchecked(
    conn: &mut DbConn,
    draft: &UserDraft,
    password_hash: &str,
    now: DateTime<Utc>,
) -> AppResult<UserWithRoles> {
    conn.write(|conn| {
        let user = store::insert(
            conn,
            &NewUser {
                email: &draft.email,
                name: &draft.name,
                password_hash,
                active: draft.active,
            },
            to_db(now),
        )?;
        save_roles(conn, user.id, draft)?;
        let fresh = store::find(conn, user.id)?;
        store::with_roles(conn, fresh)
    })
    .map_err(|e| e.on_duplicate("email", EMAIL_TAKEN))
}

fn save_roles(conn: &mut DbConn, user_id: UserId, draft: &UserDraft) -> AppResult<()> {
    let roles: Vec<&str> = draft.roles.iter().map(|r| r.as_str()).collect();
    let ms: Vec<(MemberId, &str)> = draft
        .memberships
        .iter()
        .map(|(m, r)| (*m, r.as_str()))
        .collect();
    store::set_roles(conn, user_id, &roles, &ms)
}

pub async fn replace(
    app: &App,
    actor: &Actor,
    id: UserId,
    input: UserInput,
    ip: &str,
) -> AppResult<UserView> {
    let draft = input.validate(false).map_err(AppError::Validation)?;
    let (actor, now, ip) = (actor.clone(), app.now(), ip.to_string());
    app.db()
        .run(move |c| {
            // A new password is hashed before the write transaction: argon2 takes a while.
            let hash = draft.password.as_deref().map(hash_password).transpose()?;
            c.write(|c| replace_tx(c, &actor, id, &draft, hash.as_deref(), now, &ip))
        })
        .await
        .map(|u| UserView::from(&u))
}

/// JSON merge patch (RFC 7396) over the user's fields: the whole is validated again.
pub async fn patch(
    app: &App,
    actor: &Actor,
    id: UserId,
    patch: Value,
    ip: &str,
) -> AppResult<UserView> {
    let (actor, now, ip) = (actor.clone(), app.now(), ip.to_string());
    app.db()
        .run(move |c| {
            let current = UserView::from(&visible(c, &actor, id)?);
            let input = super::merge_patch(&current.input(), patch)?;
            let draft = input.validate(false).map_err(AppError::Validation)?;
            let hash = draft.password.as_deref().map(hash_password).transpose()?;
            c.write(|c| replace_tx(c, &actor, id, &draft, hash.as_deref(), now, &ip))
        })
        .await
        .map(|u| UserView::from(&u))
}

/// Checks and writes a user's new profile, roles and password (already hashed), inside the
/// caller's transaction, so the checks hold for what is written; the security journal records
/// role changes, (de)activations and sessions ended, in the same transaction.
fn replace_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: UserId,
    draft: &UserDraft,
    hash: Option<&str>,
    now: DateTime<Utc>,
    ip: &str,
) -> AppResult<UserWithRoles> {
    let target = visible(conn, actor, id)?;
    let self_edit = actor.user_id == id && !authz::can_manage_user(actor, &target);
    if actor.user_id == id && draft.password.is_some() {
        // One's own password changes only with the current one (account page): a stolen
        // token must not be enough to take the account over.
        return Err(AppError::validation(
            "password",
            "Changez votre mot de passe depuis « Mon compte », avec l'actuel.",
        ));
    }
    if self_edit {
        // People edit their own name and e-mail, never their own roles.
        if draft.roles != target_roles(&target)
            || !same_memberships(draft, &target)
            || !draft.active
        {
            return Err(AppError::Forbidden);
        }
    } else {
        authz::require(authz::can_manage_user(actor, &target))?;
        check_assignable(conn, actor, draft)?;
        if actor.user_id == id && actor.is_admin() && !draft.roles.contains(&PoleRole::Admin) {
            return Err(AppError::validation(
                "roles",
                "Vous ne pouvez pas retirer votre propre rôle d'administrateur.",
            ));
        }
    }
    if actor.user_id == id && !draft.active {
        return Err(AppError::validation(
            "active",
            "Vous ne pouvez pas désactiver votre propre compte.",
        ));
    }
    // The pole keeps an active administrator: the last one is neither deactivated nor
    // demoted.
    let stays_admin = draft.active && draft.roles.contains(&PoleRole::Admin);
    if !stays_admin && store::active_admins(conn)? == [id] {
        return Err(AppError::validation(
            "roles",
            "C'est le dernier administrateur actif du pôle : nommez-en un autre d'abord.",
        ));
    }
    store::update_profile(
        conn,
        id,
        &draft.email,
        &draft.name,
        draft.active,
        to_db(now),
    )
    .map_err(|e| e.on_duplicate("email", EMAIL_TAKEN))?;
    let event = |kind: AuditKind, detail: String| {
        Event::new(kind, ip)
            .actor(actor.user_id)
            .subject(id)
            .email(&target.user.email)
            .detail(detail)
    };
    if !self_edit {
        save_roles(conn, id, draft)?;
        let (before, after) = (role_summary_of(&target), role_summary(draft));
        if before != after {
            audit::record_tx(
                conn,
                now,
                event(AuditKind::RoleChanged, format!("{before} → {after}")),
            )?;
        }
    }
    if target.user.active != draft.active {
        let kind = if draft.active {
            AuditKind::UserReactivated
        } else {
            AuditKind::UserDeactivated
        };
        audit::record_tx(conn, now, event(kind, String::new()))?;
    }
    if let Some(h) = hash {
        store::set_password(conn, id, h, to_db(now))?;
        auth_store::delete_user_sessions(conn, id, None)?;
        auth_store::revoke_user_tokens(conn, id, to_db(now))?;
        audit::record_tx(
            conn,
            now,
            event(
                AuditKind::SessionsEnded,
                "nouveau mot de passe donné : sessions et jetons fermés".into(),
            ),
        )?;
    } else if !draft.active {
        auth_store::delete_user_sessions(conn, id, None)?;
        if target.user.active {
            audit::record_tx(
                conn,
                now,
                event(
                    AuditKind::SessionsEnded,
                    "compte désactivé : sessions fermées".into(),
                ),
            )?;
        }
    }
    let fresh = store::find(conn, id)?;
    store::with_roles(conn, fresh)
}

/// Roles in words for the journal: pole roles, then member roles by member id.
fn role_summary(draft: &UserDraft) -> String {
    let mut pole: Vec<&str> = draft.roles.iter().map(|r| r.as_str()).collect();
    pole.sort();
    let mut ms: Vec<String> = draft
        .memberships
        .iter()
        .map(|(m, r)| format!("{}@{}", r.as_str(), m.0))
        .collect();
    ms.sort();
    summary(&pole, &ms)
}

fn role_summary_of(t: &UserWithRoles) -> String {
    let mut pole: Vec<&str> = t.roles.iter().map(String::as_str).collect();
    pole.sort();
    let mut ms: Vec<String> = t
        .memberships
        .iter()
        .map(|m| format!("{}@{}", m.role, m.member_id.0))
        .collect();
    ms.sort();
    summary(&pole, &ms)
}

fn summary(pole: &[&str], memberships: &[String]) -> String {
    let mut parts: Vec<String> = pole.iter().map(|s| s.to_string()).collect();
    parts.extend(memberships.iter().cloned());
    if parts.is_empty() {
        "aucun rôle".into()
    } else {
        parts.join(", ")
    }
}

fn target_roles(t: &UserWithRoles) -> Vec<PoleRole> {
    let mut r: Vec<_> = t.roles.iter().filter_map(|r| PoleRole::parse(r)).collect();
    r.sort();
    r
}

fn same_memberships(draft: &UserDraft, t: &UserWithRoles) -> bool {
    let mut a: Vec<(MemberId, MemberRole)> = draft.memberships.clone();
    let mut b: Vec<(MemberId, MemberRole)> = t
        .memberships
        .iter()
        .filter_map(|m| Some((m.member_id, MemberRole::parse(&m.role)?)))
        .collect();
    a.sort_by_key(|(m, r)| (*m, r.as_str()));
    b.sort_by_key(|(m, r)| (*m, r.as_str()));
    a == b
}
