//! Fine-tuning a BERT token classifier with candle-nn on the JSONL span format.
//!
//! The dataset's labels are mapped to taxonomy types with a label map; each type becomes a
//! pair of BIO labels appended to the base model's own, so the head grows without losing
//! its old rows. Training uses AdamW with linear warmup then linear decay, gradient
//! clipping, and class weights for rare labels; after every epoch the model is scored on
//! the dev set with the same inference path as detection, the best epoch is kept, and
//! training stops when dev F1 has not improved for `patience` epochs. A checkpoint (weights,
//! optimizer moments, counters) is written after every epoch, and `resume` continues from it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Module, VarBuilder, VarMap};
use candle_transformers::models::bert::Config as BertConfig;
use obscura_detection::eval::{Document, LabelMap};
use obscura_detection::recognizer::{RecognitionRequest, Recognizer};
use obscura_detection::text::AnalyzedText;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::bert::{BertEncoder, Dropout};
use crate::ner::{ModelError, NerModel, id2label, special_tokens};
use crate::random::Random;
use crate::recognizer::NerRecognizer;
use crate::registry::{ENTRY_FILE, ModelEntry, read_model};

/// Label id the loss ignores (special tokens and padding).
const IGNORED: u32 = u32::MAX;

/// How to fine-tune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// The model directory to start from.
    pub base: PathBuf,
    pub train: Vec<PathBuf>,
    /// Dev data; the documents of all files are scored together. Checkpoints written when
    /// this was one file still read.
    #[serde(deserialize_with = "one_or_many")]
    pub dev: Vec<PathBuf>,
    /// Dataset label -> taxonomy types, as for `obscura eval`; the maps of several datasets
    /// are merged, and a label mapped two ways is an error.
    pub label_maps: Vec<PathBuf>,
    /// Where the fine-tuned model directory is written; its name is the model's id.
    pub out: PathBuf,
    pub epochs: usize,
    /// Windows per optimizer step.
    pub batch_windows: usize,
    /// Tokens per training window, special tokens included.
    pub window_tokens: usize,
    pub learning_rate: f64,
    /// Share of all steps spent warming the learning rate up from zero.
    pub warmup_fraction: f64,
    pub weight_decay: f64,
    /// Gradients are scaled down when their global L2 norm is above this.
    pub max_grad_norm: f64,
    /// Epochs without a better dev F1 before stopping.
    pub patience: usize,
    pub seed: u64,
    /// Train on the first documents only (for quick runs).
    pub max_documents: Option<usize>,
}

impl TrainOptions {
    /// Defaults for `base`, `train`, `dev`, `label_map` and `out`.
    pub fn new(
        base: PathBuf,
        train: Vec<PathBuf>,
        dev: Vec<PathBuf>,
        label_maps: Vec<PathBuf>,
        out: PathBuf,
    ) -> TrainOptions {
        TrainOptions {
            base,
            train,
            dev,
            label_maps,
            out,
            epochs: 4,
            batch_windows: 8,
            window_tokens: 128,
            learning_rate: 5e-5,
            warmup_fraction: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            patience: 2,
            seed: 17,
            max_documents: None,
        }
    }
}

/// The id of the Spanish-and-English model fine-tuned from the default one.
pub const ES_EN_MODEL_ID: &str = "obscura-es-en";

/// The recipe of `obscura-es-en`, in two stages run one after the other.
///
/// 1. Rampart (`base`) fine-tuned on the MEDDOCAN and Spanish ECHR train splits in windows
///    of 128 tokens, stopping early on MEDDOCAN dev, into `stage_one`.
/// 2. That model fine-tuned again, at a lower rate and in windows of 256 tokens, on the same
///    splits plus the synthetic English set, stopping early on MEDDOCAN dev and the synthetic
///    English dev set together, into `out`.
///
/// `datasets` is the repository's `datasets/`.
pub fn es_en_recipe(datasets: &Path, base: PathBuf, stage_one: PathBuf, out: PathBuf) -> [TrainOptions; 2] {
    let spanish_train = [
        datasets.join("meddocan/train.jsonl"),
        datasets.join("echr-es/train.jsonl"),
    ];
    let spanish_maps = [
        datasets.join("label-maps/meddocan.yaml"),
        datasets.join("label-maps/echr-es.yaml"),
    ];
    let mut first = TrainOptions::new(
        base,
        spanish_train.to_vec(),
        vec![datasets.join("meddocan/dev.jsonl")],
        spanish_maps.to_vec(),
        stage_one.clone(),
    );
    first.epochs = 6;
    first.learning_rate = 1e-4;
    let mut train = spanish_train.to_vec();
    train.push(datasets.join("synthetic-en/train.jsonl"));
    let mut maps = spanish_maps.to_vec();
    maps.push(datasets.join("label-maps/synthetic-en.yaml"));
    let mut second = TrainOptions::new(
        stage_one,
        train,
        vec![
            datasets.join("meddocan/dev.jsonl"),
            datasets.join("synthetic-en/dev.jsonl"),
        ],
        maps,
        out,
    );
    second.epochs = 3;
    second.learning_rate = 3e-5;
    second.window_tokens = 256;
    [first, second]
}

