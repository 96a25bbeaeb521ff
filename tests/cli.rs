//! The `mutualise` command as scripts use it: migrate, user add, demo, --help.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn mutualise(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mutualise"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mutualise");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scripted_setup(db: &str) {
    let o = mutualise(db, &["migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = mutualise(
        db,
        &[
            "user",
            "add",
            "--email",
            "Admin@Pole.test",
            "--name",
            "Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("un mot de passe long\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("admin@pole.test"));
    let o = mutualise(
        db,
        &[
            "user",
            "add",
            "--email",
            "b@pole.test",
            "--name",
            "B",
            "--role",
            "booker",
            "--password-stdin",
        ],
        Some("un mot de passe long"),
    );
    assert!(
        !o.status.success() && text(&o).contains("--member"),
        "{}",
        text(&o)
    );
    let o = mutualise(
        db,
        &[
            "user",
            "add",
            "--email",
            "c@pole.test",
            "--name",
            "C",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("court"),
    );
    assert!(
        !o.status.success() && text(&o).contains("10 caractères"),
        "{}",
        text(&o)
    );
    let o = mutualise(
        db,
        &[
            "user",
            "add",
            "--email",
            "d@pole.test",
            "--name",
            "D",
            "--role",
            "emperor",
            "--password-stdin",
        ],
        Some("un mot de passe long"),
    );
    assert!(!o.status.success());
    // demo refuses a database that already holds data.
    let o = mutualise(db, &["demo"], None);
    assert!(
        !o.status.success() && text(&o).contains("vide"),
        "{}",
        text(&o)
    );
}

fn demo(db: &str) {
    let o = mutualise(db, &["demo"], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    // 20 bookings of rooms, vehicles and equipment, and the employer group's fortnight (a
    // public holiday removes the apprentice's day, so its size depends on the date).
    let bookings: usize = out
        .split(" réservations")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(
        out.contains("12 structures") && out.contains("16 ressources") && bookings >= 80,
        "{out}"
    );
    assert!(out.contains("ge_manager — GE Val Partage"), "{out}");
    for role in [
        "admin",
        "resource_manager",
        "ge_manager",
        "treasurer",
        "member_admin",
        "booker",
    ] {
        assert!(out.contains(role), "{role} account missing: {out}");
    }
    assert!(out.contains(mutualise::app::demo::DEMO_PASSWORD));
    // The demo closed the two months before this one: their chain verifies, and the last
    // one's statements hold every source but staff.
    let o = mutualise(db, &["verify-statements"], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 mois clôturé(s), chaîne intacte"),
        "{}",
        text(&o)
    );
    let last =
        mutualise::domain::month::Month::containing(chrono::Utc::now(), chrono_tz::Europe::Paris)
            .previous();
    let o = mutualise(db, &["allocate", "--month", &last.to_string()], None);
    assert!(o.status.success(), "{}", text(&o));
    let alloc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(alloc["status"], "closed");
    let sources: Vec<&str> = alloc["members"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lines"].as_array().unwrap().iter())
        .filter_map(|l| l["source"].as_str())
        .collect();
    for s in ["tariff", "cost_share", "adjustment"] {
        assert!(sources.contains(&s), "no {s} line: {alloc}");
    }
    let o = mutualise(
        db,
        &[
            "allocate",
            "--month",
            &last.to_string(),
            "--format",
            "csv",
            "--dialect",
            "semicolon",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("\u{feff}Mois;"));
}

/// The statements of one full demo month, as `mutualise allocate` prints them, against a
/// reviewed snapshot (`UPDATE_SNAPSHOTS=1` rewrites it): the demo runs at a fixed instant,
/// so the month is the same whatever the day the tests run.
#[test]
fn golden_demo_month() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("golden.db").to_string_lossy().to_string();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(args)
            .env("DATABASE_URL", &db)
            .env("MUTUALISE_NOW", "2027-03-10T09:00:00Z")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let o = run(&["demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["allocate", "--month", "2027-02"]);
    assert!(o.status.success(), "{}", text(&o));
    // The clock is fixed: the close's instant and its hash are part of the snapshot too.
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/demo-2027-02.json"
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("snapshot (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        got == want,
        "the demo month's statements changed: review, then UPDATE_SNAPSHOTS=1\n{got}"
    );
}

#[test]
fn sqlite_scripts_and_demo() {
    let dir = tempfile::tempdir().unwrap();
    scripted_setup(&dir.path().join("a.db").to_string_lossy());
    demo(&format!(
        "sqlite://{}",
        dir.path().join("demo.db").to_string_lossy()
    ));
}

#[test]
fn postgres_scripts_and_demo() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let scripted = common::create_pg_database(&admin);
    scripted_setup(&scripted.url);
    let demoed = common::create_pg_database(&admin);
    demo(&demoed.url);
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["user", "--help"],
        &["user", "add", "--help"],
    ] {
        let o = mutualise("unused.db", args, None);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("Usage"), "{args:?}");
    }
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mutualise"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", dir.path().join("s.db"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "server did not start");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status.success(), "{log}");
    assert!(log.contains("arrêt propre"), "{log}");
}

/// Runs `mutualise args` with `envs` and kills it past `bound`: a hang guard, never a timing
/// assertion.
fn mutualise_bounded(
    args: &[&str],
    envs: &[(&str, &str)],
    bound: std::time::Duration,
) -> (std::process::ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mutualise"))
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mutualise");
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "mutualise {args:?} still running after {bound:?}: {}",
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    (status, stdout.join().unwrap(), stderr.join().unwrap())
}

/// A server child, killed when the test ends however it ends; its output (the log is written
/// to stdout) goes to a file.
struct Server {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Server {
    /// Starts `mutualise args` with `MUTUALISE_BIND` on a free port and waits for `/healthz`.
    fn start(args: &[&str], db: &std::path::Path, log: std::path::PathBuf) -> Server {
        Self::start_with(args, db, log, &[])
    }

    /// `start` with more environment variables.
    fn start_with(
        args: &[&str],
        db: &std::path::Path,
        log: std::path::PathBuf,
        env: &[(&str, &str)],
    ) -> Server {
        let port = common::free_port();
        let out = std::fs::File::create(&log).unwrap();
        let mut server = Server {
            child: Command::new(env!("CARGO_BIN_EXE_mutualise"))
                .args(args)
                .env("MUTUALISE_BIND", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", db)
                .env("RUST_LOG", "info")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("run mutualise"),
            port,
            log,
        };
        server.wait_healthy();
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_healthy(&mut self) {
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server exited ({status}): {}", self.log());
            }
            if healthz(self.port) == Some(200) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "no 200 on 127.0.0.1:{}/healthz within 30 s: {}",
            self.port,
            self.log()
        );
    }

    fn terminate(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    /// SIGTERM, then the whole log once the process has exited.
    fn stop(mut self) -> String {
        self.terminate();
        let started = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "no exit after SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.log()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status code of `GET /healthz`, read from a bare HTTP/1.1 exchange.
fn healthz(port: u16) -> Option<u16> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

fn error_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("ERROR") || l.contains("database is locked"))
        .collect()
}

#[test]
fn no_subcommand_serves_like_serve_on_mutualise_bind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[], &dir.path().join("d.db"), dir.path().join("log"));
    let log = server.stop();
    assert!(log.contains("arrêt propre"), "{log}");
}

/// The names `migrate` must report on a fresh database: the migration folders, in order.
fn migration_names(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    names
}

fn migrate_reports_what_it_applied(db: &str, backend: &str) {
    let names = migration_names(backend);
    let o = mutualise(db, &["migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{} migration(s) appliquée(s)", names.len())),
        "{out}"
    );
    let listed: Vec<&str> = out.lines().skip(1).map(str::trim).collect();
    assert_eq!(listed, names, "{out}");
    let o = mutualise(db, &["migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.trim(),
        "Base à jour (0 migration(s) appliquée(s) en plus).",
        "{out}"
    );
}

#[test]
fn sqlite_migrate_reports_what_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    migrate_reports_what_it_applied(&dir.path().join("m.db").to_string_lossy(), "sqlite");
}

#[test]
fn postgres_migrate_reports_what_it_applied() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let database = common::create_pg_database(&admin);
    migrate_reports_what_it_applied(&database.url, "postgres");
}

