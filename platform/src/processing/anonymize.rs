//! The anonymization of a document: its reviewed entities replaced with the aliases of its
//! project's glossary, the output written in the original format, and its leak check
//! stored.
//!
//! The entities are the reviewed set, not a fresh detection: the spans detection stored
//! (and reviewers edited or added) that no decision rejects, each checked against the text
//! it was found in, plus every occurrence of the values that decisions of the document and
//! its project ask to find everywhere (accepted, edited and added ones), where no stored span
//! lies. A document not reviewed is anonymized with the set it was detected with.
//!
//! The glossary is written race-free: anonymizations of one project take turns (see
//! `gate`), and behind that a run stores the entries it added only if the glossary's version
//! is unchanged (bumping it), with a unique index on (project, category, lookup); a run that
//! finds it changed (a merge, a split) runs again on the fresh glossary, so two documents
//! anonymized at once never give one person two aliases.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use obscura_anonymization::given::{GivenSpan, GivenSpans};
use obscura_anonymization::identity::NameTokens;
use obscura_anonymization::vault::{MemoryVault, SealedValue, Vault, VaultEntry};
use obscura_detection::entity_type::EntityType;
use obscura_entity::{
    detection_runs, document_entities, documents, glossary_entries, glossary_occurrences, projects as project_rows,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr};
use serde_json::json;
use uuid::Uuid;

use super::detect::{Reporter, Step};
use super::pipeline::{self, Pipeline};
use super::{
    Engine, GLOSSARY_TRIES, ProcessingError, counts_by_category, current, output_key, output_table_key, output_text_key,
};
use crate::audit::{self, Actor, AuditEvent};
use crate::database::Database;
use crate::documents::state;
use crate::jobs::DetectionSettings;
use crate::projects;
use crate::review::{Decisions, status};
use crate::services::detection::{DetectSettings, prepare};
use crate::storage::BlobStore;

/// An anonymization to run.
#[derive(Debug, Clone)]
pub struct AnonymizeRun {
    pub tenant_id: Uuid,
    pub job_id: Uuid,
    pub document_id: Uuid,
    pub version: i64,
    pub level: String,
    pub request_id: Option<String>,
}

