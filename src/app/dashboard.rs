//! What the home page shows each person.

use super::authz::Actor;
use super::closures::{self, ClosureView};
use super::App;
use crate::error::AppResult;
use crate::store::{members as member_store, resources as resource_store};

pub struct Overview {
    pub members: i64,
    pub resources: i64,
    pub closures: Vec<ClosureView>,
}

pub async fn overview(app: &App, _actor: &Actor) -> AppResult<Overview> {
    let now = app.now();
    app.db()
        .run(move |c| {
            Ok(Overview {
                members: member_store::count(c)?,
                resources: resource_store::count(c)?,
                closures: closures::coming_on(c, None, now)?,
            })
        })
        .await
}
