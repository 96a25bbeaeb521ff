//! Property test of the whole booking path (app + store, real SQLite): random sequences of
//! create / move / cancel on resources of random capacity and buffers, each answer compared
//! with a brute-force minute-by-minute model of the capacity rule.

mod common;

use chrono::{DateTime, Duration, Utc};
use mutualise::app::authz::Actor;
use mutualise::app::bookings::{self, BookingChanges, BookingEnv, BookingInput, Scope};
use mutualise::config::DatabaseUrl;
use mutualise::domain::ids::BookingId;
use mutualise::domain::role::PoleRole;
use mutualise::error::AppError;
use mutualise::store::Db;
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Op {
    Create { start: i64, len: i64, qty: i32 },
    Move { which: usize, start: i64, len: i64 },
    Cancel { which: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..48, 1i64..12, 1i32..4).prop_map(|(s, l, q)| Op::Create { start: s * 15, len: l * 15, qty: q }),
        2 => (0usize..20, 0i64..48, 1i64..12).prop_map(|(w, s, l)| Op::Move { which: w, start: s * 15, len: l * 15 }),
        1 => (0usize..20).prop_map(|w| Op::Cancel { which: w }),
    ]
}

/// Minute-by-minute usage over the day, buffers included.
struct Model {
    capacity: i32,
    before: i64,
    after: i64,
    live: Vec<Option<(i64, i64, i32)>>,
}

impl Model {
    fn fits(&self, start: i64, end: i64, qty: i32, ignore: Option<usize>) -> bool {
        let lo = start - self.before - self.after - 1;
        let hi = end + self.before + self.after + 1;
        (lo..hi).all(|m| {
            let mut used = if m >= start - self.before && m < end + self.after {
                qty
            } else {
                0
            };
            for (i, b) in self.live.iter().enumerate() {
                if Some(i) == ignore {
                    continue;
                }
                if let Some((s, e, q)) = b {
                    if m >= s - self.before && m < e + self.after {
                        used += q;
                    }
                }
            }
            used <= self.capacity
        })
    }
}

fn at(base: DateTime<Utc>, minutes: i64) -> String {
    (base + Duration::minutes(minutes)).to_rfc3339()
}

fn run(capacity: i32, before: i64, after: i64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&DatabaseUrl::Sqlite(
        dir.path().join("o.db").to_string_lossy().into_owned(),
    ))
    .unwrap();
    let mut conn = db.get().unwrap();
    let now: DateTime<Utc> = common::NOW.parse().unwrap();
    let env = BookingEnv {
        tz: chrono_tz::Europe::Paris,
        now,
        horizon_days: 365,
    };
    let t = mutualise::store::to_db(now);
    let user = mutualise::store::users::insert(
        &mut conn,
        &mutualise::store::users::NewUser {
            email: "o@x.fr",
            name: "oracle",
            password_hash: "-",
            active: true,
        },
        t,
    )
    .unwrap();
    let actor = Actor {
        user_id: user.id,
        name: "oracle".into(),
        email: "o@x.fr".into(),
        roles: vec![PoleRole::Admin],
        memberships: vec![],
        contact: None,
    };
    let member: mutualise::domain::member::MemberInput =
        serde_json::from_value(json!({"name": "M", "legal_form": "scop"})).unwrap();
    let member = mutualise::store::members::insert(&mut conn, &member.validate().unwrap(), t)
        .unwrap()
        .id;
    let resource: mutualise::domain::resource::ResourceInput = serde_json::from_value(json!({
        "kind": "equipment", "name": "R", "capacity": capacity, "buffer_before_minutes": before, "buffer_after_minutes": after
    }))
    .unwrap();
    let resource = mutualise::store::resources::insert(&mut conn, &resource.validate().unwrap(), t)
        .unwrap()
        .row
        .id;
    let base: DateTime<Utc> = "2027-01-06T08:00:00Z".parse().unwrap();
    let mut model = Model {
        capacity,
        before,
        after,
        live: Vec::new(),
    };
    let mut ids: Vec<BookingId> = Vec::new();
    for op in ops {
        match op {
            Op::Create { start, len, qty } => {
                let input = BookingInput {
                    resource_id: resource,
                    member_id: member,
                    start: at(base, start),
                    end: at(base, start + len),
                    quantity: Some(qty),
                    purpose: None,
                    beneficiary: None,
                    recurrence: None,
                    skip_conflicts: false,
                    activity: None,
                };
                let expected = qty <= capacity && model.fits(start, start + len, qty, None);
                let got = conn.write(|c| bookings::book_tx(c, &actor, &input, &env, None, None));
                match got {
                    Ok(b) => {
                        prop_assert!(expected, "app accepted {start}+{len}×{qty}, model refuses");
                        prop_assert!(
                            b.series_id.is_none() && b.bookings.len() == 1,
                            "one booking"
                        );
                        ids.push(b.bookings[0].id);
                        model.live.push(Some((start, start + len, qty)));
                    }
                    Err(AppError::Refused(r)) => {
                        prop_assert!(
                            !expected,
                            "app refused {start}+{len}×{qty} ({}), model accepts",
                            r.code()
                        );
                        let code_ok =
                            r.code() == "conflict" || (qty > capacity && r.code() == "validation");
                        prop_assert!(code_ok, "unexpected code {}: {}", r.code(), r.detail());
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e:?}"),
                }
            }
            Op::Move { which, start, len } if which < ids.len() => {
                let Some((_, _, qty)) = model.live[which] else {
                    continue;
                };
                let changes = BookingChanges {
                    start: Some(at(base, start)),
                    end: Some(at(base, start + len)),
                    ..Default::default()
                };
                let expected = model.fits(start, start + len, qty, Some(which));
                match conn.write(|c| bookings::move_tx(c, &actor, ids[which], &changes, &env)) {
                    Ok(_) => {
                        prop_assert!(expected, "app moved to {start}+{len}, model refuses");
                        model.live[which] = Some((start, start + len, qty));
                    }
                    Err(AppError::Refused(r)) => {
                        prop_assert!(
                            !expected,
                            "app refused the move to {start}+{len} ({}), model accepts",
                            r.code()
                        );
                        prop_assert_eq!(r.code(), "conflict");
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e:?}"),
                }
            }
            Op::Cancel { which } if which < ids.len() => {
                let was_live = model.live[which].is_some();
                let got =
                    conn.write(|c| bookings::cancel_tx(c, &actor, ids[which], Scope::One, &env));
                prop_assert_eq!(got.is_ok(), was_live);
                model.live[which] = None;
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn app_agrees_with_minute_model(capacity in 1i32..4, before in 0i64..7, after in 0i64..7, ops in proptest::collection::vec(op(), 1..25)) {
        run(capacity, before * 5, after * 5, ops)?;
    }
}