/// A list of paths, or one path alone.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    })
}

/// Why fine-tuning stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("training: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("dev scoring: {0}")]
    Scoring(#[from] obscura_detection::recognizer::RecognizerError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What happened, for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    Started {
        windows: usize,
        steps_per_epoch: usize,
        labels: usize,
    },
    Step {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    Epoch(EpochReport),
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f32,
    pub dev_precision: f64,
    pub dev_recall: f64,
    pub dev_f1: f64,
    pub seconds: f64,
    /// True when this epoch's weights are the kept ones.
    pub best: bool,
}

/// Counters written with every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    options: TrainOptions,
    labels: Vec<String>,
    completed_epochs: usize,
    step: usize,
    best_f1: f64,
    epochs_without_improvement: usize,
    reports: Vec<EpochReport>,
}

/// One training window: token ids and label ids (or `IGNORED`).
struct Window {
    ids: Vec<u32>,
    labels: Vec<u32>,
}

/// Fine-tunes and writes the best model to `options.out`; `resume` continues from the
/// checkpoint there. Returns every epoch's report.
pub fn train(
    options: &TrainOptions,
    resume: bool,
    progress: &mut dyn FnMut(TrainEvent),
) -> Result<Vec<EpochReport>, TrainError> {
    if options.window_tokens < 8 || options.window_tokens > 512 || options.batch_windows == 0 || options.epochs == 0 {
        return Err(TrainError::Invalid(
            "window_tokens must be 8 to 512, and batch_windows and epochs at least 1".into(),
        ));
    }
    let device = Device::Cpu;
    let base = read_model(&options.base).map_err(ModelError::from)?;
    let base_config: serde_json::Value = read_json(&options.base.join("config.json"))?;
    let bert_config: BertConfig = serde_json::from_value(base_config.clone()).map_err(|error| TrainError::Data {
        path: options.base.join("config.json"),
        message: error.to_string(),
    })?;
    let mut tokenizer =
        Tokenizer::from_file(options.base.join("tokenizer.json")).map_err(|error| TrainError::Data {
            path: options.base.join("tokenizer.json"),
            message: error.to_string(),
        })?;
    tokenizer
        .with_truncation(None)
        .map_err(|error| TrainError::Invalid(error.to_string()))?;
    tokenizer.with_padding(None);
    let label_map = merged_label_map(&options.label_maps)?;

    let mut train_documents = Vec::new();
    for path in &options.train {
        train_documents.extend(read_documents(path)?);
    }
    if let Some(limit) = options.max_documents {
        train_documents.truncate(limit);
    }
    let mut dev_documents = Vec::new();
    for path in &options.dev {
        dev_documents.extend(read_documents(path)?);
    }
    if dev_documents.is_empty() {
        return Err(TrainError::Invalid("the dev data holds no documents".into()));
    }

    // Labels: the base model's, then B-/I- for every type the training data has.
    let checkpoint_dir = options.out.join("checkpoint");
    let state_path = checkpoint_dir.join("state.json");
    let previous: Option<CheckpointState> = if resume && state_path.is_file() {
        Some(read_json(&state_path)?)
    } else {
        None
    };
    let base_labels = id2label(&base_config).map_err(TrainError::Invalid)?;
    let labels = match &previous {
        Some(state) => state.labels.clone(),
        None => extended_labels(&base_labels, &train_documents, &label_map),
    };
    let label_ids: HashMap<&str, u32> = labels
        .iter()
        .enumerate()
        .map(|(id, label)| (label.as_str(), id as u32))
        .collect();

    let (open_ids, close_ids) = special_tokens(&tokenizer).map_err(TrainError::Invalid)?;
    let content = options
        .window_tokens
        .saturating_sub(open_ids.len() + close_ids.len())
        .max(1);
    let mut windows = Vec::new();
    for document in &train_documents {
        windows.extend(document_windows(
            &tokenizer, document, &label_map, &label_ids, content, &open_ids, &close_ids,
        )?);
    }
    if windows.is_empty() {
        return Err(TrainError::Invalid("the training data holds no text".into()));
    }
    let class_weights = class_weights(&windows, labels.len());
    let steps_per_epoch = windows.len().div_ceil(options.batch_windows);
    let total_steps = steps_per_epoch * options.epochs;
    progress(TrainEvent::Started {
        windows: windows.len(),
        steps_per_epoch,
        labels: labels.len(),
    });

    // The trainable model: every stored tensor becomes a variable; the head grows.
    let varmap = VarMap::new();
    {
        let source = match &previous {
            Some(_) => checkpoint_dir.join("model.safetensors"),
            None => options.base.join("model.safetensors"),
        };
        let tensors = candle_core::safetensors::load(&source, &device)?;
        let mut data = varmap
            .data()
            .lock()
            .map_err(|_| TrainError::Invalid("variable map poisoned".into()))?;
        for (name, tensor) in tensors {
            // Token classification does not use the pooler; it would get no gradient.
            if name.contains("pooler.") {
                continue;
            }
            let tensor = tensor.to_dtype(DType::F32)?;
            let tensor = match (name.as_str(), previous.is_none()) {
                ("classifier.weight", true) => grow_rows(&tensor, labels.len(), 0.02, options.seed)?,
                ("classifier.bias", true) => grow_rows(&tensor, labels.len(), 0.0, options.seed)?,
                _ => tensor,
            };
            data.insert(name, Var::from_tensor(&tensor)?);
        }
    }
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let prefixed = varmap
        .data()
        .lock()
        .map_err(|_| TrainError::Invalid("variable map poisoned".into()))?
        .keys()
        .any(|name| name.starts_with("bert."));
    let encoder = BertEncoder::load_trainable(&if prefixed { vb.pp("bert") } else { vb.clone() }, &bert_config)?;
    let mut dropout = Dropout::new(bert_config.hidden_dropout_prob, options.seed.wrapping_add(1));
    let classifier = candle_nn::linear(bert_config.hidden_size, labels.len(), vb.pp("classifier"))?;
    let mut optimizer = AdamW::new(&varmap, options.weight_decay)?;
    if previous.is_some() {
        optimizer.load(&checkpoint_dir.join("optimizer.safetensors"), &device)?;
    }

    let mut state = previous.unwrap_or(CheckpointState {
        options: options.clone(),
        labels: labels.clone(),
        completed_epochs: 0,
        step: 0,
        best_f1: -1.0,
        epochs_without_improvement: 0,
        reports: Vec::new(),
    });
    let weights = Tensor::new(class_weights.as_slice(), &device)?;
    let mut order: Vec<usize> = (0..windows.len()).collect();
    let mut random = Random::new(options.seed);
    for _ in 0..state.completed_epochs {
        random.shuffle(&mut order);
    }

    while state.completed_epochs < options.epochs && state.epochs_without_improvement < options.patience.max(1) {
        let epoch = state.completed_epochs + 1;
        let started = Instant::now();
        random.shuffle(&mut order);
        let mut loss_sum = 0.0_f32;
        for (batch_number, batch) in order.chunks(options.batch_windows).enumerate() {
            let batch: Vec<&Window> = batch.iter().map(|&index| &windows[index]).collect();
            let loss = batch_loss(&encoder, &classifier, &batch, &weights, &mut dropout, &device)?;
            let grads = loss.backward()?;
            let learning_rate = schedule(options, state.step, total_steps);
            optimizer.step(&grads, learning_rate, options.max_grad_norm)?;
            state.step += 1;
            let loss = loss.to_scalar::<f32>()?;
            loss_sum += loss;
            progress(TrainEvent::Step {
                epoch,
                step: batch_number + 1,
                loss,
            });
        }

        // Score the epoch on dev through the inference path, from the written weights.
        std::fs::create_dir_all(&checkpoint_dir).map_err(io_error(&checkpoint_dir))?;
        let epoch_dir = options.out.join("epoch");
        write_model_dir(
            &epoch_dir,
            &varmap,
            &base,
            &base_config,
            &labels,
            &class_weights,
            &tokenizer_path(&options.base),
            options,
        )?;
        let (precision, recall, f1) = dev_scores(&epoch_dir, &dev_documents, &label_map)?;
        let best = f1 > state.best_f1;
        if best {
            state.best_f1 = f1;
            state.epochs_without_improvement = 0;
            replace_dir(&epoch_dir, &options.out.join("best"))?;
        } else {
            state.epochs_without_improvement += 1;
            std::fs::remove_dir_all(&epoch_dir).map_err(io_error(&epoch_dir))?;
        }
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / steps_per_epoch as f32,
            dev_precision: precision,
            dev_recall: recall,
            dev_f1: f1,
            seconds: started.elapsed().as_secs_f64(),
            best,
        };
        state.reports.push(report.clone());
        state.completed_epochs = epoch;
        varmap.save(checkpoint_dir.join("model.safetensors"))?;
        optimizer.save(&checkpoint_dir.join("optimizer.safetensors"))?;
        let state_text =
            serde_json::to_string_pretty(&state).map_err(|error| TrainError::Invalid(error.to_string()))?;
        std::fs::write(&state_path, state_text).map_err(io_error(&state_path))?;
        progress(TrainEvent::Epoch(report));
    }

    // The kept epoch's files become the model directory.
    let best_dir = options.out.join("best");
    for entry in std::fs::read_dir(&best_dir).map_err(io_error(&best_dir))? {
        let entry = entry.map_err(io_error(&best_dir))?;
        let target = options.out.join(entry.file_name());
        std::fs::copy(entry.path(), &target).map_err(io_error(&target))?;
    }
    // The correction for this run's class weights, also when the kept epoch was written
    // before models carried it.
    let entry_path = options.out.join(ENTRY_FILE);
    let mut entry: ModelEntry = read_json(&entry_path)?;
    entry.logit_bias = logit_bias(&labels, &class_weights);
    let text = serde_json::to_string_pretty(&entry).map_err(|error| TrainError::Invalid(error.to_string()))?;
    std::fs::write(&entry_path, text).map_err(io_error(&entry_path))?;
    let reports_path = options.out.join("training.json");
    let reports_text =
        serde_json::to_string_pretty(&state.reports).map_err(|error| TrainError::Invalid(error.to_string()))?;
    std::fs::write(&reports_path, reports_text).map_err(io_error(&reports_path))?;
    Ok(state.reports)
}

