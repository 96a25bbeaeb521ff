//! First start: an empty instance leads to creating its first administrator.

use super::auth::{create_session, hash_password, NewSession};
use super::App;
use crate::domain::role::PoleRole;
use crate::domain::user::UserInput;
use crate::error::{AppError, AppResult};
use crate::store::to_db;
use crate::store::users::{self as store, NewUser};

pub async fn needs_setup(app: &App) -> AppResult<bool> {
    Ok(app.db().run(store::count).await? == 0)
}

/// Creates the first administrator and signs them in, only while no user exists (checked
/// inside the write transaction, so two concurrent visitors cannot both become administrator).
pub async fn create_first_admin(
    app: &App,
    email: &str,
    name: &str,
    password: &str,
) -> AppResult<NewSession> {
    let input = UserInput {
        email: email.into(),
        name: name.into(),
        password: Some(password.into()),
        roles: vec![PoleRole::Admin.as_str().into()],
        memberships: vec![],
        active: true,
    };
    let draft = input.validate(true).map_err(AppError::Validation)?;
    let now = app.now();
    app.db()
        .run(move |conn| {
            let hash = hash_password(draft.password.as_deref().unwrap_or_default())?;
            let user = conn.write(|conn| {
                if store::count(conn)? > 0 {
                    return Err(AppError::Conflict {
                        code: "already_initialised",
                        detail: "Le premier administrateur existe déjà.".into(),
                    });
                }
                let user = store::insert(
                    conn,
                    &NewUser {
                        email: &draft.email,
                        name: &draft.name,
                        password_hash: &hash,
                        active: true,
                    },
                    to_db(now),
                )?;
                store::set_roles(conn, user.id, &[PoleRole::Admin.as_str()], &[])?;
                Ok(user)
            })?;
            create_session(conn, user.id, now)
        })
        .await
}
