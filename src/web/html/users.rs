//! User management pages: admins manage everyone, member admins the people of their member.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{
    checked, csrf_field, error_summary, field, or_page, page, page_with_status, see_other, Ctx,
    Nav, NoticeQuery,
};
use crate::app::authz::{self, Actor};
use crate::app::users;
use crate::domain::role::{MemberRole, PoleRole};
use crate::domain::user::{MembershipInput, UserInput};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::store::members::Member;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

pub async fn list(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor().clone();
    let list = match or_page(&ctx, s.db.run(move |c| users::list(c, &actor)).await) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let actor = p.actor();
    let can_create = actor.is_admin() || !actor.administered_members().is_empty();
    let body = html! {
        h1 { "Utilisateurs" }
        @if can_create { p { a.button href="/users/new" { "Ajouter un utilisateur" } } }
        table {
            thead { tr { th { "Nom" } th { "E-mail" } th { "Rôles au pôle" } th { "Structures" } th { "État" } } }
            tbody { @for u in &list {
                tr {
                    td { a href={ "/users/" (u.user.id) } { (u.user.name) } }
                    td { (u.user.email) }
                    td { (u.roles.iter().filter_map(|r| PoleRole::parse(r)).map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
                    td { (u.memberships.iter().map(|m| format!("{} ({})", m.member_name, MemberRole::parse(&m.role).map(|r| r.label()).unwrap_or("?"))).collect::<Vec<_>>().join(", ")) }
                    td { @if u.user.active { "actif" } @else { "désactivé" } }
                }
            } }
        }
    };
    page(
        &ctx,
        "Utilisateurs",
        Nav::Users,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

/// The user form: profile, pole roles (checkboxes, admins only), memberships as parallel
/// lists of member and role, plus one empty row to add a membership.
#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    membership_member: Vec<String>,
    #[serde(default)]
    membership_role: Vec<String>,
    active: Option<String>,
}

impl UserForm {
    fn of(u: &crate::store::users::UserWithRoles) -> Self {
        Self {
            email: u.user.email.clone(),
            name: u.user.name.clone(),
            password: String::new(),
            roles: u.roles.clone(),
            membership_member: u
                .memberships
                .iter()
                .map(|m| m.member_id.to_string())
                .collect(),
            membership_role: u.memberships.iter().map(|m| m.role.clone()).collect(),
            active: u.user.active.then(|| "on".into()),
        }
    }

    fn to_input(&self) -> Result<UserInput, FieldErrors> {
        let mut memberships = Vec::new();
        for (member, role) in self
            .membership_member
            .iter()
            .zip(self.membership_role.iter())
        {
            if member.trim().is_empty() || role.trim().is_empty() {
                continue;
            }
            let member_id = member
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldErrors::single("memberships", "Structure inconnue."))?;
            memberships.push(MembershipInput {
                member_id,
                role: role.clone(),
            });
        }
        Ok(UserInput {
            email: self.email.clone(),
            name: self.name.clone(),
            password: Some(self.password.clone()).filter(|p| !p.is_empty()),
            roles: self.roles.clone(),
            memberships,
            active: checked(&self.active),
        })
    }
}

async fn form_view(
    s: &AppState,
    p: &PageActor,
    action: &str,
    title: &str,
    form: &UserForm,
    errors: &FieldErrors,
    creating: bool,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor().clone();
    let all = match or_page(
        &ctx,
        s.db.run(move |c| crate::app::members::list(c, &actor, &Default::default()))
            .await,
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let actor = p.actor();
    let assignable: Vec<&Member> = all
        .iter()
        .filter(|m| actor.is_admin() || actor.member_role(m.id) == Some(MemberRole::MemberAdmin))
        .collect();
    let mut rows: Vec<(String, String)> = form
        .membership_member
        .iter()
        .cloned()
        .zip(form.membership_role.iter().cloned())
        .filter(|(m, _)| !m.is_empty())
        .collect();
    rows.push((String::new(), MemberRole::Booker.as_str().to_string()));
    let body = html! {
        h1 { (title) }
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (csrf_field(&ctx))
            (field("Nom complet", "name", &form.name, "text", errors, None))
            (field("Adresse e-mail", "email", &form.email, "email", errors, None))
            (field(if creating { "Mot de passe" } else { "Nouveau mot de passe (laisser vide pour ne pas changer)" },
                "password", "", "password", errors, Some("10 caractères au moins.")))
            @if actor.is_admin() {
                fieldset #f-roles {
                    legend { "Rôles au pôle" }
                    @for r in PoleRole::ALL {
                        label.inline { input type="checkbox" name="roles" value=(r.as_str()) checked[form.roles.iter().any(|x| x == r.as_str())]; " " (r.label()) }
                    }
                    @if let Some(e) = errors.get("roles") { p.field-error { (e) } }
                }
            } @else {
                @for r in &form.roles { input type="hidden" name="roles" value=(r); }
            }
            fieldset #f-memberships {
                legend { "Structures pour lesquelles la personne agit" }
                @for (i, (member, role)) in rows.iter().enumerate() {
                    div.row {
                        label for={ "m-" (i) } { "Structure" }
                        select id={ "m-" (i) } name="membership_member" {
                            option value="" { "—" }
                            @for m in &assignable { option value=(m.id) selected[m.id.to_string() == *member] { (m.name) } }
                            // A membership in a member the actor cannot manage is shown and kept as is.
                            @if !member.is_empty() && !assignable.iter().any(|m| m.id.to_string() == *member) {
                                @let name = all.iter().find(|m| m.id.to_string() == *member).map(|m| m.name.as_str()).unwrap_or("structure");
                                option value=(member) selected { (name) }
                            }
                        }
                        label for={ "r-" (i) } { "Rôle" }
                        select id={ "r-" (i) } name="membership_role" {
                            @for r in MemberRole::ALL { option value=(r.as_str()) selected[r.as_str() == role] { (r.label()) } }
                        }
                    }
                }
                @if let Some(e) = errors.get("memberships") { p.field-error { (e) } }
            }
            (super::checkbox("Compte actif", "active", checked(&form.active)))
            button type="submit" { "Enregistrer" }
            " " a href="/users" { "Annuler" }
        }
    };
    page_with_status(status, &ctx, title, Nav::Users, body)
}

