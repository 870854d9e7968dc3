//! `api_keys`: bearer keys, kept only as an argon2 hash behind a lookup prefix.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
    /// The first 16 hex digits of the key's SHA-256; not secret.
    #[sea_orm(unique)]
    pub lookup_prefix: String,
    /// The argon2id PHC string of the whole key.
    pub key_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
