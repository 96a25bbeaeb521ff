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

/// A PostgreSQL connection URI read the way the service needs it: where it points, to name the
/// server in messages without the password, and whether it bounds the connection time.
///
/// libpq parses the URI itself when connecting; this reading only has to be close enough to
/// name the server (`postgres://user:pass@host:port,host2/dbname?param=value`, query
/// parameters overriding the URI parts, as in libpq).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresUri {
    raw: String,
    password: Option<String>,
    hosts: Vec<String>,
    ports: Vec<String>,
    dbname: Option<String>,
    query: Vec<(String, String)>,
}

impl PostgresUri {
    pub fn parse(raw: &str) -> Self {
        let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        // The last `@` ends the user info, so a password holding an unencoded `@` is still
        // recognised whole (and redacted whole).
        let (userinfo, hostlist) = authority.rsplit_once('@').unwrap_or(("", authority));
        let password = userinfo
            .split_once(':')
            .map(|(_, p)| p.to_string())
            .filter(|p| !p.is_empty());
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let (mut hosts, mut ports) = (Vec::new(), Vec::new());
        for item in hostlist.split(',') {
            let (host, port) = match item.strip_prefix('[') {
                Some(v6) => match v6.split_once(']') {
                    Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':').unwrap_or("")),
                    None => (item.to_string(), ""),
                },
                None => match item.rsplit_once(':') {
                    Some((h, p)) => (percent_decode(h), p),
                    None => (percent_decode(item), ""),
                },
            };
            hosts.push(host);
            ports.push(port.to_string());
        }
        let param = |key: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        if let Some(h) = param("host").or_else(|| param("hostaddr")) {
            hosts = h.split(',').map(str::to_string).collect();
        }
        if let Some(p) = param("port") {
            ports = p.split(',').map(str::to_string).collect();
        }
        let dbname = param("dbname")
            .or_else(|| Some(percent_decode(path)))
            .filter(|d| !d.is_empty());
        Self {
            raw: raw.to_string(),
            password,
            hosts,
            ports,
            dbname,
            query,
        }
    }

    /// Where the URI points, for messages: `host:port (base name)`; never the credentials.
    pub fn target(&self) -> String {
        let servers: Vec<String> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                // libpq: one port applies to every host; none means 5432.
                let port = match self.ports.get(i).or(self.ports.first()) {
                    Some(p) if !p.is_empty() => p.as_str(),
                    _ => "5432",
                };
                // A socket is named as libpq names it in its own messages.
                if host.is_empty() {
                    format!("socket local .s.PGSQL.{port}")
                } else if host.starts_with('/') || host.starts_with('@') {
                    format!("{}/.s.PGSQL.{port}", host.trim_end_matches('/'))
                } else {
                    format!("{host}:{port}")
                }
            })
            .collect();
        match &self.dbname {
            Some(db) => format!("{} (base {db})", servers.join(", ")),
            None => servers.join(", "),
        }
    }

    /// `text` with the URI's password, as written or decoded, masked.
    pub fn redact(&self, text: &str) -> String {
        let Some(password) = &self.password else {
            return text.to_string();
        };
        let decoded = percent_decode(password);
        let mut out = text.replace(password.as_str(), "***");
        if !decoded.is_empty() {
            out = out.replace(decoded.as_str(), "***");
        }
        out
    }

    /// The URI with `connect_timeout=<seconds>` added unless it sets one. Without it libpq
    /// waits for the system's TCP timeout (minutes) on a host that drops packets.
    pub fn with_connect_timeout(&self, seconds: u32) -> String {
        if self.query.iter().any(|(k, _)| k == "connect_timeout") {
            return self.raw.clone();
        }
        let separator = match self.raw.split_once('?') {
            None => "?",
            Some((_, "")) => "",
            Some((_, q)) if q.ends_with('&') => "",
            Some(_) => "&",
        };
        format!("{}{separator}connect_timeout={seconds}", self.raw)
    }
}

