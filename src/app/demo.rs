//! `mutualise demo`: fills an empty database with a believable pole to explore the product.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::auth::hash_password;
use crate::domain::member::MemberInput;
use crate::domain::resource::ResourceInput;
use crate::domain::user::UserInput;
use crate::error::{AppError, AppResult};
use crate::store::{
    members as member_store, resources as resource_store, to_db, users as user_store, DbConn,
};

pub const DEMO_PASSWORD: &str = "mutualise-demo";

pub struct DemoAccount {
    pub email: String,
    pub role: String,
}

pub struct DemoSummary {
    pub members: usize,
    pub resources: usize,
    pub bookings: usize,
    pub accounts: Vec<DemoAccount>,
}

/// Completes 13 digits with their Luhn key, so demo SIRETs pass the real check.
fn siret_from(prefix13: u64) -> String {
    let base = format!("{prefix13:013}");
    (0..10)
        .map(|k| format!("{base}{k}"))
        .find(|s| crate::domain::member::siret(s).is_ok())
        .unwrap_or(base)
}

const MEMBERS: [(&str, &str, &str, f64, i64, i32); 12] = [
    (
        "Les Jardins du Lien",
        "association",
        "solidaire",
        6.5,
        18_000_000,
        40,
    ),
    ("Coop'Atelier", "scop", "standard", 11.0, 95_000_000, 120),
    (
        "Énergies Citoyennes du Val",
        "scic",
        "standard",
        4.0,
        42_000_000,
        25,
    ),
    (
        "Le Fournil de la Halle",
        "sarl_sas",
        "standard",
        7.0,
        61_000_000,
        60,
    ),
    (
        "Commune de Saint-Aubin",
        "collectivite",
        "standard",
        3.0,
        0,
        0,
    ),
    (
        "Tremplin Emploi",
        "siae",
        "insertion",
        22.5,
        38_000_000,
        200,
    ),
    ("GE Val Partage", "ge_geiq", "standard", 2.0, 9_000_000, 15),
    (
        "Repair Café du Val",
        "association",
        "solidaire",
        0.5,
        1_200_000,
        10,
    ),
    (
        "La Fabrique Numérique",
        "scic",
        "standard",
        5.0,
        27_500_000,
        35,
    ),
    (
        "Compagnie Théâtre en Marche",
        "association",
        "solidaire",
        1.5,
        8_000_000,
        0,
    ),
    ("Vélo-Services", "scop", "standard", 3.0, 21_000_000, 80),
    (
        "Garage Solidaire du Val",
        "siae",
        "insertion",
        9.0,
        31_000_000,
        300,
    ),
];

fn resources(ge_member: i64) -> Vec<serde_json::Value> {
    let week = |open: &str, close: &str| -> Vec<serde_json::Value> {
        (1..=5)
            .map(|d| json!({"weekday": d, "open": open, "close": close}))
            .collect()
    };
    let mut with_saturday = week("08:00", "20:00");
    with_saturday.push(json!({"weekday": 6, "open": "09:00", "close": "13:00"}));
    vec![
        json!({"kind": "room", "name": "Salle Jaurès", "location": "Bâtiment A, 1er étage", "seats": 20,
               "description": "Salle de réunion lumineuse, écran et tableau blanc.",
               "opening_hours": with_saturday, "min_duration_minutes": 30, "max_duration_minutes": 600,
               "buffer_after_minutes": 15, "tariff": {"hourly_cents": 1500, "daily_cap_cents": 9000, "billing_unit_minutes": 30}}),
        json!({"kind": "room", "name": "Salle Louise-Michel", "location": "Bâtiment A, rez-de-chaussée", "seats": 8,
               "opening_hours": week("08:00", "20:00"), "min_duration_minutes": 30,
               "tariff": {"hourly_cents": 800, "daily_cap_cents": 5000, "billing_unit_minutes": 30}}),
        json!({"kind": "room", "name": "Salle polyvalente", "location": "Halle", "seats": 80,
               "description": "Grande salle pour assemblées générales et événements ; réservation soumise à validation.",
               "requires_approval": true, "buffer_before_minutes": 30, "buffer_after_minutes": 60,
               "tariff": {"hourly_cents": 4000, "daily_cap_cents": 25000}}),
        json!({"kind": "desk", "name": "Espace de coworking", "location": "Bâtiment B", "capacity": 12,
               "opening_hours": week("08:00", "19:00"), "tariff": {"hourly_cents": 200, "daily_cap_cents": 1200}}),
        json!({"kind": "vehicle", "name": "Renault Zoé", "plate": "GH-412-KT", "energy": "electrique", "odometer_km": 38210,
               "location": "Parking de la Halle", "max_duration_minutes": 4320,
               "tariff": {"hourly_cents": 300, "daily_cap_cents": 2500, "per_km_cents": 12}}),
        json!({"kind": "vehicle", "name": "Peugeot 208", "plate": "FR-903-LB", "energy": "essence", "odometer_km": 71544,
               "location": "Parking de la Halle", "allowed_categories": ["insertion", "solidaire"],
               "description": "Location sociale pour les personnes accompagnées en insertion.",
               "tariff": {"hourly_cents": 150, "daily_cap_cents": 900, "per_km_cents": 8}}),
        json!({"kind": "vehicle", "name": "Utilitaire Renault Trafic", "plate": "EZ-118-QD", "energy": "diesel", "odometer_km": 122900,
               "requires_approval": true, "buffer_after_minutes": 30,
               "tariff": {"hourly_cents": 600, "daily_cap_cents": 4500, "per_km_cents": 20}}),
        json!({"kind": "vehicle", "name": "Scooter électrique", "plate": "GA-557-RS", "energy": "electrique", "odometer_km": 5400,
               "allowed_categories": ["insertion"], "tariff": {"hourly_cents": 50, "daily_cap_cents": 300}}),
        json!({"kind": "equipment", "name": "Vidéoprojecteur", "location": "Accueil", "tariff": {"hourly_cents": 0}}),
        json!({"kind": "equipment", "name": "Sonorisation portable", "location": "Réserve", "tariff": {"hourly_cents": 500, "daily_cap_cents": 3000}}),
        json!({"kind": "equipment", "name": "Remorque", "location": "Parking de la Halle", "tariff": {"hourly_cents": 300, "daily_cap_cents": 1500}}),
        json!({"kind": "equipment", "name": "Scie à panneaux", "location": "Atelier bois", "min_duration_minutes": 60,
               "description": "Formation à l'outil obligatoire.", "tariff": {"hourly_cents": 400}}),
        json!({"kind": "staff", "name": "Camille Martin — comptable", "employer_member_id": ge_member,
               "weekly_contract_hours": 35.0, "hourly_cost_cents": 2850, "tariff": {"hourly_cents": 3100}}),
        json!({"kind": "staff", "name": "Yanis Benali — agent d'entretien", "employer_member_id": ge_member,
               "weekly_contract_hours": 24.0, "hourly_cost_cents": 1980, "tariff": {"hourly_cents": 2150}}),
    ]
}

