//! Review of what detection found: entities listed with their values for reviewers, and
//! decisions that accept, reject, edit or add spans, for one document or for every document
//! of a project, present and future.
//!
//! Decisions are kept by value (the tenant's keyed hash of the category and the normalized
//! value, with the value sealed), because the engine replaces a value everywhere in a
//! document once it is found anywhere in it. Detection reports what it finds with the
//! decisions' statuses and finds every added value (a deny list); anonymization also leaves
//! every rejected value alone (an allow list).

use std::collections::BTreeMap;

use chrono::Utc;
use obscura_anonymization::identity::folded;
use obscura_anonymization::vault::{SealedValue, VaultKeys};
use obscura_detection::DenyEntry;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_detection::taxonomy::Taxonomy;
use obscura_entity::{document_entities, documents as document_rows, review_decisions};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::database::{Database, DatabaseError};
use crate::documents::{self, DocumentServiceError, state};
use crate::processing::StoredUnit;

/// Most items one review request may carry.
pub const MAX_REVIEW_ITEMS: usize = 1_000;
/// Longest value a reviewer may add, in characters.
pub const MAX_VALUE_CHARS: usize = 500;
/// The `scope` of decisions that apply to every document of a project.
pub const PROJECT_SCOPE: &str = "project";

/// Review statuses of an entity.
pub mod status {
    pub const DETECTED: &str = "detected";
    pub const ACCEPTED: &str = "accepted";
    pub const REJECTED: &str = "rejected";
    pub const EDITED: &str = "edited";
    pub const ADDED: &str = "added";
    pub const ALL: [&str; 5] = [DETECTED, ACCEPTED, REJECTED, EDITED, ADDED];
}

/// What a decision says about a value.
pub mod decision {
    pub const ACCEPT: &str = "accept";
    pub const REJECT: &str = "reject";
    /// The value a span was edited to.
    pub const EDIT: &str = "edit";
    pub const ADD: &str = "add";
}

/// Why a review could not be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Document(#[from] DocumentServiceError),
    #[error("document {0} is being processed; review it when its job has ended")]
    Busy(Uuid),
    /// An item that cannot be applied: its index and why.
    #[error("items[{index}]: {message}")]
    Item { index: usize, message: String },
    #[error("items[{index}]: entity {id} is not an entity of this document")]
    EntityNotFound { index: usize, id: String },
    #[error("a review holds at most {MAX_REVIEW_ITEMS} items")]
    TooManyItems,
    #[error("review storage: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Transaction(#[from] DatabaseError),
    #[error("vault: {0}")]
    Vault(#[from] obscura_anonymization::vault::VaultError),
}

impl ErrorClass for ReviewError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReviewError::Document(error) => error.kind(),
            ReviewError::Busy(_) => ErrorKind::Conflict,
            ReviewError::Item { .. } => ErrorKind::Invalid,
            ReviewError::EntityNotFound { .. } => ErrorKind::NotFound,
            ReviewError::TooManyItems => ErrorKind::TooLarge,
            ReviewError::Database(_) | ReviewError::Vault(_) => ErrorKind::Internal,
            ReviewError::Transaction(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ReviewError::Document(error) => error.code(),
            ReviewError::Busy(_) => "document_busy",
            ReviewError::Item { .. } => "invalid_review_item",
            ReviewError::EntityNotFound { .. } => "entity_not_found",
            ReviewError::TooManyItems => "too_many_items",
            ReviewError::Database(_) => "database_error",
            ReviewError::Vault(_) => "internal_error",
            ReviewError::Transaction(error) => error.code(),
        }
    }
}

/// The tenant's keyed hash of a value of a category, as decisions and entities keep it.
pub fn value_hash(keys: &VaultKeys, category: &str, value: &str) -> String {
    keys.lookup(category, &folded(value))
}

/// A decision about one value, opened.
#[derive(Clone)]
pub struct Decision {
    pub category: String,
    pub value_hash: String,
    pub decision: String,
    pub value: String,
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Decision")
            .field("category", &self.category)
            .field("decision", &self.decision)
            .finish_non_exhaustive()
    }
}

/// The decisions that apply to one document: its own, over its project's.
#[derive(Debug, Default)]
pub struct Decisions {
    by_value: BTreeMap<(String, String), Decision>,
}

