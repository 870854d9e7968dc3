//! `/api/v1/projects`: collections of documents that share settings and one glossary.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use obscura_anonymization::Level;
use obscura_platform::audit::{self, Actor, AuditEvent};
use obscura_platform::projects::{self, Project, ProjectLanguage, ProjectSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::problem::{ApiError, ApiJson, ApiPath, ApiQuery, Problem};
use crate::request_id;
use crate::routes::jobs::PageQuery;
use crate::state::AppState;

/// An anonymization level: BASIC masks, INTERMEDIATE gives consistent aliases
/// (`PERSONA-001`), ADVANCED gives realistic surrogates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LevelName {
    Basic,
    Intermediate,
    Advanced,
}

impl LevelName {
    pub fn level(self) -> Level {
        match self {
            LevelName::Basic => Level::Basic,
            LevelName::Intermediate => Level::Intermediate,
            LevelName::Advanced => Level::Advanced,
        }
    }

    fn of(level: Level) -> LevelName {
        match level {
            Level::Basic => LevelName::Basic,
            Level::Intermediate => LevelName::Intermediate,
            Level::Advanced => LevelName::Advanced,
        }
    }
}

/// The language of a project's documents: `es`, `en`, or `auto` for each document's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LanguageName {
    Es,
    En,
    Auto,
}

impl LanguageName {
    fn domain(self) -> ProjectLanguage {
        match self {
            LanguageName::Es => ProjectLanguage::Es,
            LanguageName::En => ProjectLanguage::En,
            LanguageName::Auto => ProjectLanguage::Auto,
        }
    }

    fn of(language: ProjectLanguage) -> LanguageName {
        match language {
            ProjectLanguage::Es => LanguageName::Es,
            ProjectLanguage::En => LanguageName::En,
            ProjectLanguage::Auto => LanguageName::Auto,
        }
    }
}

/// A new project.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// Unique in the tenant; 1 to 200 characters.
    pub name: String,
    pub description: Option<String>,
    /// The level documents are anonymized at when a request gives none (default INTERMEDIATE).
    pub default_anonymization_level: Option<LevelName>,
    /// Default `auto`.
    pub language: Option<LanguageName>,
    /// The detection profile (such as `legal-es`); default: the language's.
    pub profile: Option<String>,
    /// Operators by entity type, overriding the level's (as `/anonymize` takes them).
    #[schema(value_type = Option<Object>)]
    pub operators: Option<serde_json::Value>,
    /// Whether originals stay stored once a document is anonymized and its leak check
    /// passed (default true).
    pub keep_originals: Option<bool>,
}

/// Changes to a project: the fields given change, the others stay. `null` clears
/// `description`, `profile` and `operators`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub default_anonymization_level: Option<LevelName>,
    pub language: Option<LanguageName>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub profile: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub operators: Option<Option<serde_json::Value>>,
    pub keep_originals: Option<bool>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// A project as users see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub default_anonymization_level: LevelName,
    pub language: LanguageName,
    pub profile: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub operators: Option<serde_json::Value>,
    pub keep_originals: bool,
    /// Documents whose upload completed.
    pub document_count: u64,
    /// Those documents by state; every state is listed.
    pub documents_by_state: BTreeMap<String, u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectView {
    fn from(project: Project) -> ProjectView {
        ProjectView {
            default_anonymization_level: LevelName::of(project.default_level()),
            language: LanguageName::of(project.language()),
            id: project.record.id,
            name: project.record.name,
            description: project.record.description,
            profile: project.record.profile,
            operators: project.record.operators,
            keep_originals: project.record.keep_originals,
            document_count: project.document_count,
            documents_by_state: project.documents_by_state,
            created_at: project.record.created_at,
            updated_at: project.record.updated_at,
        }
    }
}

/// A page of projects.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectView>,
    /// Projects of the tenant in all.
    pub total: u64,
}

/// The actor of an audit record.
pub fn actor(principal: &Principal) -> Actor {
    Actor {
        key_id: Some(principal.key_id),
        role: principal.role.as_str(),
    }
}

