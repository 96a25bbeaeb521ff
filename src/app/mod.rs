//! Use cases: one public async function per action. Each authorises the actor
//! (`authz`), validates through `domain`, and reads or writes through `store`. The HTML pages
//! and the JSON API call the same functions and differ only in parsing and rendering.
//!
//! # Who opens a transaction
//! The public use-case functions of this layer, once per action: `Db::run` for reads (and
//! for writes that open their own `DbConn::write` transaction), `Db::write` for the booking
//! writes that must be checked and applied atomically (group-committed on SQLite, retried on
//! PostgreSQL serialisation failures). Functions ending in `_tx` run inside a transaction
//! their caller opened, and those ending in `_on` read on a connection they are handed;
//! neither opens one. `store` functions never open one; `domain` never sees a connection.
//! Side effects that leave the process (mail) are written in that same transaction.
//!
//! # Adding a use case
//! 1. The rule, if it is one, goes in `domain` with its unit tests.
//! 2. Queries go in the `store` module of the table they touch.
//! 3. Here: `pub async fn verb_noun(app: &App, actor: &Actor, input) -> AppResult<View>`:
//!    authorise, validate, open the transaction, call the `_tx` step, return a view.
//! 4. In `web`: a page handler and an API handler that parse, call it, and render.

pub mod allocation;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod bookings;
pub mod closures;
pub mod dashboard;
pub mod demo;
pub mod demo_allocation;
pub mod employees;
pub mod feeds;
pub mod guard;
pub mod jobs;
pub mod kept;
pub mod ledger;
pub mod members;
pub mod months;
pub mod notify;
pub mod outbox;
pub mod password_reset;
pub mod planning;
pub mod pricing;
pub mod quotas;
pub mod resources;
pub mod setup;
pub mod users;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::{Clock, Config};
use crate::error::{AppError, AppResult};
use crate::store::Db;

/// One numbered page of a listing and how many rows its filters keep in all.
#[derive(Debug, Clone)]
pub struct Numbered<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// The service: its database, its configuration and its clock. Cheap to clone.
#[derive(Clone)]
pub struct App {
    db: Db,
    config: Arc<Config>,
    clock: Clock,
    feed_versions: Arc<feeds::VersionCache>,
    targets: Arc<bookings::TargetCache>,
    shifts: Arc<bookings::ShiftCache>,
    access: Arc<auth::AccessCache>,
}

impl App {
    pub fn new(db: Db, config: Config) -> App {
        let clock = Clock::new(config.now);
        App {
            db,
            config: Arc::new(config),
            clock,
            feed_versions: Default::default(),
            targets: Default::default(),
            shifts: Default::default(),
            access: Default::default(),
        }
    }

    /// Opens the database named by the configuration (applying migrations) and builds the app.
    pub fn open(config: Config) -> anyhow::Result<App> {
        let db = Db::connect_with(&config.database_url, config.pooling())?;
        Ok(App::new(db, config))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today's date in the pole's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().with_timezone(&self.tz()).date_naive()
    }

    pub fn tz(&self) -> Tz {
        self.config.timezone
    }

    pub(crate) fn feed_versions(&self) -> &feeds::VersionCache {
        &self.feed_versions
    }

    /// What requests keep of each user's roles and memberships between them.
    pub(crate) fn access(&self) -> Arc<auth::AccessCache> {
        self.access.clone()
    }

    /// What bookings keep of each resource's settings between requests.
    pub(crate) fn targets(&self) -> Arc<bookings::TargetCache> {
        self.targets.clone()
    }

    /// What assignments keep of each shared employee's shifts between requests.
    pub(crate) fn shifts(&self) -> Arc<bookings::ShiftCache> {
        self.shifts.clone()
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// "sqlite" or "postgres", for the health check and the logs.
    pub fn backend_name(&self) -> &'static str {
        match self.db.backend() {
            crate::store::Backend::Sqlite => "sqlite",
            crate::store::Backend::Postgres => "postgres",
        }
    }

    /// Whether the database answers.
    pub async fn health(&self) -> AppResult<()> {
        self.db.run(|c| c.ping()).await
    }
}

/// Applies a JSON merge patch (RFC 7396) to the current state of an object and reads the
/// result back as its input type, so PATCH re-runs the whole validation.
pub fn merge_patch<T: Serialize + DeserializeOwned>(current: &T, patch: Value) -> AppResult<T> {
    let mut doc = serde_json::to_value(current).map_err(AppError::internal)?;
    if !patch.is_object() {
        return Err(AppError::BadRequest(
            "Le corps d'un PATCH doit être un objet JSON.".into(),
        ));
    }
    merge(&mut doc, patch);
    read_json(doc)
}

/// A JSON document read as `T`; a value that does not fit is an error on its field (its
/// path, `key.method`; `body` for the whole), said in French.
pub fn read_json<T: DeserializeOwned>(doc: Value) -> AppResult<T> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body" } else { path.as_str() };
        AppError::validation(
            field,
            crate::domain::validation::french_data_error(&e.inner().to_string()),
        )
    })
}

fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(map) = target {
                for (k, v) in fields {
                    if v.is_null() {
                        // RFC 7396: null removes; our inputs read a missing field as its default.
                        map.remove(&k);
                    } else {
                        merge(map.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut d = doc(r#"{"a": "b", "c": {"d": "e", "f": "g"}}"#);
        merge(&mut d, doc(r#"{"a": "z", "c": {"f": null}}"#));
        assert_eq!(d, doc(r#"{"a": "z", "c": {"d": "e"}}"#));
        let mut d = doc(r#"{"list": [1, 2]}"#);
        merge(&mut d, doc(r#"{"list": [3]}"#));
        assert_eq!(d, doc(r#"{"list": [3]}"#));
    }
}
