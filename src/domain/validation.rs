//! Per-field validation errors and the small checks shared by every form and API payload.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Errors keyed by field name, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, message);
        e
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|e| format!("{} : {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join(" ; ")
    }

    /// Records the error of a check and keeps its value, so a form reports every problem at once.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// Trimmed, non-empty text of at most `max` characters, without control characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("Ce champ est obligatoire.".into());
    }
    optional_text(v, max).map(|o| o.unwrap_or_default())
}

/// Trimmed text, `None` when blank.
pub fn optional_text(value: &str, max: usize) -> Result<Option<String>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(format!("{max} caractères au maximum."));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("Caractères de contrôle interdits.".into());
    }
    Ok(Some(v.to_string()))
}

/// A deliberately simple address check: one `@`, a dot in the domain, no spaces.
pub fn email(value: &str) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    let msg = || "Adresse e-mail invalide (exemple : nom@structure.fr).".to_string();
    if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(msg());
    }
    let (local, domain) = v.split_once('@').ok_or_else(msg)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(msg());
    }
    Ok(v)
}

pub fn int_in_range(value: i64, min: i64, max: i64) -> Result<i64, String> {
    if value < min || value > max {
        Err(format!("Valeur attendue entre {min} et {max}."))
    } else {
        Ok(value)
    }
}

/// Parses a whole number typed in a form (spaces allowed as thousands separators).
pub fn parse_int(raw: &str) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<i64>()
        .map(Some)
        .map_err(|_| "Nombre entier attendu.".to_string())
}

/// A short identifier such as a pricing category: lowercase letters, digits, `-` and `_`.
pub fn slug(value: &str) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    if v.is_empty()
        || v.len() > 32
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(
            "Identifiant de 1 à 32 caractères : lettres minuscules, chiffres, - ou _.".into(),
        );
    }
    Ok(v)
}

pub fn password(value: &str) -> Result<String, String> {
    let n = value.chars().count();
    if n < 10 {
        return Err("Le mot de passe doit compter au moins 10 caractères.".into());
    }
    if n > 256 {
        return Err("Le mot de passe ne peut dépasser 256 caractères.".into());
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks() {
        assert_eq!(required_text("  Salle  ", 10).unwrap(), "Salle");
        assert!(required_text("   ", 10).is_err());
        assert!(required_text("abcdefghijk", 10).is_err());
        assert!(required_text("a\u{0}b", 10).is_err());
        assert_eq!(optional_text(" ", 10).unwrap(), None);
    }

    #[test]
    fn email_checks() {
        assert_eq!(email(" Anne@Coop.FR ").unwrap(), "anne@coop.fr");
        for bad in [
            "",
            "anne",
            "anne@",
            "@coop.fr",
            "anne@coop",
            "a b@coop.fr",
            "a@b@c.fr",
            "a@.fr",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_and_slugs() {
        assert_eq!(parse_int(" 1 200 ").unwrap(), Some(1200));
        assert_eq!(parse_int("").unwrap(), None);
        assert!(parse_int("12a").is_err());
        assert!(parse_int("99999999999999999999").is_err());
        assert_eq!(slug("Solidaire").unwrap(), "solidaire");
        assert!(slug("tarif réduit").is_err());
        assert!(password("court").is_err());
        assert!(password("assez-long-pour-passer").is_ok());
    }
}
