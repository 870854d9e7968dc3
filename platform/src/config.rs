//! The one typed configuration, merged from defaults, a file, the environment and flags.
//!
//! Sources, later ones overriding earlier:
//! 1. the compiled-in `config/defaults.toml`;
//! 2. an optional TOML file (`--config` or `OBSCURA_CONFIG`);
//! 3. `DATABASE_URL`, then `OBSCURA__SECTION__KEY` environment variables;
//! 4. command-line flags, passed in as [`Overrides`].
//!
//! This module is the only place that reads the process environment for settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

const DEFAULTS: &str = include_str!("../config/defaults.toml");
const ENV_PREFIX: &str = "OBSCURA__";

/// Shortest bootstrap key accepted, in characters.
pub const MIN_BOOTSTRAP_KEY_LEN: usize = 32;

/// The whole configuration of an Obscura process.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub worker: WorkerConfig,
    pub events: EventsConfig,
    pub models: ModelsConfig,
    pub auth: AuthConfig,
    pub security: SecurityConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub json_body_limit_bytes: usize,
    /// Largest file uploaded through the API, in bytes (413 past it).
    pub max_upload_bytes: u64,
    /// Largest file sent to a presigned upload URL, in bytes.
    pub max_presigned_upload_bytes: u64,
    /// How long a presigned upload URL is valid, in seconds; an upload not completed by
    /// then is removed.
    pub presigned_upload_ttl_secs: u64,
    pub request_timeout_secs: u64,
    pub shutdown_timeout_secs: u64,
    pub workers: usize,
    /// Web origins whose pages may call the API from a browser, comma-separated
    /// (`https://app.example.com,http://localhost:3000`), or `*` for any; empty for none.
    pub cors_allowed_origins: String,
}

impl ServerConfig {
    /// The origins `cors_allowed_origins` names; `["*"]` for any, empty for none.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| origin.trim_end_matches('/').to_owned())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    #[serde(serialize_with = "serialize_database_url")]
    pub url: SecretString,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageBackendKind {
    Local,
    S3,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: StorageBackendKind,
    pub path: PathBuf,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    #[serde(serialize_with = "serialize_url")]
    pub endpoint: String,
    pub force_path_style: bool,
    /// Explicit S3 credentials; when absent the standard AWS chain is used.
    #[serde(default, serialize_with = "serialize_optional_secret")]
    pub access_key_id: Option<SecretString>,
    #[serde(default, serialize_with = "serialize_optional_secret")]
    pub secret_access_key: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs run at once; 0 means one per core (see [`WorkerConfig::jobs_at_once`]).
    pub concurrency: usize,
    pub name: String,
    pub max_attempts: u32,
    pub poll_interval_ms: u64,
    pub job_timeout_secs: u64,
}

impl WorkerConfig {
    /// How many jobs a worker runs at once: `concurrency`, or one per core when it is 0.
    pub fn jobs_at_once(&self) -> usize {
        if self.concurrency > 0 {
            self.concurrency
        } else {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        }
    }
}

/// Progress events: how long they are kept, and how far a WebSocket client may fall behind.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    pub retention_secs: u64,
    pub socket_buffer: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    pub dir: PathBuf,
    /// A directory of extra pattern packs (YAML or JSON); empty means the built-in ones only.
    pub packs_dir: PathBuf,
    /// The NER model profiles with the `ner` engine use, by id in `dir`; empty turns NER off.
    pub ner: String,
    /// Threads for NER inference; 0 means one per core.
    pub threads: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub key_file: PathBuf,
    /// The admin key installed at start instead of a generated one.
    #[serde(default, serialize_with = "serialize_optional_secret")]
    pub bootstrap_key: Option<SecretString>,
}

/// Keys for keyed hashes, value encryption and sealed data, and limits of anonymization.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// The master secret (32 bytes, base64 or hex) every other key is derived from.
    #[serde(default, serialize_with = "serialize_optional_secret")]
    pub secret_key: Option<SecretString>,
    /// Earlier master secrets, still used to open what they sealed.
    #[serde(default, serialize_with = "serialize_secret_list")]
    pub previous_keys: Vec<SecretString>,
    /// Where the generated secret lives when `secret_key` is empty (embedded mode).
    pub secret_key_file: PathBuf,
    /// Sanitization sessions expire this long after they were last used.
    pub session_ttl_secs: u64,
    /// The deepest JSON nesting anonymization accepts.
    pub json_max_depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

/// Values set on the command line; each is a dotted key (`server.bind`) and its value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pairs: Vec<(String, serde_json::Value)>,
}