/// Checks that a profile a project names exists, so that its jobs do not fail later.
fn check_profile(state: &AppState, profile: Option<&str>) -> Result<(), ApiError> {
    let Some(profile) = profile else {
        return Ok(());
    };
    if state.catalog.profile(profile).is_err() {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body.profile",
            format!("{profile} is not a profile"),
        ));
    }
    Ok(())
}

/// Creates a project.
#[utoipa::path(
    post,
    path = "/projects",
    tag = "projects",
    request_body(content = CreateProjectRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The project", body = ProjectView),
        (status = 400, description = "Invalid settings", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_project(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<CreateProjectRequest>,
) -> Result<(StatusCode, ApiJson<ProjectView>), ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    check_profile(&state, request.profile.as_deref())?;
    let settings = ProjectSettings {
        name: Some(request.name),
        description: Some(request.description),
        language: request.language.map(LanguageName::domain),
        default_level: request.default_anonymization_level.map(LevelName::level),
        profile: Some(request.profile),
        operators: Some(request.operators),
        keep_originals: request.keep_originals,
    };
    let tx = state.database.begin().await?;
    let project = projects::create(&tx, principal.tenant_id, settings).await?;
    let request_id = request_id::current();
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: "project.create",
            resource_type: "project",
            resource_id: Some(project.record.id),
            project_id: Some(project.record.id),
            counts: None,
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(project.into())))
}

/// Lists the tenant's projects, by name.
#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of projects", body = ProjectPage),
        (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<ApiJson<ProjectPage>, ApiError> {
    let (limit, offset) = page.checked(projects::MAX_PAGE_SIZE)?;
    let (items, total) = projects::list(state.database.orm(), principal.tenant_id, limit, offset).await?;
    Ok(ApiJson(ProjectPage {
        items: items.into_iter().map(ProjectView::from).collect(),
        total,
    }))
}

/// Reads a project, with its documents counted by state.
#[utoipa::path(
    get,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_project(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<ApiJson<ProjectView>, ApiError> {
    let project = projects::get(state.database.orm(), principal.tenant_id, project_id).await?;
    Ok(ApiJson(project.into()))
}

/// Changes a project's settings; the fields not given stay.
#[utoipa::path(
    put,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    request_body(content = UpdateProjectRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 400, description = "Invalid settings", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new name is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_project(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateProjectRequest>,
) -> Result<ApiJson<ProjectView>, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst])?;
    if let Some(Some(profile)) = &request.profile {
        check_profile(&state, Some(profile))?;
    }
    let settings = ProjectSettings {
        name: request.name,
        description: request.description,
        language: request.language.map(LanguageName::domain),
        default_level: request.default_anonymization_level.map(LevelName::level),
        profile: request.profile,
        operators: request.operators,
        keep_originals: request.keep_originals,
    };
    let tx = state.database.begin().await?;
    let project = projects::update(&tx, principal.tenant_id, project_id, settings).await?;
    let request_id = request_id::current();
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: "project.update",
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: None,
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    tx.commit().await?;
    Ok(ApiJson(project.into()))
}

/// Deletes a project: it and its documents leave listings at once, and the `delete` job
/// removes their blobs, entities, glossary and decisions. The name stays taken until the job
/// has run.
#[utoipa::path(
    delete,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "The project id")),
    responses(
        (status = 202, description = "The delete job is queued", body = crate::routes::jobs::JobAccepted),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_project(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let request_id = request_id::current();
    let tx = state.database.begin().await?;
    let project = projects::mark_deleted(&tx, principal.tenant_id, project_id).await?;
    audit::record(
        &tx,
        AuditEvent {
            tenant_id: principal.tenant_id,
            actor: actor(&principal),
            action: "project.delete",
            resource_type: "project",
            resource_id: Some(project_id),
            project_id: Some(project_id),
            counts: Some(serde_json::json!({ "documents": project.document_count })),
            request_id: Some(&request_id),
        },
    )
    .await
    .map_err(ApiError::internal)?;
    let job_id = crate::routes::documents::enqueue_delete(
        &state,
        &tx,
        &principal,
        obscura_platform::jobs::DeleteTarget::Project { project_id },
    )
    .await?;
    tx.commit().await?;
    Ok(crate::routes::jobs::accepted(&state.config.server.public_url, job_id))
}