/// Several connections used to switch a new file to WAL at once, before their busy timeout
/// was set: "ERROR r2d2: database is locked" on most starts. Repeated to expose the race.
#[test]
fn fresh_sqlite_starts_log_no_error() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..5 {
        let db = dir.path().join(format!("m{i}.db"));
        let db = db.to_string_lossy();
        let (status, stdout, stderr) = mutualise_bounded(
            &["migrate"],
            &[("DATABASE_URL", &db), ("RUST_LOG", "info")],
            std::time::Duration::from_secs(30),
        );
        let log = format!("{stdout}{stderr}");
        assert!(status.success(), "{log}");
        assert!(error_lines(&log).is_empty(), "migrate #{i}: {log}");
    }
    for i in 0..3 {
        let server = Server::start(
            &["serve"],
            &dir.path().join(format!("s{i}.db")),
            dir.path().join(format!("s{i}.log")),
        );
        let log = server.stop();
        assert!(error_lines(&log).is_empty(), "serve #{i}: {log}");
    }
}

/// A database that cannot be reached fails at once, in one line on stderr naming the server
/// and the cause, never the password, and nothing else on either output (the pool's retries
/// were logged to stdout); `url` holds the password `secret`.
fn fails_in_one_line(args: &[&str], url: &str, host: &str) {
    let (status, stdout, stderr) = mutualise_bounded(
        args,
        &[("DATABASE_URL", url), ("RUST_LOG", "warn")],
        std::time::Duration::from_secs(20),
    );
    let all = format!("{stdout}{stderr}");
    assert!(!status.success(), "{args:?} {url}: {all}");
    assert!(stdout.trim().is_empty(), "{args:?} {url}: {all}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?} {url}: {all}");
    assert!(lines[0].contains("PostgreSQL"), "{all}");
    assert!(lines[0].contains(host), "{all}");
    assert!(!all.contains("secret"), "{all}");
}

