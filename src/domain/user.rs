//! Users: what is typed about a person and the roles they are given.

use serde::{Deserialize, Serialize};

use super::ids::MemberId;
use super::role::{MemberRole, PoleRole};
use super::validation::{self, FieldErrors};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MembershipInput {
    pub member_id: MemberId,
    #[schema(value_type = MemberRole)]
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    #[schema(format = Email)]
    pub email: String,
    #[schema(max_length = 120)]
    pub name: String,
    /// Required on creation; on update, sets a new password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Pole-wide roles.
    #[serde(default)]
    #[schema(value_type = Vec<PoleRole>)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub memberships: Vec<MembershipInput>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub email: String,
    pub name: String,
    pub password: Option<String>,
    pub roles: Vec<PoleRole>,
    pub memberships: Vec<(MemberId, MemberRole)>,
    pub active: bool,
}

impl UserInput {
    pub fn validate(&self, password_required: bool) -> Result<UserDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let email = e.check("email", validation::email(&self.email));
        let name = e.check("name", validation::required_text(&self.name, 120));
        let password = match self.password.as_deref() {
            Some(p) if !p.is_empty() => e.check("password", validation::password(p)),
            _ if password_required => {
                e.add("password", "Le mot de passe est obligatoire.");
                None
            }
            _ => None,
        };
        let mut roles = Vec::new();
        for r in &self.roles {
            match PoleRole::parse(r) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => e.add(
                    "roles",
                    format!(
                        "Rôle inconnu « {} ».",
                        r.chars().take(40).collect::<String>()
                    ),
                ),
            }
        }
        let mut memberships: Vec<(MemberId, MemberRole)> = Vec::new();
        for m in &self.memberships {
            match MemberRole::parse(&m.role) {
                Some(_) if memberships.iter().any(|(id, _)| *id == m.member_id) => {
                    e.add("memberships", "Une structure ne peut figurer qu'une fois.")
                }
                Some(role) => memberships.push((m.member_id, role)),
                None => e.add(
                    "memberships",
                    "Rôle de structure inconnu (member_admin ou booker).",
                ),
            }
        }
        roles.sort();
        match (email, name) {
            (Some(email), Some(name)) if e.is_empty() => Ok(UserDraft {
                email,
                name,
                password,
                roles,
                memberships,
                active: self.active,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_validation() {
        let mut i = UserInput {
            email: "Anne@Coop.fr".into(),
            name: "Anne".into(),
            password: Some("correct horse battery".into()),
            roles: vec!["treasurer".into()],
            memberships: vec![MembershipInput {
                member_id: MemberId(3),
                role: "booker".into(),
            }],
            active: true,
        };
        let d = i.validate(true).unwrap();
        assert_eq!(d.email, "anne@coop.fr");
        assert_eq!(d.roles, vec![PoleRole::Treasurer]);
        i.password = None;
        assert!(i.validate(true).unwrap_err().get("password").is_some());
        assert!(i.validate(false).is_ok());
        i.roles.push("superuser".into());
        i.memberships.push(MembershipInput {
            member_id: MemberId(3),
            role: "member_admin".into(),
        });
        let e = i.validate(false).unwrap_err();
        assert!(e.get("roles").is_some() && e.get("memberships").is_some());
    }
}