/// Decodes `%XX` escapes; anything else, malformed escapes included, is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    /// Sender of the notifications (`MUTUALISE_MAIL_FROM`).
    pub mail_from: String,
    pub mail_reply_to: Option<String>,
    /// Failed attempts after which a message is set aside for an administrator.
    pub mail_max_attempts: i32,
    /// Delay before the first retry of a failed send; doubled after each failure.
    pub mail_retry_seconds: u64,
    /// The service's address as its users reach it, for the links in mails and the feed URLs.
    pub public_url: String,
    pub booking_horizon_days: i32,
    pub log_format_json: bool,
    /// Timeouts, connection limit and shutdown grace of the HTTP server.
    pub server: ServerLimits,
    /// Bound of the SQLite WAL file (`MUTUALISE_SQLITE_WAL_LIMIT_MB`, default 64).
    pub sqlite_wal_limit_bytes: u64,
    /// PostgreSQL connections this process keeps open (`MUTUALISE_POSTGRES_POOL_SIZE`,
    /// default 16).
    pub postgres_pool_size: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`MUTUALISE_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// How long clients may take and how many are served at once (`web::server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to send a request's headers; also how long a kept-alive connection may stay idle
    /// (`MUTUALISE_HEADER_TIMEOUT_SECONDS`, default 10).
    pub header_timeout: std::time::Duration,
    /// Time to send the body and get the answer (`MUTUALISE_REQUEST_TIMEOUT_SECONDS`, 60).
    pub request_timeout: std::time::Duration,
    /// Connections served at once; the next get a 503 (`MUTUALISE_MAX_CONNECTIONS`, 512).
    pub max_connections: usize,
    /// After SIGTERM, how long requests in flight may take before the process exits anyway
    /// (`MUTUALISE_SHUTDOWN_GRACE_SECONDS`, 10).
    pub shutdown_grace: std::time::Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(60),
            max_connections: 512,
            shutdown_grace: std::time::Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let seconds = |variable: &'static str, max: u64, default: std::time::Duration| {
            bounded(get(variable), variable, 1, max, default.as_secs())
                .map(std::time::Duration::from_secs)
        };
        Ok(Self {
            header_timeout: seconds("MUTUALISE_HEADER_TIMEOUT_SECONDS", 3_600, d.header_timeout)?,
            request_timeout: seconds(
                "MUTUALISE_REQUEST_TIMEOUT_SECONDS",
                3_600,
                d.request_timeout,
            )?,
            max_connections: bounded(
                get("MUTUALISE_MAX_CONNECTIONS"),
                "MUTUALISE_MAX_CONNECTIONS",
                1,
                100_000,
                d.max_connections as u64,
            )? as usize,
            shutdown_grace: seconds("MUTUALISE_SHUTDOWN_GRACE_SECONDS", 3_600, d.shutdown_grace)?,
        })
    }
}

impl Config {
    /// How the process holds its database (`Db::connect_with`).
    pub fn pooling(&self) -> crate::store::Pooling {
        crate::store::Pooling {
            sqlite_wal_limit_bytes: self.sqlite_wal_limit_bytes,
            postgres_pool_size: self.postgres_pool_size,
        }
    }

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
            mail_from: get("MUTUALISE_MAIL_FROM")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Mutualise <ne-pas-repondre@localhost>".into()),
            mail_reply_to: get("MUTUALISE_MAIL_REPLY_TO").filter(|s| !s.trim().is_empty()),
            mail_max_attempts: bounded(
                get("MUTUALISE_MAIL_MAX_ATTEMPTS"),
                "MUTUALISE_MAIL_MAX_ATTEMPTS",
                1,
                50,
                8,
            )? as i32,
            mail_retry_seconds: bounded(
                get("MUTUALISE_MAIL_RETRY_SECONDS"),
                "MUTUALISE_MAIL_RETRY_SECONDS",
                1,
                86_400,
                30,
            )?,
            public_url: get("MUTUALISE_PUBLIC_URL")
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            booking_horizon_days,
            log_format_json: get("MUTUALISE_LOG_FORMAT")
                .is_some_and(|f| f.eq_ignore_ascii_case("json")),
            server: ServerLimits::from_lookup(&get)?,
            sqlite_wal_limit_bytes: bounded(
                get("MUTUALISE_SQLITE_WAL_LIMIT_MB"),
                "MUTUALISE_SQLITE_WAL_LIMIT_MB",
                8,
                65_536,
                64,
            )? * 1024
                * 1024,
            postgres_pool_size: bounded(
                get("MUTUALISE_POSTGRES_POOL_SIZE"),
                "MUTUALISE_POSTGRES_POOL_SIZE",
                2,
                256,
                u64::from(crate::store::Pooling::DEFAULT_POSTGRES_POOL_SIZE),
            )? as u32,
            trusted_proxies: parse_networks(
                get("MUTUALISE_TRUSTED_PROXIES"),
                "MUTUALISE_TRUSTED_PROXIES",
            )?,
        })
    }
}

