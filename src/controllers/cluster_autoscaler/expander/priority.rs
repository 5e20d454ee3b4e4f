//! The priority expander's configuration: the `cluster-autoscaler-priority-expander` ConfigMap.
//!
//! upstream: cluster-autoscaler/expander/priority/priority.go and readme.md. The ConfigMap's
//! `data.priorities` is YAML mapping an integer priority to a list of regular expressions over
//! node-group names:
//!
//! ```yaml
//! priorities: |-
//!   10:
//!     - .*spot.*
//!   50:
//!     - ^general$
//! ```
//!
//! An option's priority is the highest priority whose list has a pattern matching its group
//! (unanchored, as Go's `FindStringIndex`); the options with the highest priority are kept.
//! Options matching no pattern are dropped; when no option matches at all, every option is kept.
//! Upstream starts its running maximum at −1, so priorities below −1 are never selected; capsim
//! keeps that. Patterns use the subset in [`super::pattern`].

use super::ScaleUpOption;
use super::pattern::{Pattern, PatternError};
use std::collections::BTreeMap;

/// upstream: priority.go `PriorityConfigMapName`.
pub const PRIORITY_CONFIGMAP_NAME: &str = "cluster-autoscaler-priority-expander";
/// upstream: priority.go `ConfigMapKey`.
pub const PRIORITY_CONFIGMAP_KEY: &str = "priorities";

/// Parsed priorities: priority → patterns.
#[derive(Clone, Debug, PartialEq)]
pub struct PriorityConfig {
    pub tiers: BTreeMap<i32, Vec<Pattern>>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PriorityError {
    #[error("ConfigMap {name:?}: the priority expander reads the ConfigMap named {PRIORITY_CONFIGMAP_NAME:?}")]
    WrongName { name: String },
    #[error("ConfigMap {PRIORITY_CONFIGMAP_NAME}: data.{PRIORITY_CONFIGMAP_KEY} is missing or not a string")]
    MissingKey,
    #[error(
        "ConfigMap {PRIORITY_CONFIGMAP_NAME}: data.{PRIORITY_CONFIGMAP_KEY} is empty; please provide valid configuration"
    )]
    Empty,
    #[error(
        "ConfigMap {PRIORITY_CONFIGMAP_NAME}: data.{PRIORITY_CONFIGMAP_KEY}: expected a map of integer priority to a list of node-group name patterns: {0}"
    )]
    Yaml(String),
    #[error("ConfigMap {PRIORITY_CONFIGMAP_NAME}: data.{PRIORITY_CONFIGMAP_KEY}: priority {priority}: {source}")]
    Pattern { priority: i32, source: PatternError },
}

impl PriorityConfig {
    /// Parses the YAML text of `data.priorities`.
    pub fn parse(yaml: &str) -> Result<PriorityConfig, PriorityError> {
        if yaml.trim().is_empty() {
            return Err(PriorityError::Empty);
        }
        let raw: BTreeMap<i32, Vec<String>> =
            serde_saphyr::from_str(yaml).map_err(|e| PriorityError::Yaml(e.to_string()))?;
        let mut tiers = BTreeMap::new();
        for (priority, list) in raw {
            let mut pats = Vec::new();
            for p in list {
                pats.push(Pattern::compile(&p).map_err(|source| PriorityError::Pattern { priority, source })?);
            }
            tiers.insert(priority, pats);
        }
        Ok(PriorityConfig { tiers })
    }

    /// Reads a raw `v1 ConfigMap` document.
    pub fn from_configmap(doc: &serde_json::Value) -> Result<PriorityConfig, PriorityError> {
        let name = doc.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or("");
        if name != PRIORITY_CONFIGMAP_NAME {
            return Err(PriorityError::WrongName { name: name.to_string() });
        }
        let text = doc
            .pointer(&format!("/data/{PRIORITY_CONFIGMAP_KEY}"))
            .and_then(|v| v.as_str())
            .ok_or(PriorityError::MissingKey)?;
        PriorityConfig::parse(text)
    }

    /// Builds priorities from node groups' own `priority` fields (exact-name patterns), for
    /// scenarios that set priorities on the groups instead of writing the ConfigMap.
    pub fn from_group_priorities<'a>(groups: impl IntoIterator<Item = (&'a str, i32)>) -> Option<PriorityConfig> {
        let mut tiers: BTreeMap<i32, Vec<Pattern>> = BTreeMap::new();
        for (name, prio) in groups {
            let mut escaped = String::from("^");
            for c in name.chars() {
                if c.is_ascii_punctuation() {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            escaped.push('$');
            if let Ok(p) = Pattern::compile(&escaped) {
                tiers.entry(prio).or_default().push(p);
            }
        }
        (!tiers.is_empty()).then_some(PriorityConfig { tiers })
    }

    /// The highest priority whose patterns match `group`.
    pub fn priority_of(&self, group: &str) -> Option<i32> {
        self.tiers
            .iter()
            .rev()
            .find(|(_, pats)| pats.iter().any(|p| p.is_match(group)))
            .map(|(prio, _)| *prio)
    }

    /// upstream: priority.go `BestOptions`. Returns the kept indices and a score summary.
    pub fn best_options(&self, options: &[ScaleUpOption], left: &[usize]) -> (Vec<usize>, String) {
        let mut max_prio = -1;
        let mut best: Vec<usize> = Vec::new();
        let mut scores = Vec::new();
        for &i in left {
            let prio = self.priority_of(&options[i].group);
            match prio {
                Some(p) => scores.push(format!("{}={p}", options[i].group)),
                None => scores.push(format!("{}=unlisted", options[i].group)),
            }
            let Some(p) = prio else { continue };
            if p < max_prio {
                continue;
            }
            if p > max_prio {
                max_prio = p;
                best.clear();
            }
            best.push(i);
        }
        if best.is_empty() {
            return (
                left.to_vec(),
                format!("{} (nothing matched; all kept)", scores.join(" ")),
            );
        }
        (best, scores.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_configmap_yaml_and_picks_highest() {
        let cfg = PriorityConfig::parse("10:\n  - .*\n50:\n  - ^general-.*$\n  - spot\n").expect("valid");
        assert_eq!(cfg.priority_of("general-a"), Some(50));
        assert_eq!(cfg.priority_of("cheap-spot"), Some(50));
        assert_eq!(cfg.priority_of("gpu"), Some(10));
        let bad = PriorityConfig::parse("10:\n  - (?i)gpu\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.contains("priority 10") && bad.contains("look-around"), "{bad}");
        assert!(matches!(PriorityConfig::parse("  "), Err(PriorityError::Empty)));
        assert!(matches!(PriorityConfig::parse("ten: [a]"), Err(PriorityError::Yaml(_))));
    }
}
