//! The security events an administrator can read back: what happened, in words.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignIn,
    SignInFailed,
    SignInThrottled,
    PasswordResetRequested,
    PasswordResetThrottled,
    PasswordReset,
    TokenCreated,
    TokenRevoked,
    RoleChanged,
    UserDeactivated,
    UserReactivated,
    SessionsEnded,
}

impl AuditKind {
    pub const ALL: [AuditKind; 12] = [
        AuditKind::SignIn,
        AuditKind::SignInFailed,
        AuditKind::SignInThrottled,
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordResetThrottled,
        AuditKind::PasswordReset,
        AuditKind::TokenCreated,
        AuditKind::TokenRevoked,
        AuditKind::RoleChanged,
        AuditKind::UserDeactivated,
        AuditKind::UserReactivated,
        AuditKind::SessionsEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::SignInThrottled => "sign_in_throttled",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::PasswordResetThrottled => "password_reset_throttled",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::TokenCreated => "token_created",
            AuditKind::TokenRevoked => "token_revoked",
            AuditKind::RoleChanged => "role_changed",
            AuditKind::UserDeactivated => "user_deactivated",
            AuditKind::UserReactivated => "user_reactivated",
            AuditKind::SessionsEnded => "sessions_ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// French label for the journal page.
    pub fn label(self) -> &'static str {
        match self {
            AuditKind::SignIn => "Connexion",
            AuditKind::SignInFailed => "Connexion échouée",
            AuditKind::SignInThrottled => "Connexion freinée (trop de tentatives)",
            AuditKind::PasswordResetRequested => "Lien de mot de passe demandé",
            AuditKind::PasswordResetThrottled => "Demande de lien freinée",
            AuditKind::PasswordReset => "Mot de passe réinitialisé par lien",
            AuditKind::TokenCreated => "Jeton d'API créé",
            AuditKind::TokenRevoked => "Jeton d'API révoqué",
            AuditKind::RoleChanged => "Rôles modifiés",
            AuditKind::UserDeactivated => "Compte désactivé",
            AuditKind::UserReactivated => "Compte réactivé",
            AuditKind::SessionsEnded => "Sessions fermées par un administrateur",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().into())
            );
        }
        assert_eq!(AuditKind::parse("drop table"), None);
    }
}
