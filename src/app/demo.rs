//! `mutualise demo`: fills an empty database with a believable pole to explore the product.

use chrono::{Datelike, Duration, NaiveDate};

use super::auth::hash_password;
use super::authz::Actor;
use super::bookings::{book_tx, BookingEnv, BookingInput};
use super::App;
use crate::domain::employee::EmployeeInput;
use crate::domain::holidays::is_public_holiday;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour::Activity;
use crate::domain::member::MemberInput;
use crate::domain::resource::{OpeningSlotInput, ResourceInput, ResourceKind, TariffInput};
use crate::domain::role::PoleRole;
use crate::domain::time::local_to_utc;
use crate::domain::user::UserInput;
use crate::error::{AppError, AppResult};
use crate::store::{
    members as member_store, resources as resource_store, to_db, users as user_store, DbConn,
};

pub const DEMO_PASSWORD: &str = "mutualise-demo";

/// The manager of the demo's employer group, « GE Val Partage ».
pub const GE_MANAGER_EMAIL: &str = "ge@demo.mutualise.coop";

/// Index in [`MEMBERS`] of the employer group (legal form GE / GEIQ).
const GE: usize = 6;

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

/// The demo's pools of resources, whose costs are split together.
pub(crate) const BUILDING: &str = "bâtiment";
pub(crate) const FLEET: &str = "flotte";

fn tariff(hourly_cents: i64, daily_cap: Option<i64>, per_km: Option<i64>) -> TariffInput {
    TariffInput {
        hourly_cents,
        daily_cap_cents: daily_cap,
        per_km_cents: per_km,
        ..TariffInput::default()
    }
}

/// The shared premises, vehicles and equipment; the employer group's staff come from
/// [`employees`].
fn resources() -> Vec<ResourceInput> {
    use ResourceKind::{Desk, Equipment, Room, Vehicle};
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
        pool: Some(FLEET.into()),
        ..ResourceInput::new(Vehicle, name)
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
            pool: Some(BUILDING.into()),
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
            pool: Some(BUILDING.into()),
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
            pool: Some(BUILDING.into()),
            ..ResourceInput::new(Room, "Salle polyvalente")
        },
        ResourceInput {
            location: "Bâtiment B".into(),
            capacity: 12,
            opening_hours: week("08:00", "19:00"),
            tariff: tariff(200, Some(1200), None),
            pool: Some(BUILDING.into()),
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
    ]
}

/// Fills an empty database with the demonstration pole.
pub async fn fill(app: &App) -> AppResult<DemoSummary> {
    let env = BookingEnv::of(app);
    let (mut summary, members) = app.db().run(move |conn| fill_tx(conn, &env)).await?;
    let (employees, assignments) = employer_group(app, &members).await?;
    summary.resources += employees;
    summary.bookings += assignments;
    summary.bookings += super::demo_allocation::fill(app, &members).await?;
    summary.bookings += today_and_closure(app, &members).await?;
    Ok(summary)
}

/// What makes the coordination's home page speak from the first visit: a vehicle out today
/// (booked early this morning) and a room closed for works the week after next.
async fn today_and_closure(app: &App, members: &[MemberId]) -> AppResult<usize> {
    let (tz, today) = (app.tz(), app.today());
    let monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let admin = app
        .db()
        .run(|c| {
            let u = user_store::find_by_email(c, "admin@demo.mutualise.coop")?
                .ok_or(AppError::NotFound)?;
            Ok(Actor::from_user(&user_store::with_roles(c, u)?))
        })
        .await?;
    let resources = app
        .db()
        .run(|c| resource_store::list(c, &Default::default()))
        .await?;
    let id_of = |name: &str| {
        resources
            .iter()
            .find(|r| r.row.name == name)
            .map(|r| r.row.id)
            .ok_or(AppError::NotFound)
    };
    super::closures::create(
        app,
        &admin,
        crate::domain::closure::ClosureInput {
            resource_id: Some(id_of("Salle Jaurès")?),
            start: format!("{}T00:00", monday + Duration::days(10)),
            end: format!("{}T00:00", monday + Duration::days(11)),
            reason: "Réfection du parquet".into(),
        },
        false,
    )
    .await?;
    let early = today
        .and_hms_opt(7, 0, 0)
        .ok_or_else(|| AppError::internal("demo date"))?;
    let env = BookingEnv {
        now: local_to_utc(early, tz).map_err(AppError::internal)?,
        ..BookingEnv::of(app)
    };
    let input = BookingInput {
        resource_id: id_of("Renault Zoé")?,
        member_id: members[5],
        start: format!("{today}T10:00"),
        end: format!("{today}T12:00"),
        quantity: None,
        purpose: Some("Rendez-vous à France Travail".into()),
        beneficiary: None,
        recurrence: None,
        skip_conflicts: false,
        activity: None,
    };
    app.db()
        .run(move |c| c.write(|c| book_tx(c, &admin, &input, &env, None, None)))
        .await?;
    Ok(1)
}

