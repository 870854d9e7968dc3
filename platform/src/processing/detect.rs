//! The detection of a document: its file read, its entities found with the decisions that
//! apply to it, and stored in place of an earlier run's.

use std::collections::BTreeSet;

use chrono::Utc;
use obscura_anonymization::vault::MemoryVault;
use obscura_anonymization::{Level, Policy};
use obscura_entity::{detection_runs, document_entities, documents};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::pipeline::{self, Pipeline};
use super::{Engine, ProcessingError, counts_by_category, current};
use crate::audit::{self, Actor, AuditEvent};
use crate::database::Database;
use crate::documents::state;
use crate::jobs::DetectionSettings;
use crate::projects;
use crate::review::{Decisions, page_of, value_hash};
use crate::services::detection::{DetectSettings, prepare};
use crate::storage::BlobStore;

/// Rows written per statement.
const INSERT_CHUNK: usize = 500;

/// One step a job reached, to record and publish: percent done, a stable code, and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub percent: u8,
    pub code: &'static str,
    pub message: String,
}

/// Where a job's steps go.
pub type Reporter<'a> = &'a (dyn Fn(Step) -> futures::future::BoxFuture<'static, ()> + Send + Sync);

/// A detection to run.
#[derive(Debug, Clone)]
pub struct DetectRun {
    pub tenant_id: Uuid,
    pub job_id: Uuid,
    pub document_id: Uuid,
    pub version: i64,
    pub settings: DetectionSettings,
    pub request_id: Option<String>,
}

/// Runs a detection and stores its entities; returns its summary. A run whose document
/// moved on (deleted, overtaken, or stored by an earlier attempt of this job) stores
/// nothing and returns the summary of what this job stored, if anything.
pub async fn detect(
    database: &Database,
    blobs: &BlobStore,
    engine: &Engine,
    run: DetectRun,
    report: Reporter<'_>,
) -> Result<serde_json::Value, ProcessingError> {
    let Some(document) = current(database.orm(), run.document_id, run.version).await? else {
        return stored_summary(database, run.job_id).await;
    };
    let project = projects::find(database.orm(), run.tenant_id, document.project_id).await?;
    report(Step {
        percent: 5,
        code: "document_read",
        message: "reading the document".into(),
    })
    .await;
    let bytes = blobs.get(&document.storage_key).await?;
    let keys = engine.master_keys.vault_keys(run.tenant_id);
    let decisions = Decisions::load(database.orm(), &keys, document.project_id, document.id)
        .await
        .map_err(|error| ProcessingError::Stored(error.to_string()))?;
    let language = super::detection_language(&project);
    // Rejected values are found too, so that reviewers see them with their status.
    let (selection, options) = prepare(
        &engine.catalog,
        DetectSettings {
            language: language.clone(),
            entities: run.settings.categories.clone(),
            min_score: run.settings.confidence_threshold,
            deny_list: decisions.deny_list(),
            profile: project.profile.clone(),
            ..DetectSettings::default()
        },
    )?;
    report(Step {
        percent: 15,
        code: "entities_detecting",
        message: "finding personal data".into(),
    })
    .await;
    let processed = pipeline::run(
        Pipeline {
            bytes,
            filename: document.filename.clone(),
            selection,
            options,
            given: None,
            language: language.unwrap_or_else(|| "en".into()),
            policy: Policy::level(Level::Intermediate),
            tenant_id: run.tenant_id,
        },
        engine,
        MemoryVault::for_request(),
        report,
        (15, 90),
    )
    .await?
    .0;
    report(Step {
        percent: 90,
        code: "entities_found",
        message: format!("{} entities found", processed.entities.len()),
    })
    .await;

    let units: Vec<super::StoredUnit> = processed
        .units
        .iter()
        .map(|unit| super::StoredUnit {
            location: unit.location.clone(),
            paragraph: unit.paragraph,
            text: unit.text.expose().to_owned(),
        })
        .collect();
    let units = serde_json::to_vec(&units).map_err(|error| ProcessingError::Stored(error.to_string()))?;
    blobs
        .put(&super::units_key(document.id), bytes::Bytes::from(units))
        .await?;

    let now = Utc::now();
    let run_id = Uuid::now_v7();
    let mut rows = Vec::with_capacity(processed.entities.len());
    for entity in &processed.entities {
        let category = entity.entity_type.as_str().to_owned();
        let value = entity.original.expose();
        let hash = value_hash(&keys, &category, value);
        let sealed = keys.seal(value)?;
        rows.push(document_entities::Model {
            id: Uuid::now_v7(),
            tenant_id: run.tenant_id,
            project_id: document.project_id,
            document_id: document.id,
            run_id: Some(run_id),
            page: page_of(&entity.location),
            start: i64::try_from(entity.start).unwrap_or(i64::MAX),
            end: i64::try_from(entity.end).unwrap_or(i64::MAX),
            r#box: (!entity.boxes.is_empty()).then(|| json!(entity.boxes)),
            status: decisions.status_of(&category, &hash).to_owned(),
            category,
            score: entity.score.unwrap_or(1.0),
            recognizer: entity.recognizer.clone().unwrap_or_else(|| "structured".into()),
            ocr_confidence: entity.ocr_confidence,
            value_hash: hash,
            created_at: now,
            updated_at: now,
            location: Some(entity.location.clone()),
            paragraph: entity.paragraph.and_then(|paragraph| i32::try_from(paragraph).ok()),
            sealed_value: Some(sealed.sealed),
            sealing_key_id: Some(sealed.key_id),
        });
    }
    let earlier = document_entities::Entity::find()
        .filter(document_entities::Column::DocumentId.eq(document.id))
        .all(database.orm())
        .await?;
    let place = |row: &document_entities::Model| {
        (
            row.location.clone(),
            row.paragraph,
            row.start,
            row.end,
            row.category.clone(),
        )
    };
    let before: BTreeSet<_> = earlier.iter().map(place).collect();
    let after: BTreeSet<_> = rows.iter().map(place).collect();
    let appeared = after.difference(&before).count();
    let disappeared = before.difference(&after).count();
    let by_category = counts_by_category(rows.iter().map(|row| row.category.as_str()));
    let summary = json!({
        "run_id": run_id,
        "entities_found": rows.len(),
        "appeared": appeared,
        "disappeared": disappeared,
        "by_category": by_category,
    });

    // Pages of a PDF; an image is one.
    let pages: BTreeSet<i32> = processed
        .units
        .iter()
        .filter_map(|unit| page_of(&unit.location))
        .collect();
    let page_count = if !pages.is_empty() {
        Some(i32::try_from(pages.len()).unwrap_or(i32::MAX))
    } else {
        processed.units.iter().any(|unit| unit.location == "image").then_some(1)
    };
    let tx = database.begin().await?;
    let moved = documents::Entity::update_many()
        .col_expr(documents::Column::State, Expr::value(state::DETECTION_COMPLETE))
        .col_expr(documents::Column::PageCount, Expr::value(page_count))
        .col_expr(
            documents::Column::Version,
            Expr::col(documents::Column::Version).add(Expr::value(1)),
        )
        .col_expr(documents::Column::DetectedAt, Expr::value(now))
        .col_expr(
            documents::Column::NeedsAnonymization,
            Expr::value(document.anonymized_at.is_some()),
        )
        .col_expr(documents::Column::UpdatedAt, Expr::value(now))
        .filter(documents::Column::Id.eq(document.id))
        .filter(documents::Column::Version.eq(run.version))
        .filter(documents::Column::State.eq(state::PROCESSING))
        .exec(&tx)
        .await?;
    if moved.rows_affected == 0 {
        // Overtaken while it ran: the newer request's job stores its own results.
        return Ok(json!({ "skipped": "the document changed while it was detected" }));
    }
    document_entities::Entity::delete_many()
        .filter(document_entities::Column::DocumentId.eq(document.id))
        .exec(&tx)
        .await?;
    for chunk in rows.chunks(INSERT_CHUNK) {
        document_entities::Entity::insert_many(chunk.iter().cloned().map(document_entities::ActiveModel::from))
            .exec(&tx)
            .await?;
    }
    detection_runs::ActiveModel::from(detection_runs::Model {
        id: run_id,
        tenant_id: run.tenant_id,
        document_id: document.id,
        job_id: Some(run.job_id),
        profile: project.profile.clone(),
        model: None,
        entities_found: i32::try_from(rows.len()).unwrap_or(i32::MAX),
        appeared: i32::try_from(appeared).unwrap_or(i32::MAX),
        disappeared: i32::try_from(disappeared).unwrap_or(i32::MAX),
        skipped_recognizers: (!processed.skipped_recognizers.is_empty()).then(|| json!(processed.skipped_recognizers)),
        created_at: now,
        options: Some(serde_json::to_value(&run.settings).unwrap_or_default()),
    })
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: run.tenant_id,
            actor: Actor::SYSTEM,
            action: "document.detected",
            resource_type: "document",
            resource_id: Some(document.id),
            project_id: Some(document.project_id),
            counts: Some(by_category),
            request_id: run.request_id.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// The summary of the run `job_id` stored, for a job that runs again after storing it.
async fn stored_summary(database: &Database, job_id: Uuid) -> Result<serde_json::Value, ProcessingError> {
    let run = detection_runs::Entity::find()
        .filter(detection_runs::Column::JobId.eq(job_id))
        .one(database.orm())
        .await?;
    Ok(match run {
        Some(run) => json!({
            "run_id": run.id,
            "entities_found": run.entities_found,
            "appeared": run.appeared,
            "disappeared": run.disappeared,
        }),
        None => json!({ "skipped": "the document was deleted or changed before the job ran" }),
    })
}
