//! `projects`: a tenant's collection of documents that share settings and one glossary, so
//! that the same person has the same alias in every document of the project.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique within the tenant.
    pub name: String,
    pub description: Option<String>,
    /// `es`, `en` or `auto`.
    pub language: String,
    /// `BASIC`, `INTERMEDIATE` or `ADVANCED`.
    pub default_level: String,
    /// The detection profile; `None` for the language's default.
    pub profile: Option<String>,
    /// Operators by entity type, overriding the level's.
    pub operators: Option<Json>,
    /// Whether a document's original stays stored once it is anonymized and checked.
    pub keep_originals: bool,
    /// Bumped by every write to the project's glossary; a write that finds another version
    /// lost a race and runs again on the fresh glossary.
    pub vault_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the project was deleted; the `delete` job then removes it.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
