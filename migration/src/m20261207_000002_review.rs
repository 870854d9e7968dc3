//! What review needs beyond the first schema: where in a document an entity was (the part
//! of the file and its paragraph) and its value, sealed, for reviewers; decisions that apply
//! to one document as well as to a whole project; and the options a detection ran with, so
//! that anonymization detects as the reviewed run did; the step a job is at, as a code
//! and its words; and what a presigned upload announced (its type, SHA-256 and whether to
//! detect it on completion) and when its one PUT arrived.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            string_null(DocumentEntities::Location),
            integer_null(DocumentEntities::Paragraph),
            text_null(DocumentEntities::SealedValue),
            string_null(DocumentEntities::SealingKeyId),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DocumentEntities::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(DetectionRuns::Table)
                    .add_column(json_null(DetectionRuns::Options))
                    .to_owned(),
            )
            .await?;
        for column in [
            string_len_null(JobRecords::ProgressCode, 64),
            string_null(JobRecords::ProgressMessage),
        ] {
            manager
                .alter_table(Table::alter().table(JobRecords::Table).add_column(column).to_owned())
                .await?;
        }
        for column in [
            string_len_null(Documents::ContentType, 128),
            string_len_null(Documents::AnnouncedSha256, 64),
            boolean(Documents::DetectOnComplete).default(false).to_owned(),
            timestamp_with_time_zone_null(Documents::UploadReceivedAt),
        ] {
            manager
                .alter_table(Table::alter().table(Documents::Table).add_column(column).to_owned())
                .await?;
        }
        // `project`, or the id of the one document a decision applies to.
        for column in [
            string_len(ReviewDecisions::Scope, 40).default("project").to_owned(),
            string_null(ReviewDecisions::SealingKeyId),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ReviewDecisions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_review_decisions_value")
                    .table(ReviewDecisions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_review_decisions_scope_value")
                    .table(ReviewDecisions::Table)
                    .col(ReviewDecisions::ProjectId)
                    .col(ReviewDecisions::Scope)
                    .col(ReviewDecisions::Category)
                    .col(ReviewDecisions::ValueHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_review_decisions_scope_value")
                    .table(ReviewDecisions::Table)
                    .to_owned(),
            )
            .await?;
        // Document decisions have no place in the old index.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM review_decisions WHERE scope <> 'project'")
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
        for column in [ReviewDecisions::SealingKeyId, ReviewDecisions::Scope] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ReviewDecisions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(DetectionRuns::Table)
                    .drop_column(DetectionRuns::Options)
                    .to_owned(),
            )
            .await?;
        for column in [
            Documents::UploadReceivedAt,
            Documents::DetectOnComplete,
            Documents::AnnouncedSha256,
            Documents::ContentType,
        ] {
            manager
                .alter_table(Table::alter().table(Documents::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [JobRecords::ProgressMessage, JobRecords::ProgressCode] {
            manager
                .alter_table(Table::alter().table(JobRecords::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [
            DocumentEntities::SealingKeyId,
            DocumentEntities::SealedValue,
            DocumentEntities::Paragraph,
            DocumentEntities::Location,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DocumentEntities::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DocumentEntities {
    Table,
    Location,
    Paragraph,
    SealedValue,
    SealingKeyId,
}

#[derive(DeriveIden)]
enum DetectionRuns {
    Table,
    Options,
}

#[derive(DeriveIden)]
enum ReviewDecisions {
    Table,
    ProjectId,
    Scope,
    Category,
    ValueHash,
    SealingKeyId,
}

#[derive(DeriveIden)]
enum JobRecords {
    Table,
    ProgressCode,
    ProgressMessage,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    ContentType,
    AnnouncedSha256,
    DetectOnComplete,
    UploadReceivedAt,
}
