//! The month's cost entries: the list, the form of an entry (its scope, recurrence and
//! split key, a blend of two keys or per-member weights) and the comparison of its key with
//! another before saving ("what if"), which records nothing.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    again, alert_box, choose, current_month, errors_as_alert, filled, notice_of, number_text,
    parse_month, path_month, prev_next, required, respond,
};
use crate::app::allocation::{self, CostInput, CostView, MonthStatus, WhatIf};
use crate::app::members::{self, MemberView};
use crate::app::resources::{self, ResourceView};
use crate::domain::allocation::{Among, BlendPart, KeySpec, Method};
use crate::domain::ids::{CostId, MemberId, ResourceId};
use crate::domain::money::{format_amount, format_euros, parse_euros};
use crate::domain::month::{label_fr, Month};
use crate::domain::validation::{required_text, FieldErrors};
use crate::error::AppError;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::html::{
    account, action_button, checkbox, checked, csrf_field, error_page, error_summary, field,
    field_for, or_page, see_other, select, with_checks, Ctx, NoticeQuery,
};
use crate::web::AppState;

/// The keys a blend's part, or the comparison, may use (`equal_users`: equal parts among the
/// members that used the entry's resources).
const SUB_KEYS: [(&str, &str); 7] = [
    ("usage_hours", "Heures d'utilisation"),
    ("equal", "Parts égales entre les membres actifs"),
    ("equal_users", "Parts égales entre les membres utilisateurs"),
    ("headcount", "Effectif (ETP)"),
    ("turnover", "Chiffre d'affaires"),
    ("surface", "Surface (m²)"),
    ("percentages", "Pourcentages fixes (saisis par structure)"),
];

fn sub_code(spec: &KeySpec) -> String {
    match (spec.method, spec.among) {
        (Method::Equal, Some(Among::Users)) => "equal_users".into(),
        (m, _) => m.as_str().into(),
    }
}

fn sub_spec(code: &str) -> Option<KeySpec> {
    if code == "equal_users" {
        return Some(KeySpec {
            among: Some(Among::Users),
            ..KeySpec::simple(Method::Equal)
        });
    }
    Method::parse(code)
        .filter(|m| !matches!(m, Method::Blend | Method::Amounts))
        .map(KeySpec::simple)
}

fn options(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect()
}

/// What the cost form posts, as typed. Per-member weights come as two parallel lists (the
/// member of each input, then its value): percentages or euros, as the key says.
#[derive(Deserialize, Default, Clone)]
pub struct CostForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    amount: String,
    /// pole, resource or pool.
    #[serde(default)]
    target: String,
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    pool: String,
    recurring: Option<String>,
    #[serde(default)]
    until: String,
    /// The method (`Method::as_str`).
    #[serde(default)]
    key: String,
    #[serde(default)]
    among: String,
    #[serde(default)]
    weight_member: Vec<String>,
    #[serde(default)]
    weight: Vec<String>,
    #[serde(default)]
    blend1: String,
    #[serde(default)]
    blend1_percent: String,
    #[serde(default)]
    blend2: String,
    #[serde(default)]
    blend2_percent: String,
    /// The key to compare with (`SUB_KEYS`).
    #[serde(default)]
    other: String,
    /// save or compare: the button pressed.
    #[serde(default)]
    action: String,
}

impl CostForm {
    fn new(month: Month) -> Self {
        CostForm {
            month: month.to_string(),
            target: "pole".into(),
            key: Method::UsageHours.as_str().into(),
            among: "active".into(),
            blend1: "surface".into(),
            blend1_percent: "50".into(),
            blend2: "usage_hours".into(),
            blend2_percent: "50".into(),
            other: "equal".into(),
            ..Default::default()
        }
    }

