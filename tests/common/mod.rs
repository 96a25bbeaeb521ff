//! Test harness: a fresh database per test (SQLite file or a new PostgreSQL database), the
//! real router served on a loopback port, a fixed clock, and fixture builders.
#![allow(dead_code)]

pub mod mail;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use mutualise::app::auth;
use mutualise::config::{Config, DatabaseUrl};
use mutualise::domain::ids::{MemberId, ResourceId};
use mutualise::domain::status::BookingStatus;
use mutualise::domain::user::{MembershipInput, UserInput};
use mutualise::store::{Backend, Db};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const NOW: &str = "2027-01-04T08:00:00Z";
pub const PASSWORD: &str = "mot-de-passe-de-test";

/// Generates one test per backend from an async body taking a `TestApp`.
/// The PostgreSQL variant needs `TEST_POSTGRES_URL`; under CI its absence is a failure.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::sqlite().await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::postgres().await {
                    ($body)(app).await;
                }
            }
        }
    };
}

pub struct TestApp {
    /// The service behind the server, for what tests run beside it (the mail worker).
    pub app: mutualise::App,
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub backend: Backend,
    pub now: DateTime<Utc>,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    /// Declared after the pool: the database is dropped once the app is.
    pg_drop: Option<PgDatabase>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server to test against, if any. Under CI (`CI` set) it must be configured.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => panic!(
            "TEST_POSTGRES_URL must be set under CI: the PostgreSQL suite may not be skipped"
        ),
        _ => {
            eprintln!("TEST_POSTGRES_URL not set: PostgreSQL variant skipped (it runs in .ci/run)");
            None
        }
    }
}

