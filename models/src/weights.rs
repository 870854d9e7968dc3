//! A weight source that remembers which tensors a model read, so that loading can refuse a
//! checkpoint holding tensors the architecture ignores.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Result, Shape, Tensor};
use candle_nn::Init;
use candle_nn::var_builder::SimpleBackend;

/// Tensors by name, and the names read so far.
pub struct TrackingBackend {
    tensors: HashMap<String, Tensor>,
    used: Arc<Mutex<BTreeSet<String>>>,
}

impl TrackingBackend {
    pub fn new(tensors: HashMap<String, Tensor>) -> TrackingBackend {
        TrackingBackend {
            tensors,
            used: Arc::new(Mutex::new(BTreeSet::new())),
        }
    }

    /// The names read, shared with the backend once it is inside a `VarBuilder`.
    pub fn used(&self) -> Arc<Mutex<BTreeSet<String>>> {
        self.used.clone()
    }

    fn fetch(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::CannotFindTensor { path: name.to_owned() }.bt())?;
        if let Ok(mut used) = self.used.lock() {
            used.insert(name.to_owned());
        }
        tensor.to_dtype(dtype)?.to_device(device)
    }
}

impl SimpleBackend for TrackingBackend {
    fn get(&self, shape: Shape, name: &str, _hints: Init, dtype: DType, device: &Device) -> Result<Tensor> {
        let tensor = self.fetch(name, dtype, device)?;
        if tensor.shape() != &shape {
            return Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: shape,
                got: tensor.shape().clone(),
            }
            .bt());
        }
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        self.fetch(name, dtype, device)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}
