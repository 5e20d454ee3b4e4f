//! Stage 1: files → YAML documents → [`RawDocument`]s, following `spec.include`.

use super::defaults;
use super::error::{ErrorDetail, ErrorKind, ScenarioError};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The scenario document's `apiVersion` and `kind`.
pub const CAPSIM_API_VERSION: &str = "capsim/v1alpha1";
pub const SCENARIO_KIND: &str = "Scenario";

/// Kinds without a namespace: their `namespace` is empty.
const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "Scenario",
    "NodeGroup",
    "PriorityClass",
    "NodePool",
    "EC2NodeClass",
    "NodeClaim",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PersistentVolume",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "RuntimeClass",
];

/// One YAML document (or one item of a `v1 List`), before typed parsing.
#[derive(Clone, Debug, PartialEq)]
pub struct RawDocument {
    /// The file as the user named it (include paths joined to the including file's directory).
    pub file: String,
    /// 1-based index among the file's non-empty documents.
    pub index: usize,
    /// 1-based index inside a `v1 List` document.
    pub item: Option<usize>,
    /// 1-based line where the document's content starts (0 when unknown).
    pub line: usize,
    pub api_version: String,
    pub kind: String,
    /// `metadata.name`, empty when absent.
    pub name: String,
    /// `metadata.namespace`, `default` when absent; empty for cluster-scoped kinds.
    pub namespace: String,
    pub value: Value,
}

impl RawDocument {
    /// Builds a document from its parsed value, reading the header fields.
    pub fn new(
        file: &str,
        index: usize,
        item: Option<usize>,
        line: usize,
        value: Value,
    ) -> Result<RawDocument, ScenarioError> {
        let mut doc = RawDocument {
            file: file.to_string(),
            index,
            item,
            line,
            api_version: String::new(),
            kind: String::new(),
            name: String::new(),
            namespace: String::new(),
            value,
        };
        doc.refresh_header()?;
        Ok(doc)
    }

    /// Re-reads `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` from `value`
    /// (after an override edited them).
    pub fn refresh_header(&mut self) -> Result<(), ScenarioError> {
        let Some(map) = self.value.as_object() else {
            return Err(self.error(
                ErrorKind::Schema,
                "",
                format!(
                    "expected a mapping with apiVersion and kind, got {}",
                    type_name(&self.value)
                ),
            ));
        };
        let field = |key: &str| -> Result<String, ScenarioError> {
            match map.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(Value::String(_)) | None => Err(self.error(ErrorKind::Schema, key, "required field is missing")),
                Some(v) => Err(self.error(
                    ErrorKind::Schema,
                    key,
                    format!("expected a string, got {}", type_name(v)),
                )),
            }
        };
        let api_version = field("apiVersion")?;
        let kind = field("kind")?;
        let meta = match map.get("metadata") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(v) => {
                return Err(self.error(
                    ErrorKind::Schema,
                    "metadata",
                    format!("expected a mapping, got {}", type_name(v)),
                ));
            }
        };
        let meta_str = |key: &str| -> Result<Option<String>, ScenarioError> {
            match meta.and_then(|m| m.get(key)) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(self.error(
                    ErrorKind::Schema,
                    format!("metadata.{key}"),
                    format!("expected a string, got {}", type_name(v)),
                )),
            }
        };
        let name = meta_str("name")?.unwrap_or_default();
        let namespace = if CLUSTER_SCOPED_KINDS.contains(&kind.as_str()) {
            String::new()
        } else {
            meta_str("namespace")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| defaults::NAMESPACE.to_string())
        };
        self.api_version = api_version;
        self.kind = kind;
        self.name = name;
        self.namespace = namespace;
        Ok(())
    }

    /// `Kind name`, or `Kind namespace/name` outside the default namespace.
    pub fn object(&self) -> String {
        let name = if self.name.is_empty() { "(unnamed)" } else { &self.name };
        if self.namespace.is_empty() || self.namespace == defaults::NAMESPACE {
            format!("{} {}", self.kind, name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, name)
        }
    }

    /// `namespace/name` (or `name` for cluster-scoped objects).
    pub fn qualified_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }

    pub fn is(&self, api_version: &str, kind: &str) -> bool {
        self.api_version == api_version && self.kind == kind
    }

    /// An error located at this document and field path. Later stages (NodeGroup, NodePool, HPA
    /// validation) use this so their errors carry the same location.
    pub fn error(&self, kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        let path = path.into();
        ScenarioError::from(ErrorDetail {
            kind,
            file: self.file.clone(),
            document: Some(self.index),
            item: self.item,
            line: (self.line > 0).then_some(self.line),
            object: (!self.kind.is_empty()).then(|| self.object()),
            path: (!path.is_empty()).then_some(path),
            message: message.into(),
        })
    }
}

