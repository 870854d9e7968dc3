//! The audit log: who did what to which resource, and when. Records hold ids, roles, action
//! names and counts by category, never a value from a document.

use chrono::{DateTime, Utc};
use obscura_entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Largest page of audit records.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Who acted: an API key with its role, or the system (a worker, an expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub key_id: Option<Uuid>,
    /// `admin`, `analyst`, `viewer` or `system`.
    pub role: &'static str,
}

impl Actor {
    pub const SYSTEM: Actor = Actor {
        key_id: None,
        role: "system",
    };
}

/// One thing done, to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub tenant_id: Uuid,
    pub actor: Actor,
    /// Such as `project.create` or `glossary.export`.
    pub action: &'static str,
    /// `project`, `document`, `glossary` or `job`.
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    /// Counts by category, or other counts; never a value.
    pub counts: Option<serde_json::Value>,
    pub request_id: Option<&'a str>,
}

/// Stores one record; call it in the transaction of the change it records, so that a
/// change is never without its record nor a record without its change.
pub async fn record(database: &impl ConnectionTrait, event: AuditEvent<'_>) -> Result<(), sea_orm::DbErr> {
    audit_log::ActiveModel::from(audit_log::Model {
        id: Uuid::now_v7(),
        tenant_id: event.tenant_id,
        key_id: event.actor.key_id,
        role: event.actor.role.to_owned(),
        action: event.action.to_owned(),
        resource_type: event.resource_type.to_owned(),
        resource_id: event.resource_id,
        project_id: event.project_id,
        counts: event.counts,
        request_id: event.request_id.map(str::to_owned),
        created_at: Utc::now(),
    })
    .insert(database)
    .await?;
    Ok(())
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub project_id: Option<Uuid>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// A page of the tenant's records, newest first, and how many match.
pub async fn list(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    filter: &AuditFilter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<audit_log::Model>, u64), sea_orm::DbErr> {
    let mut query = audit_log::Entity::find().filter(audit_log::Column::TenantId.eq(tenant_id));
    if let Some(project_id) = filter.project_id {
        query = query.filter(audit_log::Column::ProjectId.eq(project_id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::Column::CreatedAt.gte(since));
    }
    let total = query.clone().count(database).await?;
    let records = query
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(database)
        .await?;
    Ok((records, total))
}
