//! « Mot de passe oublié » : a link by mail (a real SMTP server receives it), one hour, once;
//! the same answer for an address without account, and no mail then.

mod common;

use std::sync::Arc;

use common::mail::SmtpSink;
use common::{csrf_of, Browser, TestApp};
use mutualise::app::outbox::{self, Courier};
use reqwest::StatusCode;

fn start_worker(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let courier: Arc<dyn Courier> = mutualise::mail::smtp::courier_of(app.app.config())
        .expect("courier")
        .expect("SMTP_URL set");
    outbox::spawn_worker(app.app.clone(), courier)
}

/// The reset link's path in a received mail.
fn link_in(mail: &serde_json::Value) -> String {
    let text = mail["text"].as_str().expect("text part");
    let marker = "http://mutualise.test/password/reset/";
    let start = text.find(marker).expect("link") + marker.len() - "/password/reset/".len();
    text[start..start + "/password/reset/".len() + 64].to_string()
}

async fn ask(web: &Browser, email: &str) -> (StatusCode, String) {
    let (_, page, _) = web.get("/password/forgot").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post("/password/forgot", &[("_csrf", &csrf), ("email", email)])
        .await;
    (s, page)
}

async fn sign_in_with(app: &TestApp, email: &str, password: &str) -> StatusCode {
    let web = Browser::new(app);
    let (_, page, _) = web.get("/login").await;
    let csrf = csrf_of(&page);
    web.post(
        "/login",
        &[
            ("_csrf", &csrf),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ],
    )
    .await
    .0
}

