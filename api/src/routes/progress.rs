//! Live progress: `GET /ws/progress` (a WebSocket), the single-use tickets that open it from a
//! browser, and `GET /api/v1/events`, the same events by polling.

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use obscura_entity::ws_tickets;
use obscura_platform::events::{self, Event, EventFilter};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{self, Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiQuery, Problem};
use crate::state::AppState;

/// How long a ticket opens a socket.
pub const TICKET_TTL_SECS: i64 = 30;
/// The largest page of polled events.
pub const MAX_EVENTS_PAGE: u64 = 1000;

/// A ticket that opens one progress WebSocket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WsTicket {
    /// Pass it as `?ticket=` on `/ws/progress`; it works once, until `expires_at`.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
    /// The socket's URL with the ticket.
    pub url: String,
}

/// Issues a single-use ticket for `/ws/progress`, for clients (browsers) that cannot send an
/// `Authorization` header on a WebSocket; the socket acts as the key that asked for it.
#[utoipa::path(
    post,
    path = "/ws-tickets",
    tag = "progress",
    responses(
        (status = 201, description = "The ticket, valid once for 30 s", body = WsTicket),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_ws_ticket(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<(StatusCode, ApiJson<WsTicket>), ApiError> {
    let mut secret = [0_u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let ticket = format!(
        "wst_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let now = Utc::now();
    let expires_at = now + chrono::Duration::seconds(TICKET_TTL_SECS);
    ws_tickets::ActiveModel::from(ws_tickets::Model {
        hash: ticket_hash(&ticket),
        tenant_id: principal.tenant_id,
        key_id: principal.key_id,
        role: principal.role.as_str().to_owned(),
        created_at: now,
        expires_at,
        used_at: None,
    })
    .insert(state.database.orm())
    .await
    .map_err(|error| ApiError::from(obscura_platform::database::DatabaseError::Query(error)))?;
    // Expired tickets are of no use to anyone.
    let _ = ws_tickets::Entity::delete_many()
        .filter(ws_tickets::Column::ExpiresAt.lt(now - chrono::Duration::minutes(10)))
        .exec(state.database.orm())
        .await;
    let base = state.config.server.public_url.replacen("http", "ws", 1);
    Ok((
        StatusCode::CREATED,
        ApiJson(WsTicket {
            url: format!("{base}/ws/progress?ticket={ticket}"),
            ticket,
            expires_at,
        }),
    ))
}

fn ticket_hash(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
}

/// Redeems a ticket: the principal it was issued to, once, before it expires.
async fn redeem(state: &AppState, ticket: &str) -> Result<Principal, ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "The ticket is not valid: unknown, already used, or expired. Ask POST /api/v1/ws-tickets for a new one.",
        )
    };
    let hash = ticket_hash(ticket);
    let now = Utc::now();
    let taken = ws_tickets::Entity::update_many()
        .col_expr(ws_tickets::Column::UsedAt, Expr::value(now))
        .filter(ws_tickets::Column::Hash.eq(hash.as_str()))
        .filter(ws_tickets::Column::UsedAt.is_null())
        .filter(ws_tickets::Column::ExpiresAt.gt(now))
        .exec(state.database.orm())
        .await
        .map_err(|error| ApiError::from(obscura_platform::database::DatabaseError::Query(error)))?;
    if taken.rows_affected == 0 {
        return Err(refused());
    }
    let record = ws_tickets::Entity::find_by_id(hash)
        .one(state.database.orm())
        .await
        .map_err(|error| ApiError::from(obscura_platform::database::DatabaseError::Query(error)))?
        .ok_or_else(refused)?;
    Ok(Principal {
        key_id: record.key_id,
        tenant_id: record.tenant_id,
        role: Role::parse(&record.role).ok_or_else(refused)?,
    })
}

/// How a progress socket is opened.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// A ticket from `POST /api/v1/ws-tickets`, for clients that cannot send the header.
    pub ticket: Option<String>,
    /// Resume after this event number: each subscription first receives the kept events
    /// after it (or `resync` and the current state when they are no longer kept).
    pub since: Option<i64>,
}

/// The progress WebSocket. Authenticate with `Authorization: Bearer` or `?ticket=`. Send
/// `{"action":"subscribe","document_id":...}` (or `project_id`, or `"tenant":true`) and
/// `unsubscribe` alike; each subscription first receives the current state (or, with
/// `?since=`, the events after it), then every event as it happens: `{type, seq,
/// document_id, project_id, job_id, operation, progress, status, code, message, timestamp}`,
/// `type` being `progress`, `complete` or `error`, and `lagged` or `resync` when the client
/// fell behind or the events it missed are no longer kept.
#[utoipa::path(
    get,
    path = "/ws/progress",
    tag = "progress",
    params(SocketQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket request, or a bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid key or ticket", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn progress_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SocketQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if query.since.is_some_and(|since| since < 0) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.since",
            "must be 0 or more",
        ));
    }
    let principal = match &query.ticket {
        Some(ticket) => redeem(&state, ticket).await?,
        None => {
            let key = auth::bearer_from_headers(&headers)?;
            auth::authenticate(&state.database, &state.key_cache, &key).await?
        }
    };
    let since = query.since;
    Ok(upgrade
        .read_buffer_size(SOCKET_READ_BUFFER)
        .on_upgrade(move |socket| crate::socket::run(state, principal, since, socket)))
}

/// Clients send only short subscription messages, so a socket's read buffer is small: with
/// the library's 128 KiB default, a thousand idle sockets would hold 128 MiB.
const SOCKET_READ_BUFFER: usize = 4096;

/// Which events to poll.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The last event number seen; 0 (the default) for every kept event.
    pub since: Option<i64>,
    pub project_id: Option<Uuid>,
    pub document_id: Option<Uuid>,
    /// At most this many events (1 to 1000, default 100).
    pub limit: Option<u64>,
}

/// A page of events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
    /// Ask with `since` set to this next.
    pub next_since: i64,
    /// Events after `since` are no longer kept (older than `events.retention_secs`): read
    /// the current state (documents, jobs) again, then poll from `next_since`.
    pub resync_needed: bool,
}

/// The tenant's progress events after `since`, oldest first, for clients that cannot hold
/// a WebSocket; the same events the socket sends.
#[utoipa::path(
    get,
    path = "/events",
    tag = "progress",
    params(EventsQuery),
    responses(
        (status = 200, description = "Events after `since`", body = EventList),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or document for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<ApiJson<EventList>, ApiError> {
    let since = query.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.since",
            "must be 0 or more",
        ));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "query.limit",
            format!("must be between 1 and {MAX_EVENTS_PAGE}"),
        ));
    }
    if let Some(project_id) = query.project_id {
        obscura_platform::projects::find(state.database.orm(), principal.tenant_id, project_id).await?;
    }
    if let Some(document_id) = query.document_id {
        obscura_platform::documents::get(state.database.orm(), principal.tenant_id, document_id).await?;
    }
    let page = events::after(
        state.database.orm(),
        principal.tenant_id,
        since,
        EventFilter {
            project_id: query.project_id,
            document_id: query.document_id,
        },
        limit,
    )
    .await
    .map_err(|error| ApiError::from(obscura_platform::database::DatabaseError::Query(error)))?;
    Ok(ApiJson(EventList {
        events: page.events,
        next_since: page.next_since,
        resync_needed: page.gap,
    }))
}
