//! Roles: pole-wide roles held by the pole's team, and per-member roles held through a membership.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PoleRole {
    Admin,
    ResourceManager,
    GeManager,
    Treasurer,
}

impl PoleRole {
    pub const ALL: [PoleRole; 4] = [
        PoleRole::Admin,
        PoleRole::ResourceManager,
        PoleRole::GeManager,
        PoleRole::Treasurer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PoleRole::Admin => "admin",
            PoleRole::ResourceManager => "resource_manager",
            PoleRole::GeManager => "ge_manager",
            PoleRole::Treasurer => "treasurer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PoleRole::Admin => "Administrateur",
            PoleRole::ResourceManager => "Gestionnaire des ressources",
            PoleRole::GeManager => "Gestionnaire du groupement d'employeurs",
            PoleRole::Treasurer => "Trésorier",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Manages the users of its member and books for it.
    MemberAdmin,
    /// Books for its member.
    Booker,
}

impl MemberRole {
    pub const ALL: [MemberRole; 2] = [MemberRole::MemberAdmin, MemberRole::Booker];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::MemberAdmin => "member_admin",
            MemberRole::Booker => "booker",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberRole::MemberAdmin => "Administrateur de la structure",
            MemberRole::Booker => "Réservant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in PoleRole::ALL {
            assert_eq!(PoleRole::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for r in MemberRole::ALL {
            assert_eq!(MemberRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(PoleRole::parse("root"), None);
    }
}
