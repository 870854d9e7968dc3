//! `detection_runs`: one detection of a document, with what it changed against the last.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "detection_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub job_id: Option<Uuid>,
    pub profile: Option<String>,
    /// The NER model that ran, if any.
    pub model: Option<String>,
    pub entities_found: i32,
    /// Spans this run found that the previous one did not, and the reverse.
    pub appeared: i32,
    pub disappeared: i32,
    /// Recognizers the run was made without, with why.
    pub skipped_recognizers: Option<Json>,
    pub created_at: DateTimeUtc,
    /// The options it ran with (`confidence_threshold`, `categories`), which anonymization
    /// detects with again.
    pub options: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
