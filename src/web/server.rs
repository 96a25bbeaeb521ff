//! The HTTP server around the router: how long a client may take, how many connections are
//! served at once, and how the process stops.
//!
//! `axum::serve` has no timeouts and no connection limit: a client sending half a request
//! header kept a connection (and, after SIGTERM, the whole process) alive forever, and a
//! thousand idle sockets exhausted the file descriptors. Here each connection is served by
//! hyper's HTTP/1 connection with a header-read timeout (which also closes kept-alive
//! connections left idle), each request has a deadline, at most `max_connections` are served
//! (the next ones get a short 503), and a shutdown lets requests in flight finish for a grace
//! period before cutting whoever is left.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::ServerLimits;
use crate::error::AppError;
use crate::web::problem::plain_problem;

/// Connections refused at once beyond the limit; past this, sockets are closed unanswered so
/// that refusing cannot itself exhaust the file descriptors.
const REFUSALS_IN_FLIGHT: usize = 64;

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish for `limits.shutdown_grace` and returns; connections still open then are dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = with_request_deadline(router, limits.request_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before accept): wait a
                    // little rather than spin; the connections being served free some.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(slot);
                });
            }
            tracing::warn!(%peer, limit = limits.max_connections, "connection limit reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = permits.available_permits();
    tracing::info!(
        connections = limits.max_connections - open,
        grace_seconds = limits.shutdown_grace.as_secs(),
        "no longer accepting; finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            let left = limits.max_connections - permits.available_permits();
            tracing::warn!(connections = left, "shutdown deadline passed; remaining connections cut");
        }
    }
    Ok(())
}

/// The answer past the connection limit: a complete 503 with `Retry-After`, then close. The
/// request is read first (briefly) so that closing does not reset the connection before the
/// client has read the answer.
async fn refuse(mut stream: TcpStream) {
    let mut buf = [0u8; 2048];
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
    let body = plain_problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        "Service indisponible",
        "Le service reçoit trop de connexions en ce moment ; réessayez dans un instant.",
    )
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// Every request gets `timeout` to be received and answered. Past it the answer is 408 if the
/// client had not finished sending its body, 503 if the service was the slow one.
fn with_request_deadline(router: Router, timeout: Duration) -> Router {
    router.layer(middleware::from_fn(move |req: Request, next: Next| {
        deadline(timeout, req, next)
    }))
}

async fn deadline(timeout: Duration, req: Request, next: Next) -> Response {
    let received = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        if body.is_end_stream() {
            received.store(true, Ordering::Relaxed);
        }
        Body::new(Tracked {
            inner: body,
            received: received.clone(),
        })
    });
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) if !received.load(Ordering::Relaxed) => {
            tracing::info!(
                seconds = timeout.as_secs(),
                "request body not received in time"
            );
            let status = StatusCode::REQUEST_TIMEOUT;
            let body = plain_problem(
                status,
                "request_timeout",
                "Requête trop lente",
                "La requête n'a pas été reçue à temps ; renvoyez-la.",
            );
            let mut r = (status, axum::Json(body)).into_response();
            let headers = r.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
        Err(_) => AppError::Unavailable(format!(
            "no answer within the request deadline ({} s)",
            timeout.as_secs()
        ))
        .into_response(),
    }
}

/// A request body that records when it has been read to its end.
struct Tracked {
    inner: Body,
    received: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.received.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `app` on a free loopback port in the background (benchmarks and tests), with the
/// limits of its configuration, until the runtime ends; returns the address.
pub async fn spawn_loopback(app: crate::App) -> std::io::Result<SocketAddr> {
    let limits = app.config().server;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = crate::web::build_app(app);
    tokio::spawn(async move {
        if let Err(e) = serve(listener, router, limits, std::future::pending()).await {
            tracing::error!(error = %e, "loopback server stopped");
        }
    });
    Ok(addr)
}
