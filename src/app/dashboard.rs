//! What the home page shows each person.

use super::authz::Actor;
use super::closures::{self, ClosureView};
use super::planning::{self, MemberStaffHours};
use super::App;
use crate::domain::month::Month;
use crate::error::AppResult;
use crate::store::{members as member_store, resources as resource_store};

pub struct Overview {
    pub members: i64,
    pub resources: i64,
    pub closures: Vec<ClosureView>,
    /// The shared-staff hours each of the actor's members received this month (those that
    /// received some).
    pub staff_hours: Vec<MemberStaffHours>,
}

pub async fn overview(app: &App, actor: &Actor) -> AppResult<Overview> {
    let now = app.now();
    let month = Month::containing(now, app.tz());
    let mut staff_hours = Vec::new();
    for member in actor.member_ids() {
        let hours = planning::member_hours(app, actor, member, month).await?;
        if !hours.employees.is_empty() {
            staff_hours.push(hours);
        }
    }
    app.db()
        .run(move |c| {
            Ok(Overview {
                members: member_store::count(c)?,
                resources: resource_store::count(c)?,
                closures: closures::coming_on(c, None, now)?,
                staff_hours,
            })
        })
        .await
}