    fn of(c: &CostView) -> Self {
        let mut f = CostForm::new(c.month);
        f.label = c.label.clone();
        f.amount = format_amount(c.amount_cents);
        match (c.resource_id, &c.pool) {
            (Some(r), _) => {
                f.target = "resource".into();
                f.resource_id = r.to_string();
            }
            (None, Some(pool)) => {
                f.target = "pool".into();
                f.pool = pool.clone();
            }
            (None, None) => f.target = "pole".into(),
        }
        f.recurring = c.recurring.then(|| "on".into());
        f.until = c.until.map(|m| m.to_string()).unwrap_or_default();
        f.key = c.key.method.as_str().into();
        f.among = match c.key.among {
            Some(Among::Users) => "users".into(),
            _ => "active".into(),
        };
        let set_weights = |f: &mut CostForm, spec: &KeySpec, euros: bool| {
            f.weight_member = spec.weights.keys().map(|m| m.to_string()).collect();
            f.weight = spec
                .weights
                .values()
                .map(|v| {
                    if euros {
                        format_amount(*v as i64)
                    } else {
                        percent_text(*v)
                    }
                })
                .collect();
        };
        match c.key.method {
            Method::Percentages => set_weights(&mut f, &c.key, false),
            Method::Amounts => set_weights(&mut f, &c.key, true),
            Method::Blend => {
                for (i, part) in c.key.parts.iter().take(2).enumerate() {
                    let (code, pct) = (sub_code(&part.key), percent_text(part.weight_percent));
                    if i == 0 {
                        (f.blend1, f.blend1_percent) = (code, pct);
                    } else {
                        (f.blend2, f.blend2_percent) = (code, pct);
                    }
                    if part.key.method == Method::Percentages {
                        set_weights(&mut f, &part.key, false);
                    }
                }
            }
            _ => {}
        }
        if f.key == "usage_hours" {
            f.other = "equal".into();
        } else {
            f.other = "usage_hours".into();
        }
        f
    }

