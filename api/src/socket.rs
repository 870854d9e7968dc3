//! One progress WebSocket: its subscriptions, the current state it is first sent, the
//! events it is sent in sequence order with no gap, and what happens when it falls behind.
//!
//! Events come from the process's feed (see `obscura_platform::events`). The socket keeps
//! the last number it handled; an event further on means some were missed (a slow feed, a
//! lost announcement), and they are read from the database first. Messages wait in a
//! bounded queue (`events.socket_buffer`) in front of a writer task: when it is full, the
//! client is sent `lagged`, then `resync` and the current state, and never an unbounded
//! backlog. A replay and the current state are bounded batches: they wait for room in the
//! queue rather than count as falling behind. A ping goes out every 20 s; a client silent for 60 s is closed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use obscura_entity::{documents, job_records};
use obscura_platform::events::{self, Event, EventFilter};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::auth::Principal;
use crate::state::AppState;

const PING_INTERVAL: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// A send that takes longer is a dead connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Documents whose current state a subscription is first sent, most recently changed first.
pub const MAX_CURRENT_STATE: u64 = 1000;
/// Events read at once to fill a gap or replay.
const PAGE: u64 = 500;

/// What a socket is subscribed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscription {
    Document(Uuid),
    Project(Uuid),
    Tenant,
}

impl Subscription {
    fn matches(self, event: &Event) -> bool {
        match self {
            Subscription::Document(id) => event.document_id == Some(id),
            Subscription::Project(id) => event.project_id == Some(id),
            Subscription::Tenant => true,
        }
    }

    fn filter(self) -> EventFilter {
        match self {
            Subscription::Document(id) => EventFilter {
                document_id: Some(id),
                project_id: None,
            },
            Subscription::Project(id) => EventFilter {
                project_id: Some(id),
                document_id: None,
            },
            Subscription::Tenant => EventFilter::default(),
        }
    }
}

/// A message from the client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    action: String,
    document_id: Option<Uuid>,
    project_id: Option<Uuid>,
    tenant: Option<bool>,
}

struct Session {
    state: AppState,
    principal: Principal,
    /// The last event number handled.
    cursor: i64,
    /// Where the client resumes from, for each new subscription.
    since: Option<i64>,
    subscriptions: Vec<Subscription>,
    out: mpsc::Sender<Message>,
    /// The queue was full: the client is owed `lagged` and a resync.
    lagging: bool,
}

/// Serves one socket until the client leaves, falls silent, or the server stops.
pub async fn run(state: AppState, principal: Principal, since: Option<i64>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::channel::<Message>(state.config.events.socket_buffer);
    let writer = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            let closing = matches!(message, Message::Close(_));
            match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
                Ok(Ok(())) if !closing => {}
                Ok(Ok(()) | Err(_)) | Err(_) => break,
            }
        }
        let _ = sink.close().await;
    });
    let mut feed = state.feed.subscribe();
    let cursor = match events::last_seq(state.database.orm(), principal.tenant_id).await {
        Ok(last) => last,
        Err(error) => {
            tracing::warn!(error = %error, "could not read the event counter; closing the socket");
            let _ = out.send(close(1011, "the database is unavailable")).await;
            drop(out);
            let _ = writer.await;
            return;
        }
    };
    let mut session = Session {
        state: state.clone(),
        principal,
        cursor,
        since,
        subscriptions: Vec::new(),
        out,
        lagging: false,
    };
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    let mut heard = Instant::now();
    loop {
        if session.lagging && session.out.capacity() * 2 >= session.out.max_capacity() {
            session.catch_up().await;
        }
        tokio::select! {
            // While lagging, look again soon for room in the queue.
            () = tokio::time::sleep(Duration::from_millis(100)), if session.lagging => {}
            () = state.shutdown.cancelled() => {
                let _ = session.out.try_send(close(1001, "the server is stopping"));
                break;
            }
            incoming = stream.next() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => session.command(text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => session.refuse("invalid_message", "messages are JSON text"),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                }
            }
            received = feed.recv() => match received {
                Ok(event) => session.deliver(&event).await,
                // The feed dropped events for this socket because the server was busy, not
                // the client: they are read from the database instead.
                Err(broadcast::error::RecvError::Lagged(_)) => session.read_missed().await,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_LIMIT {
                    let _ = session.out.try_send(close(1001, "no answer to pings"));
                    break;
                }
                session.send(Message::Ping(Default::default()));
            }
        }
    }
    drop(session);
    let _ = writer.await;
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

