//! Typed configuration read once from the environment; every variable is listed in the README.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Where the data lives, decided by the scheme of `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` / `postgresql://…` select PostgreSQL; `sqlite://path`, `sqlite:path`
    /// or a bare path select SQLite.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError::new("DATABASE_URL", "ne peut pas être vide"));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err(ConfigError::new("DATABASE_URL", "chemin SQLite vide"));
        }
        Ok(Self::Sqlite(path.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("variable {variable} invalide : {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub timezone: Tz,
    /// Fixed clock for demos and tests (`MUTUALISE_NOW`).
    pub now: Option<DateTime<Utc>>,
    pub pole_name: String,
    /// Adds `Secure` to cookies; set when served behind TLS.
    pub secure_cookies: bool,
    pub smtp_url: Option<String>,
    pub booking_horizon_days: i32,
    pub log_format_json: bool,
}

impl Config {
    pub const DEFAULT_DATABASE: &'static str = "mutualise.db";

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads from any lookup, so tests never touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| Self::DEFAULT_DATABASE.into()),
        )?;
        let timezone = match get("MUTUALISE_TIMEZONE") {
            Some(tz) => tz.parse::<Tz>().map_err(|_| {
                ConfigError::new("MUTUALISE_TIMEZONE", format!("fuseau inconnu « {tz} »"))
            })?,
            None => chrono_tz::Europe::Paris,
        };
        let now = match get("MUTUALISE_NOW") {
            Some(raw) if !raw.trim().is_empty() => Some(
                DateTime::parse_from_rfc3339(raw.trim())
                    .map_err(|e| {
                        ConfigError::new("MUTUALISE_NOW", format!("instant RFC 3339 attendu ({e})"))
                    })?
                    .with_timezone(&Utc),
            ),
            _ => None,
        };
        let booking_horizon_days = match get("MUTUALISE_BOOKING_HORIZON_DAYS") {
            Some(raw) => raw
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    ConfigError::new(
                        "MUTUALISE_BOOKING_HORIZON_DAYS",
                        "entier de 1 à 3650 attendu",
                    )
                })?,
            None => 365,
        };
        Ok(Self {
            database_url,
            timezone,
            now,
            pole_name: get("MUTUALISE_POLE_NAME")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Mon pôle".into()),
            secure_cookies: parse_bool(
                get("MUTUALISE_SECURE_COOKIES"),
                "MUTUALISE_SECURE_COOKIES",
            )?,
            smtp_url: get("SMTP_URL").filter(|s| !s.trim().is_empty()),
            booking_horizon_days,
            log_format_json: get("MUTUALISE_LOG_FORMAT")
                .is_some_and(|f| f.eq_ignore_ascii_case("json")),
        })
    }
}

fn parse_bool(raw: Option<String>, variable: &'static str) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") | Some("0") | Some("false") | Some("no") => Ok(false),
        Some("1") | Some("true") | Some("yes") => Ok(true),
        Some(other) => Err(ConfigError::new(
            variable,
            format!("booléen attendu, pas « {other} »"),
        )),
    }
}

/// The service's notion of "now": the real clock, or the instant fixed by `MUTUALISE_NOW`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn new(fixed: Option<DateTime<Utc>>) -> Self {
        Self { fixed }
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_url, DatabaseUrl::Sqlite("mutualise.db".into()));
        assert_eq!(c.timezone, chrono_tz::Europe::Paris);
        assert_eq!(c.booking_horizon_days, 365);
        assert!(c.now.is_none());
    }

    #[test]
    fn database_url_schemes() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            cfg(&[("MUTUALISE_TIMEZONE", "Mars/Olympus")])
                .unwrap_err()
                .variable,
            "MUTUALISE_TIMEZONE"
        );
        assert_eq!(
            cfg(&[("MUTUALISE_NOW", "yesterday")]).unwrap_err().variable,
            "MUTUALISE_NOW"
        );
        assert_eq!(
            cfg(&[("MUTUALISE_SECURE_COOKIES", "maybe")])
                .unwrap_err()
                .variable,
            "MUTUALISE_SECURE_COOKIES"
        );
        let fixed = cfg(&[("MUTUALISE_NOW", "2027-01-05T09:00:00+01:00")]).unwrap();
        assert_eq!(fixed.now.unwrap().to_rfc3339(), "2027-01-05T08:00:00+00:00");
    }
}
