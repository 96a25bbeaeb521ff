//! Hostile input, as a table: huge strings, control characters, invalid UTF-8 in JSON, form
//! and query, injection text, numbers past i64 and f64, zero and negative quantities, unknown
//! enum values, years 0 and 9999, impossible dates, local times in the spring DST gap, 10 MB
//! bodies. The API answers each refusal with its documented 4xx in problem+json, the pages
//! with the form again and the reason inline; never a 5xx, and a refused input writes
//! nothing. Injection text that is valid data is stored as typed and shown escaped.

mod common;

use common::{pole, Browser, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Tables whose row counts must not move when an input is refused.
const TABLES: [&str; 6] = [
    "members",
    "users",
    "resources",
    "bookings",
    "closures",
    "costs",
];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push(app.count(t).await);
    }
    out
}

/// One request of the table: what is sent, which statuses document its refusal.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    expect: &'static [u16],
}

fn json_case(what: &'static str, path: &str, body: String, expect: &'static [u16]) -> Case {
    Case {
        what,
        method: Method::POST,
        path: path.into(),
        content_type: "application/json",
        body: body.into_bytes(),
        expect,
    }
}

fn get_case(what: &'static str, path: String, expect: &'static [u16]) -> Case {
    Case {
        what,
        method: Method::GET,
        path,
        content_type: "",
        body: vec![],
        expect,
    }
}

const INVALID: &[u16] = &[400, 422];
const UNPROCESSABLE: &[u16] = &[422];
const BAD: &[u16] = &[400];

fn booking(resource: i64, member: i64, start: &str, end: &str, extra: &str) -> String {
    format!(
        r#"{{"resource_id": {resource}, "member_id": {member}, "start": "{start}", "end": "{end}"{extra}}}"#
    )
}