#[test]
fn unreachable_postgres_fails_at_once_in_one_line() {
    for args in [&["migrate"][..], &["serve"], &["demo"]] {
        // Nothing listens on port 1.
        fails_in_one_line(args, "postgres://u:secret@127.0.0.1:1/x", "127.0.0.1:1");
        fails_in_one_line(
            args,
            "postgres://u:secret@nohost.invalid/x",
            "nohost.invalid",
        );
    }
    // A server that accepts the connection and never answers: bounded by connect_timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    fails_in_one_line(
        &["migrate"],
        &format!("postgres://u:secret@127.0.0.1:{port}/x"),
        &format!("127.0.0.1:{port}"),
    );
}

#[test]
fn postgres_wrong_password_fails_in_one_line() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let (scheme, rest) = admin.split_once("://").expect("URL with a scheme");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, _) = rest.split_at(end);
    let (userinfo, server) = authority
        .rsplit_once('@')
        .unwrap_or(("postgres", authority));
    let user = userinfo.split(':').next().unwrap_or("postgres");
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
    let url = format!("{scheme}://{user}:secret-but-wrong@{server}/mutualise_wrong_password");
    for args in [&["migrate"][..], &["serve"]] {
        fails_in_one_line(args, &url, host);
    }
}

/// Sends `request` on a new connection and reads until the server closes it (a hang guard of
/// 20 s, never a timing assertion): what the server answered, possibly nothing.
fn exchange(stream: &mut std::net::TcpStream, request: &[u8]) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server kept the connection open: {e}"),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn connect(port: u16) -> std::net::TcpStream {
    std::net::TcpStream::connect(("127.0.0.1", port)).unwrap()
}

#[test]
fn slow_and_idle_clients_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &[],
        &dir.path().join("t.db"),
        dir.path().join("log"),
        &[
            ("MUTUALISE_HEADER_TIMEOUT_SECONDS", "1"),
            ("MUTUALISE_REQUEST_TIMEOUT_SECONDS", "1"),
        ],
    );
    // Half a header: the connection is closed, nothing is answered.
    let answer = exchange(
        &mut connect(server.port),
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    // A kept-alive connection answered once, then left idle, is closed.
    let answer = exchange(
        &mut connect(server.port),
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A body that never arrives whole: 408 in problem+json once the request deadline passes.
    let answer = exchange(
        &mut connect(server.port),
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    // The server still serves.
    assert_eq!(healthz(server.port), Some(200));
    drop(server);
}

#[test]
fn connections_beyond_the_limit_get_a_503_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &[],
        &dir.path().join("t.db"),
        dir.path().join("log"),
        &[
            ("MUTUALISE_MAX_CONNECTIONS", "3"),
            ("MUTUALISE_HEADER_TIMEOUT_SECONDS", "600"),
        ],
    );
    // Three idle connections take every slot (each answered once, so surely accepted). A
    // connection closed just before (the start-up health checks) may hold its slot a moment
    // longer: a 503 then is retried.
    let started = std::time::Instant::now();
    let mut idle: Vec<std::net::TcpStream> = Vec::new();
    while idle.len() < 3 {
        use std::io::Read;
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let mut s = connect(server.port);
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap_or(0);
        if buf[..n].starts_with(b"HTTP/1.1 200") {
            idle.push(s);
        } else {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let answer = exchange(
        &mut connect(server.port),
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    assert!(answer.contains("trop de connexions"), "{answer}");
    // One closes: its slot comes back.
    drop(idle.pop());
    let started = std::time::Instant::now();
    while healthz(server.port) != Some(200) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the closed connection's slot never came back"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = server.stop();
    assert!(log.contains("connection limit reached"), "{log}");
}

#[test]
fn shutdown_finishes_requests_in_flight_and_cuts_slow_clients_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        &[],
        &dir.path().join("t.db"),
        dir.path().join("log"),
        &[
            ("MUTUALISE_HEADER_TIMEOUT_SECONDS", "600"),
            ("MUTUALISE_SHUTDOWN_GRACE_SECONDS", "3"),
        ],
    );
    // A client stuck in the middle of its header, which would keep the process alive forever.
    let mut stuck = connect(server.port);
    stuck
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // A request in flight: headers and half of its body sent before the signal.
    let body = br#"{"email":"personne@pole.test","password":"mauvais mot de passe"}"#;
    let mut in_flight = connect(server.port);
    in_flight
        .write_all(
            format!(
                "POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    in_flight.write_all(&body[..10]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The request in flight is finished and answered after the signal…
    let answer = exchange(&mut in_flight, &body[10..]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // …new connections are no longer accepted…
    assert_eq!(healthz(server.port), None);
    // …and the stuck client does not keep the process alive past the deadline.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "still running long after the shutdown deadline"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let log = server.log();
    assert!(status.success(), "{log}");
    assert!(log.contains("shutdown deadline passed"), "{log}");
    assert!(log.contains("arrêt propre"), "{log}");
    // The stuck client's connection was closed with the process: nothing more to read.
    assert_eq!(exchange(&mut stuck, b""), "");
}