    /// The value typed for a member.
    fn weight_of(&self, member: MemberId) -> &str {
        let id = member.to_string();
        self.weight_member
            .iter()
            .zip(&self.weight)
            .find(|(m, _)| **m == id)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn typed_members(&self) -> Vec<MemberId> {
        self.weight_member
            .iter()
            .zip(&self.weight)
            .filter(|(_, v)| !v.trim().is_empty())
            .filter_map(|(m, _)| m.parse().ok())
            .collect()
    }

    fn parse_weights(&self, e: &mut FieldErrors, euros: bool) -> BTreeMap<MemberId, f64> {
        let mut out = BTreeMap::new();
        for (id, raw) in self.weight_member.iter().zip(&self.weight) {
            let raw = raw.trim();
            let Ok(member) = id.parse::<MemberId>() else {
                continue;
            };
            if raw.is_empty() {
                continue;
            }
            let field = format!("weights.{member}");
            let value = if euros {
                e.check(&field, parse_euros(raw, true))
                    .flatten()
                    .map(|c| c as f64)
            } else {
                e.check(&field, parse_percent(raw))
            };
            if let Some(v) = value {
                out.insert(member, v);
            }
        }
        out
    }

    fn key_spec(&self, e: &mut FieldErrors) -> KeySpec {
        let method = match Method::parse(&self.key) {
            Some(m) => m,
            None => {
                e.add("key", "Choisissez une clé de répartition.");
                Method::Equal
            }
        };
        let mut spec = KeySpec::simple(method);
        match method {
            Method::Equal if self.among == "users" => spec.among = Some(Among::Users),
            Method::Percentages => spec.weights = self.parse_weights(e, false),
            Method::Amounts => spec.weights = self.parse_weights(e, true),
            Method::Blend => {
                for (code, pct, field) in [
                    (&self.blend1, &self.blend1_percent, "blend1"),
                    (&self.blend2, &self.blend2_percent, "blend2"),
                ] {
                    let mut key = match sub_spec(code) {
                        Some(k) => k,
                        None => {
                            e.add(field, "Choisissez une clé.");
                            continue;
                        }
                    };
                    if key.method == Method::Percentages {
                        key.weights = self.parse_weights(e, false);
                    }
                    let pct_field = format!("{field}_percent");
                    if let Some(weight_percent) = e.check(&pct_field, parse_percent(pct)) {
                        spec.parts.push(BlendPart {
                            weight_percent,
                            key,
                        });
                    }
                }
            }
            _ => {}
        }
        spec
    }

    /// The entry and the key to compare it with; parse errors and the key's own checks
    /// together.
    fn to_input(&self, fallback: Month) -> Result<(CostInput, KeySpec), FieldErrors> {
        let mut e = FieldErrors::new();
        let month = e
            .check("month", parse_month(&self.month))
            .unwrap_or(fallback);
        let amount_cents = required(
            &mut e,
            "amount_cents",
            parse_euros(&self.amount, true),
            "Indiquez le montant de la dépense.",
        )
        .unwrap_or(0);
        let (resource_id, pool) = match self.target.as_str() {
            "resource" => match self.resource_id.trim().parse() {
                Ok(id) => (Some(id), None),
                Err(_) => {
                    e.add("resource_id", "Choisissez la ressource.");
                    (None, None)
                }
            },
            "pool" => {
                let pool = self.pool.trim();
                if pool.is_empty() {
                    e.add("pool", "Indiquez le groupe de ressources.");
                }
                (None, Some(pool.to_string()))
            }
            _ => (None, None),
        };
        let recurring = checked(&self.recurring);
        let until = if recurring {
            e.check("until", filled(&self.until, parse_month)).flatten()
        } else {
            None
        };
        let key = self.key_spec(&mut e);
        let other = sub_spec(&self.other)
            .filter(|k| k.method != Method::Percentages)
            .unwrap_or_else(|| KeySpec::simple(Method::Equal));
        let input = CostInput {
            month,
            label: self.label.clone(),
            amount_cents,
            resource_id,
            pool,
            recurring,
            until,
            key,
        };
        with_checks(e, (input, other), |(i, _)| {
            let mut more = FieldErrors::new();
            if self.action != "compare" {
                more.check("label", required_text(&i.label, 200));
            }
            more.check("key", i.key.to_key());
            more.into_result()
        })
    }
}

/// What a cost page shows besides the entries.
#[derive(Default)]
struct CostPage {
    form: CostForm,
    errors: FieldErrors,
    whatif: Option<WhatIf>,
    alert: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

/// What the form needs: the resources, the pools, the members that may carry a weight.
struct FormData {
    resources: Vec<ResourceView>,
    members: Vec<MemberView>,
}

impl FormData {
    async fn load(s: &AppState, p: &PageActor) -> Result<FormData, AppError> {
        Ok(FormData {
            resources: resources::list(&s.app, p.actor(), Default::default()).await?,
            members: members::list(&s.app, p.actor(), Default::default()).await?,
        })
    }

    fn pools(&self) -> Vec<String> {
        let mut pools: Vec<String> = self
            .resources
            .iter()
            .filter_map(|r| r.pool.clone())
            .collect();
        pools.sort();
        pools.dedup();
        pools
    }