both_backends!(forgotten_password_by_mail, |base: TestApp| async move {
    let sink = SmtpSink::started();
    let url = sink.url();
    let app = base
        .like(&[
            ("SMTP_URL", url.as_str()),
            ("MUTUALISE_MAIL_RETRY_SECONDS", "1"),
            ("MUTUALISE_PUBLIC_URL", "http://mutualise.test"),
        ])
        .await;
    let _worker = start_worker(&app);
    let admin = app.admin().await;
    let member = app.member(&admin, "Les Jardins").await;
    let (_, api_token) = app
        .user("booker@jardins.test", &[], &[(member, "booker")])
        .await;
    let elsewhere = Browser::sign_in(&app, "booker@jardins.test").await;

    // The sign-in page leads to the form; known and unknown addresses hear the same.
    let web = Browser::new(&app);
    let (_, page, _) = web.get("/login").await;
    assert!(page.contains("href=\"/password/forgot\""), "{page}");
    let (s, known) = ask(&web, "Booker@Jardins.test").await;
    assert_eq!(s, StatusCode::OK);
    let (s, unknown) = ask(&web, "personne@nulle-part.test").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(known, unknown, "no way to tell whether an account exists");
    assert!(known.contains("Si un compte existe pour cette adresse"));
    let mails = sink.wait_for(1, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mails = if sink.messages().len() > mails.len() {
        sink.messages()
    } else {
        mails
    };
    assert_eq!(mails.len(), 1, "one mail, to the account only: {mails:?}");
    assert!(
        mails[0]["to"]
            .as_str()
            .unwrap()
            .contains("booker@jardins.test"),
        "{}",
        mails[0]
    );
    assert!(mails[0]["subject"]
        .as_str()
        .unwrap()
        .contains("nouveau mot de passe"));
    let path = link_in(&mails[0]);
    let token = path.rsplit('/').next().unwrap().to_string();
    // Only a hash of the secret is kept.
    let stored = app
        .with_conn(|c| {
            use diesel::prelude::*;
            use mutualise::store::schema::password_resets;
            Ok(mutualise::db_run!(c => password_resets::table
                .select(password_resets::token_hash)
                .load::<String>(c))?)
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    // The link: the form, the password rules, then a new password, signed in.
    let (s, page, _) = web.get(&path).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("new_password", "court"),
                ("confirm_password", "court"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("10 caractères"), "{page}");
    let (s, _, _) = web
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("new_password", "un tout nouveau secret"),
                ("confirm_password", "un autre secret encore"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, loc) = web
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("new_password", "un tout nouveau secret"),
                ("confirm_password", "un tout nouveau secret"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some("/?notice=password_reset"));
    let (s, page, _) = web.get("/?notice=password_reset").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Nouveau mot de passe enregistré"), "{page}");
    // Every other way in is closed; the old password is refused, the new one works.
    let (s, _, loc) = elsewhere.get("/bookings").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().starts_with("/login"));
    let (s, _) = app.get(&api_token, "/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_with(&app, "booker@jardins.test", common::PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_with(&app, "booker@jardins.test", "un tout nouveau secret").await,
        StatusCode::SEE_OTHER
    );

    // Once only; unknown links get the same clear page.
    let again = Browser::new(&app);
    let (s, page, _) = again.get(&path).await;
    assert_eq!(s, StatusCode::GONE);
    assert!(
        page.contains("n&#39;est plus valable") || page.contains("n'est plus valable"),
        "{page}"
    );
    assert!(page.contains("/password/forgot"));
    let (_, fresh, _) = again.get("/password/forgot").await;
    let csrf = csrf_of(&fresh);
    let (s, _, _) = again
        .post(
            &path,
            &[
                ("_csrf", &csrf),
                ("new_password", "encore un autre secret"),
                ("confirm_password", "encore un autre secret"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::GONE);
    assert_eq!(
        sign_in_with(&app, "booker@jardins.test", "encore un autre secret").await,
        StatusCode::UNAUTHORIZED
    );
    for bad in [
        format!("/password/reset/{}", "0".repeat(64)),
        "/password/reset/abc".into(),
    ] {
        let (s, _, _) = again.get(&bad).await;
        assert_eq!(s, StatusCode::GONE, "{bad}");
    }

    // A link is good for one hour of the service's clock.
    let (s, _) = ask(&again, "booker@jardins.test").await;
    assert_eq!(s, StatusCode::OK);
    let mails = sink.wait_for(2, 20).await;
    let second = link_in(&mails[1]);
    assert_ne!(second, path);
    let almost = app.same_database_at("2027-01-04T08:59:00Z").await;
    let (s, _, _) = Browser::new(&almost).get(&second).await;
    assert_eq!(s, StatusCode::OK, "59 minutes later");
    let later = app.same_database_at("2027-01-04T09:00:01Z").await;
    let (s, page, _) = Browser::new(&later).get(&second).await;
    assert_eq!(s, StatusCode::GONE, "an hour later: {page}");

    // The outbox page does not show the secret to the administrators.
    let admin_web = Browser::sign_in(&app, "admin@pole.test").await;
    let (_, page, _) = admin_web.get("/admin/outbox").await;
    assert!(!page.contains(&token), "the secret stays in the mail");

    // Throttled like sign-in, whether the address has an account or not.
    let throttled = Browser::new(&app);
    for email in ["inconnu@nulle-part.test", "booker@jardins.test"] {
        let mut last = StatusCode::OK;
        for _ in 0..6 {
            last = ask(&throttled, email).await.0;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "{email}");
    }
    // Sign-in itself is not locked by reset requests.
    assert_eq!(
        sign_in_with(&app, "booker@jardins.test", "un tout nouveau secret").await,
        StatusCode::SEE_OTHER
    );
});

both_backends!(a_form_outlives_its_session, |app: TestApp| async move {
    let p = common::pole(&app).await;
    let room = app
        .resource(
            &p.admin,
            serde_json::json!({"kind": "room", "name": "Salle Jaurès"}),
        )
        .await;
    let web = Browser::sign_in(&app, "booker@jardins.test").await;
    let (_, page, _) = web.get("/bookings/new").await;
    let csrf = csrf_of(&page);
    // The session ends while the form is open (expired, or signed out elsewhere).
    app.with_conn(|c| {
        use diesel::prelude::*;
        use mutualise::store::schema::sessions;
        mutualise::db_run!(c => diesel::delete(sessions::table).execute(c))?;
        Ok(())
    })
    .await;
    let before = app.count("bookings").await;
    let room_id = room.to_string();
    let member_id = p.member.to_string();
    let (s, _, loc) = web
        .post(
            "/bookings",
            &[
                ("_csrf", csrf.as_str()),
                ("idempotency_key", "k-1234567890abcdef"),
                ("resource_id", room_id.as_str()),
                ("member_id", member_id.as_str()),
                ("start", "2027-01-05T09:00"),
                ("end", "2027-01-05T10:30"),
                ("quantity", "1"),
                ("purpose", "Réunion du bureau & co"),
                ("password", "never carried"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let loc = loc.unwrap();
    assert!(loc.starts_with("/login?expired=1&next="), "{loc}");
    assert!(!loc.contains(&csrf) && !loc.contains("never") && !loc.contains("idempotency"));
    assert_eq!(app.count("bookings").await, before, "nothing booked");
    // The sign-in page says why and carries the way back.
    let (s, page, _) = web.get(&loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Votre session a expiré"), "{page}");
    let marker = "name=\"next\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let next = page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(next.starts_with("/bookings/new?"), "{next}");
    let login_csrf = csrf_of(&page);
    let (s, _, back) = web
        .post(
            "/login",
            &[
                ("_csrf", login_csrf.as_str()),
                ("email", "booker@jardins.test"),
                ("password", common::PASSWORD),
                ("next", next.as_str()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let back = back.unwrap();
    assert!(back.starts_with("/bookings/new?"), "{back}");
    // Back on the form, with what was typed.
    let (s, page, _) = web.get(&back).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("value=\"Réunion du bureau &amp; co\""),
        "{page}"
    );
    assert!(page.contains("value=\"2027-01-05T09:00\""), "{page}");
    assert!(page.contains("value=\"2027-01-05T10:30\""), "{page}");
    assert!(
        page.contains(&format!("<option value=\"{room}\" selected")),
        "{page}"
    );
    // Sent again, it books.
    let csrf = csrf_of(&page);
    let key_marker = "name=\"idempotency_key\" value=\"";
    let k = page.find(key_marker).unwrap() + key_marker.len();
    let key = page[k..k + page[k..].find('"').unwrap()].to_string();
    let (s, _, loc) = web
        .post(
            "/bookings",
            &[
                ("_csrf", csrf.as_str()),
                ("idempotency_key", key.as_str()),
                ("resource_id", room_id.as_str()),
                ("member_id", member_id.as_str()),
                ("start", "2027-01-05T09:00"),
                ("end", "2027-01-05T10:30"),
                ("quantity", "1"),
                ("purpose", "Réunion du bureau & co"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc:?}");
    assert_eq!(app.count("bookings").await, before + 1);
    // A sign-in page never sends elsewhere than this site.
    let (_, page, _) = Browser::new(&app)
        .get("/login?next=https://evil.test/")
        .await;
    assert!(page.contains("name=\"next\" value=\"/\""), "{page}");
});