impl Decisions {
    /// The decisions of `document_id` and of its project, opened with `keys`.
    pub async fn load(
        database: &impl ConnectionTrait,
        keys: &VaultKeys,
        project_id: Uuid,
        document_id: Uuid,
    ) -> Result<Decisions, ReviewError> {
        let records = review_decisions::Entity::find()
            .filter(review_decisions::Column::ProjectId.eq(project_id))
            .filter(review_decisions::Column::Scope.is_in([PROJECT_SCOPE.to_owned(), document_id.to_string()]))
            .all(database)
            .await?;
        let mut decisions = Decisions::default();
        // The project's first, so that the document's own replace them.
        for project_wide in [true, false] {
            for record in records
                .iter()
                .filter(|record| (record.scope == PROJECT_SCOPE) == project_wide)
            {
                let value = keys.open(&SealedValue {
                    key_id: record.sealing_key_id.clone().unwrap_or_default(),
                    sealed: record.sealed_value.clone(),
                })?;
                decisions.by_value.insert(
                    (record.category.clone(), record.value_hash.clone()),
                    Decision {
                        category: record.category.clone(),
                        value_hash: record.value_hash.clone(),
                        decision: record.decision.clone(),
                        value,
                    },
                );
            }
        }
        Ok(decisions)
    }

    /// The review status a detected value of `category` with `hash` gets.
    pub fn status_of(&self, category: &str, hash: &str) -> &'static str {
        match self
            .by_value
            .get(&(category.to_owned(), hash.to_owned()))
            .map(|decision| decision.decision.as_str())
        {
            Some(decision::ACCEPT) => status::ACCEPTED,
            Some(decision::REJECT) => status::REJECTED,
            Some(decision::EDIT) => status::EDITED,
            Some(decision::ADD) => status::ADDED,
            Some(_) | None => status::DETECTED,
        }
    }

    /// Values that are never replaced: the rejected ones.
    pub fn allow_list(&self) -> Vec<String> {
        self.by_value
            .values()
            .filter(|decision| decision.decision == decision::REJECT)
            .map(|decision| decision.value.clone())
            .collect()
    }

    /// Values that are always found: the accepted, edited and added ones.
    pub fn deny_list(&self) -> Vec<DenyEntry> {
        self.by_value
            .values()
            .filter(|decision| decision.decision != decision::REJECT)
            .map(|decision| DenyEntry {
                value: decision.value.clone(),
                entity_type: decision.category.clone(),
            })
            .collect()
    }
}

/// Which entities a listing shows.
#[derive(Debug, Clone, Default)]
pub struct EntityFilter {
    pub category: Option<String>,
    pub status: Option<String>,
    pub min_score: Option<f32>,
}

/// An entity with its value, for reviewers.
#[derive(Debug, Clone)]
pub struct ReviewedEntity {
    pub record: document_entities::Model,
    /// `None` once the value is no longer kept.
    pub text: Option<String>,
}

/// The document and its entities, in reading order, filtered.
pub async fn list_entities(
    database: &impl ConnectionTrait,
    keys: &VaultKeys,
    tenant_id: Uuid,
    document_id: Uuid,
    filter: &EntityFilter,
) -> Result<(document_rows::Model, Vec<ReviewedEntity>), ReviewError> {
    let document = documents::get(database, tenant_id, document_id).await?;
    let mut query = document_entities::Entity::find()
        .filter(document_entities::Column::DocumentId.eq(document_id))
        .filter(document_entities::Column::TenantId.eq(tenant_id));
    if let Some(category) = &filter.category {
        let canonical = Taxonomy.canonical_name(category);
        query = query.filter(document_entities::Column::Category.eq(canonical.as_str()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(document_entities::Column::Status.eq(status.as_str()));
    }
    if let Some(score) = filter.min_score {
        query = query.filter(document_entities::Column::Score.gte(score));
    }
    let records = query
        .order_by_asc(document_entities::Column::Page)
        .order_by_asc(document_entities::Column::Location)
        .order_by_asc(document_entities::Column::Paragraph)
        .order_by_asc(document_entities::Column::Start)
        .all(database)
        .await?;
    let mut entities = Vec::with_capacity(records.len());
    for record in records {
        let text = open_value(keys, &record)?;
        entities.push(ReviewedEntity { record, text });
    }
    Ok((document, entities))
}

fn open_value(keys: &VaultKeys, record: &document_entities::Model) -> Result<Option<String>, ReviewError> {
    match (&record.sealed_value, &record.sealing_key_id) {
        (Some(sealed), Some(key_id)) => Ok(Some(keys.open(&SealedValue {
            key_id: key_id.clone(),
            sealed: sealed.clone(),
        })?)),
        _ => Ok(None),
    }
}

/// What a review item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Accept,
    Reject,
    Edit,
    Add,
}

/// Where a decision applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewScope {
    /// This document.
    #[default]
    Document,
    /// Every document of the project, present and future.
    Project,
}

