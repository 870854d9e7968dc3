//! Tests of loading models of each architecture and running them, with a tiny random BERT
//! that other tests build on.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config as BertConfig;
use candle_transformers::models::debertav2::{Config as DebertaV2Config, DebertaV2Model};
use candle_transformers::models::xlm_roberta::{Config as XlmRobertaConfig, XLMRobertaModel};
use tokenizers::Tokenizer;

use super::NerModel;
use crate::registry::{ENTRY_FILE, ModelEntry};

/// The tensor names a BERT token classifier reads.
fn bert_tensor_names(config: &BertConfig, prefixed: bool) -> std::collections::BTreeSet<String> {
    let prefix = if prefixed { "bert." } else { "" };
    let mut names = std::collections::BTreeSet::new();
    for table in ["word_embeddings", "position_embeddings", "token_type_embeddings"] {
        names.insert(format!("{prefix}embeddings.{table}.weight"));
    }
    for part in ["weight", "bias"] {
        names.insert(format!("{prefix}embeddings.LayerNorm.{part}"));
        names.insert(format!("classifier.{part}"));
        for layer in 0..config.num_hidden_layers {
            for module in [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "attention.output.LayerNorm",
                "intermediate.dense",
                "output.dense",
                "output.LayerNorm",
            ] {
                names.insert(format!("{prefix}encoder.layer.{layer}.{module}.{part}"));
            }
        }
    }
    names
}

const WORDS: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "ana", "lives", "in", "madrid", "##s", ".", ",",
];

/// A BERT token classifier with random weights: 1 layer, 8 hidden units, 3 labels.
pub(crate) fn tiny_model(
    dir: &Path,
    edit: impl FnOnce(&mut serde_json::Value, &mut HashMap<String, Tensor>, &mut ModelEntry),
) {
    let mut config = serde_json::json!({
        "architectures": ["BertForTokenClassification"],
        "model_type": "bert", "vocab_size": WORDS.len(), "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null,
        "id2label": {"0": "O", "1": "B-NAME", "2": "I-NAME"}
    });
    let bert_config: BertConfig = serde_json::from_value(config.clone()).unwrap();
    let mut tensors = HashMap::new();
    for name in bert_tensor_names(&bert_config, true) {
        let shape: Vec<usize> = if name.contains("word_embeddings") {
            vec![WORDS.len(), 8]
        } else if name.contains("position_embeddings") {
            vec![64, 8]
        } else if name.contains("token_type_embeddings") {
            vec![2, 8]
        } else if name.starts_with("classifier.weight") {
            vec![3, 8]
        } else if name.starts_with("classifier.bias") {
            vec![3]
        } else if name.contains("intermediate.dense.weight") {
            vec![16, 8]
        } else if name.contains("intermediate.dense.bias") {
            vec![16]
        } else if name.contains("output.dense.weight") && !name.contains("attention") {
            vec![8, 16]
        } else if name.ends_with(".weight") && !name.contains("LayerNorm") {
            vec![8, 8]
        } else {
            vec![8]
        };
        tensors.insert(name, Tensor::randn(0_f32, 0.5, shape, &Device::Cpu).unwrap());
    }
    let mut entry = ModelEntry {
        id: "tiny".into(),
        description: "random".into(),
        architecture: "bert".into(),
        languages: vec!["en".into()],
        license: "CC0-1.0".into(),
        attribution: "tests".into(),
        source: "random".into(),
        labels: BTreeMap::from([("NAME".to_owned(), "PERSON".to_owned())]),
        skip_labels: Vec::new(),
        thresholds: BTreeMap::new(),
        default_threshold: 0.0,
        groups: Vec::new(),
        window_tokens: 16,
        window_overlap: 4,
        aggregation: "first".into(),
        logit_bias: BTreeMap::new(),
        checksums: BTreeMap::new(),
    };
    edit(&mut config, &mut tensors, &mut entry);

    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors")).unwrap();
    std::fs::write(dir.join(ENTRY_FILE), serde_json::to_string(&entry).unwrap()).unwrap();
    let vocab_path = dir.join("vocab.txt");
    std::fs::write(&vocab_path, WORDS.join("\n")).unwrap();
    let wordpiece = tokenizers::models::wordpiece::WordPiece::from_file(&vocab_path.display().to_string())
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tokenizer = Tokenizer::new(wordpiece);
    tokenizer
        .with_normalizer(Some(tokenizers::normalizers::bert::BertNormalizer::default()))
        .unwrap();
    tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::bert::BertPreTokenizer));
    tokenizer.with_post_processor(Some(tokenizers::processors::bert::BertProcessing::new(
        ("[SEP]".into(), 3),
        ("[CLS]".into(), 2),
    )));
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();
}