/// Runs an anonymization and stores its output, glossary entries and leak check; returns
/// its summary. A run whose document moved on stores nothing.
pub async fn anonymize(
    database: &Database,
    blobs: &BlobStore,
    engine: &Engine,
    run: AnonymizeRun,
    report: Reporter<'_>,
) -> Result<serde_json::Value, ProcessingError> {
    let Some(document) = current(database.orm(), run.document_id, run.version).await? else {
        return Ok(
            json!({ "skipped": "the document was deleted or changed before the job ran, or the job ran already" }),
        );
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
    // The settings of the detection that was reviewed.
    let given = std::sync::Arc::new(reviewed_set(database, &keys, &decisions, document.id).await?);
    let settings: DetectionSettings = detection_runs::Entity::find()
        .filter(detection_runs::Column::DocumentId.eq(document.id))
        .order_by_desc(detection_runs::Column::CreatedAt)
        .one(database.orm())
        .await?
        .and_then(|run| run.options)
        .and_then(|options| serde_json::from_value(options).ok())
        .unwrap_or_default();
    let language = super::detection_language(&project);
    let level = projects::level_of(&run.level);
    // The project's operators by entity type, over the level; checked when they were set.
    let policy = crate::services::operators::project_policy(level, project.operators.as_ref())
        .map_err(|error| ProcessingError::Stored(format!("the project's operators: {error}")))?;
    let delete_original = !project.keep_originals;

    // One anonymization of the project at a time, so that none renders in vain.
    let _turn = super::gate::turn(database, document.project_id)
        .await
        .map_err(|error| ProcessingError::Transaction(crate::database::DatabaseError::from(error)))?;
    for attempt in 0..GLOSSARY_TRIES {
        // No recognizer runs: only the values decisions ask to find everywhere are looked for.
        let (selection, options) = prepare(
            &engine.catalog,
            DetectSettings {
                language: language.clone(),
                entities: settings.categories.clone(),
                allow_list: decisions.allow_list(),
                deny_list: decisions.deny_list(),
                profile: project.profile.clone(),
                pattern_packs: Some(Vec::new()),
                engines: Some(Vec::new()),
                ..DetectSettings::default()
            },
        )?;
        let (vault_version, known) = load_glossary(database, document.project_id).await?;
        let mut vault = MemoryVault::new();
        let known_lookups: BTreeSet<String> = known.iter().map(|(_, entry)| entry.lookup.clone()).collect();
        for (_, entry) in &known {
            vault.insert(entry.clone())?;
        }
        report(Step {
            percent: 15,
            code: "anonymizing",
            message: if attempt == 0 {
                "replacing personal data".into()
            } else {
                "replacing personal data again with the glossary's new entries".into()
            },
        })
        .await;
        let (processed, entries) = pipeline::run(
            Pipeline {
                bytes: bytes.clone(),
                filename: document.filename.clone(),
                selection,
                options,
                given: Some(given.clone()),
                language: language.clone().unwrap_or_else(|| "en".into()),
                policy: policy.clone(),
                tenant_id: run.tenant_id,
            },
            engine,
            vault,
            report,
            (15, 85),
        )
        .await?;
        report(Step {
            percent: 85,
            code: "output_written",
            message: format!("{} entities replaced; writing the output", processed.entities.len()),
        })
        .await;
        let output = output_key(document.id);
        blobs.put(&output, bytes::Bytes::from(processed.output.clone())).await?;
        let text = serde_json::to_vec(&json!({ "text": processed.text, "entities": processed.entities }))
            .map_err(|error| ProcessingError::Stored(error.to_string()))?;
        blobs
            .put(&output_text_key(document.id), bytes::Bytes::from(text))
            .await?;
        let table = obscura_documents::entity_table(&processed.entities)?;
        blobs
            .put(&output_table_key(document.id), bytes::Bytes::from(table))
            .await?;
        let added: Vec<VaultEntry> = entries
            .into_iter()
            .filter(|entry| !known_lookups.contains(&entry.lookup))
            .collect();
        let now = Utc::now();
        let tx = database.begin().await?;
        if !added.is_empty() {
            let claimed = project_rows::Entity::update_many()
                .col_expr(
                    project_rows::Column::VaultVersion,
                    Expr::col(project_rows::Column::VaultVersion).add(Expr::value(1)),
                )
                .filter(project_rows::Column::Id.eq(document.project_id))
                .filter(project_rows::Column::VaultVersion.eq(vault_version))
                .exec(&tx)
                .await?;
            if claimed.rows_affected == 0 {
                tracing::info!(attempt, "the project's glossary changed meanwhile; anonymizing again");
                continue;
            }
        }
        let mut ids_by_alias: BTreeMap<String, Uuid> =
            known.iter().map(|(id, entry)| (entry.alias.clone(), *id)).collect();
        let mut rows = Vec::with_capacity(added.len());
        for entry in &added {
            let id = Uuid::now_v7();
            ids_by_alias.entry(entry.alias.clone()).or_insert(id);
            rows.push(glossary_entries::ActiveModel::from(glossary_entries::Model {
                id,
                tenant_id: run.tenant_id,
                project_id: document.project_id,
                category: entry.category.clone(),
                lookup: entry.lookup.clone(),
                number: i64::try_from(entry.number).unwrap_or(i64::MAX),
                alias: entry.alias.clone(),
                sealing_key_id: entry.original.key_id.clone(),
                sealed_original: entry.original.sealed.clone(),
                name_tokens: entry.name.as_ref().map(|tokens| json!(tokens)),
                merged_into: None,
                first_seen: now,
            }));
        }
        if !rows.is_empty()
            && let Err(error) = glossary_entries::Entity::insert_many(rows).exec(&tx).await
        {
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                continue;
            }
            return Err(error.into());
        }
        // Occurrences of each glossary entry in this document.
        let mut occurrences: BTreeMap<Uuid, i32> = BTreeMap::new();
        for entity in &processed.entities {
            if let Some(id) = ids_by_alias.get(&entity.alias) {
                *occurrences.entry(*id).or_default() += 1;
            }
        }
        glossary_occurrences::Entity::delete_many()
            .filter(glossary_occurrences::Column::DocumentId.eq(document.id))
            .exec(&tx)
            .await?;
        if !occurrences.is_empty() {
            glossary_occurrences::Entity::insert_many(occurrences.iter().map(|(entry_id, count)| {
                glossary_occurrences::ActiveModel::from(glossary_occurrences::Model {
                    entry_id: *entry_id,
                    document_id: document.id,
                    tenant_id: run.tenant_id,
                    occurrences: *count,
                })
            }))
            .exec(&tx)
            .await?;
        }
        let passed = processed.leak_check.passed();
        let drop_original = delete_original && passed;
        let moved = documents::Entity::update_many()
            .col_expr(documents::Column::State, Expr::value(state::ANONYMIZATION_COMPLETE))
            .col_expr(
                documents::Column::Version,
                Expr::col(documents::Column::Version).add(Expr::value(1)),
            )
            .col_expr(documents::Column::OutputKey, Expr::value(output.clone()))
            .col_expr(documents::Column::Level, Expr::value(projects::level_name(level)))
            .col_expr(
                documents::Column::EntitiesReplaced,
                Expr::value(i32::try_from(processed.entities.len()).unwrap_or(i32::MAX)),
            )
            .col_expr(documents::Column::LeakCheck, Expr::value(json!(processed.leak_check)))
            .col_expr(documents::Column::NeedsAnonymization, Expr::value(false))
            .col_expr(documents::Column::OriginalDeleted, Expr::value(drop_original))
            .col_expr(documents::Column::AnonymizedAt, Expr::value(now))
            .col_expr(documents::Column::UpdatedAt, Expr::value(now))
            .filter(documents::Column::Id.eq(document.id))
            .filter(documents::Column::Version.eq(run.version))
            .filter(documents::Column::State.eq(state::PROCESSING))
            .exec(&tx)
            .await?;
        if moved.rows_affected == 0 {
            return Ok(json!({ "skipped": "the document changed while it was anonymized" }));
        }
        let by_category = counts_by_category(processed.entities.iter().map(|entity| entity.entity_type.as_str()));
        audit::record(
            &tx,
            AuditEvent {
                tenant_id: run.tenant_id,
                actor: Actor::SYSTEM,
                action: "document.anonymized",
                resource_type: "document",
                resource_id: Some(document.id),
                project_id: Some(document.project_id),
                counts: Some(by_category.clone()),
                request_id: run.request_id.as_deref(),
            },
        )
        .await?;
        tx.commit().await?;
        if drop_original {
            for key in [document.storage_key.clone(), super::units_key(document.id)] {
                if let Err(error) = blobs.delete(&key).await {
                    // The document says its original is gone; the blob is an orphan to
                    // remove later.
                    tracing::warn!(document_id = %document.id, error = %error, "could not delete an original after anonymization");
                }
            }
        }
        return Ok(json!({
            "entities_replaced": processed.entities.len(),
            "glossary_entries_added": added.len(),
            "by_category": by_category,
            "leak_check": processed.leak_check.status,
            "original_deleted": drop_original,
        }));
    }
    Err(ProcessingError::Contended)
}

