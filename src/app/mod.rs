//! Use cases: one function per action, each authorising the actor, validating through
//! `domain`, and writing through `store` in one transaction. HTML and JSON call the same ones.

pub mod auth;
pub mod authz;
pub mod bookings;
pub mod closures;
pub mod demo;
pub mod members;
pub mod resources;
pub mod setup;
pub mod users;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};

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
    serde_json::from_value(doc)
        .map_err(|e| AppError::validation("body", format!("Champ invalide : {e}")))
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

/// Turns a unique-constraint conflict into a field error the form can show.
pub fn unique_as_field(e: AppError, field: &str, message: &str) -> AppError {
    match e {
        AppError::Conflict {
            code: "already_exists",
            ..
        } => AppError::validation(field, message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut doc, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"list": [1, 2]});
        merge(&mut doc, json!({"list": [3]}));
        assert_eq!(doc, json!({"list": [3]}));
    }
}
