//! `anonymization_sessions`: server-side state of reversible sanitization (the mask map
//! and the alias vault), sealed with the tenant's key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "anonymization_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The id the client chose for the session, if it chose one; unique in the tenant.
    pub name: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Past this the session is gone.
    pub expires_at: DateTimeUtc,
    /// Bumped by every write; a write that finds another version lost a race.
    pub version: i64,
    /// Placeholders in the mask map, for listings.
    pub placeholder_count: i32,
    /// The id of the key that sealed the state.
    pub key_id: String,
    /// Hex of the sealed JSON state; never the clear text.
    #[sea_orm(column_type = "Text")]
    pub sealed_state: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