/// The stored entities of a document that no decision rejects, by the unit of text they lie
/// in, with the values they held.
async fn reviewed_set(
    database: &Database,
    keys: &obscura_anonymization::vault::VaultKeys,
    decisions: &Decisions,
    document_id: Uuid,
) -> Result<GivenSpans, ProcessingError> {
    let rows = document_entities::Entity::find()
        .filter(document_entities::Column::DocumentId.eq(document_id))
        .all(database.orm())
        .await?;
    let mut given = GivenSpans::new();
    for row in rows {
        let decided = decisions.status_of(&row.category, &row.value_hash);
        let current = if decided == status::DETECTED {
            row.status.as_str()
        } else {
            decided
        };
        if current == status::REJECTED {
            continue;
        }
        // Entities stored before their place was recorded cannot be placed again.
        let Some(location) = row.location.as_deref() else {
            return Err(ProcessingError::Failed(obscura_documents::DocumentError::Anonymize(
                obscura_anonymization::AnonymizeError::Stale {
                    location: "an entity without a recorded place".into(),
                },
            )));
        };
        let value = match (&row.sealed_value, &row.sealing_key_id) {
            (Some(sealed), Some(key_id)) => Some(keys.open(&SealedValue {
                key_id: key_id.clone(),
                sealed: sealed.clone(),
            })?),
            _ => None,
        };
        given.insert(
            location,
            row.paragraph.and_then(|paragraph| usize::try_from(paragraph).ok()),
            GivenSpan {
                entity_type: EntityType::new(row.category.clone()),
                start: usize::try_from(row.start).unwrap_or(usize::MAX),
                end: usize::try_from(row.end).unwrap_or(usize::MAX),
                value,
                score: row.score,
                recognizer: row.recognizer,
            },
        );
    }
    Ok(given)
}

/// The project's glossary as vault entries with their ids, and its version. Merged entries
/// carry the alias of the entry they were merged into.
async fn load_glossary(
    database: &Database,
    project_id: Uuid,
) -> Result<(i64, Vec<(Uuid, VaultEntry)>), ProcessingError> {
    let version = project_rows::Entity::find_by_id(project_id)
        .one(database.orm())
        .await?
        .map_or(0, |project| project.vault_version);
    let records = glossary_entries::Entity::find()
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .order_by_asc(glossary_entries::Column::Number)
        .all(database.orm())
        .await?;
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let name = match record.name_tokens {
            Some(tokens) => Some(
                serde_json::from_value::<NameTokens>(tokens)
                    .map_err(|error| ProcessingError::Stored(format!("glossary name tokens: {error}")))?,
            ),
            None => None,
        };
        entries.push((
            record.id,
            VaultEntry {
                lookup: record.lookup,
                category: record.category,
                number: u64::try_from(record.number).unwrap_or(0),
                alias: record.alias,
                original: SealedValue {
                    key_id: record.sealing_key_id,
                    sealed: record.sealed_original,
                },
                name,
            },
        ));
    }
    Ok((version, entries))
}
