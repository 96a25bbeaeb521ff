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

/// serde's message about a value that does not fit (« invalid type: string "abc", expected
/// f64 ») in French, for the field's error: API clients and their users read French.
pub fn french_data_error(message: &str) -> String {
    // serde_json adds where in the text the value was; the field already says where.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .trim();
    let quoted = |s: &str| s.trim().trim_matches('`').to_string();
    let what = |kind: &str| -> String {
        let kind = kind.trim();
        match kind.split_once(' ') {
            Some(("string", v)) => format!("le texte {v}"),
            Some(("integer", v)) => format!("le nombre entier {}", quoted(v)),
            Some(("floating", v)) => format!("le nombre {}", quoted(v.trim_start_matches("point"))),
            Some(("boolean", v)) => format!("le booléen {}", quoted(v)),
            _ => match kind {
                "null" => "null".into(),
                "map" => "un objet".into(),
                "sequence" => "une liste".into(),
                "unit value" => "une valeur vide".into(),
                other => other.to_string(),
            },
        }
    };
    let wanted = |kind: &str| -> String {
        match kind.trim() {
            "f64" | "f32" | "a number" => "un nombre".into(),
            "i64" | "i32" | "i16" | "i8" | "u64" | "u32" | "u16" | "u8" | "usize" | "isize" => {
                "un nombre entier".into()
            }
            "a string" | "a borrowed string" => "du texte".into(),
            "a boolean" => "un booléen (true ou false)".into(),
            "a sequence" => "une liste".into(),
            other if other.starts_with("struct") || other.starts_with("a map") => "un objet".into(),
            other => other.to_string(),
        }
    };
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return format!("Attendu : {} ; reçu : {}.", wanted(want), what(got));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((got, want)) = rest.split_once(", expected ") {
            return format!("Valeur refusée ({}) : attendu {}.", what(got), want.trim());
        }
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("Champ obligatoire manquant : {}.", quoted(rest));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let choices = want
            .trim_start_matches("one of ")
            .replace('`', "")
            .replace(" or ", ", ");
        return format!(
            "Valeur inconnue « {} » : valeurs possibles {}.",
            quoted(got),
            choices.trim()
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let got = rest.split_once(',').map_or(rest, |(g, _)| g);
        return format!("Champ inconnu : {}.", quoted(got));
    }
    match message {
        "input is out of range" => "Date ou nombre impossible (hors limites).".into(),
        "premature end of input"
        | "input contains invalid characters"
        | "trailing input"
        | "input is not enough for unique date and time"
        | "no possible date and time matching input" => {
            "Format de date ou d'heure invalide.".into()
        }
        other => format!("Valeur invalide ({other})."),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn serdes_complaints_are_said_in_french() {
        assert_eq!(
            french_data_error(r#"invalid type: string "abc", expected f64 at line 1 column 35"#),
            r#"Attendu : un nombre ; reçu : le texte "abc"."#
        );
        assert_eq!(
            french_data_error("invalid type: integer `5`, expected a string"),
            "Attendu : du texte ; reçu : le nombre entier 5."
        );
        assert_eq!(
            french_data_error("missing field `end`"),
            "Champ obligatoire manquant : end."
        );
        assert_eq!(
            french_data_error(
                "unknown variant `holiday`, expected one of `work`, `training`, `absence`"
            ),
            "Valeur inconnue « holiday » : valeurs possibles work, training, absence."
        );
        assert_eq!(
            french_data_error("input is out of range"),
            "Date ou nombre impossible (hors limites)."
        );
        assert_eq!(
            french_data_error("something else"),
            "Valeur invalide (something else)."
        );
    }
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
