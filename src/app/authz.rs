//! Who may do what: the signed-in actor and the authorisation policy, by role and by member.
//!
//! Pole roles (admin, resource_manager, ge_manager, treasurer) act on the whole pole; member
//! roles (member_admin, booker) act only for the members the user belongs to. Every `app`
//! function asks this module before reading private data or writing anything.

use crate::domain::resource::ResourceKind;
use crate::domain::role::{MemberRole, PoleRole};
use crate::error::{AppError, AppResult};
use crate::store::users::UserWithRoles;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ActorMembership {
    pub member_id: i64,
    pub member_name: String,
    pub role: MemberRole,
}

/// The person behind a request, with every role they hold.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub roles: Vec<PoleRole>,
    pub memberships: Vec<ActorMembership>,
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
        }
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

    pub fn member_role(&self, member_id: i64) -> Option<MemberRole> {
        self.memberships
            .iter()
            .find(|m| m.member_id == member_id)
            .map(|m| m.role)
    }

    pub fn member_ids(&self) -> Vec<i64> {
        self.memberships.iter().map(|m| m.member_id).collect()
    }

    /// Members whose users this actor administers.
    pub fn administered_members(&self) -> Vec<i64> {
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
pub fn can_view_member_private(a: &Actor, member_id: i64) -> bool {
    a.is_pole_team() || a.member_role(member_id).is_some()
}

/// Catalogue and closures. Employer-group managers look after the shared employees.
pub fn can_manage_resource_kind(a: &Actor, kind: ResourceKind) -> bool {
    a.is_admin()
        || a.has(PoleRole::ResourceManager)
        || (kind == ResourceKind::Staff && a.has(PoleRole::GeManager))
}

pub fn can_manage_closures(a: &Actor) -> bool {
    a.is_admin() || a.has(PoleRole::ResourceManager)
}

/// Sees the whole user directory.
pub fn can_list_all_users(a: &Actor) -> bool {
    a.is_admin()
}

/// May create or edit a user holding exactly these pole roles and memberships.
pub fn can_assign(a: &Actor, pole_roles: &[PoleRole], member_ids: &[i64]) -> bool {
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
            user_id: 1,
            name: "x".into(),
            email: "x@x.fr".into(),
            roles: roles.to_vec(),
            memberships: ms
                .iter()
                .map(|(id, role)| ActorMembership {
                    member_id: *id,
                    member_name: format!("m{id}"),
                    role: *role,
                })
                .collect(),
        }
    }

    #[test]
    fn member_admin_assigns_only_its_member() {
        let a = actor(
            &[],
            &[(1, MemberRole::MemberAdmin), (2, MemberRole::Booker)],
        );
        assert!(can_assign(&a, &[], &[1]));
        assert!(!can_assign(&a, &[], &[2]));
        assert!(!can_assign(&a, &[PoleRole::Treasurer], &[1]));
        assert!(!can_view_member_private(&a, 3));
        assert!(can_view_member_private(&a, 2));
    }

    #[test]
    fn ge_manager_manages_staff_only() {
        let a = actor(&[PoleRole::GeManager], &[]);
        assert!(can_manage_resource_kind(&a, ResourceKind::Staff));
        assert!(!can_manage_resource_kind(&a, ResourceKind::Room));
        assert!(!can_manage_closures(&a));
    }
}