impl Session {
    /// Queues a message; a full queue leaves the client lagging.
    fn send(&mut self, message: Message) -> bool {
        if self.lagging {
            return false;
        }
        match self.out.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagging = true;
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a message of a bounded batch (a replay or the current state), waiting for room
    /// instead of counting the client as lagging: a batch longer than the queue would
    /// otherwise overflow it on every resync, and the client would never catch up. A client
    /// that takes no message for [`SEND_TIMEOUT`] is left lagging.
    async fn send_waiting(&mut self, value: &serde_json::Value) -> bool {
        if self.lagging {
            return false;
        }
        let message = Message::Text(value.to_string().into());
        match tokio::time::timeout(SEND_TIMEOUT, self.out.send(message)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                self.lagging = true;
                false
            }
        }
    }

    fn send_json(&mut self, value: &serde_json::Value) -> bool {
        self.send(Message::Text(value.to_string().into()))
    }

    fn send_event(&mut self, event: &Event) -> bool {
        match serde_json::to_value(event) {
            Ok(value) => self.send_json(&value),
            Err(_) => false,
        }
    }

    /// Tells the client its message was not understood; nothing else changes.
    fn refuse(&mut self, code: &str, message: &str) {
        self.send_json(&json!({ "type": "error", "code": code, "message": message }));
    }

    async fn command(&mut self, text: &str) {
        let command: Command = match serde_json::from_str(text) {
            Ok(command) => command,
            Err(error) => {
                let message = format!("not a command: {error}; send {{\"action\":\"subscribe\",\"project_id\":...}}");
                self.refuse("invalid_message", &message);
                return;
            }
        };
        let subscription = match (command.document_id, command.project_id, command.tenant) {
            (Some(id), None, None | Some(false)) => Subscription::Document(id),
            (None, Some(id), None | Some(false)) => Subscription::Project(id),
            (None, None, Some(true)) => Subscription::Tenant,
            _ => {
                self.refuse(
                    "invalid_message",
                    "name exactly one of `document_id`, `project_id` or `\"tenant\": true`",
                );
                return;
            }
        };
        match command.action.as_str() {
            "subscribe" => self.subscribe(subscription).await,
            "unsubscribe" => self.subscriptions.retain(|existing| *existing != subscription),
            other => {
                let message = format!("unknown action {other:?}; use subscribe or unsubscribe");
                self.refuse("invalid_message", &message);
            }
        }
    }

    async fn subscribe(&mut self, subscription: Subscription) {
        let tenant_id = self.principal.tenant_id;
        let database = self.state.database.orm();
        let known = match subscription {
            Subscription::Document(id) => obscura_platform::documents::get(database, tenant_id, id).await.is_ok(),
            Subscription::Project(id) => obscura_platform::projects::find(database, tenant_id, id).await.is_ok(),
            Subscription::Tenant => true,
        };
        if !known {
            self.refuse("not_found", "no such document or project for this key");
            return;
        }
        if !self.subscriptions.contains(&subscription) {
            self.subscriptions.push(subscription);
        }
        match self.since {
            // Resuming: what happened since, up to where live events start.
            Some(since) => self.replay(subscription, since).await,
            None => self.current_state(subscription).await,
        }
    }

