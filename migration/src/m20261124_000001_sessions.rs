//! Sanitization sessions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnonymizationSessions::Table)
                    .col(pk_uuid(AnonymizationSessions::Id))
                    .col(uuid(AnonymizationSessions::TenantId))
                    .col(timestamp_with_time_zone(AnonymizationSessions::CreatedAt))
                    .col(timestamp_with_time_zone(AnonymizationSessions::UpdatedAt))
                    .col(timestamp_with_time_zone(AnonymizationSessions::ExpiresAt))
                    .col(big_integer(AnonymizationSessions::Version))
                    .col(integer(AnonymizationSessions::PlaceholderCount))
                    .col(string(AnonymizationSessions::KeyId))
                    .col(text(AnonymizationSessions::SealedState))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_anonymization_sessions_tenant")
                            .from(AnonymizationSessions::Table, AnonymizationSessions::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_anonymization_sessions_tenant_expiry")
                    .table(AnonymizationSessions::Table)
                    .col(AnonymizationSessions::TenantId)
                    .col(AnonymizationSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AnonymizationSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AnonymizationSessions {
    Table,
    Id,
    TenantId,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
    Version,
    PlaceholderCount,
    KeyId,
    SealedState,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}
