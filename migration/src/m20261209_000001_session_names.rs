//! Sessions a client names itself (`"session_id": "user_123_conversation_456"`), unique
//! within a tenant.

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
                    .table(AnonymizationSessions::Table)
                    .add_column(string_null(AnonymizationSessions::Name))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_anonymization_sessions_tenant_name")
                    .table(AnonymizationSessions::Table)
                    .col(AnonymizationSessions::TenantId)
                    .col(AnonymizationSessions::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_anonymization_sessions_tenant_name")
                    .table(AnonymizationSessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AnonymizationSessions::Table)
                    .drop_column(AnonymizationSessions::Name)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AnonymizationSessions {
    Table,
    TenantId,
    Name,
}
