//! Members of the pole: legal forms, SIRET check and validation of what is typed about a member.

use serde::{Deserialize, Serialize};

use super::validation::{self, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegalForm {
    Association,
    Scop,
    Scic,
    SarlSas,
    Collectivite,
    Siae,
    GeGeiq,
    Other,
}

impl LegalForm {
    pub const ALL: [LegalForm; 8] = [
        LegalForm::Association,
        LegalForm::Scop,
        LegalForm::Scic,
        LegalForm::SarlSas,
        LegalForm::Collectivite,
        LegalForm::Siae,
        LegalForm::GeGeiq,
        LegalForm::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LegalForm::Association => "association",
            LegalForm::Scop => "scop",
            LegalForm::Scic => "scic",
            LegalForm::SarlSas => "sarl_sas",
            LegalForm::Collectivite => "collectivite",
            LegalForm::Siae => "siae",
            LegalForm::GeGeiq => "ge_geiq",
            LegalForm::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LegalForm::Association => "Association",
            LegalForm::Scop => "SCOP",
            LegalForm::Scic => "SCIC",
            LegalForm::SarlSas => "SARL / SAS",
            LegalForm::Collectivite => "Collectivité",
            LegalForm::Siae => "SIAE (insertion)",
            LegalForm::GeGeiq => "GE / GEIQ",
            LegalForm::Other => "Autre",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }
}

/// Pricing categories offered by default; others may be typed (they are short slugs).
pub const DEFAULT_CATEGORIES: [(&str, &str); 3] = [
    ("standard", "Tarif standard"),
    ("solidaire", "Tarif solidaire"),
    ("insertion", "Tarif insertion"),
];

pub fn category_label(category: &str) -> String {
    DEFAULT_CATEGORIES
        .iter()
        .find(|(c, _)| *c == category)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| category.to_string())
}

/// SIRET: 14 digits passing the Luhn check. La Poste's establishments (SIREN 356 000 000)
/// follow INSEE's exception instead: the sum of the digits is a multiple of 5.
pub fn siret(value: &str) -> Result<String, String> {
    let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 14 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("Le SIRET compte 14 chiffres.".into());
    }
    let valid = if digits.starts_with("356000000") && digits != "35600000000048" {
        digits.bytes().map(|b| (b - b'0') as u32).sum::<u32>() % 5 == 0
    } else {
        luhn(&digits)
    };
    if valid {
        Ok(digits)
    } else {
        Err("Ce SIRET n'est pas valide (clé de contrôle incorrecte).".into())
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// What a client sends about a member (API JSON; HTML forms are parsed into it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    #[schema(max_length = 120)]
    pub name: String,
    #[schema(value_type = LegalForm)]
    pub legal_form: String,
    #[serde(default = "default_category")]
    pub pricing_category: String,
    #[serde(default)]
    pub siret: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Headcount in full-time equivalents (ETP), two decimals.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100_000)]
    pub headcount: f64,
    #[serde(default)]
    pub turnover_cents: i64,
    #[serde(default)]
    pub surface_m2: i32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn default_category() -> String {
    "standard".into()
}
fn yes() -> bool {
    true
}

/// A validated member, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberDraft {
    pub name: String,
    pub legal_form: LegalForm,
    pub pricing_category: String,
    pub siret: Option<String>,
    pub email: Option<String>,
    pub headcount_hundredths: i32,
    pub turnover_cents: i64,
    pub surface_m2: i32,
    pub active: bool,
}

impl MemberInput {
    pub fn validate(&self) -> Result<MemberDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", validation::required_text(&self.name, 120));
        let legal_form = e.check(
            "legal_form",
            LegalForm::parse(&self.legal_form)
                .ok_or_else(|| "Forme juridique inconnue.".to_string()),
        );
        let pricing_category =
            e.check("pricing_category", validation::slug(&self.pricing_category));
        let siret = match self
            .siret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => e.check("siret", siret(s).map(Some)),
            None => Some(None),
        };
        let email = match self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => e.check("email", validation::email(s).map(Some)),
            None => Some(None),
        };
        let headcount = e.check(
            "headcount",
            if self.headcount.is_finite() && (0.0..=100_000.0).contains(&self.headcount) {
                Ok((self.headcount * 100.0).round() as i32)
            } else {
                Err("Effectif en ETP attendu, entre 0 et 100 000.".into())
            },
        );
        let turnover = e.check(
            "turnover_cents",
            if (0..=100_000_000_000_000).contains(&self.turnover_cents) {
                Ok(self.turnover_cents)
            } else {
                Err("Chiffre d'affaires positif attendu.".into())
            },
        );
        let surface = e.check(
            "surface_m2",
            validation::int_in_range(self.surface_m2.into(), 0, 1_000_000).map(|v| v as i32),
        );
        match (
            name,
            legal_form,
            pricing_category,
            siret,
            email,
            headcount,
            turnover,
            surface,
        ) {
            (
                Some(name),
                Some(legal_form),
                Some(pricing_category),
                Some(siret),
                Some(email),
                Some(headcount_hundredths),
                Some(turnover_cents),
                Some(surface_m2),
            ) if e.is_empty() => Ok(MemberDraft {
                name,
                legal_form,
                pricing_category,
                siret,
                email,
                headcount_hundredths,
                turnover_cents,
                surface_m2,
                active: self.active,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> MemberInput {
        MemberInput {
            name: "Les Jardins du Lien".into(),
            legal_form: "association".into(),
            pricing_category: "solidaire".into(),
            siret: Some("732 829 320 00074".into()),
            email: Some("contact@jardins.fr".into()),
            headcount: 3.5,
            turnover_cents: 12_000_000,
            surface_m2: 40,
            active: true,
        }
    }

    #[test]
    fn siret_luhn() {
        assert_eq!(siret("73282932000074").unwrap(), "73282932000074");
        assert!(siret("73282932000075").is_err());
        assert!(siret("7328293200007").is_err());
        assert!(siret("7328293200007a").is_err());
        // La Poste: digit sum multiple of 5.
        assert!(siret("35600000000048").is_ok());
        assert!(siret("35600000049837").is_ok());
    }

    #[test]
    fn valid_member() {
        let d = input().validate().unwrap();
        assert_eq!(d.headcount_hundredths, 350);
        assert_eq!(d.siret.as_deref(), Some("73282932000074"));
        assert_eq!(d.legal_form, LegalForm::Association);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut i = input();
        i.name = " ".into();
        i.legal_form = "sa".into();
        i.siret = Some("123".into());
        i.email = Some("nope".into());
        i.headcount = f64::NAN;
        i.turnover_cents = -1;
        i.surface_m2 = -5;
        i.pricing_category = "Tarif réduit".into();
        let e = i.validate().unwrap_err();
        for f in [
            "name",
            "legal_form",
            "siret",
            "email",
            "headcount",
            "turnover_cents",
            "surface_m2",
            "pricing_category",
        ] {
            assert!(e.get(f).is_some(), "missing error for {f}: {e}");
        }
    }
}
