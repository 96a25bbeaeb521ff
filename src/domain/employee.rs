//! Shared employees of employer groups (GE, GEIQ): what is typed about them — contract, date of
//! birth (only for the rules of minors), the group's management fee, the members named in
//! their mise-à-disposition agreements, skills — and its validation. An employee is a `staff`
//! resource: the resource part is validated by `ResourceInput::validate`, once.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ids::{MemberId, ResourceId};
use super::resource::{ResourceDraft, ResourceInput, ResourceKind, TariffInput};
use super::text::fold;
use super::time::{format_date_fr, Interval};
use super::validation::{self, FieldErrors};
use super::violation::{Violation, ViolationCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    Cdi,
    Cdd,
    Apprenticeship,
    Professionalisation,
}

impl ContractType {
    pub const ALL: [ContractType; 4] = [
        ContractType::Cdi,
        ContractType::Cdd,
        ContractType::Apprenticeship,
        ContractType::Professionalisation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractType::Cdi => "cdi",
            ContractType::Cdd => "cdd",
            ContractType::Apprenticeship => "apprenticeship",
            ContractType::Professionalisation => "professionalisation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContractType::Cdi => "CDI",
            ContractType::Cdd => "CDD",
            ContractType::Apprenticeship => "Contrat d'apprentissage",
            ContractType::Professionalisation => "Contrat de professionnalisation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }
}

/// What the employer group charges on top of the employee's loaded cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManagementFee {
    /// A coefficient on the loaded cost, in thousandths: 1150 is ×1.15.
    CoefficientPermille(i32),
    /// A flat amount per month, in cents, shared between members by hours.
    MonthlyCents(i64),
}

impl ManagementFee {
    /// "×1,15" or "250,00 € par mois".
    pub fn describe(self) -> String {
        match self {
            ManagementFee::CoefficientPermille(p) => {
                format!("×{}", super::money::format_permille(i64::from(p)))
            }
            ManagementFee::MonthlyCents(c) => {
                format!("{} par mois", super::money::format_euros(c))
            }
        }
    }
}

/// An employee as the API and the forms send it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmployeeInput {
    pub name: String,
    /// The employer group (a member of legal form GE / GEIQ).
    pub employer_member_id: MemberId,
    /// cdi, cdd, apprenticeship, professionalisation
    pub contract_type: String,
    /// End of a fixed-term contract ("YYYY-MM-DD").
    #[serde(default)]
    pub contract_end: Option<NaiveDate>,
    /// Weekly hours of the contract: 35 full time, less part time.
    pub weekly_contract_hours: f64,
    /// Only to apply the rules for minors; never shown to members.
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    /// Loaded cost of an hour (salary and employer's contributions), in cents.
    pub hourly_cost_cents: i64,
    /// The group's fee as a coefficient on the cost (1.15), or…
    #[serde(default)]
    pub fee_coefficient: Option<f64>,
    /// …a flat amount per month, in cents.
    #[serde(default)]
    pub fee_monthly_cents: Option<i64>,
    /// Members named in the employee's mise-à-disposition agreements; empty: every member.
    #[serde(default)]
    pub agreement_member_ids: Vec<MemberId>,
    /// Free tags: « cariste », « comptabilité »…
    #[serde(default)]
    pub skills: Vec<String>,
    /// Where the employee hears about their assignments (optional).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub description: String,
}

/// A validated employee: the staff resource and what the employees table adds.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeDraft {
    pub resource: ResourceDraft,
    pub contract_type: ContractType,
    pub contract_end: Option<NaiveDate>,
    pub birth_date: Option<NaiveDate>,
    pub fee: Option<ManagementFee>,
    pub agreement_member_ids: Vec<MemberId>,
    pub skills: Vec<String>,
    pub email: Option<String>,
}

const MAX_CENTS: i64 = 100_000_000;

