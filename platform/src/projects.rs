//! Projects: create, list with their documents counted by state, read, change.
//!
//! Every query names the tenant, so another tenant's project is simply not found.

use std::collections::BTreeMap;

use chrono::Utc;
use obscura_anonymization::Level;
use obscura_detection::error_kind::{ErrorClass, ErrorKind};
use obscura_entity::{documents, projects};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};
use serde::{Deserialize, Serialize};

use crate::documents::state;
use uuid::Uuid;

/// Longest project name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Largest page of a listing.
pub const MAX_PAGE_SIZE: u64 = 200;

/// The document states, in the order a document goes through them.
pub const DOCUMENT_STATES: [&str; 5] = [
    state::PENDING,
    state::PROCESSING,
    state::DETECTION_COMPLETE,
    state::ANONYMIZATION_COMPLETE,
    state::ERROR,
];

/// The language of a project's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectLanguage {
    Es,
    En,
    /// Each document's own, as detected.
    Auto,
}

impl ProjectLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectLanguage::Es => "es",
            ProjectLanguage::En => "en",
            ProjectLanguage::Auto => "auto",
        }
    }

    fn parse(value: &str) -> ProjectLanguage {
        match value {
            "es" => ProjectLanguage::Es,
            "en" => ProjectLanguage::En,
            _ => ProjectLanguage::Auto,
        }
    }
}

/// What a project is made with or changed to; `None` leaves a field as it is (or takes the
/// default on creation).
#[derive(Debug, Clone, Default)]
pub struct ProjectSettings {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub language: Option<ProjectLanguage>,
    pub default_level: Option<Level>,
    /// `Some(None)` goes back to the language's default profile.
    pub profile: Option<Option<String>>,
    /// Operators by entity type, as the text endpoints take them; `Some(None)` clears them.
    pub operators: Option<Option<serde_json::Value>>,
    pub keep_originals: Option<bool>,
}

/// A project with its documents counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub record: projects::Model,
    pub document_count: u64,
    /// By state; every state is present.
    pub documents_by_state: BTreeMap<String, u64>,
}

impl Project {
    pub fn language(&self) -> ProjectLanguage {
        ProjectLanguage::parse(&self.record.language)
    }

    pub fn default_level(&self) -> Level {
        level_of(&self.record.default_level)
    }
}

/// Why a project operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("project {0} does not exist")]
    NotFound(Uuid),
    #[error("a project named {0:?} exists already")]
    NameTaken(String),
    /// A setting that cannot be: the field and why.
    #[error("{field} {message}")]
    Invalid { field: &'static str, message: String },
    #[error("project storage: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl ErrorClass for ProjectError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProjectError::NotFound(_) => ErrorKind::NotFound,
            ProjectError::NameTaken(_) => ErrorKind::Conflict,
            ProjectError::Invalid { .. } => ErrorKind::Invalid,
            ProjectError::Database(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ProjectError::NotFound(_) => "project_not_found",
            ProjectError::NameTaken(_) => "project_name_taken",
            ProjectError::Invalid { .. } => "invalid_body",
            ProjectError::Database(_) => "database_error",
        }
    }
}