/// Members, resources, accounts and bookings; the ids of the members, in [`MEMBERS`] order.
fn fill_tx(conn: &mut DbConn, env: &BookingEnv) -> AppResult<(DemoSummary, Vec<MemberId>)> {
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
            // Members of long standing: they took part in the months the demo closes.
            let joined = to_db(now - Duration::days(400));
            member_ids.push(member_store::insert(conn, &draft, joined)?.id);
        }
        for input in resources() {
            let draft = input.validate().map_err(AppError::Validation)?;
            resource_store::insert(conn, &draft, to_db(now))?;
            resource_count += 1;
        }
        Ok(())
    })?;
    // (e-mail, name, role (pole-wide, or the membership's), membership: (index of the member,
    // role)). The employer group's manager is both: pole role ge_manager, and member_admin of
    // the group, which limits the employees she manages to the group's.
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
            GE_MANAGER_EMAIL,
            "Gabrielle du GE",
            "ge_manager",
            Some((GE, "member_admin")),
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
            roles: PoleRole::parse(role)
                .map(|r| vec![r.as_str().to_string()])
                .unwrap_or_default(),
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
            role: match membership {
                Some((i, _)) => format!("{role} — {}", MEMBERS[i].0),
                None => role.into(),
            },
        });
    }
    let bookings = demo_bookings(conn, &member_ids, env)?;
    let summary = DemoSummary {
        members: member_ids.len(),
        resources: resource_count,
        bookings,
        accounts: out,
    };
    Ok((summary, member_ids))
}

/// A believable fortnight starting next Monday: meetings, coworking, vehicles, one request
/// waiting for approval, a weekly team meeting.
fn demo_bookings(conn: &mut DbConn, members: &[MemberId], env: &BookingEnv) -> AppResult<usize> {
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
        conn.write(|c| super::bookings::book_tx(c, &actor, &input, env, None, None))?;
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
        let series =
            conn.write(|c| super::bookings::book_tx(c, &actor, &input, env, None, None))?;
        booked += series.bookings.len();
    }
    Ok(booked)
}

/// The employer group's four shared employees, by index in the planning: 0 a full-time
/// accountant, 1 a part-time caretaker (24 h), 2 an apprentice market gardener aged 16, 3 a
/// forklift driver on a fixed-term contract. Dates of birth and contract ends follow `today`,
/// so the apprentice stays a minor and the contracts run whenever the demo is made.
fn employees(members: &[MemberId], today: NaiveDate) -> Vec<EmployeeInput> {
    let employer_member_id = members[GE];
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    let employee = |name: &str, contract: &str, hours: f64, cost: i64| EmployeeInput {
        name: name.into(),
        employer_member_id,
        contract_type: contract.into(),
        contract_end: None,
        weekly_contract_hours: hours,
        birth_date: None,
        hourly_cost_cents: cost,
        fee_coefficient: None,
        fee_monthly_cents: None,
        agreement_member_ids: vec![],
        email: None,
        skills: vec![],
        location: "Bureaux du GE, bâtiment B".into(),
        description: String::new(),
    };
    let skills = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let at = |indexes: &[usize]| indexes.iter().map(|i| members[*i]).collect::<Vec<_>>();
    vec![
        EmployeeInput {
            birth_date: date(1988, 3, 14),
            fee_coefficient: Some(1.12),
            agreement_member_ids: at(&[1, 2, 8]),
            skills: skills(&["comptabilité", "paie", "gestion administrative"]),
            description: "Comptable partagée entre trois structures : saisie, paie, clôtures."
                .into(),
            email: Some("camille.martin@demo.mutualise.coop".into()),
            ..employee("Camille Martin", "cdi", 35.0, 3150)
        },
        EmployeeInput {
            birth_date: date(1979, 11, 2),
            fee_monthly_cents: Some(18_000),
            // No agreement named: every member may have him.
            skills: skills(&["entretien des locaux", "accueil"]),
            description: "Agent d'entretien et d'accueil à temps partiel (24 h par semaine)."
                .into(),
            ..employee("Yanis Benali", "cdi", 24.0, 2450)
        },
        EmployeeInput {
            // 16 years and about 200 days old: a minor for more than a year to come.
            birth_date: Some(today - Duration::days(16 * 365 + 200)),
            contract_end: date(today.year() + 2, 8, 31),
            fee_coefficient: Some(1.12),
            agreement_member_ids: at(&[0, 3]),
            skills: skills(&["maraîchage", "vente directe"]),
            description: "Apprentie en CAP agricole (maraîchage), cours au CFA ; mineure : \
                          8 h par jour au plus, jamais le soir, le dimanche ni un jour férié."
                .into(),
            ..employee("Léa Roux", "apprenticeship", 35.0, 980)
        },
        EmployeeInput {
            birth_date: date(1996, 6, 21),
            contract_end: Some(today + Duration::days(182)),
            fee_coefficient: Some(1.15),
            agreement_member_ids: at(&[3, 10, 11]),
            skills: skills(&["cariste", "logistique", "préparation de commandes"]),
            description: "Cariste-magasinier (CACES R489) en CDD de six mois.".into(),
            ..employee("Mehdi Garnier", "cdd", 35.0, 2700)
        },
    ]
}

