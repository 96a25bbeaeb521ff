//! How a cost is split between members (DESIGN.md §5): the keys a treasurer chooses, and the
//! exact split. Pure: the caller passes each member's basis for the month.
//!
//! Every split is exact to the cent and fair: each member gets the floor of its exact share,
//! then the cents left over go one by one to the largest remainders, ties to the lowest member
//! id. The parts sum to the amount, and each is within one cent of its exact share. A blend of
//! keys (50 % by surface + 50 % by usage) is split once, on the blended exact shares, so its
//! parts are within one cent too (two splits added up could be two cents off).
//!
//! Exact shares are rationals: with keys `k` of weights `w[k][m]` (sum `W[k]`) and blend
//! shares `bp[k]` (basis points), member `m`'s share of `total` is
//! `Σ_k total · bp[k] · w[k][m] / (10 000 · W[k])`. Each term is divided with its own
//! denominator, and the remainders compared over their common one, in 128-bit integers with
//! checked arithmetic: amounts too large to split exactly are refused, never rounded.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::MemberId;
use super::money::split_blended;
pub use super::money::WHOLE_BP;

/// What the keys read of one member for one month. The caller passes the members the cost
/// concerns (those active in the month), in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberBasis {
    pub member: MemberId,
    /// Minutes the member used the entry's resources (or pool) in the month.
    pub used_minutes: i64,
    /// Headcount (ETP) in hundredths: 2.5 ETP = 250.
    pub headcount_hundredths: i64,
    pub turnover_cents: i64,
    pub surface_m2: i64,
}

/// The key that splits a cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Key {
    /// In proportion to the minutes of use of the entry's resources.
    Usage,
    /// Equal parts among every member passed (the active ones).
    EqualActive,
    /// Equal parts among the members that used the entry's resources in the month.
    EqualUsers,
    /// In proportion to headcount (ETP).
    Headcount,
    /// In proportion to turnover.
    Turnover,
    /// In proportion to the surface each member occupies.
    Surface,
    /// Fixed shares in basis points (1 250 = 12.5 %), summing to exactly 100 %.
    Percentages { parts: Vec<(MemberId, i64)> },
    /// Amounts in cents, summing to exactly the amount split.
    Exact { parts: Vec<(MemberId, i64)> },
    /// Several keys, each over a share of the amount in basis points summing to 100 %
    /// (`[(5 000, Surface), (5 000, Usage)]`); none of them a blend or exact amounts.
    Blend { parts: Vec<(i64, Key)> },
}

impl Key {
    /// The key's name in French, for messages and statements.
    pub fn label(&self) -> &'static str {
        match self {
            Key::Usage => "heures d'utilisation",
            Key::EqualActive => "parts égales entre membres actifs",
            Key::EqualUsers => "parts égales entre utilisateurs",
            Key::Headcount => "effectif (ETP)",
            Key::Turnover => "chiffre d'affaires",
            Key::Surface => "surface",
            Key::Percentages { .. } => "pourcentages fixes",
            Key::Exact { .. } => "montants exacts",
            Key::Blend { .. } => "clé composée",
        }
    }
}

