//! User use cases: directory, creation with roles and memberships, edits, password resets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::auth::hash_password;
use super::authz::{self, Actor, ActorMembership};
use crate::domain::role::MemberRole;
use crate::domain::user::{MembershipInput, UserDraft, UserInput};
use crate::error::{AppError, AppResult};
use crate::store::users::{self as store, NewUser, UserWithRoles};
use crate::store::{members as member_store, to_db, DbConn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub memberships: Vec<ActorMembership>,
}

impl From<&UserWithRoles> for UserOut {
    fn from(u: &UserWithRoles) -> Self {
        let actor = Actor::from_user(u);
        Self {
            id: u.user.id,
            email: u.user.email.clone(),
            name: u.user.name.clone(),
            active: u.user.active,
            roles: u.roles.clone(),
            memberships: actor.memberships,
        }
    }
}

pub fn input_of(u: &UserWithRoles) -> UserInput {
    UserInput {
        email: u.user.email.clone(),
        name: u.user.name.clone(),
        password: None,
        roles: u.roles.clone(),
        memberships: u
            .memberships
            .iter()
            .map(|m| MembershipInput {
                member_id: m.member_id,
                role: m.role.clone(),
            })
            .collect(),
        active: u.user.active,
    }
}

/// Admins see everyone; member admins see the users of their members; others see themselves.
pub fn list(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<UserWithRoles>> {
    if authz::can_list_all_users(actor) {
        return store::list(conn, None);
    }
    let mine = actor.administered_members();
    if mine.is_empty() {
        let me = store::find(conn, actor.user_id)?;
        return Ok(vec![store::with_roles(conn, me)?]);
    }
    store::list(conn, Some(&mine))
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<UserWithRoles> {
    let user = store::find(conn, id)?;
    let user = store::with_roles(conn, user)?;
    if !authz::can_view_user(actor, &user) {
        // Not found rather than forbidden: the directory of another member is private.
        return Err(AppError::NotFound);
    }
    Ok(user)
}

fn check_assignable(conn: &mut DbConn, actor: &Actor, draft: &UserDraft) -> AppResult<()> {
    let member_ids: Vec<i64> = draft.memberships.iter().map(|(id, _)| *id).collect();
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

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &UserInput,
    now: DateTime<Utc>,
) -> AppResult<UserWithRoles> {
    let draft = input.validate(true).map_err(AppError::Validation)?;
    check_assignable(conn, actor, &draft)?;
    if !actor.is_admin() && draft.memberships.is_empty() {
        return Err(AppError::validation(
            "memberships",
            "Rattachez l'utilisateur à votre structure.",
        ));
    }
    let hash = hash_password(draft.password.as_deref().unwrap_or_default())?;
    create_unchecked(conn, &draft, &hash, now)
}

/// Creates a user without an actor: first administrator, CLI, demo.
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
    .map_err(|e| super::unique_as_field(e, "email", EMAIL_TAKEN))
}

fn save_roles(conn: &mut DbConn, user_id: i64, draft: &UserDraft) -> AppResult<()> {
    let roles: Vec<&str> = draft.roles.iter().map(|r| r.as_str()).collect();
    let ms: Vec<(i64, &str)> = draft
        .memberships
        .iter()
        .map(|(m, r)| (*m, r.as_str()))
        .collect();
    store::set_roles(conn, user_id, &roles, &ms)
}

pub fn replace(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: &UserInput,
    now: DateTime<Utc>,
) -> AppResult<UserWithRoles> {
    let target = get(conn, actor, id)?;
    let draft = input.validate(false).map_err(AppError::Validation)?;
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
            || !same_memberships(&draft, &target)
            || !draft.active
        {
            return Err(AppError::Forbidden);
        }
    } else {
        authz::require(authz::can_manage_user(actor, &target))?;
        check_assignable(conn, actor, &draft)?;
        if actor.user_id == id
            && actor.is_admin()
            && !draft.roles.contains(&crate::domain::role::PoleRole::Admin)
        {
            return Err(AppError::validation(
                "roles",
                "Vous ne pouvez pas retirer votre propre rôle d'administrateur.",
            ));
        }
    }
    let hash = draft.password.as_deref().map(hash_password).transpose()?;
    conn.write(|conn| {
        store::update_profile(
            conn,
            id,
            &draft.email,
            &draft.name,
            draft.active,
            to_db(now),
        )?;
        if !self_edit {
            save_roles(conn, id, &draft)?;
        }
        if let Some(h) = &hash {
            store::set_password(conn, id, h, to_db(now))?;
            crate::store::auth::delete_user_sessions(conn, id, None)?;
            crate::store::auth::revoke_user_tokens(conn, id, to_db(now))?;
        }
        if !draft.active {
            crate::store::auth::delete_user_sessions(conn, id, None)?;
        }
        let fresh = store::find(conn, id)?;
        store::with_roles(conn, fresh)
    })
    .map_err(|e| super::unique_as_field(e, "email", EMAIL_TAKEN))
}

fn target_roles(t: &UserWithRoles) -> Vec<crate::domain::role::PoleRole> {
    let mut r: Vec<_> = t
        .roles
        .iter()
        .filter_map(|r| crate::domain::role::PoleRole::parse(r))
        .collect();
    r.sort();
    r
}

fn same_memberships(draft: &UserDraft, t: &UserWithRoles) -> bool {
    let mut a: Vec<(i64, &str)> = draft
        .memberships
        .iter()
        .map(|(m, r)| (*m, r.as_str()))
        .collect();
    let mut b: Vec<(i64, &str)> = t
        .memberships
        .iter()
        .map(|m| (m.member_id, m.role.as_str()))
        .collect();
    a.sort();
    b.sort();
    a == b
}

pub fn patch(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    patch: Value,
    now: DateTime<Utc>,
) -> AppResult<UserWithRoles> {
    let current = get(conn, actor, id)?;
    let input = super::merge_patch(&input_of(&current), patch)?;
    replace(conn, actor, id, &input, now)
}

/// Member roles an actor may hand out for a member (for forms).
pub fn grantable_member_roles(actor: &Actor, member_id: i64) -> Vec<MemberRole> {
    if actor.is_admin() || actor.member_role(member_id) == Some(MemberRole::MemberAdmin) {
        MemberRole::ALL.to_vec()
    } else {
        Vec::new()
    }
}
