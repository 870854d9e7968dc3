//! Tenants, API keys and job records.
//!
//! Table names avoid `jobs` and `workers`: the SQLite queue owns `Jobs` and `Workers`, and
//! SQLite compares names without case.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The id of the tenant every installation starts with.
const DEFAULT_TENANT_ID: &str = "00000000-0000-0000-0000-000000000001";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_uuid(Tenants::Id))
                    .col(string_uniq(Tenants::Name))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let default_tenant_id =
            uuid::Uuid::parse_str(DEFAULT_TENANT_ID).map_err(|error| DbErr::Custom(error.to_string()))?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Tenants::Table)
                    .columns([Tenants::Id, Tenants::Name, Tenants::CreatedAt])
                    .values_panic([default_tenant_id.into(), "default".into(), chrono::Utc::now().into()])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::TenantId))
                    .col(string(ApiKeys::Name))
                    .col(string(ApiKeys::Role))
                    .col(string_uniq(ApiKeys::LookupPrefix))
                    .col(string(ApiKeys::KeyHash))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_tenant")
                            .from(ApiKeys::Table, ApiKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobRecords::Table)
                    .col(pk_uuid(JobRecords::Id))
                    .col(uuid(JobRecords::TenantId))
                    .col(string(JobRecords::Kind))
                    .col(string(JobRecords::State))
                    .col(integer(JobRecords::Progress).default(0))
                    .col(integer(JobRecords::Attempts).default(0))
                    .col(integer(JobRecords::MaxAttempts))
                    .col(text_null(JobRecords::Error))
                    .col(json_binary_null(JobRecords::Result))
                    .col(string_null(JobRecords::RequestId))
                    .col(string_null(JobRecords::WorkerName))
                    .col(timestamp_with_time_zone(JobRecords::CreatedAt))
                    .col(timestamp_with_time_zone(JobRecords::UpdatedAt))
                    .col(timestamp_with_time_zone_null(JobRecords::StartedAt))
                    .col(timestamp_with_time_zone_null(JobRecords::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_records_tenant")
                            .from(JobRecords::Table, JobRecords::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_records_tenant_created")
                    .table(JobRecords::Table)
                    .col(JobRecords::TenantId)
                    .col(JobRecords::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Role,
    LookupPrefix,
    KeyHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum JobRecords {
    Table,
    Id,
    TenantId,
    Kind,
    State,
    Progress,
    Attempts,
    MaxAttempts,
    Error,
    Result,
    RequestId,
    WorkerName,
    CreatedAt,
    UpdatedAt,
    StartedAt,
    FinishedAt,
}
