//! Who may do what: the signed-in actor and the authorisation policy, by role and by member.
//!
//! Pole roles (admin, resource_manager, ge_manager, treasurer) act on the whole pole; member
//! roles (member_admin, booker) act only for the members the user belongs to. Every `app`
//! function asks this module before reading private data or writing anything.

use crate::domain::ids::{MemberId, UserId};
use crate::domain::resource::ResourceKind;
use crate::domain::role::{MemberRole, PoleRole};
use crate::error::{AppError, AppResult};
use crate::store::outbox::Contact;
use crate::store::users::UserWithRoles;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ActorMembership {
    pub member_id: MemberId,
    pub member_name: String,
    pub role: MemberRole,
}

/// The person behind a request, with every role they hold.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub roles: Vec<PoleRole>,
    pub memberships: Vec<ActorMembership>,
    /// Their address and notification settings, when read with the session or token: the
    /// messages about their own changes are addressed with it, without reading it again
    /// inside the change's transaction.
    pub contact: Option<Contact>,
}

impl Actor {
    pub fn from_user(u: &UserWithRoles) -> Self {
        Self {
            user_id: u.user.id,
            name: u.user.name.clone(),
            email: u.user.email.clone(),
            roles: u.roles.iter().filter_map(|r| PoleRole::parse(r)).collect(),
            memberships: u
                .memberships
                .iter()
                .filter_map(|m| {
                    Some(ActorMembership {
                        member_id: m.member_id,
                        member_name: m.member_name.clone(),
                        role: MemberRole::parse(&m.role)?,
                    })
                })
                .collect(),
            contact: None,
        }
    }

    /// Whoever runs a command on the server (`mutualise allocate`…) or the computations that
    /// must see every record (the allocation reads every employee's hours): they already hold
    /// the whole database, so they act as an administrator. Never a request's actor.
    pub fn operator() -> Actor {
        Actor {
            user_id: UserId(0),
            name: "opérateur".into(),
            email: String::new(),
            roles: vec![PoleRole::Admin],
            memberships: Vec::new(),
            contact: None,
        }
    }

    /// The user to record as author of a change: none for the operator.
    pub fn recorded_id(&self) -> Option<UserId> {
        (self.user_id != UserId(0)).then_some(self.user_id)
    }

    pub fn has(&self, role: PoleRole) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(PoleRole::Admin)
    }

    /// Holds any pole-wide role.
    pub fn is_pole_team(&self) -> bool {
        !self.roles.is_empty()
    }

    pub fn member_role(&self, member_id: MemberId) -> Option<MemberRole> {
        self.memberships
            .iter()
            .find(|m| m.member_id == member_id)
            .map(|m| m.role)
    }

    pub fn member_ids(&self) -> Vec<MemberId> {
        self.memberships.iter().map(|m| m.member_id).collect()
    }

    /// Members whose users this actor administers.
    pub fn administered_members(&self) -> Vec<MemberId> {
        self.memberships
            .iter()
            .filter(|m| m.role == MemberRole::MemberAdmin)
            .map(|m| m.member_id)
            .collect()
    }
}

pub fn require(allowed: bool) -> AppResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Create, edit and archive members (their allocation keys included).
pub fn can_manage_members(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::Treasurer)
}

/// Private fields of a member: SIRET, contact, headcount, turnover, surface, pricing category.
pub fn can_view_member_private(a: &Actor, member_id: MemberId) -> bool {
    a.is_pole_team() || a.member_role(member_id).is_some()
}

/// Catalogue and closures. Employer-group managers look after the shared employees.
pub fn can_manage_resource_kind(a: &Actor, kind: ResourceKind) -> bool {
    a.is_admin()
        || a.has(PoleRole::ResourceManager)
        || (kind == ResourceKind::Staff && a.has(PoleRole::GeManager))
}