impl EmployeeInput {
    /// Checks every field; `today` bounds the date of birth (an employee is at least 14).
    pub fn validate(&self, today: NaiveDate) -> Result<EmployeeDraft, FieldErrors> {
        let resource = ResourceInput {
            employer_member_id: Some(self.employer_member_id),
            weekly_contract_hours: Some(self.weekly_contract_hours),
            hourly_cost_cents: Some(self.hourly_cost_cents),
            location: self.location.clone(),
            description: self.description.clone(),
            tariff: TariffInput::default(),
            ..ResourceInput::new(ResourceKind::Staff, &self.name)
        }
        .validate();
        let mut e = resource.as_ref().err().cloned().unwrap_or_default();
        let contract_type = e.check(
            "contract_type",
            ContractType::parse(&self.contract_type).ok_or_else(|| {
                "Type de contrat inconnu (cdi, cdd, apprenticeship, professionalisation)."
                    .to_string()
            }),
        );
        match (contract_type, self.contract_end) {
            (Some(ContractType::Cdd), None) => e.add(
                "contract_end",
                "Indiquez la fin du contrat à durée déterminée.",
            ),
            (Some(ContractType::Cdi), Some(_)) => {
                e.add("contract_end", "Un CDI n'a pas de date de fin.")
            }
            _ => {}
        }
        if let Some(b) = self.birth_date {
            let youngest = today.with_year(today.year() - 14).unwrap_or(today);
            if b > youngest || b.year() < 1900 {
                e.add(
                    "birth_date",
                    "Date de naissance invraisemblable (14 ans au moins).",
                );
            }
        }
        let fee = match (self.fee_coefficient, self.fee_monthly_cents) {
            (Some(_), Some(_)) => {
                e.add(
                    "fee_coefficient",
                    "Choisissez un coefficient ou un forfait mensuel, pas les deux.",
                );
                None
            }
            (Some(c), None) if c.is_finite() && (1.0..=3.0).contains(&c) => Some(
                ManagementFee::CoefficientPermille((c * 1000.0).round() as i32),
            ),
            (Some(_), None) => {
                e.add(
                    "fee_coefficient",
                    "Coefficient attendu entre 1 et 3 (par exemple 1,15).",
                );
                None
            }
            (None, Some(m)) if (0..=MAX_CENTS).contains(&m) => Some(ManagementFee::MonthlyCents(m)),
            (None, Some(_)) => {
                e.add("fee_monthly_cents", "Montant mensuel invalide.");
                None
            }
            (None, None) => None,
        };
        let mut agreement_member_ids: Vec<MemberId> = Vec::new();
        for m in &self.agreement_member_ids {
            if !agreement_member_ids.contains(m) {
                agreement_member_ids.push(*m);
            }
        }
        let mut skills: Vec<String> = Vec::new();
        if self.skills.len() > 30 {
            e.add("skills", "30 compétences au plus.");
        }
        for s in &self.skills {
            match validation::optional_text(s, 40) {
                Ok(Some(s)) if !skills.iter().any(|k| fold(k) == fold(&s)) => skills.push(s),
                Ok(_) => {}
                Err(m) => e.add("skills", m),
            }
        }
        if skills.iter().any(|s| s.contains(',')) {
            e.add("skills", "Une compétence ne contient pas de virgule.");
        }
        let email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => e.check("email", validation::email(raw)),
        };
        match (resource, contract_type) {
            (Ok(resource), Some(contract_type)) if e.is_empty() => Ok(EmployeeDraft {
                resource,
                contract_type,
                contract_end: self.contract_end,
                birth_date: self.birth_date,
                fee,
                agreement_member_ids,
                skills,
                email,
            }),
            _ => Err(e),
        }
    }
}

/// Age in whole years on a day.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// May this employee be put at this member's disposal? An empty list of agreements allows
/// every member; the employer group itself always may (training, absences).
pub fn may_work_for(agreements: &[MemberId], employer: Option<MemberId>, member: MemberId) -> bool {
    agreements.is_empty() || agreements.contains(&member) || employer == Some(member)
}

/// An assignment must end by the end of the employee's contract (its last day included, in
/// the pole's time zone): one reaching past it is refused with `outside_contract`.
pub fn contract_violation(
    name: &str,
    contract_end: Option<NaiveDate>,
    interval: Interval,
    tz: Tz,
) -> Option<Violation> {
    let end = contract_end?;
    let last_instant = interval.end - chrono::Duration::nanoseconds(1);
    (last_instant.with_timezone(&tz).date_naive() > end).then(|| {
        Violation::new(
            ViolationCode::OutsideContract,
            format!(
                "Le contrat de {name} prend fin le {} : pas de mise à disposition au-delà.",
                format_date_fr(end)
            ),
        )
    })
}

/// Whether an employee's skills answer a search (« chariot » finds « Cariste (chariot) »).
pub fn has_skill(skills: &[String], wanted: &str) -> bool {
    match super::text::Search::new(wanted) {
        Some(search) => skills.iter().any(|s| search.matches(s)),
        None => true,
    }
}

