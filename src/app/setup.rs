//! First start: an empty instance leads to creating its first administrator.

use chrono::{DateTime, Utc};

use super::auth::hash_password;
use crate::domain::role::PoleRole;
use crate::domain::user::UserInput;
use crate::error::{AppError, AppResult};
use crate::store::users::{self as store, UserWithRoles};
use crate::store::DbConn;

pub fn needs_setup(conn: &mut DbConn) -> AppResult<bool> {
    Ok(store::count(conn)? == 0)
}

/// Creates the first administrator, only while no user exists (checked inside the write
/// transaction, so two concurrent visitors cannot both become administrator).
pub fn create_first_admin(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<UserWithRoles> {
    let input = UserInput {
        email: email.into(),
        name: name.into(),
        password: Some(password.into()),
        roles: vec![PoleRole::Admin.as_str().into()],
        memberships: vec![],
        active: true,
    };
    let draft = input.validate(true).map_err(AppError::Validation)?;
    let hash = hash_password(password)?;
    conn.write(|conn| {
        if store::count(conn)? > 0 {
            return Err(AppError::Conflict {
                code: "already_initialised",
                detail: "Le premier administrateur existe déjà.".into(),
            });
        }
        let user = store::insert(
            conn,
            &store::NewUser {
                email: &draft.email,
                name: &draft.name,
                password_hash: &hash,
                active: true,
            },
            crate::store::to_db(now),
        )?;
        store::set_roles(conn, user.id, &[PoleRole::Admin.as_str()], &[])?;
        store::with_roles(conn, user)
    })
}