/// Manages this resource: by kind, and a shared employee only within one's employer groups
/// (the pole's coordination manages every resource).
pub fn can_manage_resource(a: &Actor, r: Bookable) -> bool {
    match r.kind {
        ResourceKind::Staff
            if a.has(PoleRole::GeManager) && !a.is_admin() && !a.has(PoleRole::ResourceManager) =>
        {
            r.employer.is_some_and(|e| manages_employer(a, e))
        }
        kind => can_manage_resource_kind(a, kind),
    }
}

/// Manages at least one kind of resource (the catalogue shows « Ajouter une ressource »).
pub fn can_manage_any_resource(a: &Actor) -> bool {
    ResourceKind::ALL
        .iter()
        .any(|k| can_manage_resource_kind(a, *k))
}

pub fn can_manage_closures(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::ResourceManager)
}

// ---- shared employees ----

/// Manages the employees of this employer group: administrators, and employer-group
/// managers who belong to the group (one who belongs to no member manages every group of
/// the pole, as in a pole with a single group).
pub fn manages_employer(a: &Actor, employer: MemberId) -> bool {
    a.is_admin()
        || (a.has(PoleRole::GeManager)
            && (a.memberships.is_empty() || a.member_role(employer).is_some()))
}

/// May create employees at all (the pages offer « Ajouter un salarié »).
pub fn manages_some_employer(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::GeManager)
}

/// Sees what an employee costs (loaded cost, the group's fee) and their date of birth: those
/// who manage them, and the treasurer who bills them.
pub fn sees_employee_private(a: &Actor, employer: Option<MemberId>) -> bool {
    a.has(PoleRole::Treasurer) || employer.is_some_and(|e| manages_employer(a, e)) || a.is_admin()
}

/// Records training time and absences of an employee: those who manage them.
pub fn records_staff_time(a: &Actor, employer: Option<MemberId>) -> bool {
    employer.is_some_and(|e| manages_employer(a, e)) || a.is_admin()
}

/// Sees an employee's whole week at every member (the planning, the free search): those who
/// manage the employee, and the pole's coordination. A member sees only its own hours.
pub fn plans_staff(a: &Actor, employer: Option<MemberId>) -> bool {
    a.has(PoleRole::ResourceManager) || employer.is_some_and(|e| manages_employer(a, e))
}

/// Opens the planning pages at all.
pub fn plans_some_staff(a: &Actor) -> bool {
    a.has(PoleRole::ResourceManager) || manages_some_employer(a)
}

/// Sees the hours ledger of an employee with its amounts: whoever sees what the employee
/// costs (those who manage them, the treasurer).
pub fn sees_staff_ledger(a: &Actor, employer: Option<MemberId>) -> bool {
    sees_employee_private(a, employer)
}

/// Opens the hours ledger at all.
pub fn sees_some_staff_ledger(a: &Actor) -> bool {
    a.has(PoleRole::Treasurer) || manages_some_employer(a)
}

/// Sees the shared-staff hours a member received: its people and the pole's team (an
/// employer-group manager only those of its groups' employees, `sees_staff_booking`).
pub fn sees_member_staff_hours(a: &Actor, member_id: MemberId) -> bool {
    a.is_pole_team() || a.member_role(member_id).is_some()
}

/// Sees an assignment of a shared employee at a member (for whom, its activity, its
/// details): the member's own people, those who plan the employee (the group's managers, the
/// pole's coordination) and the treasurer who bills it. Others see the slot as taken only
/// (availability, calendars). `staff_bookings_seen` says the same of a whole listing.
pub fn sees_staff_booking(a: &Actor, member_id: MemberId, employer: Option<MemberId>) -> bool {
    a.member_role(member_id).is_some() || plans_staff(a, employer) || a.has(PoleRole::Treasurer)
}

