//! SeaORM migrations of Obscura's database, written with the schema builder so that they run
//! on both PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261124_000001_sessions;
mod m20261206_000001_documents;
mod m20261207_000001_deletions;
mod m20261207_000002_review;
mod m20261207_000003_job_documents;
mod m20261208_000001_events;
mod m20261209_000001_session_names;

/// Applies every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261124_000001_sessions::Migration),
            Box::new(m20261206_000001_documents::Migration),
            Box::new(m20261207_000001_deletions::Migration),
            Box::new(m20261207_000002_review::Migration),
            Box::new(m20261207_000003_job_documents::Migration),
            Box::new(m20261208_000001_events::Migration),
            Box::new(m20261209_000001_session_names::Migration),
        ]
    }
}
