//! Progress events: a per-tenant sequence, the events themselves (kept for a while, for
//! clients that resume), single-use WebSocket tickets, and the project a job works in.

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
                    .table(EventSequences::Table)
                    .col(pk_uuid(EventSequences::TenantId))
                    .col(big_integer(EventSequences::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(uuid(Events::TenantId))
                    .col(big_integer(Events::Seq))
                    .col(string_len(Events::Kind, 16))
                    .col(uuid_null(Events::DocumentId))
                    .col(uuid_null(Events::ProjectId))
                    .col(uuid_null(Events::JobId))
                    .col(string_len_null(Events::Operation, 32))
                    .col(integer_null(Events::Progress))
                    .col(string_len_null(Events::Status, 32))
                    .col(string_len_null(Events::Code, 64))
                    .col(text_null(Events::Message))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .primary_key(Index::create().col(Events::TenantId).col(Events::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_created_at")
                    .table(Events::Table)
                    .col(Events::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WsTickets::Table)
                    .col(string_len(WsTickets::Hash, 64).primary_key())
                    .col(uuid(WsTickets::TenantId))
                    .col(uuid(WsTickets::KeyId))
                    .col(string_len(WsTickets::Role, 16))
                    .col(timestamp_with_time_zone(WsTickets::CreatedAt))
                    .col(timestamp_with_time_zone(WsTickets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(WsTickets::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(JobRecords::Table)
                    .add_column(uuid_null(JobRecords::ProjectId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(JobRecords::Table)
                    .drop_column(JobRecords::ProjectId)
                    .to_owned(),
            )
            .await?;
        for table in [
            WsTickets::Table.into_iden(),
            Events::Table.into_iden(),
            EventSequences::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum EventSequences {
    Table,
    TenantId,
    LastSeq,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    TenantId,
    Seq,
    Kind,
    DocumentId,
    ProjectId,
    JobId,
    Operation,
    Progress,
    Status,
    Code,
    Message,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WsTickets {
    Table,
    Hash,
    TenantId,
    KeyId,
    Role,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum JobRecords {
    Table,
    ProjectId,
}
