//! Table-driven authorisation: (route × role × own/other member) → allowed or denied.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Admin,
    ResourceManager,
    GeManager,
    Treasurer,
    MemberAdminA,
    BookerA,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::Admin,
    Who::ResourceManager,
    Who::GeManager,
    Who::Treasurer,
    Who::MemberAdminA,
    Who::BookerA,
];

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Who],
    /// Status for a signed-in caller that is not allowed (403, or 404 when even existence is private).
    denied: StatusCode,
}

async fn run(app: TestApp) {
    let admin = app.admin().await;
    let a = app.member(&admin, "Structure A").await;
    let b = app.member(&admin, "Structure B").await;
    let (_, rm) = app.user("rm@pole.test", &["resource_manager"], &[]).await;
    let (_, ge) = app.user("ge@pole.test", &["ge_manager"], &[]).await;
    let (_, tr) = app.user("tr@pole.test", &["treasurer"], &[]).await;
    let (_, ma) = app.user("ma@a.test", &[], &[(a, "member_admin")]).await;
    let (_, bk) = app.user("bk@a.test", &[], &[(a, "booker")]).await;
    let (user_b, _) = app.user("bk@b.test", &[], &[(b, "booker")]).await;
    let (user_a, _) = app.user("other@a.test", &[], &[(a, "booker")]).await;
    let room = app
        .resource(&admin, json!({"kind": "room", "name": "Salle"}))
        .await;
    let token = |w: Who| -> String {
        match w {
            Who::Anonymous => String::new(),
            Who::Admin => admin.clone(),
            Who::ResourceManager => rm.clone(),
            Who::GeManager => ge.clone(),
            Who::Treasurer => tr.clone(),
            Who::MemberAdminA => ma.clone(),
            Who::BookerA => bk.clone(),
        }
    };
    use Who::*;
    let staff = json!({"kind": "staff", "name": "Camille", "employer_member_id": b, "weekly_contract_hours": 35, "hourly_cost_cents": 2850});
    let signed_in: &[Who] = &[
        Admin,
        ResourceManager,
        GeManager,
        Treasurer,
        MemberAdminA,
        BookerA,
    ];
    let mut n = 0;
    let cases = vec![
        Case {
            what: "list members",
            method: Method::GET,
            path: "/api/v1/members".into(),
            body: None,
            allowed: signed_in,
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "read own member",
            method: Method::GET,
            path: format!("/api/v1/members/{a}"),
            body: None,
            allowed: signed_in,
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create member",
            method: Method::POST,
            path: "/api/v1/members".into(),
            body: Some(json!({"name": "Nouvelle EMAIL", "legal_form": "scop"})),
            allowed: &[Admin, Treasurer],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "edit own member",
            method: Method::PATCH,
            path: format!("/api/v1/members/{a}"),
            body: Some(json!({"surface_m2": 10})),
            allowed: &[Admin, Treasurer],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "edit other member",
            method: Method::PATCH,
            path: format!("/api/v1/members/{b}"),
            body: Some(json!({"surface_m2": 10})),
            allowed: &[Admin, Treasurer],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "archive other member",
            method: Method::POST,
            path: format!("/api/v1/members/{b}/restore"),
            body: Some(json!({})),
            allowed: &[Admin, Treasurer],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "list resources",
            method: Method::GET,
            path: "/api/v1/resources".into(),
            body: None,
            allowed: signed_in,
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create room",
            method: Method::POST,
            path: "/api/v1/resources".into(),
            body: Some(json!({"kind": "room", "name": "Salle EMAIL"})),
            allowed: &[Admin, ResourceManager],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create staff",
            method: Method::POST,
            path: "/api/v1/resources".into(),
            body: Some(staff),
            allowed: &[Admin, ResourceManager, GeManager],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "edit room",
            method: Method::PATCH,
            path: format!("/api/v1/resources/{room}"),
            body: Some(json!({"capacity": 1})),
            allowed: &[Admin, ResourceManager],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create closure",
            method: Method::POST,
            path: "/api/v1/closures".into(),
            body: Some(
                json!({"start": "2027-08-02T00:00", "end": "2027-08-03T00:00", "reason": "x"}),
            ),
            allowed: &[Admin, ResourceManager],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "list closures",
            method: Method::GET,
            path: "/api/v1/closures".into(),
            body: None,
            allowed: signed_in,
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "list users",
            method: Method::GET,
            path: "/api/v1/users".into(),
            body: None,
            allowed: signed_in,
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "read user of own member",
            method: Method::GET,
            path: format!("/api/v1/users/{user_a}"),
            body: None,
            allowed: &[Admin, MemberAdminA],
            denied: StatusCode::NOT_FOUND,
        },
        Case {
            what: "read user of other member",
            method: Method::GET,
            path: format!("/api/v1/users/{user_b}"),
            body: None,
            allowed: &[Admin],
            denied: StatusCode::NOT_FOUND,
        },
        Case {
            what: "edit user of own member",
            method: Method::PATCH,
            path: format!("/api/v1/users/{user_a}"),
            body: Some(json!({"name": "Renommé"})),
            allowed: &[Admin, MemberAdminA],
            denied: StatusCode::NOT_FOUND,
        },
        Case {
            what: "edit user of other member",
            method: Method::PATCH,
            path: format!("/api/v1/users/{user_b}"),
            body: Some(json!({"name": "Renommé"})),
            allowed: &[Admin],
            denied: StatusCode::NOT_FOUND,
        },
        Case {
            what: "create user in own member",
            method: Method::POST,
            path: "/api/v1/users".into(),
            body: Some(
                json!({"email": "EMAIL", "name": "N", "password": "assez-long-pour-etre-sur", "memberships": [{"member_id": a, "role": "booker"}]}),
            ),
            allowed: &[Admin, MemberAdminA],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create user in other member",
            method: Method::POST,
            path: "/api/v1/users".into(),
            body: Some(
                json!({"email": "EMAIL", "name": "N", "password": "assez-long-pour-etre-sur", "memberships": [{"member_id": b, "role": "booker"}]}),
            ),
            allowed: &[Admin],
            denied: StatusCode::FORBIDDEN,
        },
        Case {
            what: "create pole user",
            method: Method::POST,
            path: "/api/v1/users".into(),
            body: Some(
                json!({"email": "EMAIL", "name": "N", "password": "assez-long-pour-etre-sur", "roles": ["treasurer"]}),
            ),
            allowed: &[Admin],
            denied: StatusCode::FORBIDDEN,
        },
    ];
    for case in &cases {
        for who in EVERYONE {
            n += 1;
            let body = case.body.clone().map(|b| {
                // Unique e-mails so each allowed creation succeeds on its own.
                serde_json::from_str::<Value>(
                    &b.to_string().replace("EMAIL", &format!("u{n}@x.test")),
                )
                .unwrap()
            });
            let (status, reply) = app
                .call(case.method.clone(), &token(who), &case.path, body)
                .await;
            let expected = if who == Anonymous {
                vec![StatusCode::UNAUTHORIZED]
            } else if case.allowed.contains(&who) {
                vec![StatusCode::OK, StatusCode::CREATED]
            } else {
                vec![case.denied]
            };
            assert!(
                expected.contains(&status),
                "{} as {:?}: got {status}, expected {expected:?}: {reply}",
                case.what,
                who
            );
        }
    }
    // A booker's user list shows only themself; a member admin's, only its member's people.
    let (_, list) = app.get(&bk, "/api/v1/users").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app.get(&ma, "/api/v1/users").await;
    assert!(list.as_array().unwrap().iter().all(|u| u["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["member_id"] == a)));
}

both_backends!(route_role_member_matrix, run);
