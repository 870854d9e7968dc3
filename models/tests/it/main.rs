//! Tests of the default model, installed by the test command (`scripts/test`), whose
//! directory `OBSCURA_TEST_MODELS_DIR` names. They fail, never skip, when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod rampart;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use obscura_models::NerModel;

/// The installed default model, loaded once for the whole binary.
pub fn rampart_model() -> Arc<NerModel> {
    static MODEL: OnceLock<Arc<NerModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = std::env::var_os("OBSCURA_TEST_MODELS_DIR").map(PathBuf::from).expect(
                "OBSCURA_TEST_MODELS_DIR must name a models directory holding rampart; scripts/test installs it",
            );
            Arc::new(NerModel::load(&dir.join("rampart")).expect("the installed rampart model loads"))
        })
        .clone()
}