impl Overrides {
    /// Sets `key` (dotted, such as `server.bind`) to `value` if the flag was given.
    pub fn set<V: Serialize>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(value) = value
            && let Ok(value) = serde_json::to_value(value)
        {
            self.pairs.push((key.to_owned(), value));
        }
        self
    }
}

/// Where configuration comes from, so tests can load without touching the real environment.
#[derive(Debug, Clone)]
pub enum EnvSource {
    /// The process environment.
    Process,
    /// Only these variables, as if they were the environment.
    Fixed(Vec<(String, String)>),
}

/// A configuration that could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration key `{key}` is invalid: {message} (set it with {env_var} or in the config file)")]
    Invalid {
        key: String,
        env_var: String,
        message: String,
    },
    #[error("config file {path} could not be read: {message}")]
    File { path: PathBuf, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            env_var: env_var_for(key),
            message: message.into(),
        }
    }
}

/// The environment variable that sets the dotted `key`.
pub fn env_var_for(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

impl Config {
    /// Loads the configuration from every source and validates it.
    pub fn load(config_file: Option<&Path>, env: &EnvSource, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));

        let env_file = match env {
            EnvSource::Process => std::env::var_os("OBSCURA_CONFIG").map(PathBuf::from),
            EnvSource::Fixed(vars) => vars
                .iter()
                .find(|(name, _)| name == "OBSCURA_CONFIG")
                .map(|(_, value)| PathBuf::from(value)),
        };
        if let Some(path) = config_file.map(Path::to_path_buf).or(env_file) {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path,
                    message: "no such file".into(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }

        let vars: Vec<(String, String)> = match env {
            EnvSource::Process => std::env::vars().collect(),
            EnvSource::Fixed(vars) => vars.clone(),
        };
        // Every value is merged as a string and converted by `extract_lossy`, so that a
        // string setting that looks like a number (a bucket named 2024) stays a string.
        if let Some((_, url)) = vars.iter().find(|(name, _)| name == "DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        for (name, value) in &vars {
            if let Some(rest) = name.strip_prefix(ENV_PREFIX) {
                let key = rest.to_lowercase().replace("__", ".");
                figment = figment.merge(Serialized::default(&key, value));
            }
        }

        for (key, value) in &overrides.pairs {
            figment = figment.merge(Serialized::default(key, value));
        }

        let mut config: Config = figment.extract_lossy().map_err(|error| config_error(&error))?;
        config.resolve_paths();
        config.validate()?;
        Ok(config)
    }

    /// Loads the defaults only, with `data_dir` set; used by tests and tooling.
    pub fn defaults_with_data_dir(data_dir: &Path) -> Result<Config, ConfigError> {
        let mut overrides = Overrides::default();
        overrides.set("server.data_dir", Some(data_dir));
        Config::load(None, &EnvSource::Fixed(Vec::new()), &overrides)
    }

    /// Fills the paths that default to places under the data directory.
    fn resolve_paths(&mut self) {
        let data_dir = self.server.data_dir.clone();
        if self.storage.path.as_os_str().is_empty() {
            self.storage.path = data_dir.join("blobs");
        }
        if self.auth.key_file.as_os_str().is_empty() {
            self.auth.key_file = data_dir.join("admin-key");
        }
        if self.models.dir.as_os_str().is_empty() {
            self.models.dir = data_dir.join("models");
        }
        if self.security.secret_key_file.as_os_str().is_empty() {
            self.security.secret_key_file = data_dir.join("secret-key");
        }
        if self
            .security
            .secret_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().is_empty())
        {
            self.security.secret_key = None;
        }
        // An empty variable (as compose files pass through when unset) means "not set".
        if self
            .auth
            .bootstrap_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().is_empty())
        {
            self.auth.bootstrap_key = None;
        }
        if self.server.public_url.is_empty() {
            self.server.public_url = format!("http://{}", self.server.bind);
        }
    }

    /// Checks cross-field rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bind_address()?;
        if !(self.server.public_url.starts_with("http://") || self.server.public_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "server.public_url",
                "must start with http:// or https://",
            ));
        }
        if self.server.json_body_limit_bytes == 0 {
            return Err(ConfigError::invalid("server.json_body_limit_bytes", "must be positive"));
        }
        if self.server.max_upload_bytes == 0 {
            return Err(ConfigError::invalid("server.max_upload_bytes", "must be positive"));
        }
        if self.server.max_presigned_upload_bytes == 0 {
            return Err(ConfigError::invalid(
                "server.max_presigned_upload_bytes",
                "must be positive",
            ));
        }
        let origins = self.server.cors_origins();
        for origin in &origins {
            let scheme_and_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .filter(|host| !host.is_empty() && !host.contains('/'));
            if origin != "*" && scheme_and_host.is_none() {
                return Err(ConfigError::invalid(
                    "server.cors_allowed_origins",
                    "must be `*` or origins such as https://app.example.com, comma-separated",
                ));
            }
        }
        if origins.len() > 1 && origins.iter().any(|origin| origin == "*") {
            return Err(ConfigError::invalid(
                "server.cors_allowed_origins",
                "`*` allows every origin and cannot be listed with others",
            ));
        }
        if !(60..=7 * 24 * 3600).contains(&self.server.presigned_upload_ttl_secs) {
            return Err(ConfigError::invalid(
                "server.presigned_upload_ttl_secs",
                "must be between 60 and 604800 (7 days, the longest S3 allows)",
            ));
        }
        for (key, value) in [
            ("server.request_timeout_secs", self.server.request_timeout_secs),
            ("server.shutdown_timeout_secs", self.server.shutdown_timeout_secs),
            ("database.connect_timeout_secs", self.database.connect_timeout_secs),
            ("worker.poll_interval_ms", self.worker.poll_interval_ms),
            ("worker.job_timeout_secs", self.worker.job_timeout_secs),
            ("events.retention_secs", self.events.retention_secs),
            ("events.socket_buffer", self.events.socket_buffer as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be positive"));
            }
        }
        let url = self.database.url.expose_secret();
        if !(url.is_empty()
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            return Err(ConfigError::Invalid {
                key: "database.url".into(),
                env_var: "DATABASE_URL or OBSCURA__DATABASE__URL".into(),
                message: "must be empty (SQLite in the data directory), postgres://… or sqlite:…".into(),
            });
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid("database.max_connections", "must be positive"));
        }
        if self.storage.backend == StorageBackendKind::S3 && self.storage.bucket.is_empty() {
            return Err(ConfigError::invalid(
                "storage.bucket",
                "is required when storage.backend is \"s3\"",
            ));
        }
        if !self.storage.endpoint.is_empty() && url::Url::parse(&self.storage.endpoint).is_err() {
            return Err(ConfigError::invalid("storage.endpoint", "is not a valid URL"));
        }
        if self.storage.access_key_id.is_some() != self.storage.secret_access_key.is_some() {
            return Err(ConfigError::invalid(
                "storage.secret_access_key",
                "access_key_id and secret_access_key must be set together",
            ));
        }
        if self.worker.max_attempts == 0 {
            return Err(ConfigError::invalid("worker.max_attempts", "must be positive"));
        }
        for key in self.security.secret_key.iter().chain(&self.security.previous_keys) {
            if crate::secrets::decode_master_key(key.expose_secret()).is_none() {
                return Err(ConfigError::invalid(
                    "security.secret_key",
                    "must be 32 bytes written in base64 or hex (for example: openssl rand -base64 32)",
                ));
            }
        }
        if self.security.session_ttl_secs == 0 {
            return Err(ConfigError::invalid("security.session_ttl_secs", "must be positive"));
        }
        if self.security.json_max_depth == 0 {
            return Err(ConfigError::invalid("security.json_max_depth", "must be positive"));
        }
        if let Some(key) = &self.auth.bootstrap_key
            && key.expose_secret().chars().count() < MIN_BOOTSTRAP_KEY_LEN
        {
            return Err(ConfigError::invalid(
                "auth.bootstrap_key",
                format!("must be at least {MIN_BOOTSTRAP_KEY_LEN} characters"),
            ));
        }
        Ok(())
    }

    /// The socket address of `server.bind`.
    pub fn bind_address(&self) -> Result<SocketAddr, ConfigError> {
        self.server
            .bind
            .parse()
            .map_err(|_| ConfigError::invalid("server.bind", "must be an address such as 127.0.0.1:8000"))
    }

    /// True when the database is PostgreSQL rather than the embedded SQLite.
    pub fn uses_postgres(&self) -> bool {
        let url = self.database.url.expose_secret();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// The configuration as JSON with every secret replaced, fit for logs.
    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Describes a figment error by its key and the expected type, never the value given,
/// which may be a secret.
fn config_error(error: &figment::Error) -> ConfigError {
    use figment::error::Kind;
    let key = error.path.join(".");
    let message = match &error.kind {
        Kind::UnknownField(field, _) => {
            let key = if key.is_empty() {
                field.clone()
            } else {
                format!("{key}.{field}")
            };
            return ConfigError::invalid(&key, "unknown key");
        }
        Kind::MissingField(field) => {
            let key = if key.is_empty() {
                field.to_string()
            } else {
                format!("{key}.{field}")
            };
            return ConfigError::invalid(&key, "is missing");
        }
        Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected) => format!("expected {expected}"),
        Kind::UnknownVariant(_, expected) => format!("expected one of: {}", expected.join(", ")),
        Kind::InvalidLength(_, expected) => format!("expected {expected}"),
        Kind::Message(_)
        | Kind::DuplicateField(_)
        | Kind::ISizeOutOfRange(_)
        | Kind::USizeOutOfRange(_)
        | Kind::Unsupported(_)
        | Kind::UnsupportedKey(_, _) => "has an invalid value".to_owned(),
    };
    ConfigError::invalid(&key, message)
}

