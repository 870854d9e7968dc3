//! `document_entities`: a span of a document's text that detection found or a reviewer
//! added, with its review status. The value is stored only sealed, for reviewers;
//! `value_hash` is the tenant's keyed hash of its category and normalized form, for
//! decisions that apply to every occurrence of a value.

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
    /// Code-point offsets in the text of `location`, end exclusive.
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
    /// The part of the file: `text`, `page 3`, `word/document.xml`, a JSON path, a cell.
    pub location: Option<String>,
    /// The paragraph within the part, when it has paragraphs.
    pub paragraph: Option<i32>,
    /// The value, sealed with the tenant's vault key; `None` once the original is deleted.
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_value: Option<String>,
    pub sealing_key_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
