//! Member use cases: list, show, create, edit, archive.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authz::{self, Actor};
use super::{App, Numbered};
use crate::domain::ids::MemberId;
use crate::domain::member::{LegalForm, MemberInput};
use crate::error::{AppError, AppResult};
use crate::store::members::{self as store, Member, MemberFilter};
use crate::store::to_db;

/// A member as shown to an actor; private fields only when the actor may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: MemberId,
    pub name: String,
    #[schema(value_type = crate::domain::member::LegalForm)]
    pub legal_form: String,
    pub active: bool,
    pub archived: bool,
    #[serde(flatten)]
    #[schema(value_type = MemberPrivateFields)]
    pub private: Option<MemberPrivate>,
    /// The actor may edit, archive or restore it.
    pub can_manage: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberPrivate {
    pub pricing_category: String,
    pub siret: Option<String>,
    pub email: Option<String>,
    /// Full-time equivalents.
    pub headcount: f64,
    pub turnover_cents: i64,
    pub surface_m2: i32,
}

/// [`MemberPrivate`] flattened into a member, as the OpenAPI document describes it: its fields
/// are there together, for those who may see them.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct MemberPrivateFields {
    #[schema(nullable = false)]
    pricing_category: Option<String>,
    siret: Option<String>,
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(nullable = false)]
    headcount: Option<f64>,
    #[schema(nullable = false)]
    turnover_cents: Option<i64>,
    #[schema(nullable = false)]
    surface_m2: Option<i32>,
}

impl MemberView {
    pub fn of(m: &Member, actor: &Actor) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            legal_form: m.legal_form.clone(),
            active: m.active,
            archived: m.archived_at.is_some(),
            private: authz::can_view_member_private(actor, m.id).then(|| MemberPrivate {
                pricing_category: m.pricing_category.clone(),
                siret: m.siret.clone(),
                email: m.email.clone(),
                headcount: f64::from(m.headcount_hundredths) / 100.0,
                turnover_cents: m.turnover_cents,
                surface_m2: m.surface_m2,
            }),
            can_manage: authz::can_manage_members(actor),
        }
    }

    pub fn legal_form_label(&self) -> &'static str {
        LegalForm::parse(&self.legal_form)
            .map(LegalForm::label)
            .unwrap_or("Autre")
    }

    pub fn status_label(&self) -> &'static str {
        if self.archived {
            "archivée"
        } else if self.active {
            "active"
        } else {
            "suspendue"
        }
    }
}

fn input_of(m: &Member) -> MemberInput {
    MemberInput {
        name: m.name.clone(),
        legal_form: m.legal_form.clone(),
        pricing_category: m.pricing_category.clone(),
        siret: m.siret.clone(),
        email: m.email.clone(),
        headcount: f64::from(m.headcount_hundredths) / 100.0,
        turnover_cents: m.turnover_cents,
        surface_m2: m.surface_m2,
        active: m.active,
    }
}

/// A listing's filters, for the API and the pages.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Include archived members.
    #[serde(default)]
    pub include_archived: bool,
    /// Part of the name (case, accents and ligatures ignored).
    pub q: Option<String>,
    /// active, inactive or archived.
    pub status: Option<String>,
    /// association, scop, scic, sas, sarl, ei, collectivite, autre.
    pub legal_form: Option<String>,
}

fn filter_of(q: MemberQuery) -> AppResult<MemberFilter> {
    let mut e = crate::domain::validation::FieldErrors::new();
    let (mut active, mut archived_only) = (None, false);
    match q.status.as_deref().map(str::trim).unwrap_or("") {
        "" => {}
        "active" => active = Some(true),
        "inactive" => active = Some(false),
        "archived" => archived_only = true,
        _ => e.add("status", "État attendu : active, inactive ou archived."),
    }
    let legal_form = match q
        .legal_form
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => match LegalForm::parse(raw) {
            Some(f) => Some(f.as_str().to_string()),
            None => {
                e.add("legal_form", "Forme juridique inconnue.");
                None
            }
        },
    };
    e.into_result().map_err(AppError::Validation)?;
    Ok(MemberFilter {
        include_archived: q.include_archived || archived_only,
        ids: None,
        search: q.q.filter(|s| !s.trim().is_empty()),
        active,
        archived_only,
        legal_form,
    })
}

