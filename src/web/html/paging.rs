//! Numbered pages of a listing: « 1–50 sur 238 » and « Précédent / Suivant » links that keep
//! the listing's filters.

use maud::{html, Markup};

use crate::domain::validation::FieldErrors;

/// Rows per page of the pages' listings.
pub const PAGE_SIZE: i64 = 50;

/// The page number of `?page=` (1 when absent); an error beside the field otherwise.
pub fn page_number(raw: Option<&str>, errors: &mut FieldErrors) -> i64 {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => n,
            _ => {
                errors.add("page", "Numéro de page attendu, à partir de 1.");
                1
            }
        },
    }
}

/// `path?filters&extra` with the filters in their order (empty values kept: an empty date
/// means « no bound », unlike an absent one).
pub fn link(path: &str, filters: &[(&'static str, String)], extra: &[(&str, String)]) -> String {
    let mut params: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    params.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
    if params.is_empty() {
        return path.to_string();
    }
    format!(
        "{path}?{}",
        serde_html_form::to_string(&params).unwrap_or_default()
    )
}

/// Where the rows of a page stand among all: « 51–100 sur 238 » and the links around.
pub fn pager(
    path: &str,
    filters: &[(&'static str, String)],
    page: i64,
    shown: usize,
    total: i64,
) -> Markup {
    let first = (page - 1) * PAGE_SIZE + 1;
    let last = first + shown as i64 - 1;
    let has_prev = page > 1;
    let has_next = page * PAGE_SIZE < total;
    let to = |p: i64| link(path, filters, &[("page", p.to_string())]);
    html! {
        nav.pager aria-label="Pages" {
            p.range {
                @if shown == 0 { "0 sur " (total) } @else { (first) "–" (last) " sur " (total) }
            }
            @if has_prev || has_next {
                ul {
                    @if has_prev { li { a rel="prev" href=(to(page - 1)) { "← Précédent" } } }
                    @if has_next { li { a rel="next" href=(to(page + 1)) { "Suivant →" } } }
                }
            }
        }
    }
}