fn can_create(actor: &Actor) -> bool {
    actor.is_admin() || !actor.administered_members().is_empty()
}

pub async fn new_form(State(s): State<AppState>, p: PageActor) -> Response {
    if !can_create(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let mut form = UserForm {
        active: Some("on".into()),
        ..Default::default()
    };
    if let [only] = p.actor().administered_members()[..] {
        if !p.actor().is_admin() {
            form.membership_member.push(only.to_string());
            form.membership_role
                .push(MemberRole::Booker.as_str().into());
        }
    }
    form_view(
        &s,
        &p,
        "/users",
        "Nouvel utilisateur",
        &form,
        &FieldErrors::new(),
        true,
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let input = match form.to_input() {
        Ok(i) => i,
        Err(e) => {
            return form_view(
                &s,
                &p,
                "/users",
                "Nouvel utilisateur",
                &form,
                &e,
                true,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let actor = p.actor().clone();
    let now = s.now();
    match s
        .db
        .run(move |c| users::create(c, &actor, &input, now))
        .await
    {
        Ok(_) => see_other("/users?notice=created"),
        Err(AppError::Validation(e)) => {
            form_view(
                &s,
                &p,
                "/users",
                "Nouvel utilisateur",
                &form,
                &e,
                true,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn edit_form(State(s): State<AppState>, p: PageActor, Path(id): Path<i64>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor().clone();
    let u = match or_page(&ctx, s.db.run(move |c| users::get(c, &actor, id)).await) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !authz::can_manage_user(p.actor(), &u) && p.actor().user_id != id {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    form_view(
        &s,
        &p,
        &format!("/users/{id}"),
        &format!("Modifier {}", u.user.name),
        &UserForm::of(&u),
        &FieldErrors::new(),
        false,
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let action = format!("/users/{id}");
    let input = match form.to_input() {
        Ok(i) => i,
        Err(e) => {
            return form_view(
                &s,
                &p,
                &action,
                "Modifier l'utilisateur",
                &form,
                &e,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let actor = p.actor().clone();
    let now = s.now();
    match s
        .db
        .run(move |c| users::replace(c, &actor, id, &input, now))
        .await
    {
        Ok(_) => see_other("/users?notice=saved"),
        Err(AppError::Validation(e)) => {
            form_view(
                &s,
                &p,
                &action,
                "Modifier l'utilisateur",
                &form,
                &e,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}
