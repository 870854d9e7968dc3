//! A project's glossary: the aliases its documents' values were given, with their category,
//! first sighting, occurrences and documents, and never their originals, except in the
//! audited export for admins. Entries can be merged (the same person written two ways the
//! variant rule did not join) and split; the documents they touch are marked to be
//! anonymized again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use obscura_anonymization::vault::{SealedValue, VaultKeys};
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_entity::{documents, glossary_entries, glossary_occurrences, projects as project_rows};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::database::{Database, DatabaseError};
use crate::documents::DocumentServiceError;
use crate::projects::{self, ProjectError};

/// Why a glossary operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GlossaryError {
    #[error(transparent)]
    Document(#[from] DocumentServiceError),
    #[error("glossary entry {0} is not in this project's glossary")]
    EntryNotFound(Uuid),
    /// A merge or split that cannot be: why.
    #[error("{0}")]
    Invalid(String),
    #[error("glossary storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Transaction(#[from] DatabaseError),
    #[error("vault: {0}")]
    Vault(#[from] obscura_anonymization::vault::VaultError),
}

impl From<ProjectError> for GlossaryError {
    fn from(error: ProjectError) -> GlossaryError {
        GlossaryError::Document(DocumentServiceError::Project(error))
    }
}

impl ErrorClass for GlossaryError {
    fn kind(&self) -> ErrorKind {
        match self {
            GlossaryError::Document(error) => error.kind(),
            GlossaryError::EntryNotFound(_) => ErrorKind::NotFound,
            GlossaryError::Invalid(_) => ErrorKind::Invalid,
            GlossaryError::Database(_) | GlossaryError::Vault(_) => ErrorKind::Internal,
            GlossaryError::Transaction(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            GlossaryError::Document(error) => error.code(),
            GlossaryError::EntryNotFound(_) => "glossary_entry_not_found",
            GlossaryError::Invalid(_) => "invalid_glossary_change",
            GlossaryError::Database(_) => "database_error",
            GlossaryError::Vault(_) => "internal_error",
            GlossaryError::Transaction(error) => error.code(),
        }
    }
}

/// One alias of a glossary, without its original.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlossaryItem {
    pub id: Uuid,
    pub alias: String,
    pub category: String,
    pub first_seen: DateTime<Utc>,
    /// Replacements made, in every document (or in the document asked about).
    pub occurrences: u64,
    /// The documents it occurs in.
    pub documents: Vec<Uuid>,
    /// The entry it was merged into, if any.
    pub merged_into: Option<Uuid>,
}

/// The glossary of a project, or of one document of it, by alias.
pub async fn list(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Uuid,
    document_id: Option<Uuid>,
) -> Result<Vec<GlossaryItem>, GlossaryError> {
    projects::find(database, tenant_id, project_id).await?;
    let entries = glossary_entries::Entity::find()
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .filter(glossary_entries::Column::TenantId.eq(tenant_id))
        .order_by_asc(glossary_entries::Column::Category)
        .order_by_asc(glossary_entries::Column::Number)
        .all(database)
        .await?;
    let ids: Vec<Uuid> = entries.iter().map(|entry| entry.id).collect();
    let mut occurrences: BTreeMap<Uuid, Vec<(Uuid, i32)>> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let mut query =
            glossary_occurrences::Entity::find().filter(glossary_occurrences::Column::EntryId.is_in(chunk.to_vec()));
        if let Some(document_id) = document_id {
            query = query.filter(glossary_occurrences::Column::DocumentId.eq(document_id));
        }
        for row in query.all(database).await? {
            occurrences
                .entry(row.entry_id)
                .or_default()
                .push((row.document_id, row.occurrences));
        }
    }
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let found = occurrences.remove(&entry.id).unwrap_or_default();
            if document_id.is_some() && found.is_empty() {
                return None;
            }
            Some(GlossaryItem {
                id: entry.id,
                alias: entry.alias,
                category: entry.category,
                first_seen: entry.first_seen,
                occurrences: found.iter().map(|(_, count)| u64::try_from(*count).unwrap_or(0)).sum(),
                documents: found.into_iter().map(|(document, _)| document).collect(),
                merged_into: entry.merged_into,
            })
        })
        .collect())
}

/// A glossary entry with its original, for the admins' export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedEntry {
    pub alias: String,
    pub original: String,
    pub category: String,
    pub first_seen: DateTime<Utc>,
    pub occurrences: u64,
    pub documents: Vec<Uuid>,
}

