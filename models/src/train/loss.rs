//! The weighted cross-entropy training minimizes: class weights for rare labels, the loss of a
//! batch, and the logit bias that takes the weights out at inference.

use std::collections::BTreeMap;

use candle_core::{D, Device, Tensor};
use candle_nn::Module;

use super::error::TrainError;
use super::windows::{IGNORED, Window};
use crate::bert::{BertEncoder, Dropout};

/// Inverse-frequency weights, square-rooted and capped, so rare labels count without
/// drowning the common ones; labels never seen weigh 1.
pub(super) fn class_weights(windows: &[Window], n_labels: usize) -> Vec<f32> {
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
pub(super) fn logit_bias(labels: &[String], class_weights: &[f32]) -> BTreeMap<String, f32> {
    labels
        .iter()
        .zip(class_weights)
        .filter(|(_, weight)| **weight != 1.0 && **weight > 0.0)
        .map(|(label, weight)| (label.clone(), -weight.ln()))
        .collect()
}

/// Weighted cross-entropy of a batch, ignoring special tokens and padding.
pub(super) fn batch_loss(
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
