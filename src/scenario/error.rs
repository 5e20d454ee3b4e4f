//! `ScenarioError`: every way a scenario can be rejected, located by file, document, object and field.

use std::fmt;

/// What went wrong, for callers that branch on the class of error (the CLI maps all of them to
/// exit code 2, "bad input").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file or directory could not be read (missing, permissions, not UTF-8).
    Io,
    /// A file, or all files together, exceed the size limit.
    TooLarge,
    /// YAML syntax error, or a parser budget (aliases, depth, node count) was exceeded.
    Syntax,
    /// The scenario file holds no YAML document at all.
    Empty,
    /// A `spec.include` entry is malformed or points nowhere.
    Include,
    /// A `--set` override is malformed or addresses something that does not exist.
    Override,
    /// A document does not match its schema: wrong type, missing or unknown field.
    Schema,
    /// A value has the right type but is not allowed (negative replicas, malformed quantity...).
    Invalid,
    /// A reference to another object does not resolve (HPA target, workloads entry, PriorityClass).
    Reference,
    /// Two objects share kind, namespace and name.
    Duplicate,
}

/// A rejected scenario. `Display` reads like
/// `scenario.yaml: document 3 (HorizontalPodAutoscaler checkout-api): spec.maxReplicas: must be >= minReplicas (4), got 2`.
///
/// The details are boxed (one pointer travels in every `Result`) and reachable as fields through
/// `Deref`: `err.kind`, `err.path`, `err.message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(Box<ErrorDetail>);

/// Where and what: file, document, object, field path and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorDetail {
    pub kind: ErrorKind,
    /// The file as the user named it (or `--set '...'` for overrides, or the embedded name).
    pub file: String,
    /// 1-based index of the document among the file's non-empty documents.
    pub document: Option<usize>,
    /// 1-based index of the item inside a `v1 List` document.
    pub item: Option<usize>,
    /// Line where the document starts (1-based), when known.
    pub line: Option<usize>,
    /// `Kind name` (or `Kind namespace/name` outside the default namespace).
    pub object: Option<String>,
    /// Field path inside the document, e.g. `spec.template.spec.containers[0].resources.requests.cpu`.
    pub path: Option<String>,
    pub message: String,
}

impl From<ErrorDetail> for ScenarioError {
    fn from(d: ErrorDetail) -> Self {
        ScenarioError(Box::new(d))
    }
}

impl std::ops::Deref for ScenarioError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl ScenarioError {
    /// An error about a whole file (no document).
    pub fn file(kind: ErrorKind, file: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::from(ErrorDetail {
            kind,
            file: file.into(),
            document: None,
            item: None,
            line: None,
            object: None,
            path: None,
            message: message.into(),
        })
    }

    /// Sets the field path (builder style).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        let p = path.into();
        self.0.path = if p.is_empty() { None } else { Some(p) };
        self
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(d) = self.document {
            write!(f, ": document {d}")?;
            if let Some(i) = self.item {
                write!(f, " item {i}")?;
            }
            if let Some(o) = &self.object {
                write!(f, " ({o})")?;
            }
        } else if let Some(o) = &self.object {
            write!(f, ": {o}")?;
        }
        if let Some(p) = &self.path {
            write!(f, ": {p}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_the_design_example() {
        let e = ErrorDetail {
            kind: ErrorKind::Invalid,
            file: "scenario.yaml".into(),
            document: Some(3),
            item: None,
            line: Some(40),
            object: Some("HorizontalPodAutoscaler checkout-api".into()),
            path: Some("spec.maxReplicas".into()),
            message: "must be >= minReplicas (4), got 2".into(),
        };
        assert_eq!(
            e.to_string(),
            "scenario.yaml: document 3 (HorizontalPodAutoscaler checkout-api): spec.maxReplicas: must be >= minReplicas (4), got 2"
        );
        let f = ScenarioError::file(ErrorKind::Empty, "x.yaml", "file is empty");
        assert_eq!(f.to_string(), "x.yaml: file is empty");
        let g = ScenarioError::from(ErrorDetail {
            item: Some(2),
            path: None,
            ..e.clone()
        });
        assert_eq!(ScenarioError::from(e.clone()).to_string(), e.to_string());
        assert_eq!(
            g.to_string(),
            "scenario.yaml: document 3 item 2 (HorizontalPodAutoscaler checkout-api): must be >= minReplicas (4), got 2"
        );
    }
}