    /// Sends the kept events of `subscription` after `since`, up to the cursor; or `resync`
    /// and the current state when some are no longer kept.
    async fn replay(&mut self, subscription: Subscription, since: i64) {
        if since > self.cursor {
            // A number this server never gave (its data was reset): start over.
            self.send_json(&json!({ "type": "resync", "seq": self.cursor }));
            self.current_state(subscription).await;
            return;
        }
        let mut from = since;
        while from < self.cursor {
            let page = match events::after(
                self.state.database.orm(),
                self.principal.tenant_id,
                from,
                subscription.filter(),
                PAGE,
            )
            .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(error = %error, "could not read events to replay");
                    self.refuse("unavailable", "events could not be read; subscribe again");
                    return;
                }
            };
            if page.gap {
                self.send_json(&json!({ "type": "resync", "seq": self.cursor }));
                self.current_state(subscription).await;
                return;
            }
            let cursor = self.cursor;
            for event in page.events.iter().filter(|event| event.seq <= cursor) {
                let Ok(value) = serde_json::to_value(event) else {
                    continue;
                };
                if !self.send_waiting(&value).await {
                    return;
                }
            }
            if page.next_since <= from {
                break;
            }
            from = page.next_since;
        }
    }

    /// Sends a live event, after any it skipped over.
    async fn deliver(&mut self, event: &Arc<Event>) {
        if event.tenant_id != self.principal.tenant_id || event.seq <= self.cursor {
            return;
        }
        if event.seq > self.cursor + 1 {
            // Some were missed: read them first, in order.
            match events::after(
                self.state.database.orm(),
                self.principal.tenant_id,
                self.cursor,
                EventFilter::default(),
                PAGE,
            )
            .await
            {
                Ok(page) if !page.gap => {
                    for missed in page.events.iter().filter(|missed| missed.seq < event.seq) {
                        self.cursor = missed.seq;
                        if self.wants(missed) {
                            self.send_event(missed);
                        }
                    }
                }
                Ok(_) | Err(_) => {
                    self.lagging = true;
                    return;
                }
            }
        }
        self.cursor = event.seq;
        if self.wants(event) {
            self.send_event(event);
        }
    }

    /// Sends the events after the cursor that the process's feed dropped, read from the
    /// database; only if they are no longer kept, or the client's queue is full, does the
    /// client hear it lagged.
    async fn read_missed(&mut self) {
        loop {
            let page = events::after(
                self.state.database.orm(),
                self.principal.tenant_id,
                self.cursor,
                EventFilter::default(),
                PAGE,
            )
            .await;
            match page {
                Ok(page) if !page.gap => {
                    for event in &page.events {
                        self.cursor = event.seq;
                        if self.wants(event) {
                            self.send_event(event);
                        }
                    }
                    if page.events.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                        return;
                    }
                }
                Ok(_) | Err(_) => {
                    self.lagging = true;
                    return;
                }
            }
        }
    }

    fn wants(&self, event: &Event) -> bool {
        self.subscriptions
            .iter()
            .any(|subscription| subscription.matches(event))
    }

    /// After falling behind: `lagged`, `resync`, and the current state of every subscription.
    async fn catch_up(&mut self) {
        self.lagging = false;
        let last = match events::last_seq(self.state.database.orm(), self.principal.tenant_id).await {
            Ok(last) => last,
            Err(_) => {
                self.lagging = true;
                return;
            }
        };
        let missed_from = self.cursor;
        self.cursor = Ord::max(last, self.cursor);
        self.send_json(&json!({ "type": "lagged", "seq": missed_from }));
        self.send_json(&json!({ "type": "resync", "seq": self.cursor }));
        for subscription in self.subscriptions.clone() {
            self.current_state(subscription).await;
        }
    }

    /// Sends the current state of each document of `subscription`, as events marked
    /// `"current": true` numbered with the cursor.
    async fn current_state(&mut self, subscription: Subscription) {
        let database = self.state.database.orm();
        let mut query = documents::Entity::find()
            .filter(documents::Column::TenantId.eq(self.principal.tenant_id))
            .filter(documents::Column::Uploaded.eq(true))
            .filter(documents::Column::DeletedAt.is_null());
        query = match subscription {
            Subscription::Document(id) => query.filter(documents::Column::Id.eq(id)),
            Subscription::Project(id) => query.filter(documents::Column::ProjectId.eq(id)),
            Subscription::Tenant => query,
        };
        let rows = match query
            .order_by_desc(documents::Column::UpdatedAt)
            .limit(MAX_CURRENT_STATE)
            .all(database)
            .await
        {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(error = %error, "could not read the current state");
                self.refuse("unavailable", "the current state could not be read; subscribe again");
                return;
            }
        };
        let ids: Vec<Uuid> = rows.iter().map(|document| document.id).collect();
        let jobs = job_records::Entity::find()
            .filter(job_records::Column::DocumentId.is_in(ids))
            .order_by_desc(job_records::Column::CreatedAt)
            .all(database)
            .await
            .unwrap_or_default();
        for document in rows {
            let job = jobs.iter().find(|job| job.document_id == Some(document.id));
            let event = current(&document, job, self.cursor);
            let mut value = serde_json::to_value(&event).unwrap_or_default();
            value["current"] = json!(true);
            if !self.send_waiting(&value).await {
                return;
            }
        }
    }
}

/// A document's state as an event: `complete` when detected or anonymized, `error` in
/// ERROR, `progress` otherwise, with its latest job's progress and step.
fn current(document: &documents::Model, job: Option<&job_records::Model>, seq: i64) -> Event {
    use obscura_platform::documents::state;
    let (kind, progress, code, message) = match document.state.as_str() {
        state::DETECTION_COMPLETE | state::ANONYMIZATION_COMPLETE => (
            events::kind::COMPLETE,
            100,
            document.state.to_lowercase(),
            "done".to_owned(),
        ),
        state::ERROR => (
            events::kind::ERROR,
            job.map_or(0, |job| job.progress),
            document.error.clone().unwrap_or_else(|| "error".into()),
            document
                .error_detail
                .clone()
                .unwrap_or_else(|| "the document could not be processed".into()),
        ),
        _ => (
            events::kind::PROGRESS,
            job.map_or(0, |job| job.progress),
            job.and_then(|job| job.progress_code.clone())
                .unwrap_or_else(|| document.state.to_lowercase()),
            job.and_then(|job| job.progress_message.clone())
                .unwrap_or_else(|| "waiting".into()),
        ),
    };
    Event {
        kind: kind.to_owned(),
        seq,
        tenant_id: document.tenant_id,
        document_id: Some(document.id),
        project_id: Some(document.project_id),
        job_id: job.map(|job| job.id),
        operation: job.map(|job| job.kind.clone()),
        progress: Some(progress),
        status: Some(document.state.clone()),
        code: Some(code),
        message: Some(message),
        timestamp: Utc::now(),
    }
}
