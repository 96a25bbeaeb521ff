//! The resource catalogue: kinds, opening hours, tariffs and validation of a resource's settings.

use serde::{Deserialize, Serialize};

use super::ids::{MemberId, ResourceId};
use super::pricing::Tariff;
use super::validation::{self, FieldErrors};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Room,
    Desk,
    Vehicle,
    Equipment,
    Staff,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::Room,
        ResourceKind::Desk,
        ResourceKind::Vehicle,
        ResourceKind::Equipment,
        ResourceKind::Staff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::Desk => "desk",
            ResourceKind::Vehicle => "vehicle",
            ResourceKind::Equipment => "equipment",
            ResourceKind::Staff => "staff",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Room => "Salle",
            ResourceKind::Desk => "Poste de travail",
            ResourceKind::Vehicle => "Véhicule",
            ResourceKind::Equipment => "Équipement",
            ResourceKind::Staff => "Salarié partagé",
        }
    }

    pub fn plural_label(self) -> &'static str {
        match self {
            ResourceKind::Room => "Salles",
            ResourceKind::Desk => "Postes de travail",
            ResourceKind::Vehicle => "Véhicules",
            ResourceKind::Equipment => "Équipements",
            ResourceKind::Staff => "Salariés partagés",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

pub const ENERGIES: [(&str, &str); 6] = [
    ("essence", "Essence"),
    ("diesel", "Diesel"),
    ("electrique", "Électrique"),
    ("hybride", "Hybride"),
    ("gpl", "GPL"),
    ("autre", "Autre"),
];

pub const WEEKDAYS: [&str; 7] = [
    "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
];

pub use super::booking::OpeningSlot;
use super::time::{format_hhmm, parse_hhmm};

/// "HH:MM" → minutes since midnight; "24:00" only for a closing time.
fn parse_time(s: &str, closing: bool) -> Result<u16, String> {
    parse_hhmm(s)
        .filter(|m| closing || *m < 1440)
        .ok_or_else(|| format!("Heure « {} » invalide (format HH:MM).", s.trim()))
}

/// Opening slot as the API carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OpeningSlotInput {
    /// 1 = Monday … 7 = Sunday
    pub weekday: u8,
    /// "HH:MM"
    pub open: String,
    /// "HH:MM", up to "24:00"
    pub close: String,
}

impl From<&OpeningSlot> for OpeningSlotInput {
    fn from(s: &OpeningSlot) -> Self {
        Self {
            weekday: s.weekday,
            open: format_hhmm(s.open_minute),
            close: format_hhmm(s.close_minute),
        }
    }
}

/// Parses one weekday of a form: "08:00-12:00, 14:00-18:00" (blank = closed that day).
pub fn parse_day_slots(weekday: u8, text: &str) -> Result<Vec<OpeningSlotInput>, String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (open, close) = part
                .split_once('-')
                .or_else(|| part.split_once('–'))
                .ok_or_else(|| format!("« {part} » : plage attendue au format 08:00-12:00."))?;
            Ok(OpeningSlotInput {
                weekday,
                open: open.trim().into(),
                close: close.trim().into(),
            })
        })
        .collect()
}