fn serialize_optional_secret<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("[redacted]"),
        None => serializer.serialize_none(),
    }
}

fn serialize_secret_list<S: Serializer>(secrets: &[SecretString], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(secrets.iter().map(|_| "[redacted]"))
}

/// Database URLs are logged with the password replaced.
fn serialize_database_url<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url(secret.expose_secret()))
}

fn serialize_url<S: Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url(url))
}

/// Query parameters that carry secrets in database and endpoint URLs.
const SECRET_QUERY_KEYS: &[&str] = &[
    "password",
    "sslpassword",
    "sslkey",
    "secret",
    "token",
    "access_key",
    "secret_key",
];

/// Replaces the password and secret query parameters of a URL, keeping the rest for diagnosis.
pub fn redact_url(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let Ok(mut parsed) = url::Url::parse(raw) else {
        return "[unparsable url]".into();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("redacted"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let secret = SECRET_QUERY_KEYS.iter().any(|name| key.eq_ignore_ascii_case(name));
                (
                    key.into_owned(),
                    if secret {
                        "redacted".to_owned()
                    } else {
                        value.into_owned()
                    },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)], overrides: &Overrides) -> Result<Config, ConfigError> {
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::load(None, &EnvSource::Fixed(vars), overrides)
    }

    #[test]
    fn workers_run_one_job_per_core_unless_told() {
        let mut worker = WorkerConfig {
            concurrency: 0,
            name: String::new(),
            max_attempts: 3,
            poll_interval_ms: 200,
            job_timeout_secs: 600,
        };
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        assert_eq!(worker.jobs_at_once(), cores);
        worker.concurrency = 5;
        assert_eq!(worker.jobs_at_once(), 5);
    }

    #[test]
    fn cors_origins_are_listed_checked_and_named_when_wrong() {
        let config = load(
            &[(
                "OBSCURA__SERVER__CORS_ALLOWED_ORIGINS",
                " http://localhost:3000, https://a.example/ ",
            )],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            config.server.cors_origins(),
            ["http://localhost:3000", "https://a.example"]
        );
        assert!(
            load(&[], &Overrides::default())
                .unwrap()
                .server
                .cors_origins()
                .is_empty()
        );
        for wrong in ["localhost:3000", "https://a.example/app", "*,https://a.example"] {
            let error = load(
                &[("OBSCURA__SERVER__CORS_ALLOWED_ORIGINS", wrong)],
                &Overrides::default(),
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains("server.cors_allowed_origins"), "{wrong}: {error}");
        }
    }

    #[test]
    fn defaults_run_embedded_on_loopback() {
        let config = load(&[], &Overrides::default()).unwrap();
        assert_eq!(config.server.bind, "127.0.0.1:8000");
        assert!(!config.uses_postgres());
        assert_eq!(config.storage.backend, StorageBackendKind::Local);
        assert_eq!(config.storage.path, PathBuf::from("./data/blobs"));
        assert_eq!(config.auth.key_file, PathBuf::from("./data/admin-key"));
        assert_eq!(config.models.dir, PathBuf::from("./data/models"));
        assert_eq!(config.server.workers, 1);
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let config = load(
            &[
                ("OBSCURA__SERVER__BIND", "0.0.0.0:9000"),
                ("OBSCURA__WORKER__CONCURRENCY", "7"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(config.server.bind, "0.0.0.0:9000");
        assert_eq!(config.worker.concurrency, 7);

        let mut flags = Overrides::default();
        flags.set("server.bind", Some("127.0.0.1:1234"));
        let config = load(&[("OBSCURA__SERVER__BIND", "0.0.0.0:9000")], &flags).unwrap();
        assert_eq!(config.server.bind, "127.0.0.1:1234");
    }

    #[test]
    fn file_sits_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("obscura.toml");
        std::fs::write(&file, "[server]\nbind = \"127.0.0.1:7000\"\nworkers = 0\n").unwrap();
        let vars = vec![("OBSCURA__SERVER__WORKERS".to_owned(), "3".to_owned())];
        let config = Config::load(Some(&file), &EnvSource::Fixed(vars), &Overrides::default()).unwrap();
        assert_eq!(config.server.bind, "127.0.0.1:7000");
        assert_eq!(config.server.workers, 3);
    }

    #[test]
    fn database_url_is_honoured_and_obscura_variable_wins() {
        let config = load(&[("DATABASE_URL", "postgres://u:p@h/db")], &Overrides::default()).unwrap();
        assert!(config.uses_postgres());
        let config = load(
            &[
                ("DATABASE_URL", "postgres://u:p@h/db"),
                ("OBSCURA__DATABASE__URL", "sqlite::memory:"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        assert!(!config.uses_postgres());
    }

    #[test]
    fn errors_name_the_variable_to_fix() {
        let error = load(&[("OBSCURA__SERVER__BIND", "not an address")], &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("OBSCURA__SERVER__BIND"), "{error}");

        let error = load(&[("OBSCURA__WORKER__CONCURRENCY", "many")], &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("OBSCURA__WORKER__CONCURRENCY"), "{error}");

        let error = load(&[("OBSCURA__STORAGE__BACKEND", "s3")], &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("OBSCURA__STORAGE__BUCKET"), "{error}");

        let error = load(&[("OBSCURA__SERVER__BINDD", "x")], &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("OBSCURA__SERVER__BINDD"), "{error}");

        let error = load(&[("OBSCURA__AUTH__BOOTSTRAP_KEY", "short")], &Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("OBSCURA__AUTH__BOOTSTRAP_KEY"), "{error}");
    }

    #[test]
    fn string_settings_that_look_like_numbers_stay_strings() {
        let config = load(
            &[
                ("OBSCURA__STORAGE__BUCKET", "2024"),
                ("OBSCURA__WORKER__NAME", "1"),
                ("OBSCURA__WORKER__CONCURRENCY", "4"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(config.storage.bucket, "2024");
        assert_eq!(config.worker.name, "1");
        assert_eq!(config.worker.concurrency, 4);
    }

    #[test]
    fn errors_never_echo_the_value() {
        let error = load(
            &[("OBSCURA__WORKER__CONCURRENCY", "s3cr3t-value")],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(!error.to_string().contains("s3cr3t-value"), "{error}");
    }

    #[test]
    fn zero_durations_are_refused() {
        for name in [
            "OBSCURA__WORKER__POLL_INTERVAL_MS",
            "OBSCURA__SERVER__REQUEST_TIMEOUT_SECS",
            "OBSCURA__WORKER__JOB_TIMEOUT_SECS",
        ] {
            let error = load(&[(name, "0")], &Overrides::default()).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn urls_lose_passwords_and_secret_parameters() {
        let redacted = redact_url("postgres://user:pw@db/obscura?sslmode=require&password=hunter2");
        assert!(!redacted.contains("pw@") && !redacted.contains("hunter2"), "{redacted}");
        assert!(redacted.contains("sslmode=require"));
    }

    #[test]
    fn an_empty_bootstrap_key_means_none() {
        let config = load(&[("OBSCURA__AUTH__BOOTSTRAP_KEY", "")], &Overrides::default()).unwrap();
        assert!(config.auth.bootstrap_key.is_none());
    }

    #[test]
    fn redacted_view_hides_every_secret() {
        let config = load(
            &[
                ("DATABASE_URL", "postgres://obscura:hunter2-password@db:5432/obscura"),
                (
                    "OBSCURA__AUTH__BOOTSTRAP_KEY",
                    "bootstrap-key-that-is-long-enough-000000",
                ),
                ("OBSCURA__STORAGE__ACCESS_KEY_ID", "AKIAEXAMPLEKEYID"),
                ("OBSCURA__STORAGE__SECRET_ACCESS_KEY", "very-secret-access-key"),
            ],
            &Overrides::default(),
        )
        .unwrap();
        let text = config.redacted().to_string();
        for secret in [
            "hunter2-password",
            "bootstrap-key-that",
            "AKIAEXAMPLEKEYID",
            "very-secret-access-key",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        assert!(text.contains("db:5432/obscura"));
    }
}
