//! SeaORM entities of Obscura's database, one module per table.

pub mod anonymization_sessions;
pub mod api_keys;
pub mod job_records;
pub mod tenants;

/// The tenant every embedded installation starts with; created by the first migration.
pub const DEFAULT_TENANT_ID: uuid::Uuid = uuid::Uuid::from_u128(1);
