//! Closures: periods where one resource, or the whole pole, cannot be booked.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::ResourceId;
use super::time::parse_instant;
use super::validation::{self, FieldErrors};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClosureInput {
    /// None = the whole pole.
    #[serde(default)]
    pub resource_id: Option<ResourceId>,
    /// RFC 3339, or local time of the pole without offset.
    pub start: String,
    pub end: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClosureDraft {
    pub resource_id: Option<ResourceId>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

impl ClosureInput {
    pub fn validate(&self, tz: Tz) -> Result<ClosureDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let start = e.check(
            "start",
            parse_instant(&self.start, tz).map_err(|err| format!("Début invalide : {err}.")),
        );
        let end = e.check(
            "end",
            parse_instant(&self.end, tz).map_err(|err| format!("Fin invalide : {err}.")),
        );
        let reason = e.check("reason", validation::required_text(&self.reason, 200));
        if let (Some(s), Some(en)) = (start, end) {
            if s >= en {
                e.add("end", "La fin doit suivre le début.");
            } else if en - s > Duration::days(5 * 366) {
                e.add("end", "Une fermeture dure au plus cinq ans.");
            }
        }
        match (start, end, reason) {
            (Some(start), Some(end), Some(reason)) if e.is_empty() => Ok(ClosureDraft {
                resource_id: self.resource_id,
                start,
                end,
                reason,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(start: &str, end: &str) -> ClosureInput {
        ClosureInput {
            resource_id: None,
            start: start.into(),
            end: end.into(),
            reason: "Congés d'été".into(),
        }
    }

    #[test]
    fn local_times_are_read_in_the_pole_zone() {
        let d = input("2027-08-02T00:00", "2027-08-16T00:00")
            .validate(chrono_tz::Europe::Paris)
            .unwrap();
        assert_eq!(d.start.to_rfc3339(), "2027-08-01T22:00:00+00:00");
    }

    #[test]
    fn bad_closures() {
        let tz = chrono_tz::Europe::Paris;
        assert!(input("2027-08-16T00:00", "2027-08-02T00:00")
            .validate(tz)
            .unwrap_err()
            .get("end")
            .is_some());
        assert!(input("2027-03-28T02:30", "2027-03-29T00:00")
            .validate(tz)
            .unwrap_err()
            .get("start")
            .is_some());
        assert!(input("9999-01-01T00:00", "9999-01-02T00:00")
            .validate(tz)
            .is_err());
        let mut i = input("2027-08-02T00:00", "2027-08-03T00:00");
        i.reason = "".into();
        assert!(i.validate(tz).unwrap_err().get("reason").is_some());
    }
}