/// One map holding the labels of every map in `paths`.
fn merged_label_map(paths: &[PathBuf]) -> Result<LabelMap, TrainError> {
    let mut merged = LabelMap {
        description: String::new(),
        labels: BTreeMap::new(),
    };
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        let map = obscura_detection::eval::parse_label_map(&text).map_err(|error| TrainError::Data {
            path: path.clone(),
            message: error.to_string(),
        })?;
        for (label, target) in map.labels {
            if let Some(existing) = merged.labels.get(&label)
                && existing != &target
            {
                return Err(TrainError::Data {
                    path: path.clone(),
                    message: format!("label {label} is mapped differently by an earlier label map"),
                });
            }
            merged.labels.insert(label, target);
        }
    }
    Ok(merged)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|error| TrainError::Data {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

fn read_documents(path: &Path) -> Result<Vec<Document>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    obscura_detection::eval::read_documents(&text).map_err(|error| TrainError::Data {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

fn tokenizer_path(dir: &Path) -> PathBuf {
    dir.join("tokenizer.json")
}

/// The base labels, then `B-T` and `I-T` for each type `T` the data maps to that the base
/// does not have.
fn extended_labels(base: &[String], documents: &[Document], map: &LabelMap) -> Vec<String> {
    let types: BTreeSet<String> = documents
        .iter()
        .flat_map(|document| &document.spans)
        .filter_map(|span| target_type(map, &span.label))
        .collect();
    let mut labels = base.to_vec();
    for entity in types {
        for tag in ["B", "I"] {
            let label = format!("{tag}-{entity}");
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    labels
}

/// The taxonomy type a dataset label trains as: the first its map entry names.
fn target_type(map: &LabelMap, label: &str) -> Option<String> {
    map.labels
        .get(label)
        .and_then(|target| target.types().into_iter().next())
}

/// BIO label ids for a document's tokens, cut into windows of `content` tokens.
fn document_windows(
    tokenizer: &Tokenizer,
    document: &Document,
    map: &LabelMap,
    label_ids: &HashMap<&str, u32>,
    content: usize,
    open_ids: &[u32],
    close_ids: &[u32],
) -> Result<Vec<Window>, TrainError> {
    let encoding = tokenizer
        .encode_char_offsets(document.text.as_str(), false)
        .map_err(|error| TrainError::Invalid(error.to_string()))?;
    let outside = label_ids.get("O").copied().unwrap_or(0);
    let spans: Vec<(usize, usize, String)> = document
        .spans
        .iter()
        .filter_map(|span| target_type(map, &span.label).map(|entity| (span.start, span.end, entity)))
        .collect();
    // A word's pieces all take the word's tag (B- for every piece of an entity's first
    // word), as the default model was trained, so that averaging the pieces' predictions
    // does not turn a beginning into an inside.
    let mut token_labels: Vec<u32> = Vec::with_capacity(encoding.get_ids().len());
    let mut previous: Option<(Option<usize>, Option<u32>)> = None;
    for (&(start, _), word) in encoding.get_offsets().iter().zip(encoding.get_word_ids()) {
        let inside = spans
            .iter()
            .position(|(span_start, span_end, _)| *span_start <= start && start < *span_end);
        let label = match (inside, previous, token_labels.last()) {
            (None, _, _) => outside,
            (Some(index), Some((previous_span, previous_word)), Some(&previous_label))
                if previous_span == Some(index) && word.is_some() && previous_word == *word =>
            {
                previous_label
            }
            (Some(index), previous, _) => {
                let continues = previous.is_some_and(|(previous_span, _)| previous_span == Some(index));
                let name = format!("{}-{}", if continues { "I" } else { "B" }, spans[index].2);
                label_ids.get(name.as_str()).copied().unwrap_or(outside)
            }
        };
        previous = Some((inside, *word));
        token_labels.push(label);
    }
    let ids = encoding.get_ids();
    Ok(ids
        .chunks(content)
        .zip(token_labels.chunks(content))
        .map(|(ids, labels)| Window {
            ids: open_ids.iter().chain(ids).chain(close_ids).copied().collect(),
            labels: std::iter::repeat_n(IGNORED, open_ids.len())
                .chain(labels.iter().copied())
                .chain(std::iter::repeat_n(IGNORED, close_ids.len()))
                .collect(),
        })
        .collect())
}

/// Inverse-frequency weights, square-rooted and capped, so rare labels count without
/// drowning the common ones; labels never seen weigh 1.
fn class_weights(windows: &[Window], n_labels: usize) -> Vec<f32> {
    let mut counts = vec![0_usize; n_labels];
    for window in windows {
        for &label in &window.labels {
            if let Some(count) = counts.get_mut(label as usize) {
                *count += 1;
            }
        }
    }
    let total: usize = counts.iter().sum();
    let seen = counts.iter().filter(|&&count| count > 0).count().max(1);
    counts
        .iter()
        .map(|&count| {
            if count == 0 {
                1.0
            } else {
                ((total as f64 / (seen as f64 * count as f64)).sqrt().clamp(0.1, 10.0)) as f32
            }
        })
        .collect()
}

/// Minus the logarithm of each label's class weight, for the labels weighted other than 1:
/// training on a loss weighted by `w` teaches probabilities scaled by `w`, and adding
/// `-ln w` to the logits takes that out.
fn logit_bias(labels: &[String], class_weights: &[f32]) -> BTreeMap<String, f32> {
    labels
        .iter()
        .zip(class_weights)
        .filter(|(_, weight)| **weight != 1.0 && **weight > 0.0)
        .map(|(label, weight)| (label.clone(), -weight.ln()))
        .collect()
}

/// `tensor` with rows added up to `rows`, drawn from a normal distribution with standard
/// deviation `scale` (zero when `scale` is 0) by a generator seeded with `seed`, so that a
/// training run can be repeated exactly.
fn grow_rows(tensor: &Tensor, rows: usize, scale: f64, seed: u64) -> Result<Tensor, TrainError> {
    let existing = tensor.dim(0)?;
    if rows <= existing {
        return Ok(tensor.clone());
    }
    let mut shape = tensor.dims().to_vec();
    shape[0] = rows - existing;
    let count: usize = shape.iter().product();
    let mut random = Random::new(seed);
    let values: Vec<f32> = (0..count)
        .map(|_| {
            // Box-Muller from two uniform draws in (0, 1].
            let first = random.unit();
            let second = random.unit();
            let normal = (-2.0 * (1.0 - first).ln()).sqrt() * (std::f64::consts::TAU * second).cos();
            (normal * scale) as f32
        })
        .collect();
    let added = Tensor::from_vec(values, shape, tensor.device())?;
    Ok(Tensor::cat(&[tensor, &added], 0)?)
}

/// Weighted cross-entropy of a batch, ignoring special tokens and padding.
fn batch_loss(
    encoder: &BertEncoder,
    classifier: &candle_nn::Linear,
    batch: &[&Window],
    weights: &Tensor,
    dropout: &mut Dropout,
    device: &Device,
) -> Result<Tensor, TrainError> {
    let longest = batch.iter().map(|window| window.ids.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(batch.len() * longest);
    let mut mask = Vec::with_capacity(batch.len() * longest);
    let mut targets = Vec::with_capacity(batch.len() * longest);
    let mut valid = Vec::with_capacity(batch.len() * longest);
    for window in batch {
        let padding = longest - window.ids.len();
        ids.extend(window.ids.iter().copied().chain(std::iter::repeat_n(0, padding)));
        mask.extend(std::iter::repeat_n(1_u32, window.ids.len()).chain(std::iter::repeat_n(0, padding)));
        for &label in window.labels.iter().chain(std::iter::repeat_n(&IGNORED, padding)) {
            targets.push(if label == IGNORED { 0 } else { label });
            valid.push(if label == IGNORED { 0.0_f32 } else { 1.0 });
        }
    }
    let shape = (batch.len(), longest);
    let ids = Tensor::from_vec(ids, shape, device)?;
    let mask = Tensor::from_vec(mask, shape, device)?;
    let padded = batch.iter().any(|window| window.ids.len() < longest);
    let hidden = encoder.forward_training(&ids, padded.then_some(&mask), dropout)?;
    let logits = classifier.forward(&dropout.apply(&hidden)?)?;
    let n_labels = logits.dim(D::Minus1)?;
    let log_probabilities = candle_nn::ops::log_softmax(&logits.reshape(((), n_labels))?, D::Minus1)?;
    let targets = Tensor::from_vec(targets, batch.len() * longest, device)?;
    let picked = log_probabilities.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    let valid = Tensor::from_vec(valid, batch.len() * longest, device)?;
    let token_weights = (weights.index_select(&targets, 0)? * &valid)?;
    let total_weight = token_weights.sum_all()?;
    Ok(((picked * &token_weights)?.sum_all()?.neg()? / total_weight)?)
}

/// Linear warmup to `learning_rate`, then linear decay to zero.
fn schedule(options: &TrainOptions, step: usize, total_steps: usize) -> f64 {
    let warmup = ((total_steps as f64 * options.warmup_fraction) as usize).max(1);
    if step < warmup {
        options.learning_rate * (step + 1) as f64 / warmup as f64
    } else {
        let remaining = total_steps.saturating_sub(step) as f64 / total_steps.saturating_sub(warmup).max(1) as f64;
        options.learning_rate * remaining.max(0.0)
    }
}

/// AdamW with decoupled weight decay (none on biases and layer norms), whose moments can
/// be saved and restored so that training resumes where it stopped.
struct AdamW {
    variables: Vec<(String, Var, Var, Var)>,
    weight_decay: f64,
    step: usize,
}

impl AdamW {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    fn new(varmap: &VarMap, weight_decay: f64) -> Result<AdamW, TrainError> {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| TrainError::Invalid("variable map poisoned".into()))?;
        let mut variables = Vec::with_capacity(data.len());
        for (name, var) in data.iter() {
            let first = Var::zeros(var.shape(), DType::F32, var.device())?;
            let second = Var::zeros(var.shape(), DType::F32, var.device())?;
            variables.push((name.clone(), var.clone(), first, second));
        }
        variables.sort_by(|left, right| left.0.cmp(&right.0));
        Ok(AdamW {
            variables,
            weight_decay,
            step: 0,
        })
    }

    fn step(
        &mut self,
        grads: &candle_core::backprop::GradStore,
        learning_rate: f64,
        max_norm: f64,
    ) -> Result<(), TrainError> {
        // Global gradient norm, for clipping.
        let mut squares = 0.0_f64;
        for (_, var, _, _) in &self.variables {
            if let Some(grad) = grads.get(var.as_tensor()) {
                squares += f64::from(grad.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
        }
        let norm = squares.sqrt();
        let clip = if norm > max_norm && norm > 0.0 {
            max_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let correction1 = 1.0 - Self::BETA1.powi(self.step as i32);
        let correction2 = 1.0 - Self::BETA2.powi(self.step as i32);
        for (name, var, first, second) in &self.variables {
            // A weight without a gradient would silently stay as it was.
            let Some(grad) = grads.get(var.as_tensor()) else {
                return Err(TrainError::Invalid(format!("no gradient reaches {name}")));
            };
            let grad = (grad * clip)?;
            let new_first = ((first.as_tensor() * Self::BETA1)? + (&grad * (1.0 - Self::BETA1))?)?;
            let new_second = ((second.as_tensor() * Self::BETA2)? + (grad.sqr()? * (1.0 - Self::BETA2))?)?;
            let update = ((&new_first / correction1)? / ((&new_second / correction2)?.sqrt()? + Self::EPSILON)?)?;
            let decays = !(name.ends_with(".bias") || name.contains("LayerNorm"));
            let decayed = if decays {
                (var.as_tensor() * (1.0 - learning_rate * self.weight_decay))?
            } else {
                var.as_tensor().clone()
            };
            var.set(&(decayed - (update * learning_rate)?)?)?;
            first.set(&new_first)?;
            second.set(&new_second)?;
        }
        Ok(())
    }

    fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (name, _, first, second) in &self.variables {
            tensors.insert(format!("m.{name}"), first.as_tensor().clone());
            tensors.insert(format!("v.{name}"), second.as_tensor().clone());
        }
        tensors.insert("step".into(), Tensor::new(&[self.step as f32], &Device::Cpu)?);
        candle_core::safetensors::save(&tensors, path)?;
        Ok(())
    }

    fn load(&mut self, path: &Path, device: &Device) -> Result<(), TrainError> {
        let tensors = candle_core::safetensors::load(path, device)?;
        for (name, _, first, second) in &self.variables {
            let missing = || TrainError::Invalid(format!("{}: no moments for {name}", path.display()));
            first.set(tensors.get(&format!("m.{name}")).ok_or_else(missing)?)?;
            second.set(tensors.get(&format!("v.{name}")).ok_or_else(missing)?)?;
        }
        let step = tensors
            .get("step")
            .ok_or_else(|| TrainError::Invalid(format!("{}: no step", path.display())))?
            .to_vec1::<f32>()?;
        self.step = step.first().copied().unwrap_or(0.0) as usize;
        Ok(())
    }
}

/// Writes the current weights as a model directory the inference path loads.
#[allow(clippy::too_many_arguments)]
fn write_model_dir(
    dir: &Path,
    varmap: &VarMap,
    base: &crate::registry::InstalledModel,
    base_config: &serde_json::Value,
    labels: &[String],
    class_weights: &[f32],
    tokenizer: &Path,
    options: &TrainOptions,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    varmap.save(dir.join("model.safetensors"))?;
    let mut config = base_config.clone();
    config["id2label"] = serde_json::json!(
        labels
            .iter()
            .enumerate()
            .map(|(id, label)| (id.to_string(), label.clone()))
            .collect::<BTreeMap<_, _>>()
    );
    config["label2id"] = serde_json::json!(
        labels
            .iter()
            .enumerate()
            .map(|(id, label)| (label.clone(), id))
            .collect::<BTreeMap<_, _>>()
    );
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).map_err(io_error(&config_path))?;
    let tokenizer_target = dir.join("tokenizer.json");
    std::fs::copy(tokenizer, &tokenizer_target).map_err(io_error(&tokenizer_target))?;
    for name in ["LICENSE", "NOTICE", "ATTRIBUTION"] {
        let source = base.dir.join(name);
        if source.is_file() {
            let target = dir.join(name);
            std::fs::copy(&source, &target).map_err(io_error(&target))?;
        }
    }

    let id = options
        .out
        .file_name()
        .map_or_else(|| "fine-tuned".to_owned(), |name| name.to_string_lossy().into_owned());
    let mut entry: ModelEntry = base.entry.clone();
    entry.id = id;
    entry.description = format!(
        "{} fine-tuned on {} file(s) of labelled spans",
        base.entry.id,
        options.train.len()
    );
    entry.source = format!(
        "fine-tuned from {} with obscura models train ({} epochs at most)",
        base.entry.id, options.epochs
    );
    const FINE_TUNED: &str = "fine-tuned with Obscura";
    if !base.entry.attribution.ends_with(FINE_TUNED) {
        entry.attribution = format!("{}; {FINE_TUNED}", base.entry.attribution);
    }
    entry.checksums.clear();
    entry.logit_bias = logit_bias(labels, class_weights);
    // The model reads windows as long as the ones it was trained on.
    entry.window_tokens = options.window_tokens;
    entry.window_overlap = entry.window_overlap.min(options.window_tokens / 4);
    for label in labels {
        let entity = label.trim_start_matches("B-").trim_start_matches("I-");
        if label != "O" && !entry.labels.contains_key(entity) {
            entry.labels.insert(entity.to_owned(), entity.to_owned());
        }
    }
    let entry_path = dir.join(ENTRY_FILE);
    let text = serde_json::to_string_pretty(&entry).map_err(|error| TrainError::Invalid(error.to_string()))?;
    std::fs::write(&entry_path, text).map_err(io_error(&entry_path))?;
    Ok(())
}

fn replace_dir(source: &Path, target: &Path) -> Result<(), TrainError> {
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(io_error(target))?;
    }
    std::fs::rename(source, target).map_err(io_error(target))
}

/// Exact-span micro precision, recall and F1 of the model in `dir` on `documents`, in
/// taxonomy types.
fn dev_scores(dir: &Path, documents: &[Document], map: &LabelMap) -> Result<(f64, f64, f64), TrainError> {
    let model = NerModel::load(dir)?;
    let recognizer = NerRecognizer::new(Arc::new(model));
    let (mut gold_total, mut predicted_total, mut correct) = (0_usize, 0_usize, 0_usize);
    for document in documents {
        let gold: BTreeSet<(usize, usize, String)> = document
            .spans
            .iter()
            .filter_map(|span| target_type(map, &span.label).map(|entity| (span.start, span.end, entity)))
            .collect();
        let analyzed = AnalyzedText::new(&document.text);
        let request = RecognitionRequest {
            language: document.lang.as_deref().unwrap_or("en"),
            context_window: 5,
        };
        let predicted: BTreeSet<(usize, usize, String)> = recognizer
            .recognize(&analyzed, &request)?
            .into_iter()
            .map(|candidate| (candidate.start, candidate.end, candidate.entity_type.to_string()))
            .collect();
        gold_total += gold.len();
        predicted_total += predicted.len();
        correct += gold.intersection(&predicted).count();
    }
    let precision = if predicted_total == 0 {
        0.0
    } else {
        correct as f64 / predicted_total as f64
    };
    let recall = if gold_total == 0 {
        0.0
    } else {
        correct as f64 / gold_total as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Ok((precision, recall, f1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_es_en_recipe_reads_labelled_data_its_label_maps_cover() {
        let datasets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets");
        let [first, second] = es_en_recipe(&datasets, "base".into(), "stage1".into(), "out".into());
        assert_eq!(second.base, first.out, "the second stage starts from the first");
        for stage in [&first, &second] {
            let map = merged_label_map(&stage.label_maps).unwrap();
            for path in stage.train.iter().chain(&stage.dev) {
                let documents = read_documents(path).unwrap();
                assert!(!documents.is_empty(), "{}", path.display());
                for document in &documents {
                    let length = document.text.chars().count();
                    for span in &document.spans {
                        assert!(
                            map.labels.contains_key(&span.label),
                            "{}: label {} is in no label map of the stage",
                            path.display(),
                            span.label
                        );
                        assert!(
                            span.start < span.end && span.end <= length,
                            "{}: {}",
                            path.display(),
                            document.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn options_with_one_dev_file_still_read() {
        let mut options = TrainOptions::new("b".into(), vec!["t".into()], vec!["d".into()], Vec::new(), "o".into());
        let mut json = serde_json::to_value(&options).unwrap();
        json["dev"] = serde_json::json!("d");
        assert_eq!(serde_json::from_value::<TrainOptions>(json).unwrap(), options);
        options.dev.push("e".into());
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(serde_json::from_value::<TrainOptions>(json).unwrap(), options);
    }

    #[test]
    fn every_piece_of_a_word_takes_the_word_tag() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("tiny");
        crate::ner::tests::tiny_model(&base, |_, _, _| {});
        let tokenizer = Tokenizer::from_file(base.join("tokenizer.json")).unwrap();
        let map = obscura_detection::eval::parse_label_map("labels:\n  NOMBRE: PERSON\n  CIUDAD: LOCATION\n").unwrap();
        let document: Document = serde_json::from_str(
            r#"{"id": "a", "text": "Ana lives in Madrids.", "spans": [{"start": 0, "end": 9, "label": "NOMBRE"}, {"start": 13, "end": 20, "label": "CIUDAD"}]}"#,
        )
        .unwrap();
        let labels = ["O", "B-PERSON", "I-PERSON", "B-LOCATION", "I-LOCATION"];
        let label_ids: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(id, label)| (*label, id as u32))
            .collect();
        let windows = document_windows(&tokenizer, &document, &map, &label_ids, 100, &[2], &[3]).unwrap();
        let tags: Vec<&str> = windows[0]
            .labels
            .iter()
            .map(|&label| labels.get(label as usize).copied().unwrap_or("-"))
            .collect();
        // [CLS] ana lives in madrid ##s . [SEP]
        assert_eq!(
            tags,
            ["-", "B-PERSON", "I-PERSON", "O", "B-LOCATION", "B-LOCATION", "O", "-"]
        );
    }

    #[test]
    fn fine_tuning_lowers_the_loss_grows_the_head_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("tiny");
        crate::ner::tests::tiny_model(&base, |_, _, _| {});
        let train_path = dir.path().join("train.jsonl");
        let mut lines = String::new();
        for _ in 0..6 {
            lines.push_str(r#"{"id": "a", "text": "Ana lives in Madrid.", "spans": [{"start": 0, "end": 3, "label": "NOMBRE"}, {"start": 13, "end": 19, "label": "CIUDAD"}]}"#);
            lines.push('\n');
        }
        write(&train_path, &lines);
        let map_path = dir.path().join("map.yaml");
        write(&map_path, "labels:\n  NOMBRE: PERSON\n  CIUDAD: LOCATION\n");
        let out = dir.path().join("tuned");
        let mut options = TrainOptions::new(
            base.clone(),
            vec![train_path.clone()],
            vec![train_path],
            vec![map_path],
            out.clone(),
        );
        options.epochs = 4;
        options.batch_windows = 2;
        options.learning_rate = 5e-3;
        options.patience = 10;

        let mut losses = Vec::new();
        let reports = train(&options, false, &mut |event| {
            if let TrainEvent::Step { loss, .. } = event {
                losses.push(loss);
            }
        })
        .unwrap();
        assert_eq!(reports.len(), 4);
        // One step's loss is noisy (dropout, batch order, and threads summing in another
        // order), and so is one epoch's: the last epoch's mean is below the first's.
        let epoch = losses.len() / 4;
        let mean = |steps: &[f32]| steps.iter().sum::<f32>() / steps.len() as f32;
        assert!(
            mean(&losses[losses.len() - epoch..]) < mean(&losses[..epoch]),
            "{losses:?}"
        );

        // Every weight of the encoder moved, from the embeddings to the last layer norm.
        let before = candle_core::safetensors::load(base.join("model.safetensors"), &Device::Cpu).unwrap();
        let after = candle_core::safetensors::load(out.join("model.safetensors"), &Device::Cpu).unwrap();
        for (name, tensor) in &before {
            if name.starts_with("classifier") || name.contains("pooler.") {
                continue;
            }
            let difference = (tensor - &after[name])
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(difference > 0.0, "{name} did not change");
        }

        // The head kept its three labels and gained B-/I- for both types.
        let model = NerModel::load(&out).unwrap();
        assert_eq!(
            model.labels(),
            [
                "O",
                "B-NAME",
                "I-NAME",
                "B-LOCATION",
                "I-LOCATION",
                "B-PERSON",
                "I-PERSON"
            ]
        );
        // The class weights are taken out at inference: "O", the commonest label, weighs
        // least and gets the largest bias; labels the data never shows weigh 1 and get none.
        let bias = &model.installed().entry.logit_bias;
        assert!(bias["O"] > 0.0 && bias["B-PERSON"] < bias["O"], "{bias:?}");
        assert!(!bias.contains_key("B-NAME"), "{bias:?}");
        // It reads windows as long as it was trained on (the base read 16 tokens).
        assert_eq!(model.installed().entry.window_tokens, options.window_tokens);

        // Two more epochs continue from the checkpoint: six reports in all.
        options.epochs = 6;
        let reports = train(&options, true, &mut |_| {}).unwrap();
        assert_eq!(
            reports.iter().map(|report| report.epoch).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
    }
}