/// One decision of a review request: an entity by `id`, or by its `location`, `start` and
/// `end`; `text` and `category` for edits and adds.
#[derive(Debug, Clone)]
pub struct ReviewItem {
    pub action: ReviewAction,
    pub id: Option<Uuid>,
    pub location: Option<String>,
    /// The paragraph within the location, for documents read by paragraph (Word).
    pub paragraph: Option<u64>,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub text: Option<String>,
    pub category: Option<String>,
    pub scope: ReviewScope,
}

/// What a review changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReviewOutcome {
    pub accepted: u64,
    pub rejected: u64,
    pub edited: u64,
    pub added: u64,
    /// Entities whose status changed, in this document and (for project decisions) others.
    pub entities_updated: u64,
    /// Whether an added or edited value will only be found at the next detection (a
    /// `reprocess`); anonymization replaces it either way.
    pub reprocess_recommended: bool,
}

/// Who reviews which document.
#[derive(Debug, Clone, Copy)]
pub struct Reviewer<'a> {
    pub tenant_id: Uuid,
    pub document_id: Uuid,
    pub actor: Actor,
    pub request_id: Option<&'a str>,
}

/// Applies a batch of review items, all or none. Spans added at a position are checked
/// against `units`, the document's stored units of text, where it has them.
pub async fn apply(
    database: &Database,
    keys: &VaultKeys,
    reviewer: Reviewer<'_>,
    items: &[ReviewItem],
    units: Option<&[StoredUnit]>,
) -> Result<ReviewOutcome, ReviewError> {
    if items.len() > MAX_REVIEW_ITEMS {
        return Err(ReviewError::TooManyItems);
    }
    let tx = database.begin().await?;
    let document = lock(&tx, reviewer.tenant_id, reviewer.document_id).await?;
    let mut outcome = ReviewOutcome::default();
    for (index, item) in items.iter().enumerate() {
        apply_item(&tx, keys, &document, index, item, units, &mut outcome).await?;
    }
    if document.state == state::ANONYMIZATION_COMPLETE {
        document_rows::Entity::update_many()
            .col_expr(document_rows::Column::NeedsAnonymization, Expr::value(true))
            .filter(document_rows::Column::Id.eq(document.id))
            .exec(&tx)
            .await?;
    }
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: reviewer.tenant_id,
            actor: reviewer.actor,
            action: "document.review",
            resource_type: "document",
            resource_id: Some(document.id),
            project_id: Some(document.project_id),
            counts: Some(serde_json::json!({
                "accepted": outcome.accepted,
                "rejected": outcome.rejected,
                "edited": outcome.edited,
                "added": outcome.added,
            })),
            request_id: reviewer.request_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Holds the document's row for the review (the write comes first, so that the transaction
/// locks before it reads); a document being processed cannot be reviewed.
async fn lock(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    document_id: Uuid,
) -> Result<document_rows::Model, ReviewError> {
    let locked = document_rows::Entity::update_many()
        .col_expr(document_rows::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(document_rows::Column::Id.eq(document_id))
        .filter(document_rows::Column::TenantId.eq(tenant_id))
        .filter(document_rows::Column::Uploaded.eq(true))
        .filter(document_rows::Column::DeletedAt.is_null())
        .filter(document_rows::Column::State.ne(state::PROCESSING))
        .exec(database)
        .await?;
    let document = documents::get(database, tenant_id, document_id).await?;
    if locked.rows_affected == 0 {
        return Err(ReviewError::Busy(document_id));
    }
    Ok(document)
}

/// The canonical name of a category, or why it is not one.
fn category_of(index: usize, name: &str) -> Result<String, ReviewError> {
    Taxonomy
        .resolve(name)
        .map(|info| Taxonomy.canonical_name(info.name).as_str().to_owned())
        .ok_or_else(|| ReviewError::Item {
            index,
            message: format!("category {name:?} is not an entity type (see GET /api/v1/entities)"),
        })
}

async fn apply_item(
    database: &impl ConnectionTrait,
    keys: &VaultKeys,
    document: &document_rows::Model,
    index: usize,
    item: &ReviewItem,
    units: Option<&[StoredUnit]>,
    outcome: &mut ReviewOutcome,
) -> Result<(), ReviewError> {
    let scope = match item.scope {
        ReviewScope::Document => document.id.to_string(),
        ReviewScope::Project => PROJECT_SCOPE.to_owned(),
    };
    let invalid = |message: String| ReviewError::Item { index, message };
    match item.action {
        ReviewAction::Accept | ReviewAction::Reject => {
            let entity = find_entity(database, document.id, index, item).await?;
            let value = open_value(keys, &entity)?
                .ok_or_else(|| invalid("the value of this entity is no longer kept".into()))?;
            let (verdict, new_status) = if item.action == ReviewAction::Accept {
                outcome.accepted += 1;
                (decision::ACCEPT, status::ACCEPTED)
            } else {
                outcome.rejected += 1;
                (decision::REJECT, status::REJECTED)
            };
            decide(database, keys, document, &scope, &entity.category, &value, verdict).await?;
            outcome.entities_updated += set_status(
                database,
                document,
                item.scope,
                &entity.category,
                &entity.value_hash,
                new_status,
            )
            .await?;
        }
        ReviewAction::Edit => {
            let entity = find_entity(database, document.id, index, item).await?;
            let old = open_value(keys, &entity)?
                .ok_or_else(|| invalid("the value of this entity is no longer kept".into()))?;
            let category = match &item.category {
                Some(name) => category_of(index, name)?,
                None => entity.category.clone(),
            };
            let new = item.text.clone().unwrap_or_else(|| old.clone());
            check_value(index, &new)?;
            if new == old && category == entity.category {
                return Err(invalid("an edit must change the text or the category".into()));
            }
            // The new span must hold the old one or lie within it, as new bounds would.
            let (start, end) = if let Some(at) = new.find(old.as_str()) {
                let before = new[..at].chars().count() as i64;
                (
                    entity.start - before,
                    entity.start - before + new.chars().count() as i64,
                )
            } else if let Some(at) = old.find(new.as_str()) {
                let before = old[..at].chars().count() as i64;
                (
                    entity.start + before,
                    entity.start + before + new.chars().count() as i64,
                )
            } else {
                return Err(invalid(
                    "the edited text must contain the entity's text or lie within it".into(),
                ));
            };
            if start < 0 {
                return Err(invalid("the edited span would start before its text".into()));
            }
            // A shorter span or another category: the old value is no longer replaced.
            if !new.contains(old.as_str()) || category != entity.category {
                decide(
                    database,
                    keys,
                    document,
                    &scope,
                    &entity.category,
                    &old,
                    decision::REJECT,
                )
                .await?;
            }
            decide(database, keys, document, &scope, &category, &new, decision::EDIT).await?;
            let sealed = keys.seal(&new)?;
            let mut active: document_entities::ActiveModel = entity.into();
            active.category = sea_orm::ActiveValue::Set(category.clone());
            active.start = sea_orm::ActiveValue::Set(start);
            active.end = sea_orm::ActiveValue::Set(end);
            active.status = sea_orm::ActiveValue::Set(status::EDITED.into());
            active.value_hash = sea_orm::ActiveValue::Set(value_hash(keys, &category, &new));
            active.sealed_value = sea_orm::ActiveValue::Set(Some(sealed.sealed));
            active.sealing_key_id = sea_orm::ActiveValue::Set(Some(sealed.key_id));
            active.r#box = sea_orm::ActiveValue::Set(None);
            active.updated_at = sea_orm::ActiveValue::Set(Utc::now());
            active.update(database).await?;
            outcome.edited += 1;
            outcome.entities_updated += 1;
            outcome.reprocess_recommended = true;
        }
        ReviewAction::Add => {
            let text = item
                .text
                .as_deref()
                .ok_or_else(|| invalid("an add needs `text`".into()))?;
            check_value(index, text)?;
            let name = item
                .category
                .as_deref()
                .ok_or_else(|| invalid("an add needs `category`".into()))?;
            let category = category_of(index, name)?;
            decide(database, keys, document, &scope, &category, text, decision::ADD).await?;
            outcome.added += 1;
            match (&item.location, item.start, item.end) {
                (Some(location), Some(start), Some(end)) => {
                    if end.checked_sub(start) != Some(text.chars().count() as u64) {
                        return Err(invalid(format!(
                            "`end` - `start` must be the length of `text` ({} characters)",
                            text.chars().count()
                        )));
                    }
                    let paragraph = item.paragraph.and_then(|paragraph| usize::try_from(paragraph).ok());
                    if let Some(units) = units {
                        check_position(index, units, location, paragraph, (start, end), text)?;
                    }
                    let span = Placed {
                        location,
                        paragraph,
                        start,
                        end,
                    };
                    insert_added(database, keys, document, &span, &category, text).await?;
                    outcome.entities_updated += 1;
                }
                (None, None, None) => outcome.reprocess_recommended = true,
                _ => {
                    return Err(invalid(
                        "an added span's position needs `location`, `start` and `end` together".into(),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_value(index: usize, value: &str) -> Result<(), ReviewError> {
    let characters = value.chars().count();
    if value.trim().is_empty() {
        return Err(ReviewError::Item {
            index,
            message: "`text` is empty".into(),
        });
    }
    if characters > MAX_VALUE_CHARS {
        return Err(ReviewError::Item {
            index,
            message: format!("`text` is longer than {MAX_VALUE_CHARS} characters"),
        });
    }
    Ok(())
}

/// The entity an item names, by id or by position.
async fn find_entity(
    database: &impl ConnectionTrait,
    document_id: Uuid,
    index: usize,
    item: &ReviewItem,
) -> Result<document_entities::Model, ReviewError> {
    let query = document_entities::Entity::find().filter(document_entities::Column::DocumentId.eq(document_id));
    let found = match (item.id, item.start, item.end) {
        (Some(id), _, _) => query.filter(document_entities::Column::Id.eq(id)).one(database).await?,
        (None, Some(start), Some(end)) => {
            let mut query = query
                .filter(document_entities::Column::Start.eq(i64::try_from(start).unwrap_or(i64::MAX)))
                .filter(document_entities::Column::End.eq(i64::try_from(end).unwrap_or(i64::MAX)));
            if let Some(location) = &item.location {
                query = query.filter(document_entities::Column::Location.eq(location.as_str()));
            }
            if let Some(paragraph) = item.paragraph {
                query =
                    query.filter(document_entities::Column::Paragraph.eq(i32::try_from(paragraph).unwrap_or(i32::MAX)));
            }
            let mut matches = query.all(database).await?;
            if matches.len() > 1 {
                return Err(ReviewError::Item {
                    index,
                    message: "several entities have these offsets; name the `location` or the `id`".into(),
                });
            }
            matches.pop()
        }
        _ => {
            return Err(ReviewError::Item {
                index,
                message: "name the entity by `id`, or by `start` and `end`".into(),
            });
        }
    };
    found.ok_or_else(|| ReviewError::EntityNotFound {
        index,
        id: item.id.map_or_else(
            || format!("at {}..{}", item.start.unwrap_or(0), item.end.unwrap_or(0)),
            |id| id.to_string(),
        ),
    })
}

/// Stores a decision about a value in a scope, replacing an earlier one about it.
async fn decide(
    database: &impl ConnectionTrait,
    keys: &VaultKeys,
    document: &document_rows::Model,
    scope: &str,
    category: &str,
    value: &str,
    verdict: &str,
) -> Result<(), ReviewError> {
    let hash = value_hash(keys, category, value);
    review_decisions::Entity::delete_many()
        .filter(review_decisions::Column::ProjectId.eq(document.project_id))
        .filter(review_decisions::Column::Scope.eq(scope))
        .filter(review_decisions::Column::Category.eq(category))
        .filter(review_decisions::Column::ValueHash.eq(hash.as_str()))
        .exec(database)
        .await?;
    let sealed = keys.seal(value)?;
    review_decisions::ActiveModel::from(review_decisions::Model {
        id: Uuid::now_v7(),
        tenant_id: document.tenant_id,
        project_id: document.project_id,
        category: category.to_owned(),
        value_hash: hash,
        decision: verdict.to_owned(),
        sealed_value: sealed.sealed,
        key_id: None,
        created_at: Utc::now(),
        scope: scope.to_owned(),
        sealing_key_id: Some(sealed.key_id),
    })
    .insert(database)
    .await?;
    Ok(())
}

/// Gives every entity of the value the status, in the document or its whole project.
async fn set_status(
    database: &impl ConnectionTrait,
    document: &document_rows::Model,
    scope: ReviewScope,
    category: &str,
    hash: &str,
    new_status: &str,
) -> Result<u64, ReviewError> {
    let mut update = document_entities::Entity::update_many()
        .col_expr(document_entities::Column::Status, Expr::value(new_status))
        .col_expr(document_entities::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(document_entities::Column::ProjectId.eq(document.project_id))
        .filter(document_entities::Column::Category.eq(category))
        .filter(document_entities::Column::ValueHash.eq(hash));
    if scope == ReviewScope::Document {
        update = update.filter(document_entities::Column::DocumentId.eq(document.id));
    }
    Ok(update.exec(database).await?.rows_affected)
}

/// Where an added span lies.
struct Placed<'a> {
    location: &'a str,
    paragraph: Option<usize>,
    start: u64,
    end: u64,
}

/// Checks that `text` is what the document's unit at `location` holds between the offsets.
fn check_position(
    index: usize,
    units: &[StoredUnit],
    location: &str,
    paragraph: Option<usize>,
    (start, end): (u64, u64),
    text: &str,
) -> Result<(), ReviewError> {
    let invalid = |message: String| ReviewError::Item { index, message };
    let unit = units
        .iter()
        .find(|unit| unit.location == location && unit.paragraph == paragraph)
        .ok_or_else(|| {
            invalid(match paragraph {
                Some(paragraph) => format!("the document has no paragraph {paragraph} at location {location:?}"),
                None if units.iter().any(|unit| unit.location == location) => {
                    format!("location {location:?} is read by paragraph; name the `paragraph`")
                }
                None => format!("the document has no text at location {location:?}"),
            })
        })?;
    let held: String = unit
        .text
        .chars()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(end - start).unwrap_or(usize::MAX))
        .collect();
    if held != text {
        return Err(invalid(format!(
            "the text at {location:?} from `start` to `end` is not `text` (offsets count code points of that location's text)"
        )));
    }
    Ok(())
}

/// Records a span a reviewer added at a known position.
async fn insert_added(
    database: &impl ConnectionTrait,
    keys: &VaultKeys,
    document: &document_rows::Model,
    span: &Placed<'_>,
    category: &str,
    text: &str,
) -> Result<(), ReviewError> {
    let Placed {
        location,
        paragraph,
        start,
        end,
    } = *span;
    let sealed = keys.seal(text)?;
    let now = Utc::now();
    document_entities::ActiveModel::from(document_entities::Model {
        id: Uuid::now_v7(),
        tenant_id: document.tenant_id,
        project_id: document.project_id,
        document_id: document.id,
        run_id: None,
        page: page_of(location),
        start: i64::try_from(start).unwrap_or(i64::MAX),
        end: i64::try_from(end).unwrap_or(i64::MAX),
        r#box: None,
        category: category.to_owned(),
        score: 1.0,
        recognizer: "reviewer".into(),
        ocr_confidence: None,
        status: status::ADDED.into(),
        value_hash: value_hash(keys, category, text),
        created_at: now,
        updated_at: now,
        location: Some(location.to_owned()),
        paragraph: paragraph.and_then(|paragraph| i32::try_from(paragraph).ok()),
        sealed_value: Some(sealed.sealed),
        sealing_key_id: Some(sealed.key_id),
    })
    .insert(database)
    .await?;
    Ok(())
}

/// The 1-based page of a location such as `page 3` or `page 3, image 1`.
pub fn page_of(location: &str) -> Option<i32> {
    let rest = location.strip_prefix("page ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