/// Creates a project; the name must be new in the tenant.
pub async fn create(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    settings: ProjectSettings,
) -> Result<Project, ProjectError> {
    let Some(name) = settings.name.clone() else {
        return Err(ProjectError::Invalid {
            field: "body.name",
            message: "is required".into(),
        });
    };
    let now = Utc::now();
    let mut record = projects::Model {
        id: Uuid::now_v7(),
        tenant_id,
        name,
        description: None,
        language: ProjectLanguage::Auto.as_str().into(),
        default_level: level_name(Level::Intermediate).into(),
        profile: None,
        operators: None,
        keep_originals: true,
        vault_version: 0,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    apply(&mut record, settings)?;
    let active: projects::ActiveModel = record.clone().into();
    active
        .insert(database)
        .await
        .map_err(|error| name_taken(error, &record.name))?;
    Ok(Project {
        record,
        document_count: 0,
        documents_by_state: empty_counts(),
    })
}

/// A project of the tenant, with its documents counted.
pub async fn get(database: &impl ConnectionTrait, tenant_id: Uuid, project_id: Uuid) -> Result<Project, ProjectError> {
    let record = find(database, tenant_id, project_id).await?;
    let mut counted = count_documents(database, &[project_id]).await?;
    let documents_by_state = counted.remove(&project_id).unwrap_or_else(empty_counts);
    Ok(Project {
        document_count: documents_by_state.values().sum(),
        documents_by_state,
        record,
    })
}

/// The project's record alone.
pub async fn find(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Uuid,
) -> Result<projects::Model, ProjectError> {
    projects::Entity::find_by_id(project_id)
        .filter(projects::Column::TenantId.eq(tenant_id))
        .filter(projects::Column::DeletedAt.is_null())
        .one(database)
        .await?
        .ok_or(ProjectError::NotFound(project_id))
}

/// A page of the tenant's projects, by name, and how many there are.
pub async fn list(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<Project>, u64), ProjectError> {
    let query = projects::Entity::find()
        .filter(projects::Column::TenantId.eq(tenant_id))
        .filter(projects::Column::DeletedAt.is_null());
    let total = query.clone().count(database).await?;
    let records = query
        .order_by_asc(projects::Column::Name)
        .limit(limit)
        .offset(offset)
        .all(database)
        .await?;
    let ids: Vec<Uuid> = records.iter().map(|record| record.id).collect();
    let mut counted = count_documents(database, &ids).await?;
    let items = records
        .into_iter()
        .map(|record| {
            let documents_by_state = counted.remove(&record.id).unwrap_or_else(empty_counts);
            Project {
                document_count: documents_by_state.values().sum(),
                documents_by_state,
                record,
            }
        })
        .collect();
    Ok((items, total))
}

/// Changes what `settings` gives; the rest stays.
pub async fn update(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Uuid,
    settings: ProjectSettings,
) -> Result<Project, ProjectError> {
    lock(database, tenant_id, project_id).await?;
    let mut record = find(database, tenant_id, project_id).await?;
    apply(&mut record, settings)?;
    record.updated_at = Utc::now();
    let name = record.name.clone();
    let mut active: projects::ActiveModel = record.into();
    for column in [
        projects::Column::Name,
        projects::Column::Description,
        projects::Column::Language,
        projects::Column::DefaultLevel,
        projects::Column::Profile,
        projects::Column::Operators,
        projects::Column::KeepOriginals,
        projects::Column::UpdatedAt,
    ] {
        active.reset(column);
    }
    active
        .update(database)
        .await
        .map_err(|error| name_taken(error, &name))?;
    get(database, tenant_id, project_id).await
}

/// Takes a project out of listings at once, with its documents, and gives it as it was; the
/// `delete` job removes them and their blobs. The name stays taken until then.
pub async fn mark_deleted(
    database: &impl ConnectionTrait,
    tenant_id: Uuid,
    project_id: Uuid,
) -> Result<Project, ProjectError> {
    lock(database, tenant_id, project_id).await?;
    let project = get(database, tenant_id, project_id).await?;
    let now = Utc::now();
    projects::Entity::update_many()
        .col_expr(projects::Column::DeletedAt, Expr::value(now))
        .filter(projects::Column::Id.eq(project_id))
        .exec(database)
        .await?;
    documents::Entity::update_many()
        .col_expr(documents::Column::DeletedAt, Expr::value(now))
        .col_expr(documents::Column::Sha256, Expr::value(Option::<String>::None))
        .filter(documents::Column::ProjectId.eq(project_id))
        .filter(documents::Column::DeletedAt.is_null())
        .exec(database)
        .await?;
    Ok(project)
}

/// Writes to the project's row before anything reads it in the transaction `database` may
/// be: the transaction then holds the write lock (SQLite) or the row's lock (PostgreSQL), so
/// a read-then-write neither fails to upgrade its lock nor loses a concurrent change.
async fn lock(database: &impl ConnectionTrait, tenant_id: Uuid, project_id: Uuid) -> Result<(), ProjectError> {
    let locked = projects::Entity::update_many()
        .col_expr(projects::Column::UpdatedAt, Expr::col(projects::Column::UpdatedAt))
        .filter(projects::Column::Id.eq(project_id))
        .filter(projects::Column::TenantId.eq(tenant_id))
        .filter(projects::Column::DeletedAt.is_null())
        .exec(database)
        .await?;
    if locked.rows_affected == 0 {
        return Err(ProjectError::NotFound(project_id));
    }
    Ok(())
}

/// The language of a project's record.
pub fn language_of(record: &projects::Model) -> ProjectLanguage {
    ProjectLanguage::parse(&record.language)
}

/// The name of a level as projects store it.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Basic => "BASIC",
        Level::Intermediate => "INTERMEDIATE",
        Level::Advanced => "ADVANCED",
    }
}