#[test]
fn a_tiny_model_runs_over_many_windows_with_offsets_in_code_points() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path(), |_, _, _| {});
    let model = NerModel::load(dir.path()).unwrap();
    let (ids, logits) = model.window_logits("Ana lives in Madrid.").unwrap();
    assert_eq!(ids, [2, 4, 5, 6, 7, 9, 3]);
    assert_eq!((logits.len(), logits[0].len()), (7, 3));

    // Thirty sentences are about 150 tokens: a dozen windows of 16, batched.
    let text = "Ána lives in Madrid, Ána. ".repeat(30);
    let characters: Vec<char> = text.chars().collect();
    let spans = model.predict(&[&text, "Madrid"]).unwrap();
    assert_eq!(spans.len(), 2);
    for span in &spans[0] {
        assert!(span.start < span.end && span.end <= characters.len(), "{span:?}");
        let found: String = characters[span.start..span.end].iter().collect();
        assert!(text.contains(&found));
    }
}

#[test]
fn a_logit_bias_shifts_the_labels_it_names() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path(), |_, _, _| {});
    let text = "Ána lives in Madrid, Ána. ".repeat(3);
    let unbiased = NerModel::load(dir.path()).unwrap().predict(&[&text]).unwrap();
    // A bias far above any logit makes every word the start of a name; far below, on
    // both name labels, makes none.
    for (bias, every_word) in [(100.0_f32, true), (-100.0, false)] {
        let biased = tempfile::tempdir().unwrap();
        tiny_model(biased.path(), |_, _, entry| {
            entry.logit_bias = BTreeMap::from([("B-NAME".to_owned(), bias)]);
            if !every_word {
                entry.logit_bias.insert("I-NAME".to_owned(), bias);
            }
        });
        let spans = NerModel::load(biased.path()).unwrap().predict(&[&text]).unwrap();
        let words = text.split_whitespace().count();
        if every_word {
            assert!(spans[0].len() >= words, "{spans:?}");
        } else {
            assert!(spans[0].is_empty(), "{spans:?} (unbiased: {unbiased:?})");
        }
    }
    let error = load_error(|_, _, entry| {
        entry.logit_bias = BTreeMap::from([("B-PLACE".to_owned(), 1.0)]);
    });
    assert!(error.contains("B-PLACE"), "{error}");
}

fn load_error(edit: impl FnOnce(&mut serde_json::Value, &mut HashMap<String, Tensor>, &mut ModelEntry)) -> String {
    let dir = tempfile::tempdir().unwrap();
    tiny_model(dir.path(), edit);
    NerModel::load(dir.path()).unwrap_err().to_string()
}

#[test]
fn missing_unused_and_misshapen_weights_are_named() {
    let error = load_error(|_, tensors, _| {
        tensors.remove("bert.encoder.layer.0.attention.self.key.bias");
    });
    assert!(error.contains("attention.self.key.bias"), "{error}");
    let error = load_error(|_, tensors, _| {
        tensors.insert(
            "bert.encoder.layer.0.extra.weight".into(),
            Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
        );
    });
    assert!(error.contains("bert.encoder.layer.0.extra.weight"), "{error}");
    let error = load_error(|_, tensors, _| {
        tensors.insert(
            "classifier.bias".into(),
            Tensor::zeros(5, DType::F32, &Device::Cpu).unwrap(),
        );
    });
    assert!(error.contains("classifier"), "{error}");
}