/// How a client writes a key (API JSON, stored with the cost entry; DESIGN.md §6):
/// `{method: usage_hours|equal|headcount|turnover|surface|percentages|amounts|blend,
/// among?: active|users, weights?: {member_id: n}, parts?: [{weight_percent, key}]}`.
/// Percentages are given in percent (12.5), amounts in cents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeySpec {
    pub method: Method,
    /// Equal parts: among the active members (default) or the members that used the
    /// entry's resources in the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub among: Option<Among>,
    /// Percentages (in percent) or amounts (in cents) per member id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, f64>)]
    pub weights: BTreeMap<MemberId, f64>,
    /// A blend: each key over a share of the amount, in percent, summing to 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub parts: Vec<BlendPart>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    UsageHours,
    Equal,
    Headcount,
    Turnover,
    Surface,
    Percentages,
    Amounts,
    Blend,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::UsageHours,
        Method::Equal,
        Method::Headcount,
        Method::Turnover,
        Method::Surface,
        Method::Percentages,
        Method::Amounts,
        Method::Blend,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::UsageHours => "usage_hours",
            Method::Equal => "equal",
            Method::Headcount => "headcount",
            Method::Turnover => "turnover",
            Method::Surface => "surface",
            Method::Percentages => "percentages",
            Method::Amounts => "amounts",
            Method::Blend => "blend",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Method::UsageHours => "Heures d'utilisation",
            Method::Equal => "Parts égales",
            Method::Headcount => "Effectif (ETP)",
            Method::Turnover => "Chiffre d'affaires",
            Method::Surface => "Surface (m²)",
            Method::Percentages => "Pourcentages fixes",
            Method::Amounts => "Montants exacts",
            Method::Blend => "Clé composée",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Among {
    Active,
    Users,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlendPart {
    pub weight_percent: f64,
    #[schema(no_recursion)]
    pub key: KeySpec,
}

impl KeySpec {
    pub fn simple(method: Method) -> KeySpec {
        KeySpec {
            method,
            among: None,
            weights: BTreeMap::new(),
            parts: Vec::new(),
        }
    }

    /// The key it describes, or why it describes none (in French). Percentages are read to
    /// the basis point (12,345 % is refused), amounts to the cent.
    pub fn to_key(&self) -> Result<Key, String> {
        let whole = |v: f64, what: &str| -> Result<i64, String> {
            if !v.is_finite() || v.abs() > 1e15 || v.fract() != 0.0 {
                return Err(format!("{what} : un nombre entier est attendu."));
            }
            Ok(v as i64)
        };
        let bp = |v: f64| -> Result<i64, String> {
            let scaled = v * 100.0;
            let r = scaled.round();
            if !v.is_finite() || (scaled - r).abs() > 1e-6 || r.abs() > 1e9 {
                return Err(format!(
                    "Pourcentage « {v} » invalide : au plus deux décimales."
                ));
            }
            Ok(r as i64)
        };
        let no_weights = |k: Key| -> Result<Key, String> {
            if self.weights.is_empty() && self.parts.is_empty() {
                Ok(k)
            } else {
                Err(format!(
                    "La clé « {} » se calcule sur les données des membres : ni poids ni parts.",
                    self.method.label()
                ))
            }
        };
        match self.method {
            Method::UsageHours => no_weights(Key::Usage),
            Method::Equal => no_weights(match self.among.unwrap_or(Among::Active) {
                Among::Active => Key::EqualActive,
                Among::Users => Key::EqualUsers,
            }),
            Method::Headcount => no_weights(Key::Headcount),
            Method::Turnover => no_weights(Key::Turnover),
            Method::Surface => no_weights(Key::Surface),
            Method::Percentages => {
                if self.weights.is_empty() {
                    return Err("Pourcentages fixes : indiquez la part de chaque membre.".into());
                }
                let parts = self
                    .weights
                    .iter()
                    .map(|(m, v)| Ok((*m, bp(*v)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(Key::Percentages { parts })
            }
            Method::Amounts => {
                if self.weights.is_empty() {
                    return Err("Montants exacts : indiquez le montant de chaque membre.".into());
                }
                let parts = self
                    .weights
                    .iter()
                    .map(|(m, v)| Ok((*m, whole(*v, "Montant en centimes")?)))
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(Key::Exact { parts })
            }
            Method::Blend => {
                if self.parts.len() < 2 {
                    return Err("Une clé composée associe au moins deux clés.".into());
                }
                let parts = self
                    .parts
                    .iter()
                    .map(|p| {
                        if p.key.method == Method::Blend {
                            return Err(SplitError::BadBlend.to_string());
                        }
                        Ok((bp(p.weight_percent)?, p.key.to_key()?))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(Key::Blend { parts })
            }
        }
    }

    /// In French, for statements: « surface », « 50 % surface + 50 % heures d'utilisation ».
    pub fn describe(&self) -> String {
        match self.method {
            Method::Blend => self
                .parts
                .iter()
                .map(|p| {
                    format!(
                        "{} % {}",
                        super::money::format_permille((p.weight_percent * 1000.0).round() as i64),
                        p.key.describe()
                    )
                })
                .collect::<Vec<_>>()
                .join(" + "),
            Method::Equal if self.among == Some(Among::Users) => {
                "parts égales entre les membres utilisateurs".into()
            }
            Method::Equal => "parts égales entre les membres actifs".into(),
            m => m.label().to_lowercase(),
        }
    }
}

/// Why a cost cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// Every member weighs 0 under this key.
    NoWeight {
        key: &'static str,
    },
    /// A weight, a percentage or an amount below zero.
    Negative {
        key: &'static str,
    },
    /// Percentages, or a blend's shares, that do not make 100 %.
    NotWhole {
        key: &'static str,
        sum_bp: i64,
    },
    /// An exact amount of the other sign than the amount split.
    OppositeSign,
    /// Exact amounts that do not sum to the amount split.
    ExactMismatch {
        sum: i64,
        total: i64,
    },
    /// A part names a member the cost does not concern, or names one twice.
    UnknownMember(MemberId),
    DuplicateMember(MemberId),
    /// A blend inside a blend, exact amounts in a blend, or an empty blend.
    BadBlend,
    /// Figures too large to split exactly.
    TooLarge,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::NoWeight { key } => write!(
                f,
                "Aucun membre n'a de poids pour la clé « {key} » : rien ne peut être réparti."
            ),
            SplitError::Negative { key } => {
                write!(f, "La clé « {key} » contient une valeur négative.")
            }
            SplitError::NotWhole { key, sum_bp } => write!(
                f,
                "Les parts de la clé « {key} » font {} %, elles doivent faire exactement 100 %.",
                super::money::format_amount(*sum_bp)
            ),
            SplitError::ExactMismatch { sum, total } => write!(
                f,
                "Les montants exacts font {} €, le coût à répartir {} € : ils doivent être égaux.",
                super::money::format_amount(*sum),
                super::money::format_amount(*total)
            ),
            SplitError::OppositeSign => f.write_str(
                "Chaque montant exact doit être du signe du coût à répartir (un avoir se répartit \
                 en avoirs).",
            ),
            SplitError::UnknownMember(m) => {
                write!(f, "Le membre {m} n'est pas concerné par ce coût.")
            }
            SplitError::DuplicateMember(m) => write!(f, "Le membre {m} figure deux fois."),
            SplitError::BadBlend => f.write_str(
                "Une clé composée associe des clés simples ou des pourcentages, sans clé composée \
                 ni montants exacts.",
            ),
            SplitError::TooLarge => {
                f.write_str("Montants trop grands pour être répartis exactement.")
            }
        }
    }
}

impl std::error::Error for SplitError {}

/// One member's part of a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Share {
    pub member: MemberId,
    pub cents: i64,
}

/// Splits `total` cents between `members` by `key`: one share per member, in member id order,
/// summing exactly to `total` (a negative total, a credit, splits the same way). Members that
/// weigh 0 get a share of 0.
pub fn split(total: i64, key: &Key, members: &[MemberBasis]) -> Result<Vec<Share>, SplitError> {
    let mut members: Vec<&MemberBasis> = members.iter().collect();
    members.sort_by_key(|m| m.member);
    if let Some(w) = members.windows(2).find(|w| w[0].member == w[1].member) {
        return Err(SplitError::DuplicateMember(w[0].member));
    }
    let ids: Vec<MemberId> = members.iter().map(|m| m.member).collect();
    let cents = match key {
        Key::Exact { parts } => exact_amounts(total, parts, &ids)?,
        Key::Blend { parts } => {
            if parts.is_empty() {
                return Err(SplitError::BadBlend);
            }
            let mut terms = Vec::with_capacity(parts.len());
            for (bp, k) in parts {
                if matches!(k, Key::Blend { .. } | Key::Exact { .. }) {
                    return Err(SplitError::BadBlend);
                }
                if *bp < 0 {
                    return Err(SplitError::Negative { key: key.label() });
                }
                if *bp > WHOLE_BP {
                    return Err(SplitError::NotWhole {
                        key: key.label(),
                        sum_bp: *bp,
                    });
                }
                // A key given 0 % does not count, even when nobody weighs anything under it.
                if *bp > 0 {
                    terms.push((*bp, weights(k, &members, &ids)?));
                }
            }
            // Each share is within 0..=100 %: the sum cannot overflow.
            let sum_bp: i64 = parts.iter().map(|(bp, _)| *bp).sum();
            if sum_bp != WHOLE_BP {
                return Err(SplitError::NotWhole {
                    key: key.label(),
                    sum_bp,
                });
            }
            split_blended(total, &terms).ok_or(SplitError::TooLarge)?
        }
        simple => split_blended(total, &[(WHOLE_BP, weights(simple, &members, &ids)?)])
            .ok_or(SplitError::TooLarge)?,
    };
    Ok(ids
        .into_iter()
        .zip(cents)
        .map(|(member, cents)| Share { member, cents })
        .collect())
}

/// The weights of a simple key, one per member in id order; at least one positive.
fn weights(key: &Key, members: &[&MemberBasis], ids: &[MemberId]) -> Result<Vec<i64>, SplitError> {
    let label = key.label();
    let w: Vec<i64> = match key {
        Key::Usage => members.iter().map(|m| m.used_minutes).collect(),
        Key::EqualActive => members.iter().map(|_| 1).collect(),
        Key::EqualUsers => members
            .iter()
            .map(|m| i64::from(m.used_minutes > 0))
            .collect(),
        Key::Headcount => members.iter().map(|m| m.headcount_hundredths).collect(),
        Key::Turnover => members.iter().map(|m| m.turnover_cents).collect(),
        Key::Surface => members.iter().map(|m| m.surface_m2).collect(),
        Key::Percentages { parts } => {
            let w = by_member(parts, ids)?;
            if w.iter().any(|x| *x < 0) {
                return Err(SplitError::Negative { key: label });
            }
            // Refused above 100 % one by one, so the sum cannot overflow.
            if let Some(x) = w.iter().find(|x| **x > WHOLE_BP) {
                return Err(SplitError::NotWhole {
                    key: label,
                    sum_bp: *x,
                });
            }
            let sum: i64 = w.iter().sum();
            if sum != WHOLE_BP {
                return Err(SplitError::NotWhole {
                    key: label,
                    sum_bp: sum,
                });
            }
            w
        }
        Key::Exact { .. } | Key::Blend { .. } => return Err(SplitError::BadBlend),
    };
    if w.iter().any(|x| *x < 0) {
        return Err(SplitError::Negative { key: label });
    }
    if w.iter().all(|x| *x == 0) {
        return Err(SplitError::NoWeight { key: label });
    }
    Ok(w)
}

/// Parts given per member, laid out in `ids` order (members not named get 0).
fn by_member(parts: &[(MemberId, i64)], ids: &[MemberId]) -> Result<Vec<i64>, SplitError> {
    let mut out = vec![0i64; ids.len()];
    let mut seen = vec![false; ids.len()];
    for (member, value) in parts {
        let i = ids
            .binary_search(member)
            .map_err(|_| SplitError::UnknownMember(*member))?;
        if seen[i] {
            return Err(SplitError::DuplicateMember(*member));
        }
        seen[i] = true;
        out[i] = *value;
    }
    Ok(out)
}

fn exact_amounts(
    total: i64,
    parts: &[(MemberId, i64)],
    ids: &[MemberId],
) -> Result<Vec<i64>, SplitError> {
    let amounts = by_member(parts, ids)?;
    // Same sign as the amount split: a cost into charges, a credit into credits, nothing
    // into nothing (never a charge balanced by a credit).
    if amounts
        .iter()
        .any(|a| *a != 0 && a.signum() != total.signum())
    {
        return Err(SplitError::OppositeSign);
    }
    let sum = amounts
        .iter()
        .try_fold(0i64, |acc, a| acc.checked_add(*a))
        .ok_or(SplitError::TooLarge)?;
    if sum != total {
        return Err(SplitError::ExactMismatch { sum, total });
    }
    Ok(amounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn basis(id: i64) -> MemberBasis {
        MemberBasis {
            member: MemberId(id),
            used_minutes: 0,
            headcount_hundredths: 0,
            turnover_cents: 0,
            surface_m2: 0,
        }
    }

    fn cents(shares: &[Share]) -> Vec<i64> {
        shares.iter().map(|s| s.cents).collect()
    }

    fn with(f: impl Fn(&mut MemberBasis, i64), values: &[i64]) -> Vec<MemberBasis> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut b = basis(i as i64 + 1);
                f(&mut b, *v);
                b
            })
            .collect()
    }

    #[test]
    fn the_examples_of_the_design() {
        // 1 000.00 € of rent by usage hours 10 / 20 / 30.
        let m = with(|b, h| b.used_minutes = h * 60, &[10, 20, 30]);
        assert_eq!(
            cents(&split(100_000, &Key::Usage, &m).unwrap()),
            [16_667, 33_333, 50_000]
        );
        // 100.00 € in three equal parts: the lowest member id takes the extra cent.
        let m = with(|_, _| {}, &[0, 0, 0]);
        assert_eq!(
            cents(&split(10_000, &Key::EqualActive, &m).unwrap()),
            [3_334, 3_333, 3_333]
        );
        // 2 345.67 € by surface 40 / 25 / 15 m².
        let m = with(|b, s| b.surface_m2 = s, &[40, 25, 15]);
        assert_eq!(
            cents(&split(234_567, &Key::Surface, &m).unwrap()),
            [117_284, 73_302, 43_981]
        );
        // 999.99 € at 12.5 / 37.5 / 50 %.
        let m = with(|_, _| {}, &[0, 0, 0]);
        let key = Key::Percentages {
            parts: vec![
                (MemberId(1), 1_250),
                (MemberId(2), 3_750),
                (MemberId(3), 5_000),
            ],
        };
        assert_eq!(
            cents(&split(99_999, &key, &m).unwrap()),
            [12_500, 37_500, 49_999]
        );
    }

    #[test]
    fn shares_come_in_member_id_order_whatever_the_input_order() {
        let mut m = with(|b, s| b.surface_m2 = s, &[40, 25, 15]);
        m.reverse();
        let s = split(234_567, &Key::Surface, &m).unwrap();
        assert_eq!(s.iter().map(|s| s.member.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(cents(&s), [117_284, 73_302, 43_981]);
    }

    #[test]
    fn a_weight_of_zero_excludes_and_all_zero_is_refused() {
        let m = with(|b, h| b.headcount_hundredths = h, &[250, 0, 150]);
        assert_eq!(
            cents(&split(1_000, &Key::Headcount, &m).unwrap()),
            [625, 0, 375]
        );
        let m = with(|b, t| b.turnover_cents = t, &[0, 0]);
        let e = split(1_000, &Key::Turnover, &m).unwrap_err();
        assert_eq!(
            e,
            SplitError::NoWeight {
                key: "chiffre d'affaires"
            }
        );
        assert!(e.to_string().contains("chiffre d'affaires"), "{e}");
        assert_eq!(
            split(1_000, &Key::Usage, &[]).unwrap_err(),
            SplitError::NoWeight {
                key: "heures d'utilisation"
            }
        );
    }

    #[test]
    fn equal_parts_among_users_leave_out_who_did_not_use() {
        let m = with(|b, u| b.used_minutes = u, &[90, 0, 1, 600]);
        assert_eq!(
            cents(&split(100, &Key::EqualUsers, &m).unwrap()),
            [34, 0, 33, 33]
        );
        assert_eq!(
            cents(&split(100, &Key::EqualActive, &m).unwrap()),
            [25, 25, 25, 25]
        );
    }

    #[test]
    fn percentages_must_make_exactly_one_hundred() {
        let m = with(|_, _| {}, &[0, 0]);
        let key = |a, b| Key::Percentages {
            parts: vec![(MemberId(1), a), (MemberId(2), b)],
        };
        assert_eq!(
            cents(&split(101, &key(5_000, 5_000), &m).unwrap()),
            [51, 50]
        );
        assert_eq!(
            split(100, &key(5_000, 4_999), &m).unwrap_err(),
            SplitError::NotWhole {
                key: "pourcentages fixes",
                sum_bp: 9_999
            }
        );
        assert_eq!(
            split(100, &key(10_001, -1), &m).unwrap_err(),
            SplitError::Negative {
                key: "pourcentages fixes"
            }
        );
        let stranger = Key::Percentages {
            parts: vec![(MemberId(1), 5_000), (MemberId(9), 5_000)],
        };
        assert_eq!(
            split(100, &stranger, &m).unwrap_err(),
            SplitError::UnknownMember(MemberId(9))
        );
        let twice = Key::Percentages {
            parts: vec![(MemberId(1), 5_000), (MemberId(1), 5_000)],
        };
        assert_eq!(
            split(100, &twice, &m).unwrap_err(),
            SplitError::DuplicateMember(MemberId(1))
        );
        let e = split(100, &key(5_000, 4_999), &m).unwrap_err().to_string();
        assert!(e.contains("99,99 %"), "{e}");
    }

    #[test]
    fn exact_amounts_are_kept_and_must_sum_to_the_total() {
        let m = with(|_, _| {}, &[0, 0, 0]);
        let key = Key::Exact {
            parts: vec![(MemberId(1), 700), (MemberId(3), 300)],
        };
        assert_eq!(cents(&split(1_000, &key, &m).unwrap()), [700, 0, 300]);
        assert_eq!(
            split(1_001, &key, &m).unwrap_err(),
            SplitError::ExactMismatch {
                sum: 1_000,
                total: 1_001
            }
        );
        let e = split(1_001, &key, &m).unwrap_err().to_string();
        assert!(e.contains("10,00 €") && e.contains("10,01 €"), "{e}");
    }

    #[test]
    fn a_blend_is_split_once_on_the_blended_shares() {
        // 50 % by surface (30 / 10 m²) + 50 % by usage (1 h / 3 h) of 100.01 €: exact shares
        // of 50.005 each; the tie goes to the lowest member id.
        let m = vec![
            MemberBasis {
                surface_m2: 30,
                used_minutes: 60,
                ..basis(1)
            },
            MemberBasis {
                surface_m2: 10,
                used_minutes: 180,
                ..basis(2)
            },
        ];
        let key = Key::Blend {
            parts: vec![(5_000, Key::Surface), (5_000, Key::Usage)],
        };
        assert_eq!(cents(&split(10_001, &key, &m).unwrap()), [5_001, 5_000]);
        // Nobody used the pool, but the usage half weighs 0 %: the surface takes it all.
        let unused = vec![
            MemberBasis {
                surface_m2: 30,
                ..basis(1)
            },
            MemberBasis {
                surface_m2: 10,
                ..basis(2)
            },
        ];
        let all_surface = Key::Blend {
            parts: vec![(10_000, Key::Surface), (0, Key::Usage)],
        };
        assert_eq!(cents(&split(100, &all_surface, &unused).unwrap()), [75, 25]);
        assert_eq!(
            split(100, &key, &unused).unwrap_err(),
            SplitError::NoWeight {
                key: "heures d'utilisation"
            }
        );
        let nested = Key::Blend {
            parts: vec![(5_000, Key::Surface), (5_000, key.clone())],
        };
        assert_eq!(split(100, &nested, &m).unwrap_err(), SplitError::BadBlend);
        let short = Key::Blend {
            parts: vec![(5_000, Key::Surface), (4_000, Key::Usage)],
        };
        assert_eq!(
            split(100, &short, &m).unwrap_err(),
            SplitError::NotWhole {
                key: "clé composée",
                sum_bp: 9_000
            }
        );
    }

    #[test]
    fn credits_split_like_costs_and_huge_figures_are_refused_not_rounded() {
        let m = with(|b, s| b.surface_m2 = s, &[40, 25, 15]);
        assert_eq!(
            cents(&split(-234_567, &Key::Surface, &m).unwrap()),
            [-117_284, -73_302, -43_981]
        );
        let m = with(|b, t| b.turnover_cents = t, &[i64::MAX, i64::MAX]);
        let three = Key::Blend {
            parts: vec![
                (3_000, Key::Turnover),
                (3_000, Key::Turnover),
                (4_000, Key::Turnover),
            ],
        };
        assert_eq!(
            split(i64::MAX, &three, &m).unwrap_err(),
            SplitError::TooLarge
        );
    }

    /// The brute-force oracle: exact shares as fractions of a common denominator computed the
    /// slow way (f64-free), the cents handed out one at a time to whoever is furthest below
    /// its exact share, ties to the lowest id.
    fn oracle(total: i64, terms: &[(i64, Vec<i64>)]) -> Vec<i64> {
        let n = terms[0].1.len();
        let dens: Vec<i128> = terms
            .iter()
            .map(|(_, w)| 10_000 * w.iter().map(|x| *x as i128).sum::<i128>())
            .collect();
        let common: i128 = dens.iter().product();
        let exact: Vec<i128> = (0..n)
            .map(|m| {
                terms
                    .iter()
                    .zip(&dens)
                    .map(|((bp, w), d)| total as i128 * *bp as i128 * w[m] as i128 * (common / d))
                    .sum()
            })
            .collect();
        let mut parts = vec![0i64; n];
        for _ in 0..total {
            // Deficit of each member: exact − given, over `common`.
            let m = (0..n)
                .max_by(|a, b| {
                    let da = exact[*a] - parts[*a] as i128 * common;
                    let db = exact[*b] - parts[*b] as i128 * common;
                    da.cmp(&db).then(b.cmp(a))
                })
                .unwrap();
            parts[m] += 1;
        }
        parts
    }

    #[test]
    fn hostile_figures_are_refused_without_overflow() {
        let m = with(|_, _| {}, &[0, 0, 0]);
        let wraps = Key::Percentages {
            parts: vec![
                (MemberId(1), i64::MAX),
                (MemberId(2), i64::MAX),
                (MemberId(3), 10_002),
            ],
        };
        assert!(matches!(
            split(100, &wraps, &m).unwrap_err(),
            SplitError::NotWhole { .. }
        ));
        let blend = Key::Blend {
            parts: vec![
                (i64::MAX, Key::Surface),
                (i64::MAX, Key::Usage),
                (2, Key::Surface),
            ],
        };
        assert!(matches!(
            split(100, &blend, &m).unwrap_err(),
            SplitError::NotWhole { .. }
        ));
        // Nothing split into a charge and a credit; a credit split into credits only.
        let key = |a, b| Key::Exact {
            parts: vec![(MemberId(1), a), (MemberId(2), b)],
        };
        assert_eq!(
            split(0, &key(500, -500), &m).unwrap_err(),
            SplitError::OppositeSign
        );
        assert_eq!(
            split(-100, &key(-150, 50), &m).unwrap_err(),
            SplitError::OppositeSign
        );
        assert_eq!(
            cents(&split(-100, &key(-60, -40), &m).unwrap()),
            [-60, -40, 0]
        );
        // The most negative amount fits.
        let one = vec![basis(1)];
        assert_eq!(
            cents(&split(i64::MIN, &Key::EqualActive, &one).unwrap()),
            [i64::MIN]
        );
    }

    proptest! {
        #[test]
        fn credits_split_as_the_mirror_of_costs(
            total in 0i64..1_000_000,
            w in proptest::collection::vec(0i64..1_000, 1..8),
        ) {
            prop_assume!(w.iter().any(|x| *x > 0));
            let m = with(|b, t| b.turnover_cents = t, &w);
            let cost = cents(&split(total, &Key::Turnover, &m).unwrap());
            let credit = cents(&split(-total, &Key::Turnover, &m).unwrap());
            prop_assert_eq!(credit, cost.iter().map(|c| -c).collect::<Vec<_>>());
        }

        #[test]
        fn three_key_blends_stay_within_a_cent_of_the_exact_share(
            total in 0i64..10_000_000,
            a in 0i64..=10_000,
            b in 0i64..=10_000,
            rows in proptest::collection::vec((0i64..50, 0i64..5_000, 1i64..1_000), 1..7),
        ) {
            prop_assume!(a + b <= 10_000);
            prop_assume!(rows.iter().any(|r| r.0 > 0));
            let m: Vec<MemberBasis> = rows
                .iter()
                .enumerate()
                .map(|(i, (s, u, h))| MemberBasis {
                    surface_m2: *s,
                    used_minutes: *u,
                    headcount_hundredths: *h,
                    ..basis(i as i64 + 1)
                })
                .collect();
            prop_assume!(a == 0 || rows.iter().any(|r| r.1 > 0));
            let key = Key::Blend {
                parts: vec![(a, Key::Usage), (b, Key::Headcount), (10_000 - a - b, Key::Surface)],
            };
            let got = cents(&split(total, &key, &m).unwrap());
            prop_assert_eq!(got.iter().sum::<i64>(), total);
            let sum = |f: fn(&(i64, i64, i64)) -> i64| rows.iter().map(f).sum::<i64>() as f64;
            let (su, sh, ss) = (sum(|r| r.1), sum(|r| r.2), sum(|r| r.0));
            for (part, r) in got.iter().zip(&rows) {
                let mut share = 0.0;
                if a > 0 { share += a as f64 * r.1 as f64 / su; }
                if b > 0 { share += b as f64 * r.2 as f64 / sh; }
                if a + b < 10_000 { share += (10_000 - a - b) as f64 * r.0 as f64 / ss; }
                let exact = total as f64 * share / 10_000.0;
                prop_assert!((*part as f64 - exact).abs() < 1.0 + 1e-6, "{} vs {}", part, exact);
            }
        }

        #[test]
        fn single_keys_match_the_oracle(
            total in 0i64..20_000,
            w in proptest::collection::vec(0i64..50, 1..7),
        ) {
            prop_assume!(w.iter().any(|x| *x > 0));
            let m = with(|b, s| b.surface_m2 = s, &w);
            let got = cents(&split(total, &Key::Surface, &m).unwrap());
            prop_assert_eq!(got.iter().sum::<i64>(), total);
            let sum: i64 = w.iter().sum();
            for (part, wm) in got.iter().zip(&w) {
                // Within one cent of the exact share.
                let exact = total as i128 * *wm as i128;
                prop_assert!((*part as i128 * sum as i128 - exact).abs() < sum as i128);
            }
            prop_assert_eq!(got, oracle(total, &[(WHOLE_BP, w)]));
        }

        #[test]
        fn blends_match_the_oracle(
            total in 0i64..5_000,
            bp in 0i64..=10_000,
            pairs in proptest::collection::vec((0i64..20, 0i64..20), 1..6),
        ) {
            let surface: Vec<i64> = pairs.iter().map(|p| p.0).collect();
            let usage: Vec<i64> = pairs.iter().map(|p| p.1).collect();
            prop_assume!(surface.iter().any(|x| *x > 0) && usage.iter().any(|x| *x > 0));
            let m: Vec<MemberBasis> = pairs
                .iter()
                .enumerate()
                .map(|(i, (s, u))| MemberBasis { surface_m2: *s, used_minutes: *u, ..basis(i as i64 + 1) })
                .collect();
            let key = Key::Blend { parts: vec![(bp, Key::Surface), (WHOLE_BP - bp, Key::Usage)] };
            let got = cents(&split(total, &key, &m).unwrap());
            prop_assert_eq!(got.iter().sum::<i64>(), total);
            let terms: Vec<(i64, Vec<i64>)> = [(bp, surface), (WHOLE_BP - bp, usage)]
                .into_iter()
                .filter(|(b, _)| *b > 0)
                .collect();
            prop_assert_eq!(got, oracle(total, &terms));
        }
    }
}
