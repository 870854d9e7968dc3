//! `/api/v1/audit`: the tenant's audit log, for admins.

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use obscura_entity::audit_log;
use obscura_platform::audit::{self, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiQuery, Problem};
use crate::routes::jobs::PageQuery;
use crate::state::AppState;

/// Which records to list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only records about this project.
    pub project_id: Option<Uuid>,
    /// Only this action, such as `project.create`.
    pub action: Option<String>,
    /// Only records made at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Records per page, 1 to 500 (default 50).
    pub limit: Option<u64>,
    /// Records to skip (default 0).
    pub offset: Option<u64>,
}

/// One audit record: who, what, when, which resource, and counts; never a value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub id: Uuid,
    /// The API key that acted; absent for the system.
    pub key_id: Option<Uuid>,
    /// `admin`, `analyst`, `viewer` or `system`.
    pub role: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub counts: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditRecordView {
    fn from(record: audit_log::Model) -> AuditRecordView {
        AuditRecordView {
            id: record.id,
            key_id: record.key_id,
            role: record.role,
            action: record.action,
            resource_type: record.resource_type,
            resource_id: record.resource_id,
            project_id: record.project_id,
            counts: record.counts,
            request_id: record.request_id,
            created_at: record.created_at,
        }
    }
}

/// A page of audit records, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecordView>,
    /// Records that match, in all.
    pub total: u64,
}

/// Lists the tenant's audit records, newest first. Admin only.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of records", body = AuditPage),
        (status = 400, description = "Invalid filters or paging", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_audit_records(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    principal.require(&[Role::Admin])?;
    let (limit, offset) = PageQuery {
        limit: query.limit,
        offset: query.offset,
    }
    .checked(audit::MAX_PAGE_SIZE)?;
    let filter = AuditFilter {
        project_id: query.project_id,
        action: query.action,
        since: query.since,
    };
    let (records, total) = audit::list(state.database.orm(), principal.tenant_id, &filter, limit, offset)
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiJson(AuditPage {
        items: records.into_iter().map(AuditRecordView::from).collect(),
        total,
    }))
}
