//! Files served for download (CSV exports), for the pages and the API alike.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::export::{Dialect, Table};

/// The dialect a page's `format` parameter asks for: `semicolon` (with a BOM, for French
/// spreadsheets) unless it says `comma`; the error names the allowed values.
pub fn dialect(format: Option<&str>) -> Result<Dialect, String> {
    format.unwrap_or("semicolon").parse()
}

/// A table as a CSV attachment named `stem.csv`.
pub fn csv(table: &Table, dialect: Dialect, stem: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.csv\""),
            ),
        ],
        table.to_csv(dialect),
    )
        .into_response()
}
