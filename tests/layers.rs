//! The layers of DESIGN.md §3 stay honest: `domain` names no I/O crate, `app` speaks no HTTP
//! and builds no wire JSON, `web` never reaches into `store`, `export` only renders views,
//! and the two front doors of `web` do not lean on each other. Read from the source, so a shortcut fails the build's
//! tests rather than a review.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Lines of code under `dir` of the crate (a folder or a file) that contain one of `needles`.
fn offending(dir: &str, needles: &[&str]) -> Vec<String> {
    offending_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), needles)
}

/// Lines of code under `root` (comments and doc comments left out) that contain one of
/// `needles`, as "path:line: text".
fn offending_in(root: &Path, needles: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for file in rust_files(root) {
        let text = fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let code = code.split(" // ").next().unwrap_or(code);
            if needles.iter().any(|n| code.contains(n)) {
                out.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn domain_does_no_io() {
    let hits = offending(
        "src/domain",
        &[
            "diesel::",
            "axum::",
            "tokio::",
            "reqwest::",
            "lettre::",
            "std::fs",
            "std::net",
        ],
    );
    assert!(
        hits.is_empty(),
        "domain must stay pure:\n{}",
        hits.join("\n")
    );
}

#[test]
fn app_speaks_no_http() {
    let hits = offending(
        "src/app",
        &["axum::", "json!(", "StatusCode", "maud::", "crate::web"],
    );
    assert!(hits.is_empty(), "app speaks no HTTP:\n{}", hits.join("\n"));
}

#[test]
fn web_calls_app_never_store() {
    let hits = offending(
        "src/web",
        &["crate::store", "store::", "diesel::", "db_run!"],
    );
    assert!(hits.is_empty(), "web calls app only:\n{}", hits.join("\n"));
}

#[test]
fn front_doors_do_not_lean_on_each_other() {
    let hits = offending("src/web/html", &["web::api", "super::api"]);
    assert!(
        hits.is_empty(),
        "pages use app, not the API's handlers:\n{}",
        hits.join("\n")
    );
    let hits = offending("src/web/api", &["web::html", "super::html"]);
    assert!(
        hits.is_empty(),
        "the API uses app, not the pages:\n{}",
        hits.join("\n")
    );
    let hits = offending("src/web/extract.rs", &["html::"]);
    assert!(
        hits.is_empty(),
        "extractors render nothing of the pages:\n{}",
        hits.join("\n")
    );
}

#[test]
fn store_decides_no_policy() {
    // Authorisation and HTTP are the app's and the web's.
    let hits = offending(
        "src/store",
        &["authz::", "axum::", "Actor", "crate::app", "crate::web"],
    );
    assert!(hits.is_empty(), "store only stores:\n{}", hits.join("\n"));
}

#[test]
fn exports_render_views_and_read_nothing() {
    let hits = offending(
        "src/export",
        &[
            "crate::store",
            "crate::web",
            "diesel::",
            "axum::",
            "db_run!",
        ],
    );
    assert!(
        hits.is_empty(),
        "exports turn app views into files:\n{}",
        hits.join("\n")
    );
}

#[test]
fn mail_and_calendars_render_and_read_nothing() {
    for dir in ["src/mail", "src/ical"] {
        let hits = offending(
            dir,
            &[
                "crate::store",
                "crate::web",
                "diesel::",
                "axum::",
                "db_run!",
            ],
        );
        assert!(
            hits.is_empty(),
            "{dir} turns notices and events into messages, it reads nothing:\n{}",
            hits.join("\n")
        );
    }
    // The use cases queue facts; they never write the text of a message.
    let hits = offending("src/app", &["crate::mail", "crate::ical", "lettre::"]);
    assert!(hits.is_empty(), "app queues notices:\n{}", hits.join("\n"));
}

/// The checker itself: it finds what it must and skips comments.
#[test]
fn the_checker_sees_code_not_comments() {
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(
        dir.join("sub/x.rs"),
        "// crate::store in a comment\nuse crate::store::Db; // trailing\n/// doc crate::store\nlet x = 1; // crate::store\n",
    )
    .unwrap();
    let hits = offending_in(&dir, &["crate::store"]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(
        hits[0].ends_with(":2: use crate::store::Db; // trailing"),
        "{hits:?}"
    );
    fs::remove_dir_all(&dir).unwrap();
}