pub fn format_day_slots(slots: &[OpeningSlot], weekday: u8) -> String {
    slots
        .iter()
        .filter(|s| s.weekday == weekday)
        .map(|s| {
            format!(
                "{}-{}",
                format_hhmm(s.open_minute),
                format_hhmm(s.close_minute)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn validate_opening_hours(input: &[OpeningSlotInput]) -> Result<Vec<OpeningSlot>, String> {
    if input.len() > 35 {
        return Err("35 plages horaires au maximum.".into());
    }
    let mut slots = Vec::with_capacity(input.len());
    for s in input {
        if !(1..=7).contains(&s.weekday) {
            return Err(format!(
                "Jour {} invalide (1 = lundi … 7 = dimanche).",
                s.weekday
            ));
        }
        let open = parse_time(&s.open, false)?;
        let close = parse_time(&s.close, true)?;
        if open >= close {
            return Err(format!(
                "{} : l'ouverture ({}) doit précéder la fermeture ({}).",
                WEEKDAYS[s.weekday as usize - 1],
                s.open.trim(),
                s.close.trim()
            ));
        }
        slots.push(OpeningSlot {
            weekday: s.weekday,
            open_minute: open,
            close_minute: close,
        });
    }
    slots.sort();
    for pair in slots.windows(2) {
        if pair[0].weekday == pair[1].weekday && pair[1].open_minute < pair[0].close_minute {
            return Err(format!(
                "{} : des plages horaires se chevauchent.",
                WEEKDAYS[pair[0].weekday as usize - 1]
            ));
        }
    }
    Ok(slots)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TariffInput {
    #[serde(default)]
    pub hourly_cents: i64,
    #[serde(default)]
    pub daily_cap_cents: Option<i64>,
    #[serde(default)]
    pub per_km_cents: Option<i64>,
    /// Bookings are billed by started units of this many minutes.
    #[serde(default = "default_billing_unit")]
    pub billing_unit_minutes: i32,
}

impl From<Tariff> for TariffInput {
    fn from(t: Tariff) -> Self {
        TariffInput {
            hourly_cents: t.hourly_cents,
            daily_cap_cents: t.daily_cap_cents,
            per_km_cents: t.per_km_cents,
            billing_unit_minutes: t.billing_unit_minutes,
        }
    }
}

impl TariffInput {
    /// The tariff, or each field's error (keys `tariff.hourly_cents`…).
    pub fn validate(&self) -> Result<Tariff, FieldErrors> {
        let mut e = FieldErrors::new();
        let t = self.checked(&mut e);
        e.into_result().map(|()| t)
    }

    fn checked(&self, e: &mut FieldErrors) -> Tariff {
        let hourly = e.check(
            "tariff.hourly_cents",
            validation::int_in_range(self.hourly_cents, 0, MAX_CENTS),
        );
        let cap = e.check(
            "tariff.daily_cap_cents",
            opt_range(self.daily_cap_cents, 0, MAX_CENTS),
        );
        let per_km = e.check(
            "tariff.per_km_cents",
            opt_range(self.per_km_cents, 0, MAX_CENTS),
        );
        let unit = e.check(
            "tariff.billing_unit_minutes",
            validation::int_in_range(self.billing_unit_minutes.into(), 1, 1440),
        );
        Tariff {
            hourly_cents: hourly.unwrap_or(0),
            daily_cap_cents: cap.flatten(),
            per_km_cents: per_km.flatten(),
            billing_unit_minutes: unit.unwrap_or(60) as i32,
        }
    }
}

fn default_billing_unit() -> i32 {
    60
}

impl Default for TariffInput {
    fn default() -> Self {
        Self {
            hourly_cents: 0,
            daily_cap_cents: None,
            per_km_cents: None,
            billing_unit_minutes: 60,
        }
    }
}

/// What a client sends about a resource (API JSON; HTML forms are parsed into it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceInput {
    /// room, desk, vehicle, equipment, staff
    #[schema(value_type = ResourceKind)]
    pub kind: String,
    #[schema(max_length = 120)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub location: String,
    /// Units usable at once (e.g. 12 desks of a coworking space).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 10_000)]
    pub capacity: i32,
    /// Empty = always open.
    #[serde(default)]
    pub opening_hours: Vec<OpeningSlotInput>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 527_040)]
    pub min_duration_minutes: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 527_040)]
    pub max_duration_minutes: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440)]
    pub buffer_before_minutes: i32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440)]
    pub buffer_after_minutes: i32,
    #[serde(default)]
    pub requires_approval: bool,
    /// Pricing categories allowed to book; empty = all.
    #[serde(default)]
    pub allowed_categories: Vec<String>,
    #[serde(default)]
    pub tariff: TariffInput,
    /// On an update, the date the tariff given takes effect (default: today). Bookings that
    /// start before it keep the tariff they had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_from: Option<chrono::NaiveDate>,
    /// The named pool of resources (« bâtiment », « flotte ») whose costs are split together.
    #[serde(default)]
    pub pool: Option<String>,
    /// Rooms: seats.
    #[serde(default)]
    pub seats: Option<i32>,
    /// Vehicles: plate, energy, odometer.
    #[serde(default)]
    pub plate: Option<String>,
    #[serde(default)]
    pub energy: Option<String>,
    #[serde(default)]
    pub odometer_km: Option<i64>,
    /// Staff: the employer member, contract hours, hourly cost.
    #[serde(default)]
    pub employer_member_id: Option<MemberId>,
    #[serde(default)]
    pub weekly_contract_hours: Option<f64>,
    #[serde(default)]
    pub hourly_cost_cents: Option<i64>,
    /// Composite resources: this resource is a part of `parent_id` (e.g. half A of a hall).
    /// Booking the whole blocks every part; booking a part blocks the whole.
    #[serde(default)]
    pub parent_id: Option<ResourceId>,
}