/// Replaces the tiny BERT in `dir` with another architecture's random weights, built by
/// candle's own model so that the names and shapes are the ones it reads.
fn swap_architecture(dir: &Path, architecture: &str, class: &str, config: serde_json::Value) {
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    match architecture {
        "xlm-roberta" => {
            let typed: XlmRobertaConfig = serde_json::from_value(config.clone()).unwrap();
            XLMRobertaModel::new(&typed, vb.pp("roberta")).unwrap();
        }
        _ => {
            let typed: DebertaV2Config = serde_json::from_value(config.clone()).unwrap();
            DebertaV2Model::load(vb.pp("deberta"), &typed).unwrap();
        }
    }
    candle_nn::linear(8, 3, vb.pp("classifier")).unwrap();
    varmap.save(dir.join("model.safetensors")).unwrap();
    let mut config = config;
    config["architectures"] = serde_json::json!([class]);
    config["id2label"] = serde_json::json!({"0": "O", "1": "B-NAME", "2": "I-NAME"});
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let entry_path = dir.join(ENTRY_FILE);
    let mut entry: ModelEntry = serde_json::from_str(&std::fs::read_to_string(&entry_path).unwrap()).unwrap();
    entry.architecture = architecture.into();
    std::fs::write(&entry_path, serde_json::to_string(&entry).unwrap()).unwrap();
}

#[test]
fn roberta_and_deberta_token_classifiers_load_and_run() {
    let common = serde_json::json!({
        "vocab_size": WORDS.len(), "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 16, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 1,
        "initializer_range": 0.02, "layer_norm_eps": 1e-7, "pad_token_id": 0
    });
    let mut roberta = common.clone();
    roberta["position_embedding_type"] = serde_json::json!("absolute");
    let mut deberta = common;
    for (key, value) in [
        ("relative_attention", serde_json::json!(true)),
        ("max_relative_positions", serde_json::json!(-1)),
        ("position_biased_input", serde_json::json!(false)),
        ("pos_att_type", serde_json::json!(["p2c", "c2p"])),
        ("position_buckets", serde_json::json!(16)),
        ("share_att_key", serde_json::json!(true)),
        ("norm_rel_ebd", serde_json::json!("layer_norm")),
    ] {
        deberta[key] = value;
    }
    for (architecture, class, config) in [
        ("xlm-roberta", "XLMRobertaForTokenClassification", roberta),
        ("deberta-v2", "DebertaV2ForTokenClassification", deberta),
    ] {
        let dir = tempfile::tempdir().unwrap();
        tiny_model(dir.path(), |_, _, _| {});
        swap_architecture(dir.path(), architecture, class, config);
        let model = NerModel::load(dir.path()).unwrap_or_else(|error| panic!("{architecture}: {error}"));
        let (ids, logits) = model.window_logits("Ana lives in Madrid.").unwrap();
        assert_eq!((logits.len(), logits[0].len()), (ids.len(), 3), "{architecture}");
        let text = "Ana lives in Madrid. ".repeat(12);
        model.predict(&[&text]).unwrap();
    }
}

#[test]
fn unknown_architectures_and_unmapped_labels_are_refused() {
    let error = load_error(|config, _, entry| {
        config["architectures"] = serde_json::json!(["FunnelForTokenClassification"]);
        entry.architecture = "funnel".into();
    });
    assert!(
        error.contains("FunnelForTokenClassification") && error.contains("not supported"),
        "{error}"
    );
    let error = load_error(|_, _, entry| {
        entry.labels.clear();
    });
    assert!(error.contains("label NAME"), "{error}");
}