/// An integer variable within `[min, max]`, `default` when unset.
fn bounded(
    raw: Option<String>,
    variable: &'static str,
    min: u64,
    max: u64,
    default: u64,
) -> Result<u64, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ConfigError::new(variable, format!("entier de {min} à {max} attendu"))),
    }
}

/// A comma-separated list of addresses (`10.0.0.1`, `::1`) and networks (`10.0.0.0/8`).
fn parse_networks(
    raw: Option<String>,
    variable: &'static str,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let raw = raw.unwrap_or_default();
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let net = item
            .parse::<ipnet::IpNet>()
            .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                ConfigError::new(
                    variable,
                    format!(
                        "adresse IP ou réseau CIDR attendu (10.0.0.1, 10.0.0.0/8, ::1), pas « {} »",
                        item.chars().take(60).collect::<String>()
                    ),
                )
            })?;
        out.push(net.trunc());
    }
    Ok(out)
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
    fn postgres_uri_names_the_server_without_the_password() {
        let u = PostgresUri::parse("postgres://u:secret@127.0.0.1:1/x");
        assert_eq!(u.target(), "127.0.0.1:1 (base x)");
        assert_eq!(
            u.redact("password for u:secret failed (secret)"),
            "password for u:*** failed (***)"
        );
        let u = PostgresUri::parse("postgresql://db.example:6432,[::1]/mutualise?sslmode=require");
        assert_eq!(u.target(), "db.example:6432, [::1]:5432 (base mutualise)");
        let u = PostgresUri::parse("postgres://u:p%40ss@h/d%C3%A9mo");
        assert_eq!(u.target(), "h:5432 (base démo)");
        assert_eq!(u.redact("p@ss p%40ss"), "*** ***");
        let u =
            PostgresUri::parse("postgres:///mutualise?host=%2Fvar%2Frun%2Fpostgresql&port=5433");
        assert_eq!(
            u.target(),
            "/var/run/postgresql/.s.PGSQL.5433 (base mutualise)"
        );
        let u = PostgresUri::parse("postgres://u@");
        assert_eq!(u.target(), "socket local .s.PGSQL.5432");
        assert_eq!(u.redact("u"), "u");
    }

    #[test]
    fn connect_timeout_is_added_unless_set() {
        let t = |raw: &str| PostgresUri::parse(raw).with_connect_timeout(5);
        assert_eq!(t("postgres://h/d"), "postgres://h/d?connect_timeout=5");
        assert_eq!(t("postgres://h/d?"), "postgres://h/d?connect_timeout=5");
        assert_eq!(
            t("postgres://h/d?sslmode=disable"),
            "postgres://h/d?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            t("postgres://h/d?connect_timeout=30"),
            "postgres://h/d?connect_timeout=30"
        );
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
        let e = cfg(&[("MUTUALISE_TRUSTED_PROXIES", "10.0.0.1, proxy.local")]).unwrap_err();
        assert_eq!(e.variable, "MUTUALISE_TRUSTED_PROXIES");
        assert!(e.message.contains("proxy.local"), "{}", e.message);
        assert!(cfg(&[("MUTUALISE_TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
        let c = cfg(&[(
            "MUTUALISE_TRUSTED_PROXIES",
            " 10.0.0.1 ,192.168.0.0/16,::1,",
        )])
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(cfg(&[]).unwrap().trusted_proxies.is_empty());
        let fixed = cfg(&[("MUTUALISE_NOW", "2027-01-05T09:00:00+01:00")]).unwrap();
        assert_eq!(fixed.now.unwrap().to_rfc3339(), "2027-01-05T08:00:00+00:00");
    }
}