fn one() -> i32 {
    1
}

impl ResourceInput {
    /// A resource of this kind and name with every other setting at its default (one unit,
    /// always open, free, confirmed at once); set the rest with struct update syntax.
    pub fn new(kind: ResourceKind, name: &str) -> ResourceInput {
        ResourceInput {
            kind: kind.as_str().to_string(),
            name: name.to_string(),
            description: String::new(),
            location: String::new(),
            capacity: 1,
            opening_hours: Vec::new(),
            min_duration_minutes: None,
            max_duration_minutes: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            requires_approval: false,
            allowed_categories: Vec::new(),
            tariff: TariffInput::default(),
            tariff_from: None,
            pool: None,
            seats: None,
            plate: None,
            energy: None,
            odometer_km: None,
            employer_member_id: None,
            weekly_contract_hours: None,
            hourly_cost_cents: None,
            parent_id: None,
        }
    }
}

/// A validated resource, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDraft {
    pub kind: ResourceKind,
    pub name: String,
    pub description: String,
    pub location: String,
    pub capacity: i32,
    pub opening_hours: Vec<OpeningSlot>,
    pub min_duration_minutes: Option<i32>,
    pub max_duration_minutes: Option<i32>,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub requires_approval: bool,
    pub allowed_categories: Vec<String>,
    pub tariff: Tariff,
    pub tariff_from: Option<chrono::NaiveDate>,
    pub pool: Option<String>,
    pub seats: Option<i32>,
    pub plate: Option<String>,
    pub energy: Option<String>,
    pub odometer_km: Option<i64>,
    pub employer_member_id: Option<MemberId>,
    pub weekly_contract_minutes: Option<i32>,
    pub hourly_cost_cents: Option<i64>,
    pub parent_id: Option<ResourceId>,
}

/// Most units one resource may have (a pool of equipment, desks).
pub const MAX_CAPACITY: i32 = 10_000;
const MAX_CENTS: i64 = 100_000_000; // 1 000 000 € per hour/day/km is far beyond any tariff.
const YEAR_MINUTES: i64 = 366 * 24 * 60;

impl ResourceInput {
    pub fn validate(&self) -> Result<ResourceDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.check(
            "kind",
            ResourceKind::parse(&self.kind).ok_or_else(|| "Type de ressource inconnu.".into()),
        );
        let name = e.check("name", validation::required_text(&self.name, 120));
        let description = e.check(
            "description",
            validation::optional_text(&self.description, 4000),
        );
        let location = e.check("location", validation::optional_text(&self.location, 200));
        let capacity = e.check(
            "capacity",
            validation::int_in_range(self.capacity.into(), 1, MAX_CAPACITY.into()),
        );
        let opening_hours = e.check("opening_hours", validate_opening_hours(&self.opening_hours));
        let min = e.check(
            "min_duration_minutes",
            opt_range(self.min_duration_minutes.map(i64::from), 1, YEAR_MINUTES),
        );
        let max = e.check(
            "max_duration_minutes",
            opt_range(self.max_duration_minutes.map(i64::from), 1, YEAR_MINUTES),
        );
        if let (Some(Some(a)), Some(Some(b))) = (min, max) {
            if a > b {
                e.add(
                    "max_duration_minutes",
                    "La durée maximale doit être supérieure ou égale à la durée minimale.",
                );
            }
        }
        let before = e.check(
            "buffer_before_minutes",
            validation::int_in_range(self.buffer_before_minutes.into(), 0, 1440),
        );
        let after = e.check(
            "buffer_after_minutes",
            validation::int_in_range(self.buffer_after_minutes.into(), 0, 1440),
        );
        let mut categories = Vec::new();
        for c in &self.allowed_categories {
            if let Some(c) = e.check("allowed_categories", validation::slug(c)) {
                if !categories.contains(&c) {
                    categories.push(c);
                }
            }
        }
        let tariff = self.tariff.checked(&mut e);

        let pool = e
            .check(
                "pool",
                validation::optional_text(self.pool.as_deref().unwrap_or(""), 60),
            )
            .flatten();