/// The glossary with its originals opened; the export is audited with its counts.
pub async fn export(
    database: &Database,
    keys: &VaultKeys,
    tenant_id: Uuid,
    project_id: Uuid,
    actor: Actor,
    request_id: Option<&str>,
) -> Result<Vec<ExportedEntry>, GlossaryError> {
    let items = list(database.orm(), tenant_id, project_id, None).await?;
    let sealed: BTreeMap<Uuid, glossary_entries::Model> = glossary_entries::Entity::find()
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .all(database.orm())
        .await?
        .into_iter()
        .map(|entry| (entry.id, entry))
        .collect();
    let mut exported = Vec::with_capacity(items.len());
    for item in items {
        let Some(entry) = sealed.get(&item.id) else { continue };
        exported.push(ExportedEntry {
            original: keys.open(&SealedValue {
                key_id: entry.sealing_key_id.clone(),
                sealed: entry.sealed_original.clone(),
            })?,
            alias: item.alias,
            category: item.category,
            first_seen: item.first_seen,
            occurrences: item.occurrences,
            documents: item.documents,
        });
    }
    audit::record(
        database.orm(),
        AuditEvent {
            tenant_id,
            actor,
            action: "glossary.export",
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: Some(serde_json::json!({ "entries": exported.len() })),
            request_id,
        },
    )
    .await?;
    Ok(exported)
}

/// What a merge or split changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlossaryChange {
    /// Entries whose alias changed.
    pub entries: Vec<Uuid>,
    /// The alias they have now.
    pub alias: String,
    /// Documents marked to be anonymized again.
    pub documents_marked: u64,
}

/// Gives the `sources` the alias of `target`: the same person written ways the variant rule
/// did not join. The entries must be of one category.
pub async fn merge(
    database: &Database,
    tenant_id: Uuid,
    project_id: Uuid,
    target: Uuid,
    sources: &[Uuid],
    actor: Actor,
    request_id: Option<&str>,
) -> Result<GlossaryChange, GlossaryError> {
    if sources.is_empty() || sources.contains(&target) {
        return Err(GlossaryError::Invalid(
            "name one or more entries to merge into the target, other than the target".into(),
        ));
    }
    let tx = database.begin().await?;
    bump(&tx, tenant_id, project_id).await?;
    let target_entry = entry(&tx, project_id, target).await?;
    let mut changed = Vec::with_capacity(sources.len());
    for source in sources {
        let source_entry = entry(&tx, project_id, *source).await?;
        if source_entry.category != target_entry.category {
            return Err(GlossaryError::Invalid(format!(
                "entry {source} is a {} and the target a {}; only entries of one category merge",
                source_entry.category, target_entry.category
            )));
        }
        // Entries merged into the source follow it.
        let followers = glossary_entries::Entity::update_many()
            .col_expr(glossary_entries::Column::Alias, Expr::value(target_entry.alias.clone()))
            .col_expr(glossary_entries::Column::Number, Expr::value(target_entry.number))
            .col_expr(glossary_entries::Column::MergedInto, Expr::value(target))
            .filter(glossary_entries::Column::ProjectId.eq(project_id))
            .filter(
                sea_orm::Condition::any()
                    .add(glossary_entries::Column::Id.eq(*source))
                    .add(glossary_entries::Column::MergedInto.eq(*source))
                    .add(glossary_entries::Column::Alias.eq(source_entry.alias.clone())),
            )
            .filter(glossary_entries::Column::Category.eq(source_entry.category.clone()))
            .exec(&tx)
            .await?;
        if followers.rows_affected > 0 {
            changed.push(*source);
        }
    }
    let documents_marked = mark_documents(&tx, &changed).await?;
    record(
        &tx,
        tenant_id,
        project_id,
        "glossary.merge",
        changed.len(),
        actor,
        request_id,
    )
    .await?;
    tx.commit().await?;
    Ok(GlossaryChange {
        entries: changed,
        alias: target_entry.alias,
        documents_marked,
    })
}

