//! The learning-rate schedule and the AdamW optimizer, whose moments are saved with every
//! checkpoint.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;

use super::TrainOptions;
use super::error::TrainError;

/// Linear warmup to `learning_rate`, then linear decay to zero.
pub(super) fn schedule(options: &TrainOptions, step: usize, total_steps: usize) -> f64 {
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
pub(super) struct AdamW {
    variables: Vec<(String, Var, Var, Var)>,
    weight_decay: f64,
    step: usize,
}

impl AdamW {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    pub(super) fn new(varmap: &VarMap, weight_decay: f64) -> Result<AdamW, TrainError> {
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

    pub(super) fn step(
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

    pub(super) fn save(&self, path: &Path) -> Result<(), TrainError> {
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (name, _, first, second) in &self.variables {
            tensors.insert(format!("m.{name}"), first.as_tensor().clone());
            tensors.insert(format!("v.{name}"), second.as_tensor().clone());
        }
        tensors.insert("step".into(), Tensor::new(&[self.step as f32], &Device::Cpu)?);
        candle_core::safetensors::save(&tensors, path)?;
        Ok(())
    }

    pub(super) fn load(&mut self, path: &Path, device: &Device) -> Result<(), TrainError> {
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