pub fn fill(conn: &mut DbConn, now: DateTime<Utc>) -> AppResult<DemoSummary> {
    if member_store::count(conn)? > 0 || user_store::count(conn)? > 0 {
        return Err(AppError::Conflict {
            code: "not_empty",
            detail:
                "La base contient déjà des données : la démonstration ne remplit qu'une base vide."
                    .into(),
        });
    }
    let hash = hash_password(DEMO_PASSWORD)?;
    let mut member_ids = Vec::new();
    let mut resource_count = 0;
    conn.write(|conn| {
        for (i, (name, form, category, headcount, turnover, surface)) in MEMBERS.iter().enumerate()
        {
            let input = MemberInput {
                name: name.to_string(),
                legal_form: form.to_string(),
                pricing_category: category.to_string(),
                siret: (*form != "collectivite")
                    .then(|| siret_from(8_123_456_000_000 + 1_000 * i as u64 + 11)),
                email: Some(format!("contact@{}.demo.mutualise.coop", slug(name))),
                headcount: *headcount,
                turnover_cents: *turnover,
                surface_m2: *surface,
                active: true,
            };
            let draft = input.validate().map_err(AppError::Validation)?;
            member_ids.push(member_store::insert(conn, &draft, to_db(now))?.id);
        }
        let ge_member = member_ids[6];
        for value in resources(ge_member) {
            let input: ResourceInput = serde_json::from_value(value).map_err(AppError::internal)?;
            let draft = input.validate().map_err(AppError::Validation)?;
            resource_store::insert(conn, &draft, to_db(now))?;
            resource_count += 1;
        }
        Ok(())
    })?;
    let accounts: [(&str, &str, &str, Option<(usize, &str)>); 6] = [
        (
            "admin@demo.mutualise.coop",
            "Alice Administratrice",
            "admin",
            None,
        ),
        (
            "gestion@demo.mutualise.coop",
            "Gaël Gestionnaire",
            "resource_manager",
            None,
        ),
        (
            "ge@demo.mutualise.coop",
            "Gabrielle du GE",
            "ge_manager",
            None,
        ),
        (
            "tresorerie@demo.mutualise.coop",
            "Théo Trésorier",
            "treasurer",
            None,
        ),
        (
            "responsable@jardins.demo.mutualise.coop",
            "Rachida Responsable",
            "member_admin",
            Some((0, "member_admin")),
        ),
        (
            "benevole@jardins.demo.mutualise.coop",
            "Bruno Bénévole",
            "booker",
            Some((0, "booker")),
        ),
    ];
    let mut out = Vec::new();
    for (email, name, role, membership) in accounts {
        let input = UserInput {
            email: email.into(),
            name: name.into(),
            password: Some(DEMO_PASSWORD.into()),
            roles: if membership.is_none() {
                vec![role.into()]
            } else {
                vec![]
            },
            memberships: membership
                .map(|(i, r)| {
                    vec![crate::domain::user::MembershipInput {
                        member_id: member_ids[i],
                        role: r.into(),
                    }]
                })
                .unwrap_or_default(),
            active: true,
        };
        let draft = input.validate(true).map_err(AppError::Validation)?;
        super::users::create_unchecked(conn, &draft, &hash, now)?;
        out.push(DemoAccount {
            email: email.into(),
            role: role.into(),
        });
    }
    let bookings = demo_bookings(conn, &member_ids, now)?;
    Ok(DemoSummary {
        members: member_ids.len(),
        resources: resource_count,
        bookings,
        accounts: out,
    })
}