/// Gives an entry an alias of its own: a value the variant rule (or a merge) joined to
/// another person's.
pub async fn split(
    database: &Database,
    tenant_id: Uuid,
    project_id: Uuid,
    entry_id: Uuid,
    actor: Actor,
    request_id: Option<&str>,
) -> Result<GlossaryChange, GlossaryError> {
    let tx = database.begin().await?;
    bump(&tx, tenant_id, project_id).await?;
    let split_entry = entry(&tx, project_id, entry_id).await?;
    let sharing = glossary_entries::Entity::find()
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .filter(glossary_entries::Column::Category.eq(split_entry.category.clone()))
        .filter(glossary_entries::Column::Alias.eq(split_entry.alias.clone()))
        .all(&tx)
        .await?;
    if sharing.len() < 2 {
        return Err(GlossaryError::Invalid(format!(
            "entry {entry_id} has an alias of its own already"
        )));
    }
    let highest = glossary_entries::Entity::find()
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .filter(glossary_entries::Column::Category.eq(split_entry.category.clone()))
        .order_by_desc(glossary_entries::Column::Number)
        .one(&tx)
        .await?
        .map_or(0, |entry| entry.number);
    let number = highest + 1;
    let alias = renumbered(&split_entry.alias, number);
    glossary_entries::Entity::update_many()
        .col_expr(glossary_entries::Column::Alias, Expr::value(alias.clone()))
        .col_expr(glossary_entries::Column::Number, Expr::value(number))
        .col_expr(glossary_entries::Column::MergedInto, Expr::value(Option::<Uuid>::None))
        .filter(glossary_entries::Column::Id.eq(entry_id))
        .exec(&tx)
        .await?;
    let documents_marked = mark_documents(&tx, &[entry_id]).await?;
    record(&tx, tenant_id, project_id, "glossary.split", 1, actor, request_id).await?;
    tx.commit().await?;
    Ok(GlossaryChange {
        entries: vec![entry_id],
        alias,
        documents_marked,
    })
}

/// An alias with its number replaced: `PERSONA-002` with 7 is `PERSONA-007`; an alias that
/// ends in no number gets one.
fn renumbered(alias: &str, number: i64) -> String {
    let digits = alias.chars().rev().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return format!("{alias}-{number}");
    }
    let stem = &alias[..alias.len() - digits];
    format!("{stem}{number:0digits$}")
}

/// Bumps the project's glossary version (anonymizations running meanwhile run again) and
/// locks the project for the change; the write comes first.
async fn bump(database: &impl ConnectionTrait, tenant_id: Uuid, project_id: Uuid) -> Result<(), GlossaryError> {
    let bumped = project_rows::Entity::update_many()
        .col_expr(
            project_rows::Column::VaultVersion,
            Expr::col(project_rows::Column::VaultVersion).add(Expr::value(1)),
        )
        .filter(project_rows::Column::Id.eq(project_id))
        .filter(project_rows::Column::TenantId.eq(tenant_id))
        .filter(project_rows::Column::DeletedAt.is_null())
        .exec(database)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(ProjectError::NotFound(project_id).into());
    }
    Ok(())
}

async fn entry(
    database: &impl ConnectionTrait,
    project_id: Uuid,
    entry_id: Uuid,
) -> Result<glossary_entries::Model, GlossaryError> {
    glossary_entries::Entity::find_by_id(entry_id)
        .filter(glossary_entries::Column::ProjectId.eq(project_id))
        .one(database)
        .await?
        .ok_or(GlossaryError::EntryNotFound(entry_id))
}

/// Marks the documents the entries occur in to be anonymized again.
async fn mark_documents(database: &impl ConnectionTrait, entries: &[Uuid]) -> Result<u64, GlossaryError> {
    if entries.is_empty() {
        return Ok(0);
    }
    let document_ids: Vec<Uuid> = glossary_occurrences::Entity::find()
        .filter(glossary_occurrences::Column::EntryId.is_in(entries.to_vec()))
        .all(database)
        .await?
        .into_iter()
        .map(|row| row.document_id)
        .collect();
    if document_ids.is_empty() {
        return Ok(0);
    }
    Ok(documents::Entity::update_many()
        .col_expr(documents::Column::NeedsAnonymization, Expr::value(true))
        .filter(documents::Column::Id.is_in(document_ids))
        .exec(database)
        .await?
        .rows_affected)
}

async fn record(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Uuid,
    action: &'static str,
    entries: usize,
    actor: Actor,
    request_id: Option<&str>,
) -> Result<(), GlossaryError> {
    audit::record(
        database,
        AuditEvent {
            tenant_id,
            actor,
            action,
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: Some(serde_json::json!({ "entries": entries })),
            request_id,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_renumbered_keeping_their_width() {
        assert_eq!(renumbered("PERSONA-002", 7), "PERSONA-007");
        assert_eq!(renumbered("PERSON_12", 130), "PERSON_130");
        assert_eq!(renumbered("<NAME>", 3), "<NAME>-3");
    }
}
