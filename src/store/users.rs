//! Users, their pole-wide roles and their memberships (user ↔ member with a role each).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{access_epoch, members, memberships, user_roles, users};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{MemberId, UserId};
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRow {
    pub member_id: MemberId,
    pub member_name: String,
    pub role: String,
}

/// A user with everything authorisation needs.
#[derive(Debug, Clone)]
pub struct UserWithRoles {
    pub user: User,
    pub roles: Vec<String>,
    pub memberships: Vec<MembershipRow>,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub active: bool,
}

pub fn insert(conn: &mut DbConn, u: &NewUser, now: NaiveDateTime) -> AppResult<User> {
    Ok(db_run!(conn => diesel::insert_into(users::table)
        .values((
            users::email.eq(u.email),
            users::name.eq(u.name),
            users::password_hash.eq(u.password_hash),
            users::active.eq(u.active),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(User::as_returning())
        .get_result(conn))?)
}

pub fn update_profile(
    conn: &mut DbConn,
    id: UserId,
    email: &str,
    name: &str,
    active: bool,
    now: NaiveDateTime,
) -> AppResult<User> {
    Ok(db_run!(conn => diesel::update(users::table.find(id))
        .set((users::email.eq(email), users::name.eq(name), users::active.eq(active), users::updated_at.eq(now)))
        .returning(User::as_returning())
        .get_result(conn))?)
}

pub fn set_password(
    conn: &mut DbConn,
    id: UserId,
    hash: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn))?;
    Ok(())
}

/// Replaces the pole roles and the memberships of a user.
pub fn set_roles(
    conn: &mut DbConn,
    id: UserId,
    roles: &[&str],
    memberships_in: &[(MemberId, &str)],
) -> AppResult<()> {
    db_run!(conn => {
        diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(conn)?;
        for r in roles {
            diesel::insert_into(user_roles::table).values((user_roles::user_id.eq(id), user_roles::role.eq(*r))).execute(conn)?;
        }
        diesel::delete(memberships::table.filter(memberships::user_id.eq(id))).execute(conn)?;
        for (member_id, role) in memberships_in {
            diesel::insert_into(memberships::table)
                .values((memberships::user_id.eq(id), memberships::member_id.eq(*member_id), memberships::role.eq(*role)))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: UserId) -> AppResult<User> {
    Ok(db_run!(conn => users::table.find(id).select(User::as_select()).get_result(conn))?)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> AppResult<Option<User>> {
    Ok(
        db_run!(conn => users::table.filter(users::email.eq(email)).select(User::as_select()).get_result(conn).optional())?,
    )
}

pub fn count(conn: &mut DbConn) -> AppResult<i64> {
    Ok(db_run!(conn => users::table.count().get_result(conn))?)
}

/// Raised by triggers on every change of pole roles, memberships or members (migration
/// `epochs`): roles and memberships read at one value stay true while it does not move.
pub fn access_epoch(conn: &mut DbConn) -> AppResult<i64> {
    Ok(db_run!(conn => access_epoch::table.select(access_epoch::version).get_result(conn))?)
}

/// Roles and memberships of one user: resolved on every request, so in fixed-shape queries
/// whose prepared statements are kept.
pub fn with_roles(conn: &mut DbConn, user: User) -> AppResult<UserWithRoles> {
    let id = user.id;
    let (roles, ms): (Vec<String>, Vec<(MemberId, String, String)>) = db_run!(conn => {
        let roles = user_roles::table
            .filter(user_roles::user_id.eq(id))
            .select(user_roles::role)
            .order(user_roles::role.asc())
            .load(conn)?;
        let ms = memberships::table
            .inner_join(members::table)
            .filter(memberships::user_id.eq(id))
            .select((memberships::member_id, members::name, memberships::role))
            .order((members::name_key.asc(), members::id.asc()))
            .load(conn)?;
        Ok::<_, diesel::result::Error>((roles, ms))
    })?;
    Ok(UserWithRoles {
        user,
        roles,
        memberships: ms
            .into_iter()
            .map(|(member_id, member_name, role)| MembershipRow {
                member_id,
                member_name,
                role,
            })
            .collect(),
    })
}

/// (user, role) rows, and (user, member, member name, role) rows.
type RolesAndMemberships = (
    Vec<(UserId, String)>,
    Vec<(UserId, MemberId, String, String)>,
);

/// Loads roles and memberships of many users with two queries.
pub fn attach_roles(conn: &mut DbConn, list: Vec<User>) -> AppResult<Vec<UserWithRoles>> {
    let ids: Vec<UserId> = list.iter().map(|u| u.id).collect();
    let (roles, ms): RolesAndMemberships = db_run!(conn => {
        let roles = user_roles::table
            .filter(user_roles::user_id.eq_any(&ids))
            .select((user_roles::user_id, user_roles::role))
            .order(user_roles::role.asc())
            .load(conn)?;
        let ms = memberships::table
            .inner_join(members::table)
            .filter(memberships::user_id.eq_any(&ids))
            .select((memberships::user_id, memberships::member_id, members::name, memberships::role))
            .order((members::name_key.asc(), members::id.asc()))
            .load(conn)?;
        Ok::<_, diesel::result::Error>((roles, ms))
    })?;
    Ok(list
        .into_iter()
        .map(|user| UserWithRoles {
            roles: roles
                .iter()
                .filter(|(u, _)| *u == user.id)
                .map(|(_, r)| r.clone())
                .collect(),
            memberships: ms
                .iter()
                .filter(|(u, ..)| *u == user.id)
                .map(|(_, member_id, member_name, role)| MembershipRow {
                    member_id: *member_id,
                    member_name: member_name.clone(),
                    role: role.clone(),
                })
                .collect(),
            user,
        })
        .collect())
}

/// Users, optionally only those holding a membership in one of `member_ids`.
pub fn list(conn: &mut DbConn, member_ids: Option<&[MemberId]>) -> AppResult<Vec<UserWithRoles>> {
    let list: Vec<User> = db_run!(conn => {
        let mut q = users::table.select(User::as_select()).order(users::name.asc()).into_boxed();
        if let Some(ids) = member_ids {
            let sub = memberships::table.filter(memberships::member_id.eq_any(ids.to_vec())).select(memberships::user_id);
            q = q.filter(users::id.eq_any(sub));
        }
        q.load(conn)
    })?;
    attach_roles(conn, list)
}

/// The active users holding the administrator role.
pub fn active_admins(conn: &mut DbConn) -> AppResult<Vec<UserId>> {
    Ok(db_run!(conn => users::table
        .inner_join(user_roles::table)
        .filter(users::active.eq(true))
        .filter(user_roles::role.eq("admin"))
        .select(users::id)
        .order(users::id)
        .load(conn))?)
}