fn api_cases(room: i64, member: i64) -> Vec<Case> {
    let big = "x".repeat(100 * 1024);
    let mut bad_utf8 = br#"{"name": "Asso "#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bad_utf8.extend_from_slice(br#"", "legal_form": "association"}"#);
    let mut bad_utf8_key = br#"{"name": "Asso", "legal_form": "association", ""#.to_vec();
    bad_utf8_key.extend_from_slice(&[0x80, 0x80]);
    bad_utf8_key.extend_from_slice(br#"": 1}"#);
    let b = |start: &str, end: &str, extra: &str| booking(room, member, start, end, extra);
    let ok_start = "2027-01-05T10:00:00+01:00";
    let ok_end = "2027-01-05T11:00:00+01:00";
    vec![
        json_case(
            "100 kB member name",
            "/api/v1/members",
            format!(r#"{{"name": "{big}", "legal_form": "association"}}"#),
            UNPROCESSABLE,
        ),
        json_case(
            "control characters in a name",
            "/api/v1/members",
            r#"{"name": "As\u0000so\u0007\u001b[31m", "legal_form": "association"}"#.into(),
            UNPROCESSABLE,
        ),
        Case {
            what: "invalid UTF-8 in a JSON string",
            method: Method::POST,
            path: "/api/v1/members".into(),
            content_type: "application/json",
            body: bad_utf8,
            expect: BAD,
        },
        Case {
            what: "invalid UTF-8 in a JSON key",
            method: Method::POST,
            path: "/api/v1/members".into(),
            content_type: "application/json",
            body: bad_utf8_key,
            expect: BAD,
        },
        json_case(
            "unpaired surrogate escape",
            "/api/v1/members",
            r#"{"name": "\ud800", "legal_form": "association"}"#.into(),
            INVALID,
        ),
        json_case(
            "unknown legal form",
            "/api/v1/members",
            r#"{"name": "Asso", "legal_form": "empire"}"#.into(),
            UNPROCESSABLE,
        ),
        json_case(
            "headcount past i64",
            "/api/v1/members",
            r#"{"name": "Asso", "legal_form": "association", "headcount": 9223372036854775808}"#
                .into(),
            INVALID,
        ),
        json_case(
            "turnover 1e400",
            "/api/v1/members",
            r#"{"name": "Asso", "legal_form": "association", "turnover_cents": 1e400}"#.into(),
            INVALID,
        ),
        json_case(
            "negative headcount",
            "/api/v1/members",
            r#"{"name": "Asso", "legal_form": "association", "headcount": -1}"#.into(),
            INVALID,
        ),
        json_case(
            "unknown resource kind",
            "/api/v1/resources",
            r#"{"kind": "spaceship", "name": "Navette"}"#.into(),
            UNPROCESSABLE,
        ),
        json_case(
            "zero capacity",
            "/api/v1/resources",
            r#"{"kind": "room", "name": "Salle vide", "capacity": 0}"#.into(),
            UNPROCESSABLE,
        ),
        json_case(
            "capacity past i64",
            "/api/v1/resources",
            r#"{"kind": "room", "name": "Salle", "capacity": 99999999999999999999999}"#.into(),
            INVALID,
        ),
        json_case(
            "opening hours at 25:00",
            "/api/v1/resources",
            r#"{"kind": "room", "name": "Salle", "opening_hours": [{"weekday": 8, "open": "25:00", "close": "26:00"}]}"#
                .into(),
            UNPROCESSABLE,
        ),
        json_case(
            "quantity 0",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "quantity": 0"#),
            UNPROCESSABLE,
        ),
        json_case(
            "quantity -3",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "quantity": -3"#),
            UNPROCESSABLE,
        ),
        json_case(
            "quantity past i64",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "quantity": 18446744073709551616"#),
            INVALID,
        ),
        json_case(
            "quantity 1e400",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "quantity": 1e400"#),
            INVALID,
        ),
        json_case(
            "resource id past i64",
            "/api/v1/bookings",
            booking_raw("92233720368547758070", &member.to_string(), ok_start, ok_end),
            INVALID,
        ),
        json_case(
            "negative member id",
            "/api/v1/bookings",
            booking(room, -1, ok_start, ok_end, ""),
            &[404, 422],
        ),
        json_case(
            "year 0",
            "/api/v1/bookings",
            b("0000-01-01T10:00:00Z", "0000-01-01T11:00:00Z", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "year 9999",
            "/api/v1/bookings",
            b("9999-12-31T10:00:00Z", "9999-12-31T11:00:00Z", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "the end of time",
            "/api/v1/bookings",
            b(ok_start, "+262143-12-31T23:59:59Z", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "30 February",
            "/api/v1/bookings",
            b("2027-02-30T10:00:00Z", "2027-02-30T11:00:00Z", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "25 o'clock",
            "/api/v1/bookings",
            b("2027-01-05T25:00:00Z", "2027-01-05T26:00:00Z", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "local time in the spring DST gap",
            "/api/v1/bookings",
            b("2027-03-28T02:30", "2027-03-28T03:30", ""),
            UNPROCESSABLE,
        ),
        json_case(
            "unknown recurrence frequency",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "recurrence": {"rrule": "FREQ=SECONDLY;COUNT=100000"}"#),
            UNPROCESSABLE,
        ),
        json_case(
            "endless recurrence",
            "/api/v1/bookings",
            b(ok_start, ok_end, r#", "recurrence": {"rrule": "FREQ=DAILY;COUNT=4294967296"}"#),
            UNPROCESSABLE,
        ),
        json_case(
            "100 kB purpose",
            "/api/v1/bookings",
            b(ok_start, ok_end, &format!(r#", "purpose": "{big}""#)),
            UNPROCESSABLE,
        ),
        json_case(
            "cost of i64::MAX cents",
            "/api/v1/costs",
            format!(
                r#"{{"month": "2027-01", "label": "Loyer", "amount_cents": 9223372036854775807, "resource_id": {room}, "key": {{"method": "equal"}}}}"#
            ),
            UNPROCESSABLE,
        ),
        json_case(
            "cost in month 13 of year 0",
            "/api/v1/costs",
            format!(
                r#"{{"month": "0000-13", "label": "Loyer", "amount_cents": 100, "resource_id": {room}, "key": {{"method": "equal"}}}}"#
            ),
            UNPROCESSABLE,
        ),
        json_case(
            "unknown allocation key",
            "/api/v1/costs",
            format!(
                r#"{{"month": "2027-01", "label": "Loyer", "amount_cents": 100, "resource_id": {room}, "key": {{"method": "astrology"}}}}"#
            ),
            UNPROCESSABLE,
        ),
        json_case(
            "closure from year 0 to 9999",
            "/api/v1/closures",
            format!(
                r#"{{"resource_id": {room}, "start": "0000-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z", "reason": "fin"}}"#
            ),
            UNPROCESSABLE,
        ),
        Case {
            what: "10 MB JSON body",
            method: Method::POST,
            path: "/api/v1/members".into(),
            content_type: "application/json",
            body: format!(
                r#"{{"name": "{}", "legal_form": "association"}}"#,
                "x".repeat(10 * 1024 * 1024)
            )
            .into_bytes(),
            expect: &[413],
        },
        get_case(
            "invalid UTF-8 in a query string",
            format!("/api/v1/resources/{room}/availability?from=%FF%FE&to=%C3"),
            INVALID,
        ),
        get_case(
            "control characters in a query string",
            format!("/api/v1/resources/{room}/availability?from=2027-01-05%00&to=%1B"),
            INVALID,
        ),
        get_case(
            "availability from year 0 to 9999",
            format!(
                "/api/v1/resources/{room}/availability?from=0000-01-01T00:00:00Z&to=9999-12-31T00:00:00Z"
            ),
            UNPROCESSABLE,
        ),
        get_case(
            "availability window reversed",
            format!(
                "/api/v1/resources/{room}/availability?from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z"
            ),
            UNPROCESSABLE,
        ),
        get_case(
            "booking filter id past i64",
            "/api/v1/bookings?resource_id=99999999999999999999".into(),
            INVALID,
        ),
        get_case(
            "unknown status filter",
            "/api/v1/outbox?status=lost".into(),
            INVALID,
        ),
        get_case(
            "month 0000-13",
            "/api/v1/allocations/0000-13".into(),
            &[400, 404, 422],
        ),
        get_case(
            "booking id past i64",
            "/api/v1/bookings/99999999999999999999".into(),
            &[400, 404],
        ),
        get_case(
            "SQL in a search",
            "/api/v1/members?q=%27%3B%20DROP%20TABLE%20members%3B%20--".into(),
            &[200],
        ),
    ]
}

fn booking_raw(resource: &str, member: &str, start: &str, end: &str) -> String {
    format!(
        r#"{{"resource_id": {resource}, "member_id": {member}, "start": "{start}", "end": "{end}"}}"#
    )
}

both_backends!(
    the_api_refuses_hostile_input_cleanly,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let before = counts(&app).await;
        let mut wrong = Vec::new();
        for case in api_cases(room, p.member) {
            let mut req = app
                .client
                .request(case.method.clone(), format!("{}{}", app.base, case.path))
                .bearer_auth(&p.admin);
            if !case.content_type.is_empty() {
                req = req
                    .header("content-type", case.content_type)
                    .body(case.body.clone());
            }
            let res = req.send().await.expect("an answer");
            let status = res.status();
            let ctype = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let text = res.text().await.unwrap_or_default();
            let problem = status.is_success() || ctype.starts_with("application/problem+json");
            if !case.expect.contains(&status.as_u16()) || !problem {
                wrong.push(format!(
                    "{}: {status} {ctype} {}",
                    case.what,
                    text.chars().take(200).collect::<String>()
                ));
            }
            let now = counts(&app).await;
            if now != before {
                wrong.push(format!("{}: wrote rows {before:?} -> {now:?}", case.what));
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }
);

// Injection text is data: stored as typed, shown escaped on the pages, found by search.
both_backends!(
    injection_text_is_stored_and_shown_escaped,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let script = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
        let sql = "Robert'); DROP TABLE members; --";
        let (s, m) = app
            .post(
                &p.admin,
                "/api/v1/members",
                json!({"name": script, "legal_form": "association"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["name"], script);
        let (s, m2) = app
            .post(
                &p.admin,
                "/api/v1/members",
                json!({"name": sql, "legal_form": "association"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m2}");
        assert_eq!(m2["name"], sql);
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": script}))
            .await;
        let web = Browser::sign_in(&app, "admin@pole.test").await;
        for path in [
            "/members".to_string(),
            format!("/members/{}", m["id"]),
            "/resources".to_string(),
            format!("/resources/{room}"),
        ] {
            let (s, page, _) = web.get(&path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(
                !page.contains("<script>alert"),
                "{path} shows a live script"
            );
            assert!(!page.contains("<img src=x"), "{path} shows a live tag");
            assert!(page.contains("&lt;script&gt;"), "{path} lost the text");
        }
        let (s, page, _) = web.get("/members?q=Robert%27%29").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("DROP TABLE members"), "search finds it");
        assert_eq!(app.count("members").await, 4);
    }
);

/// A form body, raw: fields are sent as given, percent-encoding included.
async fn post_raw(web: &Browser, path: &str, body: Vec<u8>) -> (StatusCode, String) {
    let res = web
        .client
        .post(format!("{}{path}", web.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

fn enc(s: &str) -> String {
    url_encode(s)
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

both_backends!(
    the_pages_refuse_hostile_input_inline,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let web = Browser::sign_in(&app, "admin@pole.test").await;
        let before = counts(&app).await;
        let (_, form, _) = web.get("/bookings/new").await;
        let csrf = common::csrf_of(&form);
        let booking = |start: &str, end: &str, quantity: &str| -> Vec<u8> {
            format!(
                "_csrf={csrf}&resource_id={room}&member_id={}&start={}&end={}&quantity={}&repeat=none",
                p.member,
                enc(start),
                enc(end),
                enc(quantity)
            )
            .into_bytes()
        };
        let member = |name: &str, extra: &str| -> Vec<u8> {
            format!(
                "_csrf={csrf}&name={}&legal_form=association&pricing_category=standard{extra}",
                enc(name)
            )
            .into_bytes()
        };
        let mut raw_member = format!("_csrf={csrf}&legal_form=association&name=Asso").into_bytes();
        raw_member.extend_from_slice(&[0xff, 0xfe]);
        let cases: Vec<(&str, &str, Vec<u8>)> = vec![
            (
                "a booking starting in the spring DST gap",
                "/bookings",
                booking("2027-03-28T02:30", "2027-03-28T03:30", "1"),
            ),
            (
                "a booking ending in the spring DST gap",
                "/bookings",
                booking("2027-03-28T01:30", "2027-03-28T02:15", "1"),
            ),
            (
                "quantity 0",
                "/bookings",
                booking("2027-01-05T10:00", "2027-01-05T11:00", "0"),
            ),
            (
                "quantity -1",
                "/bookings",
                booking("2027-01-05T10:00", "2027-01-05T11:00", "-1"),
            ),
            (
                "quantity past i64",
                "/bookings",
                booking(
                    "2027-01-05T10:00",
                    "2027-01-05T11:00",
                    "99999999999999999999",
                ),
            ),
            (
                "quantity 1e400",
                "/bookings",
                booking("2027-01-05T10:00", "2027-01-05T11:00", "1e400"),
            ),
            (
                "year 0",
                "/bookings",
                booking("0000-01-01T10:00", "0000-01-01T11:00", "1"),
            ),
            (
                "year 9999",
                "/bookings",
                booking("9999-12-31T10:00", "9999-12-31T11:00", "1"),
            ),
            (
                "30 February",
                "/bookings",
                booking("2027-02-30T10:00", "2027-02-30T11:00", "1"),
            ),
            (
                "control characters in a time",
                "/bookings",
                booking("2027-01-05T10:00\u{0}", "\u{1b}[2J", "1"),
            ),
            (
                "100 kB member name",
                "/members",
                member(&"x".repeat(100 * 1024), ""),
            ),
            (
                "control characters in a member name",
                "/members",
                member("As\u{0}so\u{7}", ""),
            ),
            (
                "headcount past i64",
                "/members",
                member("Asso", "&headcount=9223372036854775808"),
            ),
            (
                "turnover 1e400",
                "/members",
                member("Asso", "&turnover=1e400"),
            ),
            (
                "negative headcount",
                "/members",
                member("Asso", "&headcount=-4"),
            ),
            (
                "unknown legal form",
                "/members",
                format!("_csrf={csrf}&name=Asso&legal_form=empire").into_bytes(),
            ),
            ("invalid UTF-8 in a form", "/members", raw_member),
            (
                "percent-encoded invalid UTF-8 in a form",
                "/members",
                format!("_csrf={csrf}&legal_form=association&name=Asso%FF%C3").into_bytes(),
            ),
            (
                "a NUL character in a form (PostgreSQL cannot store it)",
                "/members",
                format!("_csrf={csrf}&legal_form=association&name=Asso%00Cie").into_bytes(),
            ),
        ];
        let mut wrong = Vec::new();
        for (what, path, body) in cases {
            let (status, page) = post_raw(&web, path, body).await;
            // A form no browser sends (bytes that are not UTF-8) cannot be shown again.
            let inline = page.contains("role=\"alert\"")
                || page.contains("field-error")
                || (status == StatusCode::BAD_REQUEST && page.contains("Formulaire illisible"));
            if !status.is_client_error() || !inline {
                wrong.push(format!(
                    "{what}: {status} {}",
                    page.chars().take(300).collect::<String>()
                ));
            }
            let now = counts(&app).await;
            if now != before {
                wrong.push(format!("{what}: wrote rows {before:?} -> {now:?}"));
            }
        }
        // Query strings a page reads.
        for path in [
            "/calendar?date=0000-01-01".to_string(),
            "/calendar?date=9999-12-31".to_string(),
            "/calendar?date=%FF%FE".to_string(),
            format!("/resources/{room}/week?date=99999-01-01"),
            format!("/resources/{room}/week?date=%00"),
            "/bookings?from=0000-13-45".to_string(),
        ] {
            let (status, page, _) = web.get(&path).await;
            if status.is_server_error() {
                wrong.push(format!(
                    "GET {path}: {status} {}",
                    page.chars().take(300).collect::<String>()
                ));
            }
        }
        // 10 MB of form.
        let (status, _) =
            post_raw(&web, "/members", member(&"x".repeat(10 * 1024 * 1024), "")).await;
        if status != StatusCode::PAYLOAD_TOO_LARGE {
            wrong.push(format!("10 MB form: {status}"));
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
        assert_eq!(counts(&app).await, before);
    }
);