        let kind_ok = kind.unwrap_or(ResourceKind::Equipment);
        let only_for = |e: &mut FieldErrors,
                        field: &str,
                        present: bool,
                        allowed: &[ResourceKind],
                        what: &str| {
            if present && kind.is_some() && !allowed.contains(&kind_ok) {
                e.add(field, format!("Réservé aux ressources de type {what}."));
            }
        };
        only_for(
            &mut e,
            "seats",
            self.seats.is_some(),
            &[ResourceKind::Room],
            "salle",
        );
        let vehicle = [ResourceKind::Vehicle, ResourceKind::Equipment];
        only_for(
            &mut e,
            "plate",
            self.plate.as_deref().is_some_and(|p| !p.trim().is_empty()),
            &[ResourceKind::Vehicle],
            "véhicule",
        );
        only_for(
            &mut e,
            "energy",
            self.energy.as_deref().is_some_and(|p| !p.trim().is_empty()),
            &[ResourceKind::Vehicle],
            "véhicule",
        );
        only_for(
            &mut e,
            "odometer_km",
            self.odometer_km.is_some(),
            &vehicle,
            "véhicule ou équipement",
        );
        let staff = [ResourceKind::Staff];
        only_for(
            &mut e,
            "employer_member_id",
            self.employer_member_id.is_some(),
            &staff,
            "salarié partagé",
        );
        only_for(
            &mut e,
            "weekly_contract_hours",
            self.weekly_contract_hours.is_some(),
            &staff,
            "salarié partagé",
        );
        only_for(
            &mut e,
            "hourly_cost_cents",
            self.hourly_cost_cents.is_some(),
            &staff,
            "salarié partagé",
        );

        let seats = e
            .check("seats", opt_range(self.seats.map(i64::from), 1, 100_000))
            .flatten()
            .map(|v| v as i32);
        let plate = e
            .check(
                "plate",
                validation::optional_text(self.plate.as_deref().unwrap_or(""), 16),
            )
            .flatten()
            .map(|p| p.to_uppercase());
        let energy = match self
            .energy
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(en) => e.check(
                "energy",
                ENERGIES
                    .iter()
                    .find(|(k, _)| *k == en)
                    .map(|(k, _)| k.to_string())
                    .ok_or_else(|| "Énergie inconnue.".into()),
            ),
            None => None,
        };
        let odometer = e
            .check("odometer_km", opt_range(self.odometer_km, 0, 10_000_000))
            .flatten();
        let hourly_cost = e
            .check(
                "hourly_cost_cents",
                opt_range(self.hourly_cost_cents, 0, MAX_CENTS),
            )
            .flatten();
        let contract = match self.weekly_contract_hours {
            Some(h) if h.is_finite() && h > 0.0 && h <= 48.0 => Some((h * 60.0).round() as i32),
            Some(_) => {
                e.add(
                    "weekly_contract_hours",
                    "Durée hebdomadaire du contrat attendue entre 0 et 48 h.",
                );
                None
            }
            None => None,
        };
        if kind == Some(ResourceKind::Staff) {
            if self.employer_member_id.is_none() {
                e.add("employer_member_id", "Indiquez la structure employeuse.");
            }
            if self.weekly_contract_hours.is_none() {
                e.add(
                    "weekly_contract_hours",
                    "Indiquez la durée hebdomadaire du contrat.",
                );
            }
            if self.hourly_cost_cents.is_none() {
                e.add("hourly_cost_cents", "Indiquez le coût horaire.");
            }
            if capacity.is_some_and(|c| c != 1) {
                e.add("capacity", "Un salarié partagé a une capacité de 1.");
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        // Every check above succeeded, so each value is present.
        let (
            Some(kind),
            Some(name),
            Some(description),
            Some(location),
            Some(capacity),
            Some(opening_hours),
        ) = (kind, name, description, location, capacity, opening_hours)
        else {
            return Err(e);
        };
        Ok(ResourceDraft {
            kind,
            name,
            description: description.unwrap_or_default(),
            location: location.unwrap_or_default(),
            capacity: capacity as i32,
            opening_hours,
            min_duration_minutes: min.flatten().map(|v| v as i32),
            max_duration_minutes: max.flatten().map(|v| v as i32),
            buffer_before_minutes: before.unwrap_or(0) as i32,
            buffer_after_minutes: after.unwrap_or(0) as i32,
            requires_approval: self.requires_approval,
            allowed_categories: categories,
            tariff,
            tariff_from: self.tariff_from,
            pool,
            seats,
            plate,
            energy,
            odometer_km: odometer,
            employer_member_id: self.employer_member_id,
            weekly_contract_minutes: contract,
            hourly_cost_cents: hourly_cost,
            parent_id: self.parent_id,
        })
    }
}

