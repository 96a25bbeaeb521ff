//! Instants and local times (temporary minimal version; replaced by the booking-engine module).

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("l'heure locale {0} n'existe pas (changement d'heure)")]
    Nonexistent(NaiveDateTime),
    #[error("l'heure locale {0} est ambiguë (changement d'heure)")]
    Ambiguous(NaiveDateTime),
    #[error("date invalide : {0}")]
    Invalid(String),
}

pub fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, LocalTimeError> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(_, _) => Err(LocalTimeError::Ambiguous(naive)),
        LocalResult::None => Err(LocalTimeError::Nonexistent(naive)),
    }
}

pub fn parse_instant(s: &str, tz: Tz) -> Result<DateTime<Utc>, LocalTimeError> {
    let s = s.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else {
        let naive = [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .ok_or_else(|| LocalTimeError::Invalid(s.chars().take(40).collect()))?;
        local_to_utc(naive, tz)?
    };
    use chrono::Datelike;
    if !(2000..=2199).contains(&t.year()) {
        return Err(LocalTimeError::Invalid(s.chars().take(40).collect()));
    }
    Ok(t)
}