/// A JSON type name for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Parses one file's text into documents. Empty documents (nothing, only comments, `null`) are skipped
/// and not counted; `v1 List` documents are expanded into their items.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<RawDocument>, ScenarioError> {
    let parsed: Vec<serde_saphyr::Spanned<Value>> =
        serde_saphyr::from_multiple_with_options(text, defaults::yaml_options())
            .map_err(|e| ScenarioError::file(ErrorKind::Syntax, file, yaml_message(&e)))?;
    let mut docs = Vec::new();
    for (i, spanned) in parsed.into_iter().enumerate() {
        let index = i + 1;
        let line = spanned.referenced.line() as usize;
        let value = spanned.value;
        let doc = RawDocument::new(file, index, None, line, value)?;
        if doc.is("v1", "List") {
            let items = match doc.value.get("items") {
                Some(Value::Array(items)) => items.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(v) => {
                    return Err(doc.error(
                        ErrorKind::Schema,
                        "items",
                        format!("expected a list, got {}", type_name(v)),
                    ));
                }
            };
            for (j, item) in items.into_iter().enumerate() {
                docs.push(RawDocument::new(file, index, Some(j + 1), line, item)?);
            }
        } else {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// serde-saphyr's message already ends in "at line L, column C".
fn yaml_message(e: &serde_saphyr::Error) -> String {
    // Drop serde-saphyr's advice to its API users, which means nothing to a scenario author.
    let msg = e
        .to_string()
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    if msg.contains("budget breached") || msg.contains("recursion limit") || msg.contains("alias replay") {
        format!(
            "YAML input exceeds a safety limit: {msg} (capsim limits YAML to depth {}, {} nodes, {} alias-replayed events and {} documents \
             per file; alias bombs and runaway nesting are rejected)",
            defaults::MAX_YAML_DEPTH,
            defaults::MAX_YAML_NODES,
            defaults::MAX_ALIAS_REPLAYED_EVENTS,
            defaults::MAX_YAML_DOCUMENTS
        )
    } else {
        format!("YAML syntax error: {msg}")
    }
}

/// Reads files and follows includes, keeping every document and the warnings met on the way.
pub(crate) struct Loader {
    pub docs: Vec<RawDocument>,
    pub warnings: Vec<String>,
    total_bytes: u64,
    /// Canonical paths of files and directories already loaded (cycle safety).
    visited: BTreeSet<PathBuf>,
    /// How deep the current include is (the root scenario is 0).
    depth: usize,
    /// Directory entries looked at while expanding included directories.
    entries_seen: usize,
    /// Files included so far.
    files_included: usize,
}

impl Loader {
    pub fn new() -> Self {
        Loader {
            docs: Vec::new(),
            warnings: Vec::new(),
            total_bytes: 0,
            visited: BTreeSet::new(),
            depth: 0,
            entries_seen: 0,
            files_included: 0,
        }
    }

    /// Loads the root scenario file.
    pub fn load_root_file(&mut self, path: &Path) -> Result<(), ScenarioError> {
        let display = path.display().to_string();
        if let Ok(c) = path.canonicalize() {
            self.visited.insert(c);
        }
        let text = self.read_file(path, &display)?;
        self.load_root_text(&display, &text, path.parent())
    }

    /// Loads the root scenario from text; includes resolve against `base_dir`.
    pub fn load_root_text(&mut self, display: &str, text: &str, base_dir: Option<&Path>) -> Result<(), ScenarioError> {
        let docs = parse_documents(display, text)?;
        if docs.is_empty() {
            return Err(ScenarioError::file(
                ErrorKind::Empty,
                display,
                "file is empty: no YAML documents (a scenario needs a `capsim/v1alpha1 Scenario` document)",
            ));
        }
        self.add(docs, base_dir)
    }

    /// Appends documents and follows the includes of any Scenario document among them.
    fn add(&mut self, docs: Vec<RawDocument>, base_dir: Option<&Path>) -> Result<(), ScenarioError> {
        let includes: Vec<(RawDocument, Vec<(String, String)>)> = docs
            .iter()
            .filter(|d| d.is(CAPSIM_API_VERSION, SCENARIO_KIND))
            .map(|d| include_entries(d).map(|e| (d.clone(), e)))
            .collect::<Result<_, _>>()?;
        self.docs.extend(docs);
        for (doc, entries) in includes {
            for (path_in_doc, entry) in entries {
                let Some(base) = base_dir else {
                    return Err(doc.error(
                        ErrorKind::Include,
                        path_in_doc,
                        format!("cannot include {entry:?}: this scenario has no base directory to resolve it against"),
                    ));
                };
                if Path::new(&entry).is_absolute() {
                    return Err(doc.error(
                        ErrorKind::Include,
                        path_in_doc,
                        format!(
                            "cannot include {entry:?}: includes are relative to the scenario's directory (so a scenario and its manifests move together); write a relative path"
                        ),
                    ));
                }
                if self.depth >= defaults::MAX_INCLUDE_DEPTH {
                    return Err(doc.error(
                        ErrorKind::Include,
                        path_in_doc,
                        format!(
                            "cannot include {entry:?}: includes nest more than {} deep",
                            defaults::MAX_INCLUDE_DEPTH
                        ),
                    ));
                }
                let target = base.join(&entry);
                self.include(&doc, &path_in_doc, &target)?;
            }
        }
        Ok(())
    }

    fn include(&mut self, from: &RawDocument, path_in_doc: &str, target: &Path) -> Result<(), ScenarioError> {
        let display = target.display().to_string();
        let meta = std::fs::metadata(target).map_err(|e| {
            from.error(
                ErrorKind::Include,
                path_in_doc,
                format!("cannot include {display}: {e}"),
            )
        })?;
        let canonical = target.canonicalize().map_err(|e| {
            from.error(
                ErrorKind::Include,
                path_in_doc,
                format!("cannot include {display}: {e}"),
            )
        })?;
        if !self.visited.insert(canonical) {
            return Ok(()); // already loaded: an include cycle, or the scenario inside its own directory
        }
        if meta.is_dir() {
            let mut files = Vec::new();
            self.walk_dir(target, &mut files)
                .map_err(|e| from.error(ErrorKind::Include, path_in_doc, e))?;
            if files.is_empty() {
                self.warnings.push(format!(
                    "{}: {path_in_doc}: directory {display} holds no *.yaml or *.yml files",
                    from.file
                ));
            }
            for file in files {
                let canonical = file.canonicalize().map_err(|e| {
                    from.error(
                        ErrorKind::Include,
                        path_in_doc,
                        format!("cannot include {}: {e}", file.display()),
                    )
                })?;
                if self.visited.insert(canonical) {
                    self.include_file(&file)?;
                }
            }
            Ok(())
        } else {
            self.include_file(target)
        }
    }

    fn include_file(&mut self, path: &Path) -> Result<(), ScenarioError> {
        let display = path.display().to_string();
        self.files_included += 1;
        if self.files_included > defaults::MAX_INCLUDE_FILES {
            return Err(ScenarioError::file(
                ErrorKind::TooLarge,
                display,
                format!("the scenario includes more than {} files", defaults::MAX_INCLUDE_FILES),
            ));
        }
        let text = self.read_file(path, &display)?;
        let docs = parse_documents(&display, &text)?;
        if docs.is_empty() {
            self.warnings
                .push(format!("{display}: included file has no YAML documents"));
        }
        self.depth += 1;
        let r = self.add(docs, path.parent());
        self.depth -= 1;
        r
    }

    /// Every `*.yaml` / `*.yml` file under `dir`, recursively, sorted by path (component by component).
    /// Hidden files and directories (`.git`, editor swap files) are skipped.
    fn walk_dir(&mut self, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        self.walk_dir_at(dir, out, 0)
    }

    fn walk_dir_at(&mut self, dir: &Path, out: &mut Vec<PathBuf>, level: usize) -> Result<(), String> {
        if level > defaults::MAX_INCLUDE_DEPTH {
            return Err(format!(
                "directory {} is more than {} levels deep",
                dir.display(),
                defaults::MAX_INCLUDE_DEPTH
            ));
        }
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
            self.entries_seen += 1;
            if self.entries_seen > defaults::MAX_INCLUDE_ENTRIES {
                return Err(format!(
                    "included directories hold more than {} entries (stopped in {}); include the manifests' own directory",
                    defaults::MAX_INCLUDE_ENTRIES,
                    dir.display()
                ));
            }
            paths.push(entry.path());
        }
        paths.sort();
        let mut files = Vec::new();
        for p in paths {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                // A symlinked directory seen before is a cycle: skip it.
                let canonical = p
                    .canonicalize()
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                if self.visited.insert(canonical) {
                    self.walk_dir_at(&p, &mut files, level + 1)?;
                }
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                files.push(p);
            }
        }
        out.extend(files);
        out.sort();
        Ok(())
    }

    /// Reads a file as UTF-8 text within the size limits.
    fn read_file(&mut self, path: &Path, display: &str) -> Result<String, ScenarioError> {
        let io = |e: std::io::Error| ScenarioError::file(ErrorKind::Io, display, format!("cannot read file: {e}"));
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(defaults::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let len = bytes.len() as u64;
        if len > defaults::MAX_FILE_BYTES {
            return Err(ScenarioError::file(
                ErrorKind::TooLarge,
                display,
                format!("file is larger than the {} MiB limit", defaults::MAX_FILE_BYTES >> 20),
            ));
        }
        self.total_bytes += len;
        if self.total_bytes > defaults::MAX_TOTAL_BYTES {
            return Err(ScenarioError::file(
                ErrorKind::TooLarge,
                display,
                format!(
                    "the scenario and its includes exceed the {} MiB limit",
                    defaults::MAX_TOTAL_BYTES >> 20
                ),
            ));
        }
        String::from_utf8(bytes)
            .map_err(|e| ScenarioError::file(ErrorKind::Io, display, format!("file is not UTF-8 text: {e}")))
    }
}

/// `spec.include` entries of a Scenario document as (field path, entry): a string or a list of strings.
fn include_entries(doc: &RawDocument) -> Result<Vec<(String, String)>, ScenarioError> {
    let Some(v) = doc.value.get("spec").and_then(|s| s.get("include")) else {
        return Ok(Vec::new());
    };
    let bad = |path: String, v: &Value| {
        doc.error(
            ErrorKind::Schema,
            path,
            format!("expected a file or directory path (a string), got {}", type_name(v)),
        )
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![("spec.include".to_string(), s.clone())]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("spec.include[{i}]");
                match item {
                    Value::String(s) if !s.is_empty() => Ok((path, s.clone())),
                    other => Err(bad(path, other)),
                }
            })
            .collect(),
        other => Err(bad("spec.include".to_string(), other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_empty_documents_and_counts_the_rest() {
        let text = "---\n# Source: chart/templates/a.yaml\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n\
                    ---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: shop}\n";
        let docs = parse_documents("x.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            (docs[0].index, docs[0].kind.as_str(), docs[0].namespace.as_str()),
            (1, "Service", "default")
        );
        assert_eq!(
            (docs[1].index, docs[1].name.as_str(), docs[1].namespace.as_str()),
            (2, "b", "shop")
        );
        assert_eq!(docs[1].line, 9);
        assert_eq!(docs[1].object(), "Deployment shop/b");
    }

    #[test]
    fn expands_lists() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n\
                    - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: p, namespace: x}, value: 1}\n";
        let docs = parse_documents("l.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[1].index, docs[1].item), (1, Some(2)));
        assert_eq!(docs[1].namespace, "", "PriorityClass is cluster-scoped");
    }

    #[test]
    fn header_errors_name_the_field() {
        let e = parse_documents("h.yaml", "kind: Deployment\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "h.yaml: document 1: apiVersion: required field is missing"
        );
        let e = parse_documents("h.yaml", "- 1\n").unwrap_err();
        assert!(e.to_string().contains("expected a mapping"), "{e}");
        let e = parse_documents("h.yaml", "apiVersion: v1\nkind: [a]\n").unwrap_err();
        assert!(e.to_string().contains("kind: expected a string, got a list"), "{e}");
    }
}
