//! The OpenAPI document against the service, by schemathesis (PyPI, pinned in
//! `tests/support/requirements.txt`, installed by `.ci/run`): on each backend, the demo pole is
//! filled in, an administrator's token obtained, and every operation of the document exercised
//! with generated valid and invalid input. No answer may be a server error, and every status,
//! content type, header and body must be the documented ones.
//! Elsewhere the test says it is skipped when schemathesis is missing, unless `CI` or
//! `MUTUALISE_REQUIRE_SCHEMATHESIS` is set, where that is a failure.

mod common;

use std::process::Command;
use std::time::Instant;

use common::TestApp;
use mutualise::app::demo;
use mutualise::config::{Config, DatabaseUrl};
use reqwest::StatusCode;
use serde_json::json;

/// Cases per operation and pass: bounded so that a backend takes a few minutes at most.
const MAX_EXAMPLES: &str = "25";

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

fn schemathesis_available() -> bool {
    let ok = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok() || std::env::var("MUTUALISE_REQUIRE_SCHEMATHESIS").is_ok() {
            panic!(
                "schemathesis missing: run `python3 -m pip install -r tests/support/requirements.txt`"
            );
        }
        eprintln!("schemathesis test skipped: `python3 -m pip install -r tests/support/requirements.txt` enables it");
    }
    ok
}

/// Fills the test's database with the demo pole, on the test's clock.
async fn fill_demo(app: &TestApp) {
    let raw = match &app.url {
        DatabaseUrl::Sqlite(p) => p.clone(),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(raw.clone()),
        "MUTUALISE_NOW" => Some(common::NOW.into()),
        _ => None,
    })
    .expect("config");
    let demo_app = mutualise::App::new(app.db.clone(), config);
    if let Err(e) = demo::fill(&demo_app).await {
        panic!("demo: {}", e.detail());
    }
}

/// One schemathesis run over the operations `filter` selects; panics with its report unless
/// it found nothing.
async fn schemathesis(app: &TestApp, token: &str, filter: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("schemathesis");
    cmd.current_dir(dir.path())
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", app.base))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        // Derandomised: the same cases on every run, no example database.
        .arg("--generation-deterministic")
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .arg("--no-color")
        .args(filter);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "schemathesis {filter:?} on {:?}: {:.0?}",
        app.backend,
        started.elapsed()
    );
    assert!(
        out.status.success(),
        "schemathesis found failures on {:?}:\n{report}\n{}",
        app.backend,
        String::from_utf8_lossy(&out.stderr)
    );
}

both_backends!(
    the_api_answers_as_its_openapi_document_says,
    |app: TestApp| async move {
        if !schemathesis_available() {
            return;
        }
        fill_demo(&app).await;
        let (s, t) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "admin@demo.mutualise.coop", "password": demo::DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let token = t["token"].as_str().expect("token").to_string();
        // Revoking tokens goes last: the generated ids include the one schemathesis uses.
        schemathesis(&app, &token, &["--exclude-operation-id", "revoke_token"]).await;
        schemathesis(&app, &token, &["--include-operation-id", "revoke_token"]).await;
    }
);
