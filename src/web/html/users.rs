//! User management pages: admins manage everyone, member admins the people of their member.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{
    checked, csrf_field, error_summary, field, or_page, page, page_with_status, submit, Ctx, Nav,
    NoticeQuery,
};
use crate::app::authz;
use crate::app::members::{self, MemberView};
use crate::app::users::{self, UserView};
use crate::domain::ids::{MemberId, UserId};
use crate::domain::role::{MemberRole, PoleRole};
use crate::domain::user::{MembershipInput, UserInput};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::web::extract::{ClientIp, CsrfForm, PageActor};
use crate::web::AppState;

pub async fn list(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let list = match or_page(&ctx, users::list(&s.app, p.actor()).await) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let can_create = authz::can_create_users(p.actor());
    let body = html! {
        h1 { "Utilisateurs" }
        @if can_create { p { a.button href="/users/new" { "Ajouter un utilisateur" } } }
        @if p.actor().is_admin() { p { a href="/admin/audit" { "Journal de sécurité" } } }
        table {
            thead { tr { th { "Nom" } th { "E-mail" } th { "Rôles au pôle" } th { "Structures" } th { "État" } } }
            tbody { @for u in &list {
                tr {
                    td { a href={ "/users/" (u.id) } { (u.name) } }
                    td { (u.email) }
                    td { (u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
                    td { (u.memberships.iter().map(|m| format!("{} ({})", m.member_name, m.role.label())).collect::<Vec<_>>().join(", ")) }
                    td { @if u.active { "actif" } @else { "désactivé" } }
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
    fn of(u: &UserView) -> Self {
        Self {
            email: u.email.clone(),
            name: u.name.clone(),
            password: String::new(),
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            membership_member: u
                .memberships
                .iter()
                .map(|m| m.member_id.to_string())
                .collect(),
            membership_role: u
                .memberships
                .iter()
                .map(|m| m.role.as_str().to_string())
                .collect(),
            active: u.active.then(|| "on".into()),
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
                .parse::<MemberId>()
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

/// Which user the form is about.
#[derive(Clone, Copy)]
enum Editing {
    New,
    User(UserId),
}

async fn form_view(
    s: &AppState,
    p: &PageActor,
    editing: Editing,
    title: &str,
    form: &UserForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let (action, creating) = match editing {
        Editing::New => ("/users".to_string(), true),
        Editing::User(id) => (format!("/users/{id}"), false),
    };
    let ctx = Ctx::new(s, p);
    let all = match or_page(
        &ctx,
        members::list(&s.app, p.actor(), Default::default()).await,
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let actor = p.actor();
    let assignable: Vec<&MemberView> = all
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

pub async fn new_form(State(s): State<AppState>, p: PageActor) -> Response {
    if !authz::can_create_users(p.actor()) {
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
        Editing::New,
        "Nouvel utilisateur",
        &form,
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    submit(
        &ctx,
        form.to_input(),
        async |input| users::create(&s.app, p.actor(), input).await,
        |_| "/users?notice=created".to_string(),
        async |errors| {
            form_view(
                &s,
                &p,
                Editing::New,
                "Nouvel utilisateur",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub async fn edit_form(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<UserId>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let (u, _) = match or_page(&ctx, users::edit(&s.app, p.actor(), id).await) {
        Ok(u) => u,
        Err(r) => return r,
    };
    form_view(
        &s,
        &p,
        Editing::User(id),
        &format!("Modifier {}", u.name),
        &UserForm::of(&u),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<UserId>,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    submit(
        &ctx,
        form.to_input(),
        async |input| users::replace(&s.app, p.actor(), id, input, &ip).await,
        |_| "/users?notice=saved".to_string(),
        async |errors| {
            form_view(
                &s,
                &p,
                Editing::User(id),
                "Modifier l'utilisateur",
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}