    fn resource_name(&self, id: ResourceId) -> String {
        self.resources
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("ressource n° {id}"))
    }
}

fn scope_text(c: &CostView, data: &FormData) -> Markup {
    html! {
        @match (c.resource_id, &c.pool) {
            (Some(r), _) => a href={ "/resources/" (r) } { (data.resource_name(r)) },
            (None, Some(pool)) => { "groupe « " (pool) " »" },
            (None, None) => "tout le pôle",
        }
    }
}

fn whatif_view(w: &WhatIf) -> Markup {
    let total = |i: usize| -> i64 { w.rows.iter().map(|r| r.cents[i]).sum() };
    html! {
        section.whatif #comparaison aria-labelledby="comparaison-titre" {
            h3 #comparaison-titre { "Comparaison — rien n'est enregistré" }
            @for (i, err) in w.errors.iter().enumerate() {
                @if let Some(err) = err { p.field-error { "« " (w.keys[i]) " » : " (err) } }
            }
            @if w.rows.is_empty() {
                p { "Aucune structure ne paierait rien avec ces clés." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Structure" }
                        th.num scope="col" { (w.keys[0]) }
                        th.num scope="col" { (w.keys[1]) }
                        th.num scope="col" { "Écart" }
                    } }
                    tbody {
                        @for r in &w.rows {
                            tr {
                                th scope="row" { (r.member_name) }
                                td.num { (format_euros(r.cents[0])) }
                                td.num { (format_euros(r.cents[1])) }
                                td.num { (signed_euros(r.cents[1] - r.cents[0])) }
                            }
                        }
                        tr.total {
                            th scope="row" { "Total" }
                            td.num { (format_euros(total(0))) }
                            td.num { (format_euros(total(1))) }
                            td.num { (signed_euros(total(1) - total(0))) }
                        }
                    }
                }
            }
        }
    }
}

