//! Fine-tuning a BERT token classifier with candle-nn on the JSONL span format.
//!
//! The dataset's labels are mapped to taxonomy types with a label map; each type becomes a
//! pair of BIO labels appended to the base model's own, so the head grows without losing
//! its old rows. Training uses AdamW with linear warmup then linear decay, gradient
//! clipping, and class weights for rare labels; after every epoch the model is scored on
//! the dev set with the same inference path as detection, the best epoch is kept, and
//! training stops when dev F1 has not improved for `patience` epochs. A checkpoint (weights,
//! optimizer moments, counters) is written after every epoch, and `resume` continues from it.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::Config as BertConfig;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::bert::{BertEncoder, Dropout};
use crate::ner::{ModelError, id2label, special_tokens};
use crate::random::Random;
use crate::registry::{ENTRY_FILE, ModelEntry, read_model};

mod data;
mod error;
mod loss;
mod model_dir;
mod optimizer;
mod options;
mod scoring;
mod windows;

pub use error::TrainError;
pub use options::{ES_EN_MODEL_ID, TrainOptions, es_en_recipe};

use data::{extended_labels, merged_label_map, read_documents, read_json};
use error::io_error;
use loss::{batch_loss, class_weights, logit_bias};
use model_dir::{replace_dir, tokenizer_path, write_model_dir};
use optimizer::{AdamW, schedule};
use scoring::dev_scores;
use windows::{Window, document_windows};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ner::NerModel;
    use std::path::Path;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
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