/// One line of the employer group's planning.
struct Shift {
    /// Index in [`employees`].
    employee: usize,
    /// Index in [`MEMBERS`]: the member the employee works for, or [`GE`] for training and
    /// absences.
    member: usize,
    date: NaiveDate,
    start: &'static str,
    end: &'static str,
    activity: Activity,
    purpose: &'static str,
}

/// The planning of the current week (from `monday`) and the next, Monday to Friday: every
/// employee at two or three members, in blocks of at most 6 h (4 h 30 for the apprentice)
/// separated by a break, days of at most 8 h and rests of at least 12 h, so that the only
/// remark of the law is the one the demo shows on purpose: the part-time caretaker works 26 h
/// the second week, two complementary hours beyond his 24 h (within the tenth allowed).
/// Also one training half-day at the CFA for the apprentice and a day of paid leave for the
/// forklift driver, recorded at the group. Public holidays are ordinary days for adults
/// (1 May only carries a warning), never for the apprentice, a minor: she has none, and her
/// training moves to the last weekday of the week that is not one.
fn planning(monday: NaiveDate) -> Vec<Shift> {
    use Activity::{Absence, Training, Work};
    let mut plan = Vec::new();
    let mut add = |employee, member, date, start, end, activity, purpose| {
        plan.push(Shift {
            employee,
            member,
            date,
            start,
            end,
            activity,
            purpose,
        })
    };
    for week in 0..2 {
        let day = |n: i64| monday + Duration::days(7 * week + n);
        // Camille: 34 h, at Coop'Atelier, La Fabrique Numérique, Énergies Citoyennes.
        for (n, member, purpose) in [
            (0, 1, "Saisie comptable"),
            (1, 1, "Paie et déclarations sociales"),
            (2, 8, "Saisie comptable"),
            (3, 8, "Suivi de trésorerie"),
        ] {
            add(0, member, day(n), "08:30", "12:30", Work, purpose);
            add(0, member, day(n), "13:30", "17:00", Work, purpose);
        }
        add(0, 2, day(4), "08:30", "12:30", Work, "Clôture mensuelle");
        // Yanis: 22 h from Monday to Thursday at Tremplin Emploi, Les Jardins du Lien, Le
        // Fournil; on Friday 2 h (24 h, his contract) then 4 h (26 h: complementary hours).
        add(1, 5, day(0), "08:00", "12:00", Work, "Entretien des locaux");
        add(1, 5, day(0), "13:00", "15:00", Work, "Accueil du public");
        add(1, 0, day(1), "08:00", "12:00", Work, "Entretien des serres");
        add(
            1,
            0,
            day(1),
            "13:00",
            "15:00",
            Work,
            "Accueil des bénévoles",
        );
        add(1, 3, day(2), "07:00", "12:00", Work, "Entretien du fournil");
        add(1, 5, day(3), "08:00", "12:00", Work, "Entretien des locaux");
        add(1, 5, day(3), "13:00", "14:00", Work, "Accueil du public");
        let friday_end = if week == 0 { "10:00" } else { "12:00" };
        add(1, 0, day(4), "08:00", friday_end, Work, "Accueil du marché");
        // Léa: 7 h a day at Les Jardins du Lien in blocks of 3 h 30; on Friday the CFA, then
        // a morning selling baskets at Le Fournil.
        let training = (0..5)
            .rev()
            .map(day)
            .find(|d| !is_public_holiday(*d))
            .filter(|_| week == 0);
        for n in 0..4 {
            let d = day(n);
            if is_public_holiday(d) || Some(d) == training {
                continue;
            }
            add(
                2,
                0,
                d,
                "08:30",
                "12:00",
                Work,
                "Récolte et préparation des paniers",
            );
            add(2, 0, d, "13:00", "16:30", Work, "Travaux de maraîchage");
        }
        match training {
            Some(d) => add(
                2,
                GE,
                d,
                "08:30",
                "12:30",
                Training,
                "CFA : cours de maraîchage",
            ),
            None if !is_public_holiday(day(4)) => add(
                2,
                3,
                day(4),
                "07:00",
                "11:00",
                Work,
                "Vente des paniers de légumes",
            ),
            None => {}
        }
        // Mehdi: 34 h at Vélo-Services, the Garage Solidaire and Le Fournil; on leave the
        // second Wednesday.
        for (n, member, purpose) in [
            (0, 10, "Réception et stockage des vélos"),
            (1, 10, "Préparation des commandes"),
            (2, 11, "Magasin de pièces détachées"),
            (3, 11, "Inventaire du magasin"),
        ] {
            if week == 1 && n == 2 {
                add(3, GE, day(n), "00:00", "24:00", Absence, "Congé payé");
                continue;
            }
            add(3, member, day(n), "08:00", "12:00", Work, purpose);
            add(3, member, day(n), "13:00", "16:00", Work, purpose);
        }
        add(
            3,
            3,
            day(4),
            "06:00",
            "10:00",
            Work,
            "Réception des farines",
        );
        add(
            3,
            3,
            day(4),
            "10:30",
            "12:30",
            Work,
            "Chargement des livraisons",
        );
    }
    plan
}