/// A believable fortnight starting next Monday: meetings, coworking, vehicles, one request
/// waiting for approval, a weekly team meeting.
fn demo_bookings(conn: &mut DbConn, members: &[i64], now: DateTime<Utc>) -> AppResult<usize> {
    use chrono::{Datelike, Duration};
    let tz = chrono_tz::Europe::Paris;
    let today = now.with_timezone(&tz).date_naive();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let admin = crate::store::users::find_by_email(conn, "admin@demo.mutualise.coop")?
        .ok_or(AppError::NotFound)?;
    let actor = super::authz::Actor::from_user(&crate::store::users::with_roles(conn, admin)?);
    let env = super::bookings::BookingEnv {
        tz,
        now,
        horizon_days: 365,
    };
    let resources = resource_store::list(conn, &Default::default())?;
    let id_of = |name: &str| {
        resources
            .iter()
            .find(|r| r.row.name == name)
            .map(|r| r.row.id)
    };
    // (resource, member index, day offset, start, end, quantity, purpose)
    let plan: [(&str, usize, i64, &str, &str, i32, &str); 12] = [
        (
            "Salle Jaurès",
            0,
            0,
            "09:30",
            "11:30",
            1,
            "Conseil d'administration",
        ),
        (
            "Salle Jaurès",
            2,
            0,
            "14:00",
            "16:00",
            1,
            "Assemblée des sociétaires",
        ),
        (
            "Salle Louise-Michel",
            1,
            1,
            "10:00",
            "12:00",
            1,
            "Entretiens d'embauche",
        ),
        (
            "Salle Jaurès",
            8,
            2,
            "09:00",
            "12:30",
            1,
            "Atelier numérique",
        ),
        (
            "Espace de coworking",
            8,
            0,
            "09:00",
            "18:00",
            3,
            "Équipe en télétravail",
        ),
        (
            "Espace de coworking",
            9,
            1,
            "09:00",
            "13:00",
            2,
            "Écriture du spectacle",
        ),
        (
            "Renault Zoé",
            5,
            1,
            "08:30",
            "12:00",
            1,
            "Accompagnement vers l'emploi",
        ),
        (
            "Peugeot 208",
            11,
            2,
            "09:00",
            "17:00",
            1,
            "Location sociale",
        ),
        (
            "Utilitaire Renault Trafic",
            3,
            3,
            "06:30",
            "10:00",
            1,
            "Livraisons",
        ),
        ("Vidéoprojecteur", 7, 3, "18:00", "21:00", 1, "Repair Café"),
        (
            "Salle polyvalente",
            9,
            4,
            "18:00",
            "23:00",
            1,
            "Représentation publique",
        ),
        ("Remorque", 10, 7, "09:00", "12:00", 1, "Collecte de vélos"),
    ];
    let mut booked = 0;
    for (name, member, day, start, end, quantity, purpose) in plan {
        let Some(resource_id) = id_of(name) else {
            continue;
        };
        let date = monday + Duration::days(day);
        let input = super::bookings::BookingInput {
            resource_id,
            member_id: members[member],
            start: format!("{date}T{start}"),
            end: format!("{date}T{end}"),
            quantity: Some(quantity),
            purpose: Some(purpose.into()),
            beneficiary: None,
            recurrence: None,
            skip_conflicts: false,
        };
        conn.write(|c| super::bookings::book_tx(c, &actor, &input, &env))?;
        booked += 1;
    }
    if let Some(room) = id_of("Salle Louise-Michel") {
        let input = super::bookings::BookingInput {
            resource_id: room,
            member_id: members[0],
            start: format!("{monday}T17:00"),
            end: format!("{monday}T18:30"),
            quantity: None,
            purpose: Some("Réunion d'équipe hebdomadaire".into()),
            beneficiary: None,
            recurrence: Some(super::bookings::RecurrenceInput {
                rrule: "FREQ=WEEKLY;COUNT=8".into(),
                exdates: vec![],
            }),
            skip_conflicts: true,
        };
        if let super::bookings::BookOutcome::Series(s) =
            conn.write(|c| super::bookings::book_tx(c, &actor, &input, &env))?
        {
            booked += s.bookings.len();
        }
    }
    Ok(booked)
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'à' | 'â' => 'a',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_sirets_are_valid() {
        for i in 0..12u64 {
            let s = super::siret_from(8_123_456_000_000 + 1_000 * i + 11);
            assert!(crate::domain::member::siret(&s).is_ok(), "{s}");
        }
        assert_eq!(
            super::slug("Énergies Citoyennes du Val"),
            "energies-citoyennes-du-val"
        );
    }
}
