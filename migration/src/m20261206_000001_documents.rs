//! Projects, their documents, what detection found in them and what reviewers decided, the
//! project glossary (the anonymization vault of a project) and the audit log.
//!
//! Every table carries its tenant, so that no query can reach another tenant's rows without
//! naming the tenant. Originals are only ever stored sealed.

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
                    .table(Projects::Table)
                    .col(pk_uuid(Projects::Id))
                    .col(uuid(Projects::TenantId))
                    .col(string_len(Projects::Name, 200))
                    .col(text_null(Projects::Description))
                    .col(string_len(Projects::Language, 8))
                    .col(string_len(Projects::DefaultLevel, 16))
                    .col(string_null(Projects::Profile))
                    .col(json_null(Projects::Operators))
                    .col(boolean(Projects::KeepOriginals))
                    .col(big_integer(Projects::VaultVersion))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_projects_tenant")
                            .from(Projects::Table, Projects::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_projects_tenant_name")
                    .table(Projects::Table)
                    .col(Projects::TenantId)
                    .col(Projects::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(pk_uuid(Documents::Id))
                    .col(uuid(Documents::TenantId))
                    .col(uuid(Documents::ProjectId))
                    .col(string_len(Documents::Filename, 255))
                    .col(string_len_null(Documents::Format, 16))
                    .col(big_integer(Documents::Size))
                    .col(string_len_null(Documents::Sha256, 64))
                    .col(string(Documents::StorageKey))
                    .col(integer_null(Documents::PageCount))
                    .col(string_len(Documents::State, 32))
                    .col(string_len_null(Documents::Error, 64))
                    .col(text_null(Documents::ErrorDetail))
                    .col(boolean(Documents::Uploaded))
                    .col(timestamp_with_time_zone_null(Documents::UploadExpiresAt))
                    .col(big_integer(Documents::Version))
                    .col(string_null(Documents::OutputKey))
                    .col(string_len_null(Documents::Level, 16))
                    .col(integer_null(Documents::EntitiesReplaced))
                    .col(json_null(Documents::LeakCheck))
                    .col(boolean(Documents::OriginalDeleted))
                    .col(boolean(Documents::NeedsAnonymization))
                    .col(timestamp_with_time_zone_null(Documents::DetectedAt))
                    .col(timestamp_with_time_zone_null(Documents::AnonymizedAt))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .col(timestamp_with_time_zone(Documents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_documents_project")
                            .from(Documents::Table, Documents::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_documents_project_sha256")
                    .table(Documents::Table)
                    .col(Documents::ProjectId)
                    .col(Documents::Sha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_tenant_project_state")
                    .table(Documents::Table)
                    .col(Documents::TenantId)
                    .col(Documents::ProjectId)
                    .col(Documents::State)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DetectionRuns::Table)
                    .col(pk_uuid(DetectionRuns::Id))
                    .col(uuid(DetectionRuns::TenantId))
                    .col(uuid(DetectionRuns::DocumentId))
                    .col(uuid_null(DetectionRuns::JobId))
                    .col(string_null(DetectionRuns::Profile))
                    .col(string_null(DetectionRuns::Model))
                    .col(integer(DetectionRuns::EntitiesFound))
                    .col(integer(DetectionRuns::Appeared))
                    .col(integer(DetectionRuns::Disappeared))
                    .col(json_null(DetectionRuns::SkippedRecognizers))
                    .col(timestamp_with_time_zone(DetectionRuns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_detection_runs_document")
                            .from(DetectionRuns::Table, DetectionRuns::DocumentId)
                            .to(Documents::Table, Documents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DocumentEntities::Table)
                    .col(pk_uuid(DocumentEntities::Id))
                    .col(uuid(DocumentEntities::TenantId))
                    .col(uuid(DocumentEntities::ProjectId))
                    .col(uuid(DocumentEntities::DocumentId))
                    .col(uuid_null(DocumentEntities::RunId))
                    .col(integer_null(DocumentEntities::Page))
                    .col(big_integer(DocumentEntities::Start))
                    .col(big_integer(DocumentEntities::End))
                    .col(json_null(DocumentEntities::Box))
                    .col(string_len(DocumentEntities::Category, 64))
                    .col(float(DocumentEntities::Score))
                    .col(string(DocumentEntities::Recognizer))
                    .col(float_null(DocumentEntities::OcrConfidence))
                    .col(string_len(DocumentEntities::Status, 16))
                    .col(string_len(DocumentEntities::ValueHash, 64))
                    .col(timestamp_with_time_zone(DocumentEntities::CreatedAt))
                    .col(timestamp_with_time_zone(DocumentEntities::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_document_entities_document")
                            .from(DocumentEntities::Table, DocumentEntities::DocumentId)
                            .to(Documents::Table, Documents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_document_entities_document")
                    .table(DocumentEntities::Table)
                    .col(DocumentEntities::DocumentId)
                    .col(DocumentEntities::Start)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_document_entities_project_value")
                    .table(DocumentEntities::Table)
                    .col(DocumentEntities::ProjectId)
                    .col(DocumentEntities::Category)
                    .col(DocumentEntities::ValueHash)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReviewDecisions::Table)
                    .col(pk_uuid(ReviewDecisions::Id))
                    .col(uuid(ReviewDecisions::TenantId))
                    .col(uuid(ReviewDecisions::ProjectId))
                    .col(string_len(ReviewDecisions::Category, 64))
                    .col(string_len(ReviewDecisions::ValueHash, 64))
                    .col(string_len(ReviewDecisions::Decision, 16))
                    .col(text(ReviewDecisions::SealedValue))
                    .col(uuid_null(ReviewDecisions::KeyId))
                    .col(timestamp_with_time_zone(ReviewDecisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_review_decisions_project")
                            .from(ReviewDecisions::Table, ReviewDecisions::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_review_decisions_value")
                    .table(ReviewDecisions::Table)
                    .col(ReviewDecisions::ProjectId)
                    .col(ReviewDecisions::Category)
                    .col(ReviewDecisions::ValueHash)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GlossaryEntries::Table)
                    .col(pk_uuid(GlossaryEntries::Id))
                    .col(uuid(GlossaryEntries::TenantId))
                    .col(uuid(GlossaryEntries::ProjectId))
                    .col(string_len(GlossaryEntries::Category, 64))
                    .col(string_len(GlossaryEntries::Lookup, 64))
                    .col(big_integer(GlossaryEntries::Number))
                    .col(string(GlossaryEntries::Alias))
                    .col(string(GlossaryEntries::SealingKeyId))
                    .col(text(GlossaryEntries::SealedOriginal))
                    .col(json_null(GlossaryEntries::NameTokens))
                    .col(uuid_null(GlossaryEntries::MergedInto))
                    .col(timestamp_with_time_zone(GlossaryEntries::FirstSeen))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_glossary_entries_project")
                            .from(GlossaryEntries::Table, GlossaryEntries::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Two workers that meet the same value at once store it once; the second retries.
        manager
            .create_index(
                Index::create()
                    .name("uq_glossary_entries_lookup")
                    .table(GlossaryEntries::Table)
                    .col(GlossaryEntries::ProjectId)
                    .col(GlossaryEntries::Category)
                    .col(GlossaryEntries::Lookup)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GlossaryOccurrences::Table)
                    .col(uuid(GlossaryOccurrences::EntryId))
                    .col(uuid(GlossaryOccurrences::DocumentId))
                    .col(uuid(GlossaryOccurrences::TenantId))
                    .col(integer(GlossaryOccurrences::Occurrences))
                    .primary_key(
                        Index::create()
                            .col(GlossaryOccurrences::EntryId)
                            .col(GlossaryOccurrences::DocumentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_glossary_occurrences_entry")
                            .from(GlossaryOccurrences::Table, GlossaryOccurrences::EntryId)
                            .to(GlossaryEntries::Table, GlossaryEntries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_glossary_occurrences_document")
                            .from(GlossaryOccurrences::Table, GlossaryOccurrences::DocumentId)
                            .to(Documents::Table, Documents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid(AuditLog::TenantId))
                    .col(uuid_null(AuditLog::KeyId))
                    .col(string_len(AuditLog::Role, 16))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::ResourceType, 32))
                    .col(uuid_null(AuditLog::ResourceId))
                    .col(uuid_null(AuditLog::ProjectId))
                    .col(json_null(AuditLog::Counts))
                    .col(string_null(AuditLog::RequestId))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_log_tenant")
                            .from(AuditLog::Table, AuditLog::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_tenant_time")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            GlossaryOccurrences::Table.into_iden(),
            GlossaryEntries::Table.into_iden(),
            ReviewDecisions::Table.into_iden(),
            DocumentEntities::Table.into_iden(),
            DetectionRuns::Table.into_iden(),
            Documents::Table.into_iden(),
            Projects::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Language,
    DefaultLevel,
    Profile,
    Operators,
    KeepOriginals,
    VaultVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    TenantId,
    ProjectId,
    Filename,
    Format,
    Size,
    Sha256,
    StorageKey,
    PageCount,
    State,
    Error,
    ErrorDetail,
    Uploaded,
    UploadExpiresAt,
    Version,
    OutputKey,
    Level,
    EntitiesReplaced,
    LeakCheck,
    OriginalDeleted,
    NeedsAnonymization,
    DetectedAt,
    AnonymizedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DetectionRuns {
    Table,
    Id,
    TenantId,
    DocumentId,
    JobId,
    Profile,
    Model,
    EntitiesFound,
    Appeared,
    Disappeared,
    SkippedRecognizers,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DocumentEntities {
    Table,
    Id,
    TenantId,
    ProjectId,
    DocumentId,
    RunId,
    Page,
    Start,
    End,
    Box,
    Category,
    Score,
    Recognizer,
    OcrConfidence,
    Status,
    ValueHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReviewDecisions {
    Table,
    Id,
    TenantId,
    ProjectId,
    Category,
    ValueHash,
    Decision,
    SealedValue,
    KeyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GlossaryEntries {
    Table,
    Id,
    TenantId,
    ProjectId,
    Category,
    Lookup,
    Number,
    Alias,
    SealingKeyId,
    SealedOriginal,
    NameTokens,
    MergedInto,
    FirstSeen,
}

#[derive(DeriveIden)]
enum GlossaryOccurrences {
    Table,
    EntryId,
    DocumentId,
    TenantId,
    Occurrences,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    KeyId,
    Role,
    Action,
    ResourceType,
    ResourceId,
    ProjectId,
    Counts,
    RequestId,
    CreatedAt,
}