fn cost_form(
    ctx: &Ctx,
    action: &str,
    back: &str,
    page: &CostPage,
    data: &FormData,
    show_month: bool,
) -> Markup {
    let (form, errors) = (&page.form, &page.errors);
    let resource_options = choose(
        data.resources
            .iter()
            .filter(|r| !r.archived || form.resource_id == r.id.to_string())
            .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.kind.label()))),
    );
    let methods: Vec<(String, String)> = Method::ALL
        .iter()
        .map(|m| (m.as_str().to_string(), m.label().to_string()))
        .collect();
    let among = options(&[
        ("active", "les membres actifs"),
        (
            "users",
            "les membres qui ont utilisé la portée dans le mois",
        ),
    ]);
    // One input per active member, plus any member a saved key names.
    let typed = form.typed_members();
    let weighted: Vec<&MemberView> = data
        .members
        .iter()
        .filter(|m| (m.active && !m.archived) || typed.contains(&m.id))
        .collect();
    let pool_error = errors.get("pool");
    let target = form.target.as_str();
    html! {
        (error_summary(errors))
        form.cost method="post" action=(action) novalidate {
            (csrf_field(ctx))
            fieldset {
                legend { "Dépense" }
                @if show_month {
                    (field("Mois", "month", &form.month, "month", errors, None))
                } @else {
                    input type="hidden" name="month" value=(form.month);
                }
                (field("Libellé", "label", &form.label, "text", errors, Some("Par exemple : loyer, assurance, électricité.")))
                (field_for("Montant (€)", "amount", "amount_cents", &form.amount, "text", errors, Some("Un montant négatif (subvention, remboursement) se répartit de la même façon, en avoir.")))
            }
            fieldset {
                legend { "Portée" }
                p.hint { "Ce que la dépense concerne : c'est l'utilisation de ces ressources que lit la clé « heures d'utilisation »." }
                div.field #f-target {
                    label.inline { input type="radio" name="target" value="pole" checked[target != "resource" && target != "pool"]; " Tout le pôle (frais généraux)" }
                    label.inline { input type="radio" name="target" value="resource" checked[target == "resource"]; " Une ressource" }
                    label.inline { input type="radio" name="target" value="pool" checked[target == "pool"]; " Un groupe de ressources" }
                }
                (select("Ressource (si « une ressource »)", "resource_id", &resource_options, &form.resource_id, errors))
                div.field.invalid[pool_error.is_some()] {
                    label for="f-pool" { "Groupe (si « un groupe de ressources »)" }
                    input id="f-pool" name="pool" type="text" list="pools" value=(form.pool) aria-invalid=[pool_error.map(|_| "true")];
                    datalist id="pools" { @for pool in data.pools() { option value=(pool) {} } }
                    @if let Some(e) = pool_error { p.field-error { (e) } }
                }
            }
            fieldset {
                legend { "Récurrence" }
                (checkbox("Dépense récurrente : reprise chaque mois suivant", "recurring", checked(&form.recurring)))
                (field("Jusqu'à (inclus)", "until", &form.until, "month", errors, Some("Vide : sans fin. Ignoré pour une dépense ponctuelle.")))
            }
            fieldset {
                legend { "Clé de répartition" }
                (select("Clé", "key", &methods, &form.key, errors))
                (select("Parts égales : entre", "among", &among, &form.among, errors))
                fieldset.weights #f-weights {
                    legend { "Pourcentages fixes ou montants exacts, par structure" }
                    p.hint { "Pourcentages fixes : en %, ils font 100 % au total. Montants exacts : en €, ils font le montant de la dépense. Une structure laissée vide ne paie rien. Ignoré pour les autres clés." }
                    @if weighted.is_empty() {
                        p { "Aucune structure active." }
                    } @else {
                        table.weights {
                            thead { tr { th scope="col" { "Structure" } th scope="col" { "Part (% ou €)" } } }
                            tbody { @for m in &weighted {
                                @let key = format!("weights.{}", m.id);
                                @let id = format!("f-weights-{}", m.id);
                                @let err = errors.get(&key);
                                tr.invalid[err.is_some()] {
                                    td { label for=(id) { (m.name) } }
                                    td {
                                        input type="hidden" name="weight_member" value=(m.id);
                                        input id=(id) name="weight" type="text" inputmode="decimal" size="10" value=(form.weight_of(m.id)) aria-invalid=[err.map(|_| "true")];
                                        @if let Some(e) = err { p.field-error { (e) } }
                                    }
                                }
                            } }
                        }
                    }
                }
                fieldset.blend {
                    legend { "Clé composée" }
                    p.hint { "Deux clés, chacune sur une part du montant ; les deux parts font 100 %. Par exemple : 50 % surface + 50 % heures d'utilisation." }
                    div.row {
                        (select("Première clé", "blend1", &options(&SUB_KEYS), &form.blend1, errors))
                        (field("Part (%)", "blend1_percent", &form.blend1_percent, "text", errors, None))
                    }
                    div.row {
                        (select("Seconde clé", "blend2", &options(&SUB_KEYS), &form.blend2, errors))
                        (field("Part (%)", "blend2_percent", &form.blend2_percent, "text", errors, None))
                    }
                }
            }
            fieldset.compare {
                legend { "Comparer avant d'enregistrer" }
                (select("Comparer avec la clé", "other", &options(&SUB_KEYS[..6]), &form.other, errors))
                @if let Some(w) = &page.whatif { (whatif_view(w)) }
            }
            div.actions {
                button type="submit" name="action" value="save" { "Enregistrer" }
                button.secondary type="submit" name="action" value="compare" { "Comparer" }
                a href=(back) { "Annuler" }
            }
        }
    }
}

