//! `glossary_entries`: the project's anonymization vault, one entry per value: its alias,
//! the keyed hash it is found by, and the original, sealed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "glossary_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub category: String,
    /// Hex keyed hash of the category and the normalized value; unique in the project and
    /// category.
    pub lookup: String,
    /// 1, 2, 3… within the category; name variants share their person's.
    pub number: i64,
    /// `PERSONA-001`.
    pub alias: String,
    pub sealing_key_id: String,
    #[sea_orm(column_type = "Text")]
    pub sealed_original: String,
    /// For people: keyed name tokens, for the name-variant rule.
    pub name_tokens: Option<Json>,
    /// Set when a reviewer merged this entry into another.
    pub merged_into: Option<Uuid>,
    pub first_seen: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
