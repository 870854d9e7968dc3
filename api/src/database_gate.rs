//! Answers at once while the database is out of reach. Without it, every request of an
//! outage would wait for the pool's acquire timeout (`database.connect_timeout_secs`) before
//! its 503. Once a request has found the database unreachable, the others are refused with
//! 503 `database_unavailable` straight away, and one request at a time, at most once a
//! second, probes the database; the first probe that succeeds opens the gate again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use obscura_platform::database::Database;

use crate::problem::ApiError;

/// How often a refused request may probe the database.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Marks a response whose request found the database out of reach.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnreachable;

/// Whether the database is known to be out of reach, shared by the API's requests.
#[derive(Debug, Default)]
pub struct DatabaseGate {
    closed: AtomicBool,
    probing: AtomicBool,
    last_probe: std::sync::Mutex<Option<Instant>>,
}

impl DatabaseGate {
    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            tracing::warn!("the database is out of reach; requests that need it are refused until it answers");
        }
    }

    /// Whether a request may go on: the gate is open, or this request's probe found the
    /// database back.
    async fn admits(&self, database: &Database) -> bool {
        if !self.closed.load(Ordering::Acquire) {
            return true;
        }
        {
            let mut last = self
                .last_probe
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < PROBE_INTERVAL) {
                return false;
            }
            *last = Some(Instant::now());
        }
        if self.probing.swap(true, Ordering::AcqRel) {
            return false;
        }
        let back = database.check().await.is_ok();
        if back {
            self.closed.store(false, Ordering::Release);
            tracing::info!("the database answers again");
        }
        self.probing.store(false, Ordering::Release);
        back
    }
}

/// What the middleware needs.
#[derive(Debug, Clone)]
pub struct GateState {
    pub gate: Arc<DatabaseGate>,
    pub database: Database,
}

/// Refuses requests while the gate is closed, and closes it when a request finds the
/// database out of reach.
pub async fn guard(State(state): State<GateState>, request: Request, next: Next) -> Response {
    if !state.gate.admits(&state.database).await {
        return ApiError::database_unreachable().into_response();
    }
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseUnreachable>().is_some() {
        state.gate.close();
    }
    response
}