/// `GET`/re-display of `/allocations/{month}/costs`: the month's entries and a new one.
async fn costs_view(s: &AppState, p: &PageActor, month: Month, page: CostPage) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            allocation::costs(&s.app, actor, month).await?,
            allocation::allocation(&s.app, actor, month).await?,
            FormData::load(s, p).await?,
        ))
    };
    let (costs, a, data) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let open = a.status == MonthStatus::Open;
    let problem_of = |id: CostId| a.problems.iter().find(|p| p.cost_id == id);
    let total: i64 = costs.iter().map(|c| c.amount_cents).sum();
    let title = format!("Dépenses — {}", label_fr(month));
    let body = html! {
        h1 { "Dépenses à répartir — " (label_fr(month)) }
        nav.actions aria-label="Mois" {
            (prev_next(month, |m| format!("/allocations/{m}/costs")))
            a href={ "/allocations?month=" (month) } { "Répartition du mois" }
        }
        (alert_box(&page.alert))
        @if !open {
            p.notice.warning { "Ce mois est clôturé : ses dépenses ne changent plus. Saisissez une correction comme régularisation dans un mois ouvert." }
        }
        @if costs.is_empty() {
            p { "Aucune dépense ce mois-ci." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Dépenses du mois" {
                table.costs {
                    thead { tr {
                        th scope="col" { "Libellé" }
                        th scope="col" { "Portée" }
                        th.num scope="col" { "Montant" }
                        th scope="col" { "Clé" }
                        th scope="col" { "Récurrence" }
                    } }
                    tbody {
                        @for c in &costs {
                            tr {
                                th scope="row" {
                                    a href={ "/allocations/costs/" (c.id) } { (c.label) }
                                    @if let Some(pb) = problem_of(c.id) {
                                        div.field-error { span.badge.violation { "non répartissable" } " " (pb.message) }
                                    }
                                }
                                td { (scope_text(c, &data)) }
                                td.num { (format_euros(c.amount_cents)) }
                                td { (c.key_text) }
                                td {
                                    @if c.recurring {
                                        "chaque mois"
                                        @if let Some(u) = c.until { " jusqu'en " (label_fr(u)) }
                                    } @else if let Some(g) = c.generated_from {
                                        "reprise de la " a href={ "/allocations/costs/" (g) } { "dépense récurrente n° " (g) }
                                    } @else { "ponctuelle" }
                                }
                            }
                        }
                        tr.total {
                            th scope="row" colspan="2" { "Total" }
                            td.num { strong { (format_euros(total)) } }
                            td colspan="2" {}
                        }
                    }
                }
            }
        }
        @if open {
            h2 #nouvelle { "Nouvelle dépense" }
            (cost_form(&ctx, &format!("/allocations/{month}/costs"), &format!("/allocations?month={month}"), &page, &data, false))
        }
    };
    respond(page.status, &ctx, &title, page.notice, body)
}