/// A level from its stored name; INTERMEDIATE for a name that is none.
pub fn level_of(name: &str) -> Level {
    match name {
        "BASIC" => Level::Basic,
        "ADVANCED" => Level::Advanced,
        _ => Level::Intermediate,
    }
}

/// Checks `settings` and writes them into `record`.
fn apply(record: &mut projects::Model, settings: ProjectSettings) -> Result<(), ProjectError> {
    if let Some(name) = settings.name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(ProjectError::Invalid {
                field: "body.name",
                message: "must not be empty".into(),
            });
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(ProjectError::Invalid {
                field: "body.name",
                message: format!("must be at most {MAX_NAME_CHARS} characters"),
            });
        }
        if name.chars().any(char::is_control) {
            return Err(ProjectError::Invalid {
                field: "body.name",
                message: "must not hold control characters".into(),
            });
        }
        record.name = name;
    }
    if let Some(description) = settings.description {
        if description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            return Err(ProjectError::Invalid {
                field: "body.description",
                message: format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            });
        }
        record.description = description.filter(|text| !text.trim().is_empty());
    }
    if let Some(language) = settings.language {
        record.language = language.as_str().into();
    }
    if let Some(level) = settings.default_level {
        record.default_level = level_name(level).into();
    }
    if let Some(profile) = settings.profile {
        record.profile = profile;
    }
    if let Some(operators) = settings.operators {
        if let Some(value) = &operators
            && let Err(error) = crate::services::operators::entity_operators(value)
        {
            return Err(ProjectError::Invalid {
                field: "body.operators",
                message: if error.option.is_empty() {
                    error.message
                } else {
                    format!("{}: {}", error.option, error.message)
                },
            });
        }
        record.operators = operators;
    }
    if let Some(keep) = settings.keep_originals {
        record.keep_originals = keep;
    }
    Ok(())
}

/// A unique violation on insert or update is the name, the only unique column a caller sets.
fn name_taken(error: sea_orm::DbErr, name: &str) -> ProjectError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ProjectError::NameTaken(name.to_owned()),
        _ => ProjectError::Database(error),
    }
}

fn empty_counts() -> BTreeMap<String, u64> {
    DOCUMENT_STATES.iter().map(|state| ((*state).to_owned(), 0)).collect()
}

/// Listed documents (uploads that completed) of each project, by state.
async fn count_documents(
    database: &impl ConnectionTrait,
    project_ids: &[Uuid],
) -> Result<BTreeMap<Uuid, BTreeMap<String, u64>>, ProjectError> {
    if project_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(Uuid, String, i64)> = documents::Entity::find()
        .select_only()
        .column(documents::Column::ProjectId)
        .column(documents::Column::State)
        .column_as(Expr::expr(Func::count(Expr::col(documents::Column::Id))), "count")
        .filter(documents::Column::ProjectId.is_in(project_ids.iter().copied()))
        .filter(documents::Column::Uploaded.eq(true))
        .filter(documents::Column::DeletedAt.is_null())
        .group_by(documents::Column::ProjectId)
        .group_by(documents::Column::State)
        .into_tuple()
        .all(database)
        .await?;
    let mut counted: BTreeMap<Uuid, BTreeMap<String, u64>> = BTreeMap::new();
    for (project_id, state, count) in rows {
        *counted
            .entry(project_id)
            .or_insert_with(empty_counts)
            .entry(state)
            .or_insert(0) += u64::try_from(count).unwrap_or(0);
    }
    Ok(counted)
}