/// Reads a booking at all (who holds the slot): any booking but another member's assignment
/// of a shared employee it may not see (`sees_staff_booking`).
pub fn sees_booking(a: &Actor, member_id: MemberId, r: Bookable) -> bool {
    r.kind != ResourceKind::Staff || sees_staff_booking(a, member_id, r.employer)
}

/// Whose assignments of shared employees a listing shows the actor, as `sees_staff_booking`
/// judges each one: `None` for every assignment, otherwise those at these members and those
/// of employees of these groups.
pub fn staff_bookings_seen(a: &Actor) -> Option<(Vec<MemberId>, Vec<MemberId>)> {
    let everyone = a.has(PoleRole::ResourceManager)
        || a.has(PoleRole::Treasurer)
        || a.is_admin()
        || (a.has(PoleRole::GeManager) && a.memberships.is_empty());
    if everyone {
        return None;
    }
    let members = a.member_ids();
    let employers = if a.has(PoleRole::GeManager) {
        members.clone()
    } else {
        Vec::new()
    };
    Some((members, employers))
}

// ---- bookings ----

/// What authorisation needs to know of a booked resource: its kind, and for a shared employee
/// the employer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bookable {
    pub kind: ResourceKind,
    pub employer: Option<MemberId>,
}

/// Bookers and member admins book for their own members; the pole's managers for any member
/// (employer-group managers: the employees of their groups, for any member).
pub fn can_book_for(a: &Actor, member_id: MemberId, r: Bookable) -> bool {
    a.is_admin()
        || a.has(PoleRole::ResourceManager)
        || (r.kind == ResourceKind::Staff && r.employer.is_some_and(|e| manages_employer(a, e)))
        || a.member_role(member_id).is_some()
}

/// Moving or cancelling a booking takes the same right as making it.
pub fn can_modify_booking(a: &Actor, member_id: MemberId, r: Bookable) -> bool {
    can_book_for(a, member_id, r)
}

/// Approve or reject requests; close the approvals queue.
pub fn can_decide(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::ResourceManager)
}

/// Purpose, beneficiary and decision reason of a booking: its member's people and the team.
pub fn can_see_booking_details(a: &Actor, member_id: MemberId) -> bool {
    a.is_pole_team() || a.member_role(member_id).is_some()
}

/// The members the actor books for, or `None` when it may book for every member.
pub fn bookable_members(a: &Actor) -> Option<Vec<MemberId>> {
    if a.is_admin() || a.has(PoleRole::ResourceManager) || a.has(PoleRole::GeManager) {
        None
    } else {
        Some(
            a.memberships
                .iter()
                .filter(|m| matches!(m.role, MemberRole::Booker | MemberRole::MemberAdmin))
                .map(|m| m.member_id)
                .collect(),
        )
    }
}

/// The members whose bookings a listing of « mine » holds, or `None` for every member: the
/// pole's team follows them all (the treasurer too, who books for none).
pub fn listed_members(a: &Actor) -> Option<Vec<MemberId>> {
    if a.is_pole_team() {
        None
    } else {
        bookable_members(a)
    }
}

/// Quotas: set and remove (everyone sees them).
pub fn can_manage_quotas(a: &Actor) -> bool {
    can_decide(a)
}

/// Close a month: the treasurer (and the administrator).
pub fn can_close_months(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::Treasurer)
}

/// Reopen a closed month: the administrator only (it is recorded).
pub fn can_reopen_months(a: &Actor) -> bool {
    a.is_admin()
}

/// Sets tariffs, pricing coefficients, pricing rules, cost entries and adjustments, and sees
/// every member's statement: the treasurer and the administrator.
pub fn can_manage_allocation(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::Treasurer)
}

/// Sees a member's statement: the treasurer and the administrator, and the member's own users.
pub fn can_see_statement(a: &Actor, member: MemberId) -> bool {
    can_manage_allocation(a) || a.member_role(member).is_some()
}

/// Sees the whole user directory.
pub fn can_list_all_users(a: &Actor) -> bool {
    a.is_admin()
}

