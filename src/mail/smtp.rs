//! The SMTP courier: turns a queued notice into a MIME message (plain text and HTML
//! alternatives, the invitation attached) and hands it to the server of `SMTP_URL`
//! (`smtp://` plain or `?tls=required` for STARTTLS, `smtps://` for TLS, credentials in the
//! URL) through lettre's pooled async transport.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{compose, MailContext};
use crate::app::outbox::{Courier, Delivery, Outgoing};
use crate::config::Config;
use crate::domain::notice::message_id;

/// The address part of `Name <address>` (or the whole text when it has no brackets).
pub fn address_of(mailbox: &str) -> String {
    match mailbox.parse::<Mailbox>() {
        Ok(m) => m.email.to_string(),
        Err(_) => mailbox.trim().to_string(),
    }
}

/// The courier the configuration asks for: none without `SMTP_URL`.
pub fn courier_of(config: &Config) -> anyhow::Result<Option<std::sync::Arc<dyn Courier>>> {
    let Some(url) = &config.smtp_url else {
        return Ok(None);
    };
    let ctx = MailContext {
        pole_name: config.pole_name.clone(),
        public_url: config.public_url.clone(),
        from_address: address_of(&config.mail_from),
    };
    let courier = SmtpCourier::new(url, &config.mail_from, config.mail_reply_to.as_deref(), ctx)?;
    Ok(Some(std::sync::Arc::new(courier)))
}

pub struct SmtpCourier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    ctx: MailContext,
}

impl SmtpCourier {
    pub fn new(
        url: &str,
        from: &str,
        reply_to: Option<&str>,
        ctx: MailContext,
    ) -> anyhow::Result<SmtpCourier> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL invalide : {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("MUTUALISE_MAIL_FROM invalide : {e}"))?;
        let reply_to = match reply_to {
            Some(r) => Some(
                r.parse()
                    .map_err(|e| anyhow::anyhow!("MUTUALISE_MAIL_REPLY_TO invalide : {e}"))?,
            ),
            None => None,
        };
        Ok(SmtpCourier {
            transport,
            from,
            reply_to,
            ctx,
        })
    }

    /// The MIME message of a queued notice.
    pub fn message(&self, m: &Outgoing) -> Result<Message, String> {
        build(m, &self.from, self.reply_to.as_ref(), &self.ctx)
    }
}

/// Builds the MIME message of `m` (also used by the tests and the administration page's
/// « source » view).
pub fn build(
    m: &Outgoing,
    from: &Mailbox,
    reply_to: Option<&Mailbox>,
    ctx: &MailContext,
) -> Result<Message, String> {
    let c = compose(&m.notice, &m.recipient, ctx);
    let to = Mailbox::new(
        Some(m.notice.recipient_name.clone()),
        m.recipient
            .parse()
            .map_err(|e| format!("adresse du destinataire invalide : {e}"))?,
    );
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(c.subject)
        .message_id(Some(message_id(&m.event_key, from.email.domain())));
    if let Some(r) = reply_to {
        builder = builder.reply_to(r.clone());
    }
    let alternative = MultiPart::alternative_plain_html(c.text, c.html);
    let body = match c.calendar {
        Some((method, ics)) => {
            let kind = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={}",
                method.as_str()
            ))
            .map_err(|e| e.to_string())?;
            let attachment: SinglePart = Attachment::new("invitation.ics".into()).body(ics, kind);
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(attachment)
        }
        None => alternative,
    };
    builder.multipart(body).map_err(|e| e.to_string())
}

impl Courier for SmtpCourier {
    fn deliver<'a>(&'a self, m: &'a Outgoing) -> Delivery<'a> {
        Box::pin(async move {
            let message = self.message(m)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
