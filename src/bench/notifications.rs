//! `mutualise bench notifications`: the mail outbox and the calendar feeds, on a fresh
//! database of DATABASE_URL's backend (dropped afterwards).
//!
//! Mail: 1 000 bookings are made (each queues its confirmation) with no worker running, then
//! the worker sends the 1 000 queued messages to a loopback SMTP server (a minimal one in this
//! file, answering like a real server), then 1 000 more bookings are made while the worker
//! sends: booking creates per second with and without sending beside them.
//! Feeds: the render time of a resource feed of a year (2 000 events), then 32 clients
//! polling a 200-event feed over loopback HTTP, first as new readers (200) then as calendar
//! apps that already have it (`If-None-Match`, 304).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Age, TimeZone, Utc};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::allocation::{backend_name, on_fresh_database, runtime};
use super::stats::{ms, rate, table};
use crate::app::authz::Actor;
use crate::app::bookings::{self, BookingInput};
use crate::app::feeds::{self, FeedRequest, FeedScope};
use crate::app::outbox::{self, Courier};
use crate::app::App;
use crate::config::{Config, DatabaseUrl};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::member::MemberInput;
use crate::domain::resource::ResourceInput;
use crate::domain::status::BookingStatus;
use crate::domain::user::UserInput;
use crate::store::bookings::{insert, NewBooking};
use crate::store::{members as member_store, resources as resource_store, to_db};

#[derive(Debug, clap::Args)]
pub struct NotificationsArgs {
    /// Messages queued, then sent.
    #[arg(long, default_value_t = 1000)]
    pub mails: usize,
    /// Seconds of each polling phase.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent feed readers.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
}

pub fn main(args: NotificationsArgs, config: Config) -> anyhow::Result<()> {
    let rows = on_fresh_database(&config.database_url, 90, |url| {
        runtime()?.block_on(run(&args, &config, url.clone()))
    })?;
    println!(
        "Notifications et agendas, backend {}",
        backend_name(&config.database_url)
    );
    println!("{}", table(&rows));
    Ok(())
}