/// « GE Val Partage » shares four employees: they are created as its manager creates them
/// (`employees::create`), and their fortnight goes through the booking engine like any
/// assignment (`book_tx`, as the manager), so the demo's planning keeps the working-time law
/// by construction; a refusal stops the demo, for it means the demo's data is wrong. The
/// planning was drawn up on the Friday before the current week, so its days already gone
/// (the current week is shown whole) are not refused as past. Returns the numbers of
/// employees and of assignments.
async fn employer_group(app: &App, members: &[MemberId]) -> AppResult<(usize, usize)> {
    let manager = app
        .db()
        .run(|c| {
            let user = user_store::find_by_email(c, GE_MANAGER_EMAIL)?.ok_or(AppError::NotFound)?;
            Ok(Actor::from_user(&user_store::with_roles(c, user)?))
        })
        .await?;
    let tz = app.tz();
    let today = app.now().with_timezone(&tz).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let mut ids = Vec::new();
    for input in employees(members, today) {
        ids.push(super::employees::create(app, &manager, input).await?.id);
    }
    let friday_before = (monday - Duration::days(3))
        .and_hms_opt(17, 0, 0)
        .ok_or_else(|| AppError::internal("demo planning date"))?;
    let env = BookingEnv {
        now: local_to_utc(friday_before, tz).map_err(AppError::internal)?,
        ..BookingEnv::of(app)
    };
    let plan = planning(monday);
    let counts = (ids.len(), plan.len());
    let members = members.to_vec();
    app.db()
        .run(move |conn| {
            for s in &plan {
                let end = match s.end {
                    "24:00" => format!("{}T00:00", s.date + Duration::days(1)),
                    end => format!("{}T{end}", s.date),
                };
                let input = BookingInput {
                    resource_id: ids[s.employee],
                    member_id: members[s.member],
                    start: format!("{}T{}", s.date, s.start),
                    end,
                    quantity: None,
                    purpose: Some(s.purpose.into()),
                    beneficiary: None,
                    recurrence: None,
                    skip_conflicts: false,
                    activity: Some(s.activity),
                };
                conn.write(|c| book_tx(c, &manager, &input, &env, None, None))
                    .map_err(|e| match e {
                        AppError::Refused(r) => AppError::Conflict {
                            code: "demo_planning_refused",
                            detail: format!(
                                "Planning de démonstration refusé ({}, {} → {}) : {}",
                                s.purpose,
                                input.start,
                                input.end,
                                r.detail()
                            ),
                        },
                        other => other,
                    })?;
            }
            Ok(())
        })
        .await?;
    Ok(counts)
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
