//! `document_entities`: a span of a document's text that detection found or a reviewer
//! added, with its review status. The value itself is never stored: `value_hash` is the
//! project's keyed hash of its normalized form, for decisions that apply project-wide.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "document_entities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub document_id: Uuid,
    /// The detection run that found it; `None` for a span a reviewer added.
    pub run_id: Option<Uuid>,
    /// 1-based page, for paged formats.
    pub page: Option<i32>,
    /// Code-point offsets in the document's text, end exclusive.
    pub start: i64,
    pub end: i64,
    /// `{x, y, width, height}` on the page, where the format has positions.
    pub r#box: Option<Json>,
    pub category: String,
    pub score: f32,
    pub recognizer: String,
    pub ocr_confidence: Option<f32>,
    /// `detected`, `accepted`, `rejected`, `edited` or `added`.
    pub status: String,
    pub value_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
