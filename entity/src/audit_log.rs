//! `audit_log`: who did what to which resource, and when; counts by category, never values.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The API key that acted; `None` for the system (a worker, an expiry).
    pub key_id: Option<Uuid>,
    /// `admin`, `analyst`, `viewer` or `system`.
    pub role: String,
    /// Such as `document.upload`, `glossary.export`, `document.export_with_leaks`.
    pub action: String,
    /// `project`, `document`, `glossary` or `job`.
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    /// Counts by category, or other counts; never a value.
    pub counts: Option<Json>,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
