//! The OpenAPI document's shared parts: the problem+json error body, the bearer scheme, and the
//! error answers every operation shares (given once as reusable responses, attached to each
//! operation by what it takes: a token, a JSON body, path or query parameters).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder, Schema, Type};
use utoipa::Modify;

/// Shape of every error body (RFC 9457 problem details), as `web::problem` writes it.
/// Members other than the five first are present only with the codes that carry them.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://mutualise.coop/problems/{code}`.
    #[schema(format = "uri")]
    pub r#type: String,
    /// A short French title of the kind of error.
    pub title: String,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong, in French, for the user.
    pub detail: String,
    /// Machine-readable reason: `validation`, `invalid_query`, `bad_request`, `unauthorized`,
    /// `forbidden`, `not_found`, `payload_too_large`, `unsupported_media_type`,
    /// `too_many_requests`, `unavailable`, a conflict's code (`already_exists`, `month_closed`,
    /// …) or, for a refused booking, its first rule's code (`conflict`, `in_past`, …).
    pub code: String,
    /// Per-field messages: codes `validation` and `invalid_query`, and a refused booking whose
    /// fields are wrong.
    #[schema(nullable = false)]
    pub errors: Option<Vec<crate::domain::validation::FieldError>>,
    /// Code `too_many_requests`: seconds to wait, as in the `Retry-After` header.
    #[schema(nullable = false, minimum = 1)]
    pub retry_after: Option<u64>,
    /// A refused booking: every broken rule, with its figures when it has some.
    #[schema(nullable = false)]
    pub violations: Option<Vec<crate::domain::violation::Violation>>,
    /// A refused booking: who holds the slot (empty when nobody does).
    #[schema(nullable = false)]
    pub conflicts: Option<Vec<crate::domain::refusal::Conflict>>,
    /// A refused booking: nearest free slots, and other resources free at that time.
    #[schema(nullable = false)]
    pub suggestions: Option<Vec<crate::domain::refusal::Suggestion>>,
    /// A refused series: every occurrence that could not be booked, with its reasons.
    #[schema(nullable = false)]
    pub occurrences: Option<Vec<crate::domain::refusal::RefusedOccurrence>>,
}

/// A JSON merge patch (RFC 7396): the fields to change, each with its new value; fields left
/// out keep theirs, and `null` clears an optional one. The fields are those of the object's
/// input schema (`MemberInput`, `ResourceInput`, `UserInput`, `EmployeeInput`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MergePatch(std::collections::BTreeMap<String, serde_json::Value>);

/// A CSV dialect: `comma` (the default: UTF-8, `,`, decimal point) or `semicolon` (French
/// spreadsheets: BOM, `;`, decimal comma).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum CsvDialect {
    Comma,
    Semicolon,
}

/// Which messages of the outbox: all (the default), or those in one state.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum OutboxFilter {
    All,
    Pending,
    Sent,
    Dead,
}

/// The bearer scheme of API tokens (`POST /api/v1/auth/token`).
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Jeton obtenu par POST /api/v1/auth/token."))
                    .build(),
            ),
        );
    }
}

/// The error answers shared by operations, each a reusable response: (status, component name,
/// description). Which operation gets which is decided in [`ErrorResponses::attach`].
const SHARED: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "bad_request: unreadable JSON or header; invalid_query: a query parameter cannot be read",
    ),
    (
        "401",
        "Unauthorized",
        "unauthorized: bearer token missing, unknown, expired or revoked",
    ),
    (
        "403",
        "Forbidden",
        "forbidden: the caller's roles do not allow it",
    ),
    (
        "404",
        "NotFound",
        "not_found: no such object, or not visible to the caller",
    ),
    (
        "413",
        "PayloadTooLarge",
        "payload_too_large: the body is over 2 MB",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "unsupported_media_type: the body is not sent as application/json",
    ),
    (
        "422",
        "UnprocessableContent",
        "validation: a field is missing, of the wrong type or out of range (`errors` names each)",
    ),
    (
        "503",
        "ServiceUnavailable",
        "unavailable: the database is out of reach; retry after `Retry-After` seconds",
    ),
];

/// Every error answer is `application/problem+json` with a [`Problem`] body: the annotations
/// name each operation's own statuses (403, 409 and their codes), this adds the shared ones and
/// gives every error its body, so no annotation repeats them.
pub struct ErrorResponses;

