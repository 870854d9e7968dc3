//! `ws_tickets`: single-use, short-lived tickets that open a progress WebSocket, for
//! browsers that cannot send an `Authorization` header on one. Only a hash is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ws_tickets")]
pub struct Model {
    /// SHA-256 of the ticket, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub tenant_id: Uuid,
    /// The key that asked for the ticket; the socket acts as it.
    pub key_id: Uuid,
    pub role: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when the ticket opened a socket; it opens no other.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
