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
    assert!(
        out.contains("12 structures")
            && out.contains("14 ressources")
            && out.contains("20 réservations"),
        "{out}"
    );
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
    let (url, _) = common::create_pg_database(&admin);
    scripted_setup(&url);
    let (url, _) = common::create_pg_database(&admin);
    demo(&url);
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
        let port = free_port();
        let out = std::fs::File::create(&log).unwrap();
        let mut server = Server {
            child: Command::new(env!("CARGO_BIN_EXE_mutualise"))
                .args(args)
                .env("MUTUALISE_BIND", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", db)
                .env("RUST_LOG", "info")
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

    /// SIGTERM, then the whole log once the process has exited.
    fn stop(mut self) -> String {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
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

#[test]
fn no_subcommand_serves_like_serve_on_mutualise_bind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[], &dir.path().join("d.db"), dir.path().join("log"));
    let log = server.stop();
    assert!(log.contains("arrêt propre"), "{log}");
}
