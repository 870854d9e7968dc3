//! SeaORM entities of Obscura's database, one module per table.

pub mod anonymization_sessions;
pub mod api_keys;
pub mod audit_log;
pub mod detection_runs;
pub mod document_entities;
pub mod documents;
pub mod events;
pub mod glossary_entries;
pub mod glossary_occurrences;
pub mod job_records;
pub mod projects;
pub mod review_decisions;
pub mod tenants;
pub mod ws_tickets;

/// The tenant every embedded installation starts with; created by the first migration.
pub const DEFAULT_TENANT_ID: uuid::Uuid = uuid::Uuid::from_u128(1);
