//! Mail: what each notification says (French, plain text and HTML, an `.ics` invitation when
//! it is about bookings) and the SMTP courier the outbox worker sends through (`smtp`).
//! Renders `domain::notice::Notice`s and reads nothing.

pub mod smtp;

use chrono_tz::Tz;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::domain::money::format_euros;
use crate::domain::month::{label_fr, Month};
use crate::domain::notice::{BookingFacts, CalendarMethod, Notice, NoticeKind};
use crate::domain::time::{format_span, Interval};

/// What messages need to know about the service.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub pole_name: String,
    /// The service's public address, for links.
    pub public_url: String,
    /// The sender's address: the organiser of the invitations.
    pub from_address: String,
}

impl MailContext {
    /// The host of the public address: the domain of calendar UIDs.
    pub fn uid_domain(&self) -> String {
        host_of(&self.public_url)
    }
}

/// `host` of `scheme://host:port/path`.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.split(':').next().unwrap_or(host),
    };
    if host.is_empty() {
        "localhost".into()
    } else {
        host.to_string()
    }
}

/// A message ready to be sent or shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The invitation: its method and its VCALENDAR text.
    pub calendar: Option<(CalendarMethod, String)>,
}

/// One piece of a message, written once for both parts.
enum Block {
    Para(String),
    /// Label and value.
    Facts(Vec<(String, String)>),
    Link(String, String),
}

fn span(b: &BookingFacts, tz: Tz) -> String {
    format_span(
        Interval {
            start: b.start,
            end: b.end,
        },
        tz,
    )
}

fn booking_facts(b: &BookingFacts, tz: Tz, employee: Option<&str>) -> Vec<(String, String)> {
    let mut f = Vec::new();
    match employee {
        Some(e) => {
            f.push(("Salarié".into(), e.to_string()));
            f.push(("Chez".into(), b.member_name.clone()));
        }
        None => {
            f.push(("Ressource".into(), b.resource_name.clone()));
            f.push(("Structure".into(), b.member_name.clone()));
        }
    }
    f.push(("Quand".into(), span(b, tz)));
    if let Some((s, e)) = b.previous {
        f.push((
            "Auparavant".into(),
            format_span(Interval { start: s, end: e }, tz),
        ));
    }
    if !b.location.trim().is_empty() {
        f.push(("Lieu".into(), b.location.clone()));
    }
    if b.quantity > 1 {
        f.push(("Quantité".into(), b.quantity.to_string()));
    }
    if !b.purpose.trim().is_empty() {
        f.push(("Objet".into(), b.purpose.clone()));
    }
    f
}

/// Subject and blocks of a notice.
fn content(n: &Notice, ctx: &MailContext) -> (String, Vec<Block>) {
    let tz: Tz = n.tz.parse().unwrap_or(chrono_tz::Europe::Paris);
    let first = n.bookings.first();
    let what = match (first, n.bookings.len()) {
        (Some(b), 1) => format!("{} — {}", b.resource_name, span(b, tz)),
        (Some(b), count) => format!("{} — {count} créneaux", b.resource_name),
        (None, _) => String::new(),
    };
    let employee = n.employee.as_deref();
    let who = |verb: &str| match (&n.by, verb) {
        (Some(by), "") => format!(" par {by}"),
        (Some(by), verb) => format!(" {verb} par {by}"),
        (None, _) => String::new(),
    };
    let series = n.bookings.len() > 1;
    let (subject, intro) = match n.kind {
        NoticeKind::BookingConfirmed if series => (
            format!("Réservations confirmées : {what}"),
            format!("Vos {} réservations sont confirmées.", n.bookings.len()),
        ),
        NoticeKind::BookingConfirmed => (
            format!("Réservation confirmée : {what}"),
            "Votre réservation est confirmée.".to_string(),
        ),
        NoticeKind::BookingPending => (
            format!("Demande enregistrée : {what}"),
            "Votre demande est enregistrée. Cette ressource demande une validation : vous recevrez un message dès qu'elle sera validée ou refusée.".to_string(),
        ),
        NoticeKind::ApprovalRequested => (
            format!("Demande à valider : {what}"),
            format!(
                "Une demande attend votre décision{}.",
                who("déposée")
            ),
        ),
        NoticeKind::BookingApproved => (
            format!("Demande validée : {what}"),
            format!("Votre demande a été validée{}.", who("")),
        ),
        NoticeKind::BookingRejected => (
            format!("Demande refusée : {what}"),
            format!("Votre demande a été refusée{}.", who("")),
        ),
        NoticeKind::BookingCancelled => (
            format!("Réservation annulée : {what}"),
            if series {
                format!("{} réservations ont été annulées{}.", n.bookings.len(), who(""))
            } else {
                format!("Cette réservation a été annulée{}.", who(""))
            },
        ),
        NoticeKind::BookingMoved => (
            format!("Réservation déplacée : {what}"),
            format!("Cette réservation a été déplacée{}.", who("")),
        ),
        NoticeKind::Reminder => (
            format!("Rappel : {what}"),
            "Pour mémoire, votre réservation approche.".to_string(),
        ),
        NoticeKind::AssignmentCreated => (
            format!(
                "Mise à disposition : {} chez {}",
                employee.unwrap_or(""),
                first.map_or("", |b| b.member_name.as_str())
            ),
            format!("Une mise à disposition est prévue{}.", who("")),
        ),
        NoticeKind::AssignmentChanged => (
            format!(
                "Mise à disposition modifiée : {} chez {}",
                employee.unwrap_or(""),
                first.map_or("", |b| b.member_name.as_str())
            ),
            format!("Une mise à disposition a été modifiée{}.", who("")),
        ),
        NoticeKind::AssignmentCancelled => (
            format!(
                "Mise à disposition annulée : {} chez {}",
                employee.unwrap_or(""),
                first.map_or("", |b| b.member_name.as_str())
            ),
            format!("Une mise à disposition a été annulée{}.", who("")),
        ),
        NoticeKind::PasswordReset => (
            "Choisir un nouveau mot de passe".to_string(),
            "Un nouveau mot de passe a été demandé pour votre compte. Le lien ci-dessous est valable une heure et ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe ne change pas.".to_string(),
        ),
        NoticeKind::StatementReady => {
            let s = n.statement.as_ref();
            let month = s
                .and_then(|s| s.month.parse::<Month>().ok())
                .map(label_fr)
                .unwrap_or_default();
            (
                format!(
                    "Relevé de {month} disponible : {}",
                    s.map_or("", |s| s.member_name.as_str())
                ),
                format!("Le mois de {month} est clôturé : le relevé de votre structure est disponible."),
            )
        }
    };
    let mut blocks = vec![
        Block::Para(format!("Bonjour {},", n.recipient_name)),
        Block::Para(intro),
    ];
    for b in &n.bookings {
        blocks.push(Block::Facts(booking_facts(b, tz, employee)));
    }
    if let Some(reason) = &n.reason {
        blocks.push(Block::Facts(vec![("Motif".into(), reason.clone())]));
    }
    if let Some(s) = &n.statement {
        blocks.push(Block::Facts(vec![
            ("Structure".into(), s.member_name.clone()),
            ("Total du mois".into(), format_euros(s.total_cents)),
        ]));
    }
    if n.kind.calendar_method().is_some() && !n.bookings.is_empty() {
        blocks.push(Block::Para(
            "L'invitation jointe (invitation.ics) met votre agenda à jour.".into(),
        ));
    }
    let label = match n.kind {
        NoticeKind::PasswordReset => "Choisir un nouveau mot de passe",
        _ => "Voir dans Mutualise",
    };
    blocks.push(Block::Link(
        label.into(),
        format!("{}{}", ctx.public_url, n.link),
    ));
    (subject, blocks)
}