/// Creates users: administrators, and member admins for their members.
pub fn can_create_users(a: &Actor) -> bool {
    a.is_admin() || !a.administered_members().is_empty()
}

/// Sees the « Utilisateurs » page.
pub fn can_see_users_page(a: &Actor) -> bool {
    can_create_users(a)
}

/// May create or edit a user holding exactly these pole roles and memberships.
pub fn can_assign(a: &Actor, pole_roles: &[PoleRole], member_ids: &[MemberId]) -> bool {
    if a.is_admin() {
        return true;
    }
    let mine = a.administered_members();
    pole_roles.is_empty() && member_ids.iter().all(|m| mine.contains(m))
}

/// May see and edit this user: admins, the user themself (profile only), or a member admin
/// of a member the user belongs to.
pub fn can_view_user(a: &Actor, target: &UserWithRoles) -> bool {
    a.is_admin()
        || a.user_id == target.user.id
        || target
            .memberships
            .iter()
            .any(|m| a.member_role(m.member_id) == Some(MemberRole::MemberAdmin))
}

pub fn can_manage_user(a: &Actor, target: &UserWithRoles) -> bool {
    if a.is_admin() {
        return true;
    }
    // A member admin manages users that belong only to members it administers and hold no
    // pole role: it can never lock out the pole's team or another member's people.
    let mine = a.administered_members();
    target.roles.is_empty()
        && !target.memberships.is_empty()
        && target
            .memberships
            .iter()
            .all(|m| mine.contains(&m.member_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: &[PoleRole], ms: &[(i64, MemberRole)]) -> Actor {
        Actor {
            user_id: UserId(1),
            name: "x".into(),
            email: "x@x.fr".into(),
            roles: roles.to_vec(),
            memberships: ms
                .iter()
                .map(|(id, role)| ActorMembership {
                    member_id: MemberId(*id),
                    member_name: format!("m{id}"),
                    role: *role,
                })
                .collect(),
            contact: None,
        }
    }

    /// The listing's scope and the one-booking rule agree for every kind of actor, member and
    /// group: no assignment is listed that its own page would hide, nor hidden that it shows.
    #[test]
    fn a_listing_shows_the_assignments_their_pages_show() {
        use MemberRole::{Booker, MemberAdmin};
        let actors = [
            actor(&[], &[(1, Booker)]),
            actor(&[], &[(1, MemberAdmin), (2, Booker)]),
            actor(&[PoleRole::GeManager], &[(3, MemberAdmin)]),
            actor(&[PoleRole::GeManager], &[]),
            actor(&[PoleRole::Treasurer], &[]),
            actor(&[PoleRole::ResourceManager], &[]),
            actor(&[PoleRole::Admin], &[]),
            actor(&[PoleRole::GeManager, PoleRole::Treasurer], &[(3, Booker)]),
        ];
        for a in &actors {
            let seen = staff_bookings_seen(a);
            for member in (1..=5).map(MemberId) {
                for employer in (1..=5).map(MemberId) {
                    let listed = seen.as_ref().is_none_or(|(members, employers)| {
                        members.contains(&member) || employers.contains(&employer)
                    });
                    assert_eq!(
                        listed,
                        sees_staff_booking(a, member, Some(employer)),
                        "{:?} {:?}, member {member:?}, employer {employer:?}",
                        a.roles,
                        a.member_ids()
                    );
                }
            }
        }
        // A member's booker sees its own assignments only; a group's manager those of its
        // employees, wherever they work, and not another group's.
        assert!(sees_staff_booking(
            &actors[0],
            MemberId(1),
            Some(MemberId(3))
        ));
        assert!(!sees_staff_booking(
            &actors[0],
            MemberId(2),
            Some(MemberId(3))
        ));
        assert!(sees_staff_booking(
            &actors[2],
            MemberId(5),
            Some(MemberId(3))
        ));
        assert!(!sees_staff_booking(
            &actors[2],
            MemberId(5),
            Some(MemberId(4))
        ));
    }

    #[test]
    fn member_admin_assigns_only_its_member() {
        let a = actor(
            &[],
            &[(1, MemberRole::MemberAdmin), (2, MemberRole::Booker)],
        );
        assert!(can_assign(&a, &[], &[MemberId(1)]));
        assert!(!can_assign(&a, &[], &[MemberId(2)]));
        assert!(!can_assign(&a, &[PoleRole::Treasurer], &[MemberId(1)]));
        assert!(!can_view_member_private(&a, MemberId(3)));
        assert!(can_view_member_private(&a, MemberId(2)));
    }

    #[test]
    fn ge_manager_manages_staff_only() {
        let a = actor(&[PoleRole::GeManager], &[]);
        assert!(can_manage_resource_kind(&a, ResourceKind::Staff));
        assert!(!can_manage_resource_kind(&a, ResourceKind::Room));
        assert!(!can_manage_closures(&a));
        // Shared staff of its groups, for any member, and nothing else.
        let staff = Bookable {
            kind: ResourceKind::Staff,
            employer: Some(MemberId(9)),
        };
        let room = Bookable {
            kind: ResourceKind::Room,
            employer: None,
        };
        assert!(can_book_for(&a, MemberId(5), staff));
        assert!(can_modify_booking(&a, MemberId(5), staff));
        assert!(!can_book_for(&a, MemberId(5), room));
        let of_eight = actor(&[PoleRole::GeManager], &[(8, MemberRole::MemberAdmin)]);
        assert!(
            !can_book_for(&of_eight, MemberId(5), staff),
            "another group's employee"
        );
        assert!(!can_decide(&a));
    }

    #[test]
    fn employer_group_managers_manage_their_groups() {
        let lone = actor(&[PoleRole::GeManager], &[]);
        assert!(manages_employer(&lone, MemberId(7)), "a single-group pole");
        let of_seven = actor(&[PoleRole::GeManager], &[(7, MemberRole::MemberAdmin)]);
        assert!(manages_employer(&of_seven, MemberId(7)));
        assert!(!manages_employer(&of_seven, MemberId(8)));
        assert!(sees_employee_private(&of_seven, Some(MemberId(7))));
        assert!(!sees_employee_private(&of_seven, Some(MemberId(8))));
        let booker = actor(&[], &[(7, MemberRole::Booker)]);
        assert!(!manages_employer(&booker, MemberId(7)));
        assert!(!sees_employee_private(&booker, Some(MemberId(7))));
        assert!(sees_employee_private(
            &actor(&[PoleRole::Treasurer], &[]),
            Some(MemberId(8))
        ));
    }

    #[test]
    fn bookers_book_for_their_members_only() {
        let a = actor(&[], &[(1, MemberRole::Booker)]);
        let room = Bookable {
            kind: ResourceKind::Room,
            employer: None,
        };
        assert!(can_book_for(&a, MemberId(1), room));
        assert!(!can_book_for(&a, MemberId(2), room));
        assert_eq!(bookable_members(&a), Some(vec![MemberId(1)]));
        assert!(can_see_booking_details(&a, MemberId(1)));
        assert!(!can_see_booking_details(&a, MemberId(2)));
        let rm = actor(&[PoleRole::ResourceManager], &[]);
        assert_eq!(bookable_members(&rm), None);
        let treasurer = actor(&[PoleRole::Treasurer], &[]);
        assert_eq!(bookable_members(&treasurer), Some(vec![]));
        assert_eq!(listed_members(&treasurer), None);
        assert_eq!(listed_members(&a), Some(vec![MemberId(1)]));
        assert!(can_decide(&rm) && !can_close_months(&rm));
        assert!(can_close_months(&actor(&[PoleRole::Treasurer], &[])));
    }
}
