//! The catalog: every loaded pack and profile, and a ready detector per pack selection.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::detect::{DetectOptions, Detector};
use crate::pack::{LoadedPack, PackError, builtin_packs, load_directory};
use crate::profile::{DEFAULT_PROFILE, Engine, Profile, builtin_profiles};
use crate::recognizer::Recognizer;

/// What a detector is built from: pack names, then whether NER and gazetteers run.
type DetectorKey = (Vec<String>, bool, bool);

/// Packs, profiles, and detectors built from them on first use.
#[derive(Debug)]
pub struct Catalog {
    packs: Vec<LoadedPack>,
    profiles: Vec<Profile>,
    /// NER and other recognizers that profiles with the `ner` engine add.
    ner: Vec<Arc<dyn Recognizer>>,
    detectors: Mutex<BTreeMap<DetectorKey, Detector>>,
}

/// The detector and defaults chosen for one request.
#[derive(Debug, Clone)]
pub struct Selection {
    pub detector: Detector,
    pub profile: Profile,
}

impl Catalog {
    /// The built-in packs and profiles, plus the packs of `pack_dir` when given.
    pub fn load(pack_dir: Option<&Path>, ner: Vec<Arc<dyn Recognizer>>) -> Result<Catalog, PackError> {
        let mut packs = builtin_packs()?;
        if let Some(directory) = pack_dir {
            for pack in load_directory(directory)? {
                if packs.iter().any(|existing| existing.pack.name == pack.pack.name) {
                    return Err(PackError::Duplicate {
                        name: pack.pack.name.clone(),
                        file: pack.source.clone(),
                    });
                }
                packs.push(pack);
            }
        }
        Ok(Catalog {
            packs,
            profiles: builtin_profiles()?,
            ner,
            detectors: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn packs(&self) -> &[LoadedPack] {
        &self.packs
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// A profile by name.
    pub fn profile(&self, name: &str) -> Result<&Profile, PackError> {
        self.profiles
            .iter()
            .find(|profile| profile.name == name)
            .ok_or_else(|| PackError::Unknown(format!("profile {name}")))
    }

    /// The detector for a profile (default `standard`), optionally with other packs and
    /// engines than the profile's.
    pub fn select(
        &self,
        profile: Option<&str>,
        packs: Option<&[String]>,
        engines: Option<&[Engine]>,
    ) -> Result<Selection, PackError> {
        let profile = self.profile(profile.unwrap_or(DEFAULT_PROFILE))?.clone();
        let mut pack_names: Vec<String> = packs.map_or_else(|| profile.packs.clone(), <[String]>::to_vec);
        pack_names.sort();
        pack_names.dedup();
        let engines = engines.unwrap_or(&profile.engines);
        let with_ner = engines.contains(&Engine::Ner);
        let with_gazetteer = engines.contains(&Engine::Gazetteer);
        let patterns = engines.contains(&Engine::Patterns);
        let key = (
            if patterns { pack_names.clone() } else { Vec::new() },
            with_ner,
            with_gazetteer,
        );
        let mut cache = self.detectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(detector) = cache.get(&key) {
            return Ok(Selection {
                detector: detector.clone(),
                profile,
            });
        }
        let mut chosen = Vec::new();
        for name in &key.0 {
            let pack = self
                .packs
                .iter()
                .find(|pack| &pack.pack.name == name)
                .ok_or_else(|| PackError::Unknown(name.clone()))?;
            chosen.push(pack.clone());
        }
        let mut extra: Vec<Arc<dyn Recognizer>> = if with_ner { self.ner.clone() } else { Vec::new() };
        if with_gazetteer {
            extra.push(Arc::new(crate::gazetteer::GazetteerRecognizer::default()));
        }
        let detector = if patterns {
            Detector::new(&chosen, extra)?
        } else {
            Detector::without_patterns(extra)?
        };
        cache.insert(key, detector.clone());
        Ok(Selection { detector, profile })
    }
}

impl Selection {
    /// Fills the options a request left open from the profile.
    pub fn apply_defaults(&self, options: &mut DetectOptions) {
        if options.language.is_none() {
            options.language = self.profile.language.clone();
        }
        if options.min_score.is_none() {
            options.min_score = self.profile.min_score;
        }
        for (entity, threshold) in &self.profile.thresholds {
            options.thresholds.entry(entity.clone()).or_insert(*threshold);
        }
        options.on_recognizer_error = self.profile.on_recognizer_error;
        for name in &self.profile.refinements_off {
            if !options.refinements_off.contains(name) {
                options.refinements_off.push(name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_select_their_packs_and_detectors_are_cached() {
        let catalog = Catalog::load(None, Vec::new()).unwrap();
        let minimal = catalog.select(Some("minimal"), None, None).unwrap();
        let names: Vec<String> = minimal
            .detector
            .recognizers()
            .into_iter()
            .map(|info| info.name)
            .collect();
        assert!(names.iter().all(|name| !name.starts_with("secrets/aws")), "{names:?}");
        let standard = catalog.select(None, None, None).unwrap();
        assert!(
            standard
                .detector
                .recognizers()
                .iter()
                .any(|info| info.name == "secrets/aws_access_key")
        );
        assert!(catalog.select(Some("nope"), None, None).is_err());
        assert!(catalog.select(None, Some(&["nope".to_owned()]), None).is_err());
        assert_eq!(catalog.detectors.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_pack_directory_adds_custom_recognizers() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("hr.yaml"),
            "name: hr\nversion: \"1\"\ndescription: Employee ids\nrecognizers:\n  - name: employee\n    entity: EMPLOYEE_ID\n    patterns:\n      - regex: '\\bEMP-\\d{6}\\b'\n        score: 0.9\n",
        )
        .unwrap();
        let catalog = Catalog::load(Some(directory.path()), Vec::new()).unwrap();
        let selection = catalog.select(None, Some(&["hr".to_owned()]), None).unwrap();
        let hits = selection
            .detector
            .detect("badge EMP-123456", &DetectOptions::default())
            .unwrap()
            .detections;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].entity_type, "EMPLOYEE_ID");
    }
}