fn footer(n: &Notice, ctx: &MailContext) -> Block {
    if n.has_account {
        Block::Link(
            "Choisir les messages que vous recevez".into(),
            format!("{}/account/notifications", ctx.public_url),
        )
    } else {
        Block::Para(format!(
            "Vous recevez ce message car votre adresse est enregistrée auprès de {}. Pour ne plus le recevoir, répondez à ce message.",
            ctx.pole_name
        ))
    }
}

fn text_of(blocks: &[Block], pole: &str) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Para(p) => {
                out.push_str(p);
                out.push_str("\n\n");
            }
            Block::Facts(f) => {
                for (k, v) in f {
                    out.push_str(&format!("  {k} : {v}\n"));
                }
                out.push('\n');
            }
            Block::Link(label, url) => out.push_str(&format!("{label} : {url}\n\n")),
        }
    }
    out.push_str(&format!("-- \n{pole}, avec Mutualise\n"));
    out
}

fn html_of(subject: &str, blocks: &[Block], pole: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                title { (subject) }
            }
            body style="font-family: sans-serif; color: #1d2733; line-height: 1.5; max-width: 40em;" {
                @for b in blocks {
                    @match b {
                        Block::Para(p) => p { (p) },
                        Block::Facts(f) => table style="border-collapse: collapse; margin: 0 0 1em;" {
                            @for (k, v) in f {
                                tr {
                                    th scope="row" style="text-align: left; padding: 2px 12px 2px 0; font-weight: 600;" { (k) }
                                    td style="padding: 2px 0;" { (v) }
                                }
                            }
                        },
                        Block::Link(label, url) => p { a href=(url) { (label) } },
                    }
                }
                hr style="border: 0; border-top: 1px solid #c8d0d8;";
                p style="color: #4a5563; font-size: 0.9em;" { (pole) (PreEscaped(", avec Mutualise")) }
            }
        }
    }
}

/// The message a notice makes.
pub fn compose(n: &Notice, recipient: &str, ctx: &MailContext) -> Composed {
    let (subject, mut blocks) = content(n, ctx);
    // Asked for by the person: no preferences to change, nothing to unsubscribe from.
    if n.kind != NoticeKind::PasswordReset {
        blocks.push(footer(n, ctx));
    }
    let text = text_of(&blocks, &ctx.pole_name);
    let html = html_of(&subject, &blocks, &ctx.pole_name).into_string();
    let calendar = n.kind.calendar_method().and_then(|method| {
        let events = n.events();
        (!events.is_empty()).then(|| {
            (
                method,
                crate::ical::invitation(
                    &ctx.pole_name,
                    &events,
                    method,
                    &ctx.uid_domain(),
                    crate::ical::Party {
                        name: &ctx.pole_name,
                        email: &ctx.from_address,
                    },
                    crate::ical::Party {
                        name: &n.recipient_name,
                        email: recipient,
                    },
                ),
            )
        })
    });
    Composed {
        subject,
        text,
        html,
        calendar,
    }
}

#[cfg(test)]
mod tests;
