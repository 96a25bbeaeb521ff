//! The real peers of the mail and calendar tests: an SMTP server (Python's aiosmtpd, in
//! `tests/support/smtp_sink.py`) and an independent iCalendar parser (Python's `icalendar`).
//! Both are installed by `.ci/run`; a missing one fails the test, it is never skipped.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn support(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(file)
}

/// An SMTP server on a loopback port, writing what it receives to a file.
pub struct SmtpSink {
    pub port: u16,
    out: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    /// A sink on a free port, not started yet.
    pub fn new() -> SmtpSink {
        let dir = tempfile::tempdir().expect("tempdir");
        SmtpSink {
            port: super::free_port(),
            out: dir.path().join("mails.jsonl"),
            child: None,
            _dir: dir,
        }
    }

    pub fn started() -> SmtpSink {
        let mut s = SmtpSink::new();
        s.start();
        s
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "sink already running");
        let mut child = Command::new("python3")
            .arg(support("smtp_sink.py"))
            .arg(self.port.to_string())
            .arg(&self.out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (install tests/support/requirements.txt)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read sink output");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (pip install -r tests/support/requirements.txt)"
        );
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.out) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("sink record"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Waits until at least `n` messages arrived (at most `secs` seconds), then returns them.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Parses an iCalendar text with Python's `icalendar`: `{method, name, events: [...]}`.
pub fn parse_ics(text: &str) -> Value {
    let mut child = Command::new("python3")
        .arg(support("parse_ics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write ics");
    let out = child.wait_with_output().expect("parse_ics");
    assert!(
        out.status.success(),
        "icalendar refused the document: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("parser output")
}

/// Every physical line of an iCalendar text is at most 75 octets and ends with CRLF.
pub fn assert_folded(text: &str) {
    assert!(text.ends_with("\r\n"), "no final CRLF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line:?}", line.len());
        assert!(!line.contains('\n'), "bare LF in {line:?}");
    }
}