fn opt_range(v: Option<i64>, min: i64, max: i64) -> Result<Option<i64>, String> {
    v.map(|v| validation::int_in_range(v, min, max)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> ResourceInput {
        serde_json::from_value(serde_json::json!({
            "kind": "room", "name": "Salle Jaurès", "capacity": 1, "seats": 20,
            "opening_hours": [{"weekday": 1, "open": "08:00", "close": "12:00"},
                              {"weekday": 1, "open": "14:00", "close": "24:00"}],
            "tariff": {"hourly_cents": 1500, "daily_cap_cents": 9000}
        }))
        .unwrap()
    }

    #[test]
    fn hhmm() {
        assert_eq!(parse_time("08:30", false).unwrap(), 510);
        assert_eq!(parse_time("24:00", true).unwrap(), 1440);
        for bad in ["24:00", "8h30", "25:00", "12:60", "", "1:5", "-1:00"] {
            assert!(parse_time(bad, false).is_err(), "{bad}");
        }
        assert!(parse_time("24:01", true).is_err());
    }

    #[test]
    fn valid_room() {
        let d = room().validate().unwrap();
        assert_eq!(d.opening_hours.len(), 2);
        assert_eq!(d.opening_hours[1].close_minute, 1440);
        assert_eq!(d.tariff.billing_unit_minutes, 60);
        assert_eq!(d.tariff.daily_cap_cents, Some(9000));
        assert_eq!(d.seats, Some(20));
    }

    #[test]
    fn overlapping_or_inverted_hours_are_refused() {
        let mut r = room();
        r.opening_hours.push(OpeningSlotInput {
            weekday: 1,
            open: "11:00".into(),
            close: "13:00".into(),
        });
        assert!(r.validate().unwrap_err().get("opening_hours").is_some());
        let mut r = room();
        r.opening_hours = vec![OpeningSlotInput {
            weekday: 2,
            open: "12:00".into(),
            close: "12:00".into(),
        }];
        assert!(r.validate().unwrap_err().get("opening_hours").is_some());
        let mut r = room();
        r.opening_hours = vec![OpeningSlotInput {
            weekday: 8,
            open: "08:00".into(),
            close: "12:00".into(),
        }];
        assert!(r.validate().unwrap_err().get("opening_hours").is_some());
    }

    #[test]
    fn kind_specific_fields() {
        let mut r = room();
        r.plate = Some("AB-123-CD".into());
        assert!(r.validate().unwrap_err().get("plate").is_some());
        let staff: ResourceInput =
            serde_json::from_value(serde_json::json!({"kind": "staff", "name": "Camille"}))
                .unwrap();
        let e = staff.validate().unwrap_err();
        for f in [
            "employer_member_id",
            "weekly_contract_hours",
            "hourly_cost_cents",
        ] {
            assert!(e.get(f).is_some(), "{f}");
        }
        let staff: ResourceInput = serde_json::from_value(serde_json::json!({
            "kind": "staff", "name": "Camille", "employer_member_id": 3,
            "weekly_contract_hours": 35.0, "hourly_cost_cents": 2450
        }))
        .unwrap();
        assert_eq!(
            staff.validate().unwrap().weekly_contract_minutes,
            Some(2100)
        );
    }

    #[test]
    fn durations_and_buffers() {
        let mut r = room();
        r.min_duration_minutes = Some(120);
        r.max_duration_minutes = Some(60);
        r.buffer_before_minutes = -1;
        r.capacity = 0;
        let e = r.validate().unwrap_err();
        assert!(e.get("max_duration_minutes").is_some());
        assert!(e.get("buffer_before_minutes").is_some());
        assert!(e.get("capacity").is_some());
    }

    #[test]
    fn day_slots_text() {
        let s = parse_day_slots(2, "08:00-12:00, 14:00-18:30").unwrap();
        assert_eq!(s.len(), 2);
        assert!(parse_day_slots(2, "8 à 12").is_err());
        assert!(parse_day_slots(2, " ").unwrap().is_empty());
    }
}