/// A loopback SMTP server that accepts every message and counts them.
async fn smtp_sink() -> anyhow::Result<(u16, Arc<AtomicUsize>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                // As mail servers do: replies are small and awaited one by one.
                let _ = socket.set_nodelay(true);
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(b"220 bench ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        count.fetch_add(1, Ordering::Relaxed);
                        b"250 2.0.0 accepted\r\n"
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((port, received))
}

struct Fixture {
    actor: Actor,
    member: MemberId,
    rooms: Vec<ResourceId>,
}

async fn fixture(app: &App) -> anyhow::Result<Fixture> {
    let now = app.now();
    let err = |e: crate::error::AppError| anyhow::anyhow!("{}", e.detail());
    app.db()
        .run(move |c| {
            let member = member_store::insert(
                c,
                &serde_json::from_value::<MemberInput>(
                    serde_json::json!({"name": "Membre du banc", "legal_form": "association"}),
                )
                .map_err(crate::error::AppError::internal)?
                .validate()
                .map_err(crate::error::AppError::Validation)?,
                to_db(now),
            )?
            .id;
            let mut rooms = Vec::new();
            for i in 0..10 {
                let r: ResourceInput = serde_json::from_value(
                    serde_json::json!({"kind": "room", "name": format!("Salle {i}")}),
                )
                .map_err(crate::error::AppError::internal)?;
                rooms.push(
                    resource_store::insert(
                        c,
                        &r.validate().map_err(crate::error::AppError::Validation)?,
                        to_db(now),
                    )?
                    .row
                    .id,
                );
            }
            let user = UserInput {
                email: "banc@bench.mutualise.test".into(),
                name: "Banc d'essai".into(),
                password: None,
                roles: vec!["admin".into()],
                memberships: Vec::new(),
                active: true,
            }
            .validate(false)
            .map_err(crate::error::AppError::Validation)?;
            let user = crate::app::users::create_unchecked(c, &user, "-", now)?;
            Ok(Fixture {
                actor: Actor::from_user(&user),
                member,
                rooms,
            })
        })
        .await
        .map_err(err)
}

/// Books `n` one-hour slots from `first_day` on, eight at a time (one task per room); returns
/// the time taken.
async fn book_many(app: &App, f: &Fixture, n: usize, first_day: i64) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    // The last two rooms are the feeds'.
    let rooms = &f.rooms[..f.rooms.len() - 2];
    let per_room = n.div_ceil(rooms.len());
    for (i, room) in rooms.iter().copied().enumerate() {
        let (app, actor, member) = (app.clone(), f.actor.clone(), f.member);
        let count = per_room.min(n.saturating_sub(i * per_room));
        tasks.spawn(async move {
            let base = Utc.with_ymd_and_hms(2027, 1, 5, 7, 0, 0).unwrap();
            for k in 0..count {
                let day = first_day + (k / 12) as i64;
                let s = base + Age::days(day) + Age::hours((k % 12) as i64);
                let input = BookingInput {
                    resource_id: room,
                    member_id: member,
                    start: s.to_rfc3339(),
                    end: (s + Age::hours(1)).to_rfc3339(),
                    quantity: None,
                    purpose: None,
                    beneficiary: None,
                    recurrence: None,
                    skip_conflicts: false,
                    activity: None,
                };
                bookings::book(&app, &actor, input, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(start.elapsed())
}

async fn run(
    args: &NotificationsArgs,
    config: &Config,
    url: DatabaseUrl,
) -> anyhow::Result<Vec<Vec<String>>> {
    let (port, received) = smtp_sink().await?;
    let config = Config {
        database_url: url,
        now: Some(Utc.with_ymd_and_hms(2027, 1, 4, 8, 0, 0).unwrap()),
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        public_url: "http://bench.mutualise.test".into(),
        ..config.clone()
    };
    let app = App::open(config)?;
    let courier: Arc<dyn Courier> = crate::mail::smtp::courier_of(app.config())?
        .ok_or_else(|| anyhow::anyhow!("no courier"))?;
    let f = fixture(&app).await?;
    let mut rows = vec![vec!["mesure".to_string(), "résultat".to_string()]];

    // Mail. A warm-up round first (connections, caches), not counted.
    let n = args.mails;
    book_many(&app, &f, 200, 330).await?;
    while outbox::deliver_due(&app, &courier)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?
        > 0
    {}
    received.store(0, Ordering::Relaxed);
    // The queued messages, sent with nothing else running.
    book_many(&app, &f, n, 0).await?;
    let t = Instant::now();
    while outbox::deliver_due(&app, &courier)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?
        > 0
    {}
    let drain = t.elapsed();
    anyhow::ensure!(
        received.load(Ordering::Relaxed) == n,
        "{} of {n} messages received",
        received.load(Ordering::Relaxed)
    );
    // Booking creates without and with the worker sending beside them, alternated five
    // times (medians): each booking queues its confirmation, so with the worker on, every
    // booking is also a message sent.
    let (mut alone, mut beside) = (Vec::new(), Vec::new());
    let mut day = 20;
    for _ in 0..5 {
        alone.push(book_many(&app, &f, n, day).await?);
        day += 20;
        // What the first phase queued leaves before the next one is measured.
        while outbox::deliver_due(&app, &courier)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?
            > 0
        {}
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = outbox::spawn_worker_until(app.clone(), courier.clone(), stop.clone());
        beside.push(book_many(&app, &f, n, day).await?);
        day += 20;
        stop.store(true, Ordering::Relaxed);
        worker.await?;
        while outbox::deliver_due(&app, &courier)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?
            > 0
        {}
    }
    alone.sort();
    beside.sort();
    let (alone, beside) = (alone[alone.len() / 2], beside[beside.len() / 2]);
    let per_sec = |d: Duration| n as f64 / d.as_secs_f64();
    rows.push(vec![
        format!("{n} courriels en file envoyés (SMTP local)"),
        format!("{} ({})", ms(drain), rate(per_sec(drain))),
    ]);
    rows.push(vec![
        format!("{n} réservations, sans envoi en cours (médiane de 5)"),
        rate(per_sec(alone)),
    ]);
    rows.push(vec![
        format!("{n} réservations, l'envoi tournant à côté (médiane de 5)"),
        format!(
            "{} ({:+.1} %)",
            rate(per_sec(beside)),
            (per_sec(beside) / per_sec(alone) - 1.0) * 100.0
        ),
    ]);

    // Feeds: a resource with a year of bookings, another with 200.
    let (year_room, small_room) = (f.rooms[8], f.rooms[9]);
    let (member, user) = (f.member, f.actor.user_id);
    app.db()
        .run(move |c| {
            c.write(|c| {
                let now = to_db(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
                for (room, count, step) in [(year_room, 2000usize, 4i64), (small_room, 200, 40)] {
                    for k in 0..count {
                        let s = Utc.with_ymd_and_hms(2027, 1, 4, 6, 0, 0).unwrap()
                            + Age::hours(step * k as i64 + 1000 * 24);
                        let e = s + Age::hours(1);
                        insert(
                            c,
                            &NewBooking {
                                resource_id: room,
                                member_id: member,
                                created_by: Some(user),
                                series_id: None,
                                start_at: to_db(s),
                                end_at: to_db(e),
                                block_start_at: to_db(s),
                                block_end_at: to_db(e),
                                quantity: 1,
                                exclusive: true,
                                status: BookingStatus::Confirmed,
                                purpose: "Réunion d'équipe, point mensuel; salle préparée",
                                beneficiary: None,
                                created_at: now,
                                updated_at: now,
                                activity: crate::domain::labour::Activity::Work,
                            },
                        )?;
                    }
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    let year_feed = feeds::create(
        &app,
        &f.actor,
        FeedRequest {
            scope: FeedScope::Resource,
            id: year_room.0,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    let domain = crate::mail::host_of(&app.config().public_url);
    let mut renders = Vec::new();
    let mut events = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let c = feeds::content(&app, year_feed.token.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?
            .ok_or_else(|| anyhow::anyhow!("feed missing"))?;
        let text = crate::ical::calendar(&c.name, &c.events, &domain);
        renders.push(t.elapsed());
        events = c.events.len();
        std::hint::black_box(text);
    }
    renders.sort();
    rows.push(vec![
        format!("flux d'une ressource, {events} événements (médiane)"),
        ms(renders[renders.len() / 2]),
    ]);

    // HTTP: the real router on a loopback port.
    let small = feeds::create(
        &app,
        &f.actor,
        FeedRequest {
            scope: FeedScope::Resource,
            id: small_room.0,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    let addr = crate::web::server::spawn_loopback(app.clone()).await?;
    let url = format!("http://{addr}/feeds/{}.ics", small.token);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let first = client.get(&url).send().await?;
    let etag = first
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = first.text().await?;
    let small_events = body.matches("BEGIN:VEVENT").count();
    let health = format!("http://{addr}/healthz");
    for (label, conditional) in [
        ("200 (nouveau lecteur)", false),
        ("304 (If-None-Match)", true),
        ("référence : /healthz", false),
    ] {
        let url = if label.ends_with("healthz") {
            health.clone()
        } else {
            url.clone()
        };
        let served = Arc::new(AtomicUsize::new(0));
        let stop = Instant::now() + Duration::from_secs(args.seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..args.clients {
            let (client, url, etag, served) =
                (client.clone(), url.clone(), etag.clone(), served.clone());
            tasks.spawn(async move {
                while Instant::now() < stop {
                    let mut req = client.get(&url);
                    if conditional {
                        req = req.header("If-None-Match", &etag);
                    }
                    let res = req.send().await?;
                    let expected = if conditional { 304 } else { 200 };
                    anyhow::ensure!(res.status().as_u16() == expected, "status {}", res.status());
                    res.bytes().await?;
                    served.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, anyhow::Error>(())
            });
        }
        let t = Instant::now();
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        let r = served.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64();
        rows.push(vec![
            format!(
                "flux de {small_events} événements, {} clients : {label}",
                args.clients
            ),
            rate(r),
        ]);
    }
    Ok(rows)
}
