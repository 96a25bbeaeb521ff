//! `mutualise demo`: fills an empty database with a believable pole to explore the product.

use super::auth::hash_password;
use super::App;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::member::MemberInput;
use crate::domain::resource::{OpeningSlotInput, ResourceInput, ResourceKind, TariffInput};
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

fn tariff(hourly_cents: i64, daily_cap: Option<i64>, per_km: Option<i64>) -> TariffInput {
    TariffInput {
        hourly_cents,
        daily_cap_cents: daily_cap,
        per_km_cents: per_km,
        ..TariffInput::default()
    }
}

fn resources(ge_member: MemberId) -> Vec<ResourceInput> {
    use ResourceKind::{Desk, Equipment, Room, Staff, Vehicle};
    let week = |open: &str, close: &str| -> Vec<OpeningSlotInput> {
        (1..=5)
            .map(|weekday| OpeningSlotInput {
                weekday,
                open: open.into(),
                close: close.into(),
            })
            .collect()
    };
    let mut with_saturday = week("08:00", "20:00");
    with_saturday.push(OpeningSlotInput {
        weekday: 6,
        open: "09:00".into(),
        close: "13:00".into(),
    });
    let vehicle = |name: &str, plate: &str, energy: &str, km: i64| ResourceInput {
        plate: Some(plate.into()),
        energy: Some(energy.into()),
        odometer_km: Some(km),
        ..ResourceInput::new(Vehicle, name)
    };
    let staff = |name: &str, hours: f64, cost: i64, price: i64| ResourceInput {
        employer_member_id: Some(ge_member),
        weekly_contract_hours: Some(hours),
        hourly_cost_cents: Some(cost),
        tariff: tariff(price, None, None),
        ..ResourceInput::new(Staff, name)
    };
    vec![
        ResourceInput {
            location: "Bâtiment A, 1er étage".into(),
            seats: Some(20),
            description: "Salle de réunion lumineuse, écran et tableau blanc.".into(),
            opening_hours: with_saturday,
            min_duration_minutes: Some(30),
            max_duration_minutes: Some(600),
            buffer_after_minutes: 15,
            tariff: TariffInput {
                billing_unit_minutes: 30,
                ..tariff(1500, Some(9000), None)
            },
            ..ResourceInput::new(Room, "Salle Jaurès")
        },
        ResourceInput {
            location: "Bâtiment A, rez-de-chaussée".into(),
            seats: Some(8),
            opening_hours: week("08:00", "20:00"),
            min_duration_minutes: Some(30),
            tariff: TariffInput {
                billing_unit_minutes: 30,
                ..tariff(800, Some(5000), None)
            },
            ..ResourceInput::new(Room, "Salle Louise-Michel")
        },
        ResourceInput {
            location: "Halle".into(),
            seats: Some(80),
            description: "Grande salle pour assemblées générales et événements ; réservation soumise à validation.".into(),
            requires_approval: true,
            buffer_before_minutes: 30,
            buffer_after_minutes: 60,
            tariff: tariff(4000, Some(25000), None),
            ..ResourceInput::new(Room, "Salle polyvalente")
        },
        ResourceInput {
            location: "Bâtiment B".into(),
            capacity: 12,
            opening_hours: week("08:00", "19:00"),
            tariff: tariff(200, Some(1200), None),
            ..ResourceInput::new(Desk, "Espace de coworking")
        },
        ResourceInput {
            location: "Parking de la Halle".into(),
            max_duration_minutes: Some(4320),
            tariff: tariff(300, Some(2500), Some(12)),
            ..vehicle("Renault Zoé", "GH-412-KT", "electrique", 38210)
        },
        ResourceInput {
            location: "Parking de la Halle".into(),
            allowed_categories: vec!["insertion".into(), "solidaire".into()],
            description: "Location sociale pour les personnes accompagnées en insertion.".into(),
            tariff: tariff(150, Some(900), Some(8)),
            ..vehicle("Peugeot 208", "FR-903-LB", "essence", 71544)
        },
        ResourceInput {
            requires_approval: true,
            buffer_after_minutes: 30,
            tariff: tariff(600, Some(4500), Some(20)),
            ..vehicle("Utilitaire Renault Trafic", "EZ-118-QD", "diesel", 122900)
        },
        ResourceInput {
            allowed_categories: vec!["insertion".into()],
            tariff: tariff(50, Some(300), None),
            ..vehicle("Scooter électrique", "GA-557-RS", "electrique", 5400)
        },
        ResourceInput {
            location: "Accueil".into(),
            ..ResourceInput::new(Equipment, "Vidéoprojecteur")
        },
        ResourceInput {
            location: "Réserve".into(),
            tariff: tariff(500, Some(3000), None),
            ..ResourceInput::new(Equipment, "Sonorisation portable")
        },
        ResourceInput {
            location: "Parking de la Halle".into(),
            tariff: tariff(300, Some(1500), None),
            ..ResourceInput::new(Equipment, "Remorque")
        },
        ResourceInput {
            location: "Atelier bois".into(),
            min_duration_minutes: Some(60),
            description: "Formation à l'outil obligatoire.".into(),
            tariff: tariff(400, None, None),
            ..ResourceInput::new(Equipment, "Scie à panneaux")
        },
        staff("Camille Martin — comptable", 35.0, 2850, 3100),
        staff("Yanis Benali — agent d'entretien", 24.0, 1980, 2150),
    ]
}

/// Fills an empty database with the demonstration pole.
pub async fn fill(app: &App) -> AppResult<DemoSummary> {
    let env = super::bookings::BookingEnv::of(app);
    app.db().run(move |conn| fill_tx(conn, &env)).await
}

fn fill_tx(conn: &mut DbConn, env: &super::bookings::BookingEnv) -> AppResult<DemoSummary> {
    let now = env.now;
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
        for input in resources(ge_member) {
            let draft = input.validate().map_err(AppError::Validation)?;
            resource_store::insert(conn, &draft, to_db(now))?;
            resource_count += 1;
        }
        Ok(())
    })?;
    // (e-mail, name, role, membership: (index of the member, role))
    type Account<'a> = (&'a str, &'a str, &'a str, Option<(usize, &'a str)>);
    let accounts: [Account; 6] = [
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
    let bookings = demo_bookings(conn, &member_ids, env)?;
    Ok(DemoSummary {
        members: member_ids.len(),
        resources: resource_count,
        bookings,
        accounts: out,
    })
}

/// A believable fortnight starting next Monday: meetings, coworking, vehicles, one request
/// waiting for approval, a weekly team meeting.
fn demo_bookings(
    conn: &mut DbConn,
    members: &[MemberId],
    env: &super::bookings::BookingEnv,
) -> AppResult<usize> {
    use chrono::{Datelike, Duration};
    let today = env.now.with_timezone(&env.tz).date_naive();
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let admin = crate::store::users::find_by_email(conn, "admin@demo.mutualise.coop")?
        .ok_or(AppError::NotFound)?;
    let actor = super::authz::Actor::from_user(&crate::store::users::with_roles(conn, admin)?);
    let resources = resource_store::list(conn, &Default::default())?;
    let id_of = |name: &str| -> Option<ResourceId> {
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
            activity: None,
        };
        conn.write(|c| super::bookings::book_tx(c, &actor, &input, env, None))?;
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
            activity: None,
        };
        let series = conn.write(|c| super::bookings::book_tx(c, &actor, &input, env, None))?;
        booked += series.bookings.len();
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