/// Every signed-in user sees the directory; private fields are filtered by the view.
pub async fn list(app: &App, actor: &Actor, q: MemberQuery) -> AppResult<Vec<MemberView>> {
    let filter = filter_of(q)?;
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            Ok(store::list(c, &filter)?
                .iter()
                .map(|m| MemberView::of(m, &actor))
                .collect())
        })
        .await
}

/// One numbered page of the directory (from 1, `per_page` members), in name order, and how
/// many members the filters keep in all.
pub async fn page(
    app: &App,
    actor: &Actor,
    q: MemberQuery,
    page: i64,
    per_page: i64,
) -> AppResult<Numbered<MemberView>> {
    let filter = filter_of(q)?;
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let items = store::page(c, &filter, (page - 1) * per_page, per_page)?
                .iter()
                .map(|m| MemberView::of(m, &actor))
                .collect();
            Ok(Numbered {
                items,
                total: store::count_matching(c, &filter)?,
            })
        })
        .await
}

pub async fn get(app: &App, actor: &Actor, id: MemberId) -> AppResult<MemberView> {
    let actor = actor.clone();
    app.db()
        .run(move |c| Ok(MemberView::of(&store::find(c, id)?, &actor)))
        .await
}

/// The member's fields as an input, to edit them.
pub async fn edit_input(app: &App, actor: &Actor, id: MemberId) -> AppResult<MemberInput> {
    authz::require(authz::can_manage_members(actor))?;
    app.db()
        .run(move |c| Ok(input_of(&store::find(c, id)?)))
        .await
}

const NAME_TAKEN: &str = "Une structure porte déjà ce nom.";

pub async fn create(app: &App, actor: &Actor, input: MemberInput) -> AppResult<MemberView> {
    authz::require(authz::can_manage_members(actor))?;
    let draft = input.validate().map_err(AppError::Validation)?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| c.write(|c| store::insert(c, &draft, to_db(now))))
        .await
        .map(|m| MemberView::of(&m, &actor))
        .map_err(|e| e.on_duplicate("name", NAME_TAKEN))
}

pub async fn replace(
    app: &App,
    actor: &Actor,
    id: MemberId,
    input: MemberInput,
) -> AppResult<MemberView> {
    authz::require(authz::can_manage_members(actor))?;
    let draft = input.validate().map_err(AppError::Validation)?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            c.write(|c| {
                store::find(c, id)?;
                store::update(c, id, &draft, to_db(now))
            })
        })
        .await
        .map(|m| MemberView::of(&m, &actor))
        .map_err(|e| e.on_duplicate("name", NAME_TAKEN))
}

/// JSON merge patch (RFC 7396) over the member's fields: the whole is validated again, and
/// read, merged and written in one transaction (two patches never undo each other).
pub async fn patch(app: &App, actor: &Actor, id: MemberId, patch: Value) -> AppResult<MemberView> {
    authz::require(authz::can_manage_members(actor))?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            c.write(|c| {
                let input = super::merge_patch(&input_of(&store::find(c, id)?), patch)?;
                let draft = input.validate().map_err(AppError::Validation)?;
                store::update(c, id, &draft, to_db(now))
            })
        })
        .await
        .map(|m| MemberView::of(&m, &actor))
        .map_err(|e| e.on_duplicate("name", NAME_TAKEN))
}

pub async fn set_archived(
    app: &App,
    actor: &Actor,
    id: MemberId,
    archived: bool,
) -> AppResult<MemberView> {
    authz::require(authz::can_manage_members(actor))?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            c.write(|c| {
                store::find(c, id)?;
                store::set_archived(c, id, archived.then(|| to_db(now)), to_db(now))
            })
        })
        .await
        .map(|m| MemberView::of(&m, &actor))
}