/// An employee's resource id, for code that speaks of employees.
pub type EmployeeId = ResourceId;

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> EmployeeInput {
        EmployeeInput {
            name: "Camille Martin".into(),
            employer_member_id: MemberId(7),
            contract_type: "cdi".into(),
            contract_end: None,
            weekly_contract_hours: 24.0,
            birth_date: Some(day("1990-04-12")),
            hourly_cost_cents: 2850,
            fee_coefficient: Some(1.15),
            fee_monthly_cents: None,
            agreement_member_ids: vec![MemberId(1), MemberId(2), MemberId(1)],
            skills: vec!["Cariste".into(), "cariste".into(), "Comptabilité".into()],
            email: Some("camille@ge.example".into()),
            location: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn a_valid_employee_becomes_a_staff_resource() {
        let d = input().validate(day("2027-01-04")).unwrap();
        assert_eq!(d.resource.kind, ResourceKind::Staff);
        assert_eq!(d.resource.weekly_contract_minutes, Some(24 * 60));
        assert_eq!(d.resource.employer_member_id, Some(MemberId(7)));
        assert_eq!(d.fee, Some(ManagementFee::CoefficientPermille(1150)));
        assert_eq!(d.agreement_member_ids, vec![MemberId(1), MemberId(2)]);
        assert_eq!(
            d.skills,
            vec!["Cariste", "Comptabilité"],
            "duplicates folded"
        );
    }

    #[test]
    fn contracts_fees_and_birth_dates_are_checked() {
        let today = day("2027-01-04");
        let e = EmployeeInput {
            contract_type: "cdd".into(),
            ..input()
        }
        .validate(today)
        .unwrap_err();
        assert!(e.get("contract_end").is_some());
        let e = EmployeeInput {
            contract_type: "interim".into(),
            fee_monthly_cents: Some(25_000),
            birth_date: Some(day("2013-06-01")),
            weekly_contract_hours: 50.0,
            ..input()
        }
        .validate(today)
        .unwrap_err();
        for f in [
            "contract_type",
            "fee_coefficient",
            "birth_date",
            "weekly_contract_hours",
        ] {
            assert!(e.get(f).is_some(), "{f}: {e}");
        }
        let ok = EmployeeInput {
            fee_coefficient: None,
            fee_monthly_cents: Some(25_000),
            birth_date: Some(day("2012-12-31")),
            contract_type: "apprenticeship".into(),
            contract_end: Some(day("2028-08-31")),
            ..input()
        }
        .validate(today)
        .unwrap();
        assert_eq!(ok.fee, Some(ManagementFee::MonthlyCents(25_000)));
        assert_eq!(ManagementFee::CoefficientPermille(1150).describe(), "×1,15");
        assert_eq!(ManagementFee::CoefficientPermille(1000).describe(), "×1");
    }

    #[test]
    fn ages_agreements_and_skills() {
        let birth = day("2009-03-10");
        assert_eq!(age_on(birth, day("2027-03-09")), 17);
        assert_eq!(age_on(birth, day("2027-03-10")), 18);
        assert!(may_work_for(&[], None, MemberId(3)));
        assert!(may_work_for(&[MemberId(1)], None, MemberId(1)));
        assert!(!may_work_for(
            &[MemberId(1)],
            Some(MemberId(9)),
            MemberId(2)
        ));
        assert!(may_work_for(&[MemberId(1)], Some(MemberId(9)), MemberId(9)));
        let skills = vec!["Cariste (chariot élévateur)".to_string()];
        assert!(has_skill(&skills, "chariot"));
        assert!(has_skill(&skills, "ELEVATEUR"));
        assert!(!has_skill(&skills, "comptabilité"));
    }

    #[test]
    fn assignments_end_with_the_contract() {
        use chrono::TimeZone;
        let tz = chrono_tz::Europe::Paris;
        let end = NaiveDate::from_ymd_opt(2028, 8, 31);
        let at = |d: u32, m: u32, h: u32| {
            tz.with_ymd_and_hms(2028, m, d, h, 0, 0)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let iv = |a, b| Interval { start: a, end: b };
        // The last day, to midnight: fine; one minute into September: refused.
        assert!(contract_violation("Léa", end, iv(at(31, 8, 20), at(1, 9, 0)), tz).is_none());
        let v = contract_violation(
            "Léa",
            end,
            iv(at(31, 8, 20), at(1, 9, 0) + chrono::Duration::minutes(1)),
            tz,
        )
        .unwrap();
        assert_eq!(v.code, ViolationCode::OutsideContract);
        assert!(v.message.contains("31 août 2028"), "{}", v.message);
        assert!(contract_violation("Léa", None, iv(at(1, 9, 8), at(1, 9, 12)), tz).is_none());
    }
}