pub const PROBLEM_JSON: &str = "application/problem+json";

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

fn seconds_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some(description))
        .build()
}

fn shared_response(status: &str, description: &str) -> Response {
    let mut r = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content());
    match status {
        "401" => {
            r = r.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("Bearer"))
                    .build(),
            )
        }
        "503" => r = r.header("Retry-After", seconds_header("Seconds to wait.")),
        _ => {}
    }
    r.build()
}

impl ErrorResponses {
    /// Attaches the shared error answers an operation can give, from what it takes.
    fn attach(op: &mut Operation, secured: bool, writes: bool) {
        let params = op.parameters.iter().flatten();
        let (mut in_path, mut in_query) = (false, false);
        for p in params {
            match p.parameter_in {
                ParameterIn::Path => in_path = true,
                ParameterIn::Query => in_query = true,
                _ => {}
            }
        }
        let json_body = op
            .request_body
            .as_ref()
            .is_some_and(|b| b.content.contains_key("application/json"));
        let body_required = op
            .request_body
            .as_ref()
            .is_some_and(|b| matches!(b.required, Some(Required::True)));
        let mut wanted: Vec<&str> = vec!["503"];
        if secured {
            wanted.push("401");
        }
        if json_body || in_query || op_has_header(op) {
            wanted.push("400");
        }
        if json_body {
            wanted.extend(["413", "422"]);
            if body_required {
                wanted.push("415");
            }
        }
        if in_path {
            wanted.push("404");
        }
        // Changes are checked against the caller's roles; reads are filtered instead, and
        // those that can refuse say so in their annotation.
        let own_only = op
            .operation_id
            .as_deref()
            .is_some_and(|id| OWN_ONLY.contains(&id));
        if secured && writes && !own_only {
            wanted.push("403");
        }
        for (status, name, _) in SHARED {
            if wanted.contains(status) && !op.responses.responses.contains_key(*status) {
                op.responses.responses.insert(
                    status.to_string(),
                    RefOr::Ref(Ref::from_response_name(*name)),
                );
            }
        }
        // The operation's own error statuses: their body is a problem too.
        for (status, response) in op.responses.responses.iter_mut() {
            if status.as_str() < "400" {
                continue;
            }
            if let RefOr::T(r) = response {
                if r.description.is_empty() {
                    r.description = SHARED
                        .iter()
                        .find(|(s, _, _)| s == status)
                        .map(|(_, _, d)| d.to_string())
                        .unwrap_or_else(|| match status.as_str() {
                            "409" => "the state of the pole refuses it (`code` says why)".into(),
                            _ => String::new(),
                        });
                }
                let schema = r
                    .content
                    .shift_remove("application/json")
                    .and_then(|c| c.schema);
                let schema = schema.unwrap_or_else(|| Ref::from_schema_name("Problem").into());
                r.content.insert(
                    PROBLEM_JSON.to_string(),
                    Content::new(Some::<RefOr<Schema>>(schema)),
                );
                if status == "429" {
                    r.headers.insert(
                        "Retry-After".into(),
                        seconds_header("Seconds before another attempt may succeed."),
                    );
                }
            }
        }
    }
}

/// Changes every signed-in user may make to what is theirs (a token, preferences, a feed).
const OWN_ONLY: &[&str] = &["revoke_token", "put_preferences", "delete_feed"];

fn op_has_header(op: &Operation) -> bool {
    op.parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Header)
}

/// Whether an operation needs the token: it does unless it says `security(())` (anyone).
fn is_secured(op: &Operation, default_secured: bool) -> bool {
    match &op.security {
        None => default_secured,
        Some(reqs) => reqs.iter().all(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_object().map(|o| !o.is_empty()))
                .unwrap_or(true)
        }),
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let default_secured = openapi.security.as_ref().is_some_and(|s| !s.is_empty());
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in SHARED {
            components.responses.insert(
                name.to_string(),
                shared_response(status, description).into(),
            );
        }
        for item in openapi.paths.paths.values_mut() {
            for (op, writes) in [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ] {
                if let Some(op) = op {
                    let secured = is_secured(op, default_secured);
                    ErrorResponses::attach(op, secured, writes);
                }
            }
        }
    }
}
