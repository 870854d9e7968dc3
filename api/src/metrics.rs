//! Prometheus metrics of the API process, served as text at `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/api/v1/jobs/{job_id}`), never the raw path, so ids don't explode cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobStateLabels {
    pub kind: String,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CategoryLabels {
    pub category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabels {
    pub component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// Every metric the API records.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_request_duration: Family<RouteLabels, Histogram>,
    pub http_requests_in_flight: Gauge,
    pub jobs_enqueued: Family<JobLabels, Counter>,
    pub component_up: Family<ComponentLabels, Gauge>,
    /// Fleet-wide figures, read from the database at each scrape.
    pub documents: Family<StateLabels, Gauge>,
    pub jobs: Family<JobStateLabels, Gauge>,
    pub queue_depth: Gauge,
    pub entities: Family<CategoryLabels, Gauge>,
    pub pages: Gauge,
    /// Durations of the jobs of the whole fleet that ended since this process started.
    pub job_duration: Family<JobStateLabels, Histogram>,
    /// Where the last scrape stopped reading ended jobs.
    finished_cursor: std::sync::Mutex<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("obscura");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", http_requests.clone());
        let http_request_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_request_duration.clone(),
        );
        let http_requests_in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            http_requests_in_flight.clone(),
        );
        let jobs_enqueued = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs_enqueued",
            "Jobs queued by this API process",
            jobs_enqueued.clone(),
        );
        let component_up = Family::<ComponentLabels, Gauge>::default();
        registry.register(
            "component_up",
            "1 when the component answered the last health check, 0 when it did not",
            component_up.clone(),
        );
        let documents = Family::<StateLabels, Gauge>::default();
        registry.register("documents", "Documents by state, in the whole fleet", documents.clone());
        let jobs = Family::<JobStateLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Job records by type and state, in the whole fleet",
            jobs.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register("queue_depth", "Jobs waiting in the queue", queue_depth.clone());
        let entities = Family::<CategoryLabels, Gauge>::default();
        registry.register(
            "document_entities",
            "Entities of documents kept by review, by category",
            entities.clone(),
        );
        let pages = Gauge::default();
        registry.register("pages_processed", "Pages of the documents detected", pages.clone());
        let job_duration = Family::<JobStateLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.05, 2.0, 14))
        });
        registry.register(
            "job_duration_seconds",
            "Time of the last attempt of jobs that ended since this process started, by type and outcome",
            job_duration.clone(),
        );
        registry.register(
            "build",
            "Build information",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            }),
        );
        Metrics {
            registry,
            http_requests,
            http_request_duration,
            http_requests_in_flight,
            jobs_enqueued,
            component_up,
            documents,
            jobs,
            queue_depth,
            entities,
            pages,
            job_duration,
            finished_cursor: std::sync::Mutex::new((chrono::Utc::now(), uuid::Uuid::nil())),
        }
    }

    /// Reads the fleet-wide figures from the database.
    pub async fn refresh(&self, database: &obscura_platform::database::Database) -> Result<(), sea_orm::DbErr> {
        use obscura_platform::stats;
        let orm = database.orm();
        self.documents.clear();
        for (state, count) in stats::documents_by_state(orm).await? {
            self.documents.get_or_create(&StateLabels { state }).set(count);
        }
        self.jobs.clear();
        for (kind, state, count) in stats::jobs_by_kind_and_state(orm).await? {
            self.jobs.get_or_create(&JobStateLabels { kind, state }).set(count);
        }
        self.entities.clear();
        for (category, count) in stats::entities_by_category(orm).await? {
            self.entities.get_or_create(&CategoryLabels { category }).set(count);
        }
        self.pages.set(stats::pages_processed(orm).await?);
        if let Ok(depth) = obscura_platform::jobs::queue_depth(database).await {
            self.queue_depth.set(depth);
        }
        let cursor = *self
            .finished_cursor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let finished = stats::jobs_finished_after(orm, Some(cursor), 10_000).await?;
        if let Some(last) = finished.last() {
            let mut stored = self
                .finished_cursor
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Another scrape may have read them meanwhile.
            if *stored != cursor {
                return Ok(());
            }
            *stored = (last.finished_at, last.id);
        }
        for job in finished {
            self.job_duration
                .get_or_create(&JobStateLabels {
                    kind: job.kind,
                    state: job.state,
                })
                .observe(job.seconds);
        }
        Ok(())
    }

    /// The registry in the Prometheus text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Middleware: counts and times every request by route template.
pub async fn track_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // Decremented on drop, so a request abandoned by its client still leaves the gauge.
    let _in_flight = InFlight::enter(&metrics.http_requests_in_flight);
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .http_request_duration
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Counts one in-flight request for as long as it lives.
struct InFlight(Gauge);

impl InFlight {
    fn enter(gauge: &Gauge) -> InFlight {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Standard methods by name; anything else is `other`, so clients cannot mint label values.
fn method_label(method: &axum::http::Method) -> String {
    use axum::http::Method;
    let known = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    if known.contains(method) {
        method.as_str().to_owned()
    } else {
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_prometheus_text() {
        let metrics = Metrics::new();
        metrics
            .jobs_enqueued
            .get_or_create(&JobLabels {
                kind: "diagnostic".into(),
            })
            .inc();
        let text = metrics.encode().unwrap();
        assert!(text.contains("# TYPE obscura_jobs_enqueued counter"), "{text}");
        assert!(
            text.contains("obscura_jobs_enqueued_total{kind=\"diagnostic\"} 1"),
            "{text}"
        );
        assert!(text.contains("obscura_build_info"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
