//! The document a job works on, so that a cancelled job hands its document back and a job's
//! record names what it is about.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(JobRecords::Table)
                    .add_column(uuid_null(JobRecords::DocumentId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(JobRecords::Table)
                    .drop_column(JobRecords::DocumentId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum JobRecords {
    Table,
    DocumentId,
}