/// `GET` (and re-display) of `/allocations/costs/{id}`.
async fn cost_edit_view(
    s: &AppState,
    p: &PageActor,
    id: CostId,
    page: Option<CostPage>,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let c = match or_page(&ctx, allocation::cost(&s.app, actor, id).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let data = async {
        Ok((
            allocation::allocation(&s.app, actor, c.month).await?,
            FormData::load(s, p).await?,
        ))
    };
    let (a, data) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let page = page.unwrap_or_else(|| CostPage {
        form: CostForm::of(&c),
        ..Default::default()
    });
    let open = a.status == MonthStatus::Open;
    let problem = a.problems.iter().find(|pb| pb.cost_id == id);
    let back = format!("/allocations/{}/costs", c.month);
    let title = format!("Dépense « {} »", c.label);
    let body = html! {
        h1 { "Dépense « " (c.label) " »" }
        p.meta {
            a href=(back) { "Dépenses de " (label_fr(c.month)) }
            " · " (format_euros(c.amount_cents)) " · " (scope_text(&c, &data)) " · " (c.key_text)
        }
        (alert_box(&page.alert))
        @if let Some(pb) = problem {
            div.errors role="alert" { p { "Cette dépense ne peut pas être répartie : " (pb.message) } }
        }
        @if let Some(g) = c.generated_from {
            p.meta { "Reprise ce mois-ci de la " a href={ "/allocations/costs/" (g) } { "dépense récurrente n° " (g) } " : la modifier ici ne change que " (label_fr(c.month)) "." }
        }
        @if c.recurring {
            p.meta { "Dépense récurrente : reprise chaque mois à partir de " (label_fr(c.month))
                @if let Some(u) = c.until { " jusqu'en " (label_fr(u)) } "." }
        }
        @if open {
            (cost_form(&ctx, &format!("/allocations/costs/{id}"), &back, &page, &data, true))
            h2 { "Supprimer" }
            (action_button(&ctx, &format!("/allocations/costs/{id}/delete"), "Supprimer cette dépense", "danger"))
        } @else {
            p.notice.warning { "Le mois de " (label_fr(c.month)) " est clôturé : cette dépense ne change plus. Saisissez une correction comme régularisation dans un mois ouvert." }
        }
    };
    respond(page.status, &ctx, &title, page.notice, body)
}

/// The result of a posted cost form.
enum Posted {
    Saved(CostView),
    Again(Box<CostPage>),
    Failed(AppError),
}

/// The form again after its own errors or the app's refusal, or a failure.
fn refused(form: CostForm, e: AppError) -> Posted {
    match again(e) {
        Ok(a) => Posted::Again(Box::new(CostPage {
            form,
            errors: a.errors,
            alert: a.alert,
            status: a.status,
            ..Default::default()
        })),
        Err(e) => Posted::Failed(e),
    }
}

/// Saves the entry, or compares its key with another without saving.
async fn save_or_compare(
    s: &AppState,
    p: &PageActor,
    form: CostForm,
    fallback: Month,
    save: impl AsyncFnOnce(CostInput) -> Result<CostView, AppError>,
) -> Posted {
    let (input, other) = match form.to_input(fallback) {
        Ok(v) => v,
        Err(errors) => return refused(form, AppError::Validation(errors)),
    };
    if form.action == "compare" {
        match allocation::what_if(&s.app, p.actor(), input, other).await {
            Ok(w) => Posted::Again(Box::new(CostPage {
                form,
                whatif: Some(w),
                ..Default::default()
            })),
            Err(e) => refused(form, e),
        }
    } else {
        match save(input).await {
            Ok(c) => Posted::Saved(c),
            Err(e) => refused(form, e),
        }
    }
}

/// `GET /allocations/{month}/costs`.
pub async fn costs_page(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    costs_view(
        &s,
        &p,
        month,
        CostPage {
            form: CostForm::new(month),
            notice: notice_of(q.notice.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// `POST /allocations/{month}/costs`: a new entry (or a comparison).
pub async fn create_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<CostForm>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let posted = save_or_compare(&s, &p, form, month, async |input| {
        allocation::create_cost(&s.app, p.actor(), input).await
    })
    .await;
    match posted {
        Posted::Saved(c) => see_other(&format!("/allocations/{}/costs?notice=created", c.month)),
        Posted::Again(page) => costs_view(&s, &p, month, *page).await,
        Posted::Failed(e) => error_page(&s, Some(&p.0), e),
    }
}

/// `GET /allocations/costs/{id}`.
pub async fn cost_page(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = notice_of(q.notice.as_deref());
    if notice.is_some() {
        let ctx = Ctx::new(&s, &p);
        let c = match or_page(&ctx, allocation::cost(&s.app, p.actor(), id).await) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let page = CostPage {
            form: CostForm::of(&c),
            notice,
            ..Default::default()
        };
        return cost_edit_view(&s, &p, id, Some(page)).await;
    }
    cost_edit_view(&s, &p, id, None).await
}

/// `POST /allocations/costs/{id}`: saves the entry (or compares).
pub async fn update_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    CsrfForm(form): CsrfForm<CostForm>,
) -> Response {
    let fallback = parse_month(&form.month).unwrap_or_else(|_| current_month(&s));
    let posted = save_or_compare(&s, &p, form, fallback, async |input| {
        allocation::update_cost(&s.app, p.actor(), id, input).await
    })
    .await;
    match posted {
        Posted::Saved(c) => see_other(&format!("/allocations/{}/costs?notice=saved", c.month)),
        Posted::Again(page) => cost_edit_view(&s, &p, id, Some(*page)).await,
        Posted::Failed(e) => error_page(&s, Some(&p.0), e),
    }
}

/// `POST /allocations/costs/{id}/delete`.
pub async fn delete_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    CsrfForm(_): CsrfForm<account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let c = match or_page(&ctx, allocation::cost(&s.app, p.actor(), id).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match allocation::delete_cost(&s.app, p.actor(), id).await {
        Ok(()) => see_other(&format!("/allocations/{}/costs?notice=deleted", c.month)),
        Err(e) => match again(e) {
            Ok(a) => {
                let page = CostPage {
                    form: CostForm::of(&c),
                    alert: errors_as_alert(a.alert, &a.errors),
                    status: a.status,
                    ..Default::default()
                };
                cost_edit_view(&s, &p, id, Some(page)).await
            }
            Err(e) => error_page(&s, Some(&p.0), e),
        },
    }
}

/// « +12,50 € » / « -3,00 € »: a difference.
fn signed_euros(cents: i64) -> String {
    if cents > 0 {
        format!("+{}", format_euros(cents))
    } else {
        format_euros(cents)
    }
}

/// A percentage as typed (« 12,5 », « 12,5 % »).
fn parse_percent(raw: &str) -> Result<f64, String> {
    number_text(raw.trim().trim_end_matches('%'))
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| "Pourcentage attendu (exemple : 12,5).".to_string())
}

/// A percentage for a field (« 12,5 »).
fn percent_text(v: f64) -> String {
    format!("{v}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("12,5 %"), Ok(12.5));
        assert!(parse_percent("douze").is_err());
    }

    #[test]
    fn cost_form_reads_a_blend_and_weights() {
        let form = CostForm {
            month: "2027-01".into(),
            label: "Loyer".into(),
            amount: "1 000,00".into(),
            target: "pool".into(),
            pool: "bâtiment".into(),
            key: "blend".into(),
            blend1: "surface".into(),
            blend1_percent: "50".into(),
            blend2: "percentages".into(),
            blend2_percent: "50".into(),
            weight_member: vec!["1".into(), "2".into(), "3".into()],
            weight: vec!["60".into(), "40".into(), "".into()],
            other: "equal_users".into(),
            ..Default::default()
        };
        let fallback = Month::new(2027, 2).unwrap();
        let (input, other) = form.to_input(fallback).unwrap();
        assert_eq!(input.month.to_string(), "2027-01");
        assert_eq!(input.amount_cents, 100_000);
        assert_eq!(input.pool.as_deref(), Some("bâtiment"));
        assert_eq!(input.key.method, Method::Blend);
        assert_eq!(input.key.parts.len(), 2);
        assert_eq!(input.key.parts[1].key.weights.len(), 2);
        assert_eq!(other.among, Some(Among::Users));
        // And back to the form, as saved.
        let view = CostView {
            id: CostId(1),
            month: input.month,
            label: input.label.clone(),
            amount_cents: input.amount_cents,
            resource_id: None,
            pool: input.pool.clone(),
            recurring: false,
            until: None,
            generated_from: None,
            key_text: input.key.describe(),
            key: input.key.clone(),
        };
        let again = CostForm::of(&view);
        assert_eq!(again.blend2, "percentages");
        assert_eq!(again.weight_of(MemberId(1)), "60");
        assert_eq!(again.target, "pool");
    }

    #[test]
    fn cost_form_reports_every_error() {
        let form = CostForm {
            month: "2027-01".into(),
            amount: "douze".into(),
            target: "resource".into(),
            key: "percentages".into(),
            weight_member: vec!["1".into()],
            weight: vec!["x".into()],
            ..Default::default()
        };
        let errors = form.to_input(Month::new(2027, 1).unwrap()).unwrap_err();
        assert!(errors.get("amount_cents").is_some());
        assert!(errors.get("resource_id").is_some());
        assert!(errors.get("weights.1").is_some());
        assert!(errors.get("key").is_some());
    }
}