/// An empty database on the test server, dropped when this is (a failing test's too).
pub struct PgDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort: a pool or a server process may still hold connections, hence FORCE.
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Creates an empty database on the test server (named by this process, a counter and a
/// random suffix: letters, digits and underscores).
pub fn create_pg_database(admin_url: &str) -> PgDatabase {
    let name = format!(
        "mutualise_t{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand_suffix()
    );
    let mut conn = PgConnection::establish(admin_url).expect("connect to TEST_POSTGRES_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("create test database");
    let (head, tail) = match admin_url.split_once('?') {
        Some((h, t)) => (h, format!("?{t}")),
        None => (admin_url, String::new()),
    };
    let prefix = &head[..head.rfind('/').expect("database URL with a path")];
    PgDatabase {
        url: format!("{prefix}/{name}{tail}"),
        admin: admin_url.to_string(),
        name,
    }
}

fn rand_suffix() -> String {
    auth::random_secret()[..8].to_string()
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(&[]).await
    }

    pub async fn postgres() -> Option<TestApp> {
        Self::postgres_with(&[]).await
    }

    /// A SQLite-backed app with more configuration (`SMTP_URL`…).
    pub async fn sqlite_with(env: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.db");
        Self::start(
            DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
            Some(dir),
            None,
            env,
        )
        .await
    }

    pub async fn postgres_with(env: &[(&str, &str)]) -> Option<TestApp> {
        let admin = postgres_admin_url()?;
        let database = tokio::task::spawn_blocking(move || create_pg_database(&admin))
            .await
            .expect("create database");
        let url = DatabaseUrl::Postgres(database.url.clone());
        Some(Self::start(url, None, Some(database), env).await)
    }

    /// A second server on the same database whose clock reads `now` (what `self` wrote, seen
    /// later). The database stays `self`'s: keep `self` alive meanwhile.
    pub async fn same_database_at(&self, now: &str) -> TestApp {
        Self::start(self.url.clone(), None, None, &[("MUTUALISE_NOW", now)]).await
    }

    /// The same backend as `self` (a fresh database) with more configuration.
    pub async fn like(&self, env: &[(&str, &str)]) -> TestApp {
        match self.backend {
            Backend::Sqlite => Self::sqlite_with(env).await,
            Backend::Postgres => Self::postgres_with(env).await.expect("postgres"),
        }
    }

    async fn start(
        url: DatabaseUrl,
        dir: Option<tempfile::TempDir>,
        pg_drop: Option<PgDatabase>,
        env: &[(&str, &str)],
    ) -> TestApp {
        let raw = match &url {
            DatabaseUrl::Sqlite(p) => p.clone(),
            DatabaseUrl::Postgres(u) => u.clone(),
        };
        let extra: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = Config::from_lookup(|k| {
            let given = extra
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone());
            match k {
                "DATABASE_URL" => Some(raw.clone()),
                "MUTUALISE_NOW" => given.or(Some(NOW.into())),
                _ => given,
            }
        })
        .expect("config");
        let db = tokio::task::spawn_blocking({
            let url = url.clone();
            let pooling = config.pooling();
            move || Db::connect_with(&url, pooling)
        })
        .await
        .expect("join")
        .expect("connect and migrate");
        let now = config.now.expect("fixed clock");
        let app = mutualise::App::new(db.clone(), config);
        let addr = mutualise::web::server::spawn_loopback(app.clone())
            .await
            .expect("serve on loopback");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            app,
            base: format!("http://{addr}"),
            client,
            backend: db.backend(),
            db,
            now,
            url,
            _dir: dir,
            pg_drop,
        }
    }

    /// Runs store/app code directly against the test database.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut mutualise::store::DbConn) -> mutualise::error::AppResult<T> + Send + 'static,
    ) -> T {
        self.db.run(f).await.expect("database work")
    }

    /// Runs one SQL statement behind the service's back (what an administrator's script does).
    pub async fn execute_sql(&self, sql: String) {
        self.with_conn(move |c| {
            mutualise::db_run!(c => diesel::sql_query(sql).execute(c))?;
            Ok(())
        })
        .await;
    }

    /// Creates a user with pole roles and memberships; returns (user id, bearer token).
    pub async fn user(
        &self,
        email: &str,
        roles: &[&str],
        memberships: &[(i64, &str)],
    ) -> (i64, String) {
        let input = UserInput {
            email: email.into(),
            name: email.split('@').next().unwrap_or("x").into(),
            password: Some(PASSWORD.into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            memberships: memberships
                .iter()
                .map(|(m, r)| MembershipInput {
                    member_id: MemberId(*m),
                    role: r.to_string(),
                })
                .collect(),
            active: true,
        };
        let now = self.now;
        self.with_conn(move |c| {
            let draft = input
                .validate(true)
                .map_err(mutualise::error::AppError::Validation)?;
            let user = mutualise::app::users::create_unchecked(c, &draft, password_hash(), now)?;
            let token = auth::issue_token(c, user.user.id, "tests", now)?;
            Ok((user.user.id.0, token.token))
        })
        .await
    }

    pub async fn admin(&self) -> String {
        self.user("admin@pole.test", &["admin"], &[]).await.1
    }

    pub async fn member(&self, token: &str, name: &str) -> i64 {
        let (status, body) = self
            .call(
                Method::POST,
                token,
                "/api/v1/members",
                Some(json!({"name": name, "legal_form": "association"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    }

    /// Cancels one booking (no scope: that occurrence alone); returns the status and the body.
    pub async fn cancel(&self, token: &str, booking: i64) -> (StatusCode, Value) {
        self.post(
            token,
            &format!("/api/v1/bookings/{booking}/cancel"),
            json!({}),
        )
        .await
    }

    pub async fn resource(&self, token: &str, body: Value) -> i64 {
        let (status, body) = self
            .call(Method::POST, token, "/api/v1/resources", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("id")
    }

    /// One JSON API call; returns the status and the parsed body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = res.text().await.expect("body");
        if status.is_client_error() || status.is_server_error() {
            assert!(
                ctype.starts_with("application/problem+json"),
                "error {status} without problem+json: {ctype} {text}"
            );
        }
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, token, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, token, path, Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, token, path, Some(body)).await
    }

    /// Writes a booking directly, bypassing the rules: for states the API cannot create, such
    /// as a booking that has already begun. Times are UTC, "YYYY-MM-DD HH:MM".
    pub async fn insert_booking(
        &self,
        resource_id: i64,
        member_id: i64,
        start: &str,
        end: &str,
        status: BookingStatus,
    ) -> i64 {
        let t =
            |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("UTC time");
        let (start, end) = (t(start), t(end));
        let created = t("2027-01-01 10:00");
        self.with_conn(move |c| {
            use mutualise::store::bookings::*;
            Ok(insert(
                c,
                &NewBooking {
                    resource_id: ResourceId(resource_id),
                    member_id: MemberId(member_id),
                    created_by: None,
                    series_id: None,
                    start_at: start,
                    end_at: end,
                    block_start_at: start,
                    block_end_at: end,
                    quantity: 1,
                    exclusive: true,
                    status,
                    purpose: "",
                    beneficiary: None,
                    created_at: created,
                    updated_at: created,
                    activity: mutualise::domain::labour::Activity::Work,
                },
            )?
            .id
            .0)
        })
        .await
    }

    /// Number of rows in a table, to check that refused requests wrote nothing.
    pub async fn count(&self, table: &'static str) -> i64 {
        self.with_conn(move |c| {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let q = format!("SELECT COUNT(*) AS n FROM {table}");
            let n: N = mutualise::db_run!(c => diesel::sql_query(q.clone()).get_result(c))?;
            Ok(n.n)
        })
        .await
    }
}

/// A test moves its `TestApp` into its body; a struct without `Drop` could be captured field
/// by field there, and the fields it does not use (the scratch database among them) dropped
/// before the body runs. With `Drop`, the app goes as a whole, once the body is done.
impl Drop for TestApp {
    fn drop(&mut self) {}
}

/// A small pole: an administrator, two members and a booker of the first.
pub struct Pole {
    pub admin: String,
    pub booker: String,
    pub member: i64,
    pub other: i64,
}

pub async fn pole(app: &TestApp) -> Pole {
    let admin = app.admin().await;
    let member = app.member(&admin, "Les Jardins").await;
    let other = app.member(&admin, "Coop'Atelier").await;
    let (_, booker) = app
        .user("booker@jardins.test", &[], &[(member, "booker")])
        .await;
    Pole {
        admin,
        booker,
        member,
        other,
    }
}

/// A booking request's body.
/// Opening hours from Monday to Friday, `open`–`close` each day ("08:00", "20:00").
pub fn weekdays(open: &str, close: &str) -> Value {
    Value::Array(
        (1..=5)
            .map(|d| json!({"weekday": d, "open": open, "close": close}))
            .collect(),
    )
}

pub fn book(resource: i64, member: i64, start: &str, end: &str) -> Value {
    json!({"resource_id": resource, "member_id": member, "start": start, "end": end})
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// argon2id is deliberately slow: fixtures share one hash of `PASSWORD`.
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(PASSWORD).expect("hash"))
}

/// The CSRF token of a page's first form.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = page.find(marker).expect("csrf field") + marker.len();
    page[start..start + 64].to_string()
}

/// A browser without JavaScript: cookies kept, redirects not followed.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            base: app.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let loc = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let status = res.status();
        (status, res.text().await.unwrap(), loc)
    }

    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let loc = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let status = res.status();
        (status, res.text().await.unwrap(), loc)
    }

    /// A browser signed in through the login form (every fixture user has `PASSWORD`).
    pub async fn sign_in(app: &TestApp, email: &str) -> Browser {
        let web = Browser::new(app);
        let (_, page, _) = web.get("/login").await;
        let csrf = csrf_of(&page);
        let (s, _, _) = web
            .post(
                "/login",
                &[
                    ("_csrf", &csrf),
                    ("email", email),
                    ("password", PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "sign-in of {email}");
        web
    }
}
