//! `review_decisions`: a reviewer's accept, reject, edit or add that applies to every
//! occurrence of one value and category in a document, or in every document of a project,
//! present and future.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub category: String,
    /// The project's keyed hash of the normalized value.
    pub value_hash: String,
    /// `accept`, `reject` or `add` (an edit is a reject of the old value and an add).
    pub decision: String,
    /// The value, sealed with the tenant's key: an added value is looked for in every
    /// document, so it must be kept.
    #[sea_orm(column_type = "Text")]
    pub sealed_value: String,
    /// The API key that decided.
    pub key_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// `project`, or the id of the one document it applies to.
    pub scope: String,
    /// The vault key that sealed `sealed_value`.
    pub sealing_key_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
