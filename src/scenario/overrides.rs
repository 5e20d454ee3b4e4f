//! `--set` overrides: edits of the raw document tree before typed parsing.
//!
//! Syntax (also in the [`crate::scenario`] module docs):
//!
//! ```text
//! Kind[/[namespace/]name]:field.path=value
//! ```
//!
//! * The target is one object: `Deployment/checkout-api`, `Deployment/shop/checkout-api`, or just
//!   `Scenario` when exactly one object of that kind exists.
//! * The path is dot-separated keys and `[N]` list indexes:
//!   `spec.metrics[0].resource.target.averageUtilization`. Keys containing dots or other special
//!   characters are quoted: `spec.template.spec.nodeSelector."kubernetes.io/arch"`.
//! * The value is a YAML scalar or flow value: `6` is a number, `"6"` a string, `true` a boolean,
//!   `{a: 1}` a mapping, `[x, y]` a list, an empty value is null.
//! * Every intermediate key and index must exist (the error lists what does); the final key of a
//!   mapping is created when missing; a final index must be in range.

use super::defaults;
use super::error::{ErrorKind, ScenarioError};
use super::raw::{RawDocument, type_name};
use serde_json::Value;
use std::fmt;

/// A parsed `--set` override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The override as written (for error messages).
    pub text: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub path: Vec<Segment>,
    pub value: Value,
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Renders a path the way it is written: `spec.metrics[0].resource`, quoting keys that need it.
pub struct PathDisplay<'a>(pub &'a [Segment]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if k.is_empty() || k.contains(['.', '[', ']', '=', '"', '\'']) {
                        write!(f, "\"{k}\"")?;
                    } else {
                        f.write_str(k)?;
                    }
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

fn override_error(text: &str, path: &[Segment], message: impl Into<String>) -> ScenarioError {
    ScenarioError::file(ErrorKind::Override, format!("--set '{text}'"), message)
        .with_path(PathDisplay(path).to_string())
}

/// Parses `Kind[/[namespace/]name]:path=value`.
pub fn parse_override(s: &str) -> Result<Override, ScenarioError> {
    let syntax = |msg: String| {
        override_error(
            s,
            &[],
            format!("{msg}; expected Kind/name:field.path=value, e.g. Deployment/checkout-api:spec.replicas=6"),
        )
    };
    let Some((target, rest)) = s.split_once(':') else {
        return Err(syntax("missing ':' after the object".into()));
    };
    let mut parts = target.split('/');
    let kind = parts.next().unwrap_or_default().trim().to_string();
    let rest_parts: Vec<&str> = parts.collect();
    let (namespace, name) = match rest_parts.as_slice() {
        [] => (None, None),
        [name] => (None, Some(name.to_string())),
        [ns, name] => (Some(ns.to_string()), Some(name.to_string())),
        _ => return Err(syntax(format!("object {target:?} has too many '/'"))),
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(syntax(format!("{kind:?} is not a kind")));
    }
    if name.as_deref() == Some("") || namespace.as_deref() == Some("") {
        return Err(syntax(format!("object {target:?} has an empty name or namespace")));
    }
    let (path, value_text) = parse_path(rest).map_err(syntax)?;
    if path.is_empty() {
        return Err(syntax("the field path is empty".into()));
    }
    let value = parse_value(value_text).map_err(|e| override_error(s, &path, e))?;
    Ok(Override {
        text: s.to_string(),
        kind,
        namespace,
        name,
        path,
        value,
    })
}

/// Parses the path up to the first unquoted `=`; returns the segments and the value text.
fn parse_path(s: &str) -> Result<(Vec<Segment>, &str), String> {
    let bytes = s.as_bytes();
    let mut segs = Vec::new();
    let mut i = 0;
    // `expect_key` is true at the start and after a '.'.
    let mut expect_key = true;
    loop {
        let Some(&c) = bytes.get(i) else {
            return Err("missing '=value'".into());
        };
        match c {
            b'=' if !expect_key => return Ok((segs, &s[i + 1..])),
            b'.' if !expect_key => {
                expect_key = true;
                i += 1;
            }
            b'[' if !expect_key => {
                let close = s[i..].find(']').ok_or("unclosed '['")? + i;
                let idx = &s[i + 1..close];
                let n: usize = idx
                    .trim()
                    .parse()
                    .map_err(|_| format!("list index {idx:?} is not a non-negative integer"))?;
                segs.push(Segment::Index(n));
                i = close + 1;
            }
            b'"' | b'\'' if expect_key => {
                let close = s[i + 1..]
                    .find(c as char)
                    .ok_or_else(|| format!("unclosed quote in {s:?}"))?
                    + i
                    + 1;
                segs.push(Segment::Key(s[i + 1..close].to_string()));
                i = close + 1;
                expect_key = false;
            }
            _ if expect_key => {
                let end = s[i..].find(['.', '[', '=']).map_or(s.len(), |e| e + i);
                let key = s[i..end].trim();
                if key.is_empty() {
                    return Err(format!("empty key in path {s:?}"));
                }
                segs.push(Segment::Key(key.to_string()));
                i = end;
                expect_key = false;
            }
            _ => return Err(format!("unexpected {:?} in path {s:?}", c as char)),
        }
    }
}

/// Parses an override value as YAML (`6` number, `"6"` string, `{a: 1}` mapping); empty is null.
fn parse_value(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str_with_options::<Value>(text, defaults::yaml_options())
        .map_err(|e| format!("value {text:?} is not a YAML value: {e}"))
}

/// Parses and applies one override.
pub fn apply_override(docs: &mut [RawDocument], ov: &str) -> Result<(), ScenarioError> {
    let parsed = parse_override(ov)?;
    apply(docs, &parsed)
}

/// Applies a parsed override to the one document it addresses.
pub fn apply(docs: &mut [RawDocument], ov: &Override) -> Result<(), ScenarioError> {
    let matches: Vec<usize> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.kind == ov.kind
                && ov.name.as_ref().is_none_or(|n| &d.name == n)
                && ov.namespace.as_ref().is_none_or(|ns| &d.namespace == ns)
        })
        .map(|(i, _)| i)
        .collect();
    let err = |msg: String| override_error(&ov.text, &[], msg);
    let idx = match matches.as_slice() {
        [i] => *i,
        [] => {
            let same_kind: Vec<String> = docs
                .iter()
                .filter(|d| d.kind == ov.kind)
                .map(|d| d.qualified_name())
                .collect();
            let what = match (&ov.namespace, &ov.name) {
                (Some(ns), Some(n)) => format!("no {} named {n:?} in namespace {ns:?}", ov.kind),
                (None, Some(n)) => format!("no {} named {n:?}", ov.kind),
                _ => format!("no {} object", ov.kind),
            };
            return Err(if same_kind.is_empty() {
                let mut kinds: Vec<&str> = docs.iter().map(|d| d.kind.as_str()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                err(format!("{what}; kinds in the scenario: {}", kinds.join(", ")))
            } else {
                err(format!("{what}; {} objects: {}", ov.kind, same_kind.join(", ")))
            });
        }
        many => {
            let names: Vec<String> = many.iter().map(|&i| docs[i].qualified_name()).collect();
            return Err(err(format!(
                "{} objects match: {}; name one as {}/namespace/name",
                many.len(),
                names.join(", "),
                ov.kind
            )));
        }
    };
    let doc = &mut docs[idx];
    if doc.kind == super::raw::SCENARIO_KIND
        && matches!(ov.path.as_slice(), [Segment::Key(s), Segment::Key(i), ..] if s == "spec" && i == "include")
    {
        return Err(override_error(
            &ov.text,
            &ov.path,
            "includes are resolved before overrides apply and cannot be overridden",
        ));
    }
    set_path(&mut doc.value, &ov.path, ov.value.clone())
        .map_err(|(depth, msg)| override_error(&ov.text, &ov.path[..depth], format!("{msg} (in {})", doc.object())))?;
    doc.refresh_header()
        .map_err(|e| err(format!("the edited object is no longer valid: {e}")))
}

/// Sets `path` inside `root`. On failure returns how many segments were valid and a message.
fn set_path(root: &mut Value, path: &[Segment], value: Value) -> Result<(), (usize, String)> {
    let mut cur = root;
    for (depth, seg) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        let here = if depth == 0 {
            "the object".to_string()
        } else {
            PathDisplay(&path[..depth]).to_string()
        };
        cur = match (seg, cur) {
            (Segment::Key(k), Value::Object(map)) => {
                if last {
                    map.insert(k.clone(), value);
                    return Ok(());
                }
                if !map.contains_key(k) {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    let listing = if keys.is_empty() {
                        "it is empty".to_string()
                    } else {
                        format!("it has: {}", keys.join(", "))
                    };
                    return Err((depth + 1, format!("no key {k:?} under {here}; {listing}")));
                }
                match map.get_mut(k) {
                    Some(v) => v,
                    None => return Err((depth + 1, format!("no key {k:?} under {here}"))),
                }
            }
            (Segment::Index(n), Value::Array(items)) => {
                let len = items.len();
                match items.get_mut(*n) {
                    Some(v) if last => {
                        *v = value;
                        return Ok(());
                    }
                    Some(v) => v,
                    None => {
                        return Err((
                            depth + 1,
                            format!(
                                "index {n} is out of range: {here} has {len} item{}",
                                if len == 1 { "" } else { "s" }
                            ),
                        ));
                    }
                }
            }
            (Segment::Key(k), other) => {
                return Err((
                    depth + 1,
                    format!("cannot take key {k:?}: {here} is {}, not a mapping", type_name(other)),
                ));
            }
            (Segment::Index(n), other) => {
                return Err((
                    depth + 1,
                    format!("cannot take index [{n}]: {here} is {}, not a list", type_name(other)),
                ));
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(kind: &str, name: &str, ns: Option<&str>, value: Value) -> RawDocument {
        let mut v = value;
        v["apiVersion"] = json!("v1");
        v["kind"] = json!(kind);
        v["metadata"] = json!({"name": name});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        RawDocument::new("t.yaml", 1, None, 1, v).unwrap()
    }

    #[test]
    fn parses_each_form() {
        let o = parse_override("Deployment/checkout-api:spec.replicas=6").unwrap();
        assert_eq!(
            (o.kind.as_str(), o.name.as_deref(), o.namespace.as_deref()),
            ("Deployment", Some("checkout-api"), None)
        );
        assert_eq!(
            o.path,
            vec![Segment::Key("spec".into()), Segment::Key("replicas".into())]
        );
        assert_eq!(o.value, json!(6));
        let o = parse_override(
            "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization=70",
        )
        .unwrap();
        assert_eq!(o.path[2], Segment::Index(0));
        assert_eq!(o.path.len(), 6);
        let o = parse_override("Scenario:spec.seed=3").unwrap();
        assert_eq!((o.name, o.value), (None, json!(3)));
        let o =
            parse_override("Deployment/shop/web:spec.template.spec.nodeSelector.\"kubernetes.io/arch\"=arm64").unwrap();
        assert_eq!(o.namespace.as_deref(), Some("shop"));
        assert_eq!(o.path.last(), Some(&Segment::Key("kubernetes.io/arch".into())));
        assert_eq!(o.value, json!("arm64"));
        assert_eq!(parse_override("Scenario:spec.x=\"6\"").unwrap().value, json!("6"));
        assert_eq!(
            parse_override("Scenario:spec.x={a: 1, b: [x]}").unwrap().value,
            json!({"a": 1, "b": ["x"]})
        );
        assert_eq!(parse_override("Scenario:spec.x=").unwrap().value, Value::Null);
        assert_eq!(parse_override("Scenario:spec.x=a=b").unwrap().value, json!("a=b"));
        assert_eq!(parse_override("Scenario:spec.x[1][2]=1").unwrap().path.len(), 4);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "Deployment",
            "Deployment/x:spec.replicas",
            "Deployment/x:=6",
            "Deployment/x:spec..replicas=6",
            "Deployment/x:spec.c[a]=6",
            "Deployment/x:spec.c[0=6",
            "De-ploy/x:a=1",
            "Deployment/a/b/c:a=1",
            "Deployment/x:spec.\"unclosed=1",
            "Deployment/x:a={b: [}",
        ] {
            let e = parse_override(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Override, "{bad}");
            assert!(e.to_string().starts_with(&format!("--set '{bad}'")), "{e}");
        }
    }

    #[test]
    fn applies_and_reports_what_exists() {
        let mut docs = vec![
            doc(
                "Deployment",
                "web",
                None,
                json!({"spec": {"replicas": 2, "containers": [{"name": "a"}]}}),
            ),
            doc("Deployment", "web", Some("shop"), json!({"spec": {"replicas": 1}})),
            doc("Scenario", "s", None, json!({"spec": {"seed": 1}})),
        ];
        apply_override(&mut docs, "Deployment/default/web:spec.replicas=6").unwrap();
        assert_eq!(docs[0].value["spec"]["replicas"], json!(6));
        assert_eq!(docs[1].value["spec"]["replicas"], json!(1));
        // a missing final key is created
        apply_override(&mut docs, "Scenario:spec.duration=10m").unwrap();
        assert_eq!(docs[2].value["spec"]["duration"], json!("10m"));
        apply_override(&mut docs, "Deployment/shop/web:spec.containers=[]").unwrap();
        apply_override(&mut docs, "Deployment/default/web:spec.containers[0].name=b").unwrap();
        assert_eq!(docs[0].value["spec"]["containers"][0]["name"], json!("b"));

        let e = apply_override(&mut docs, "Deployment/web:spec.replicas=1").unwrap_err();
        assert!(e.message.contains("2 objects match: default/web, shop/web"), "{e}");
        let e = apply_override(&mut docs, "Deployment/nope:spec.replicas=1").unwrap_err();
        assert!(
            e.message
                .contains("no Deployment named \"nope\"; Deployment objects: default/web, shop/web"),
            "{e}"
        );
        let e = apply_override(&mut docs, "HorizontalPodAutoscaler/web:spec.x=1").unwrap_err();
        assert!(e.message.contains("kinds in the scenario: Deployment, Scenario"), "{e}");
        let e = apply_override(&mut docs, "Scenario:spec.workloads.web.traffic=1").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("spec.workloads"));
        assert!(
            e.message
                .contains("no key \"workloads\" under spec; it has: seed, duration"),
            "{e}"
        );
        let e = apply_override(&mut docs, "Deployment/default/web:spec.containers[3].name=x").unwrap_err();
        assert!(
            e.message
                .contains("index 3 is out of range: spec.containers has 1 item"),
            "{e}"
        );
        let e = apply_override(&mut docs, "Deployment/default/web:spec.replicas.x=1").unwrap_err();
        assert!(e.message.contains("spec.replicas is a number, not a mapping"), "{e}");
        let e = apply_override(&mut docs, "Scenario:spec.include=[a]").unwrap_err();
        assert!(e.message.contains("cannot be overridden"), "{e}");
        let e = apply_override(&mut docs, "Scenario:kind=").unwrap_err();
        assert!(e.message.contains("no longer valid"), "{e}");
    }

    #[test]
    fn path_display_quotes_special_keys() {
        let p = [
            Segment::Key("spec".into()),
            Segment::Key("kubernetes.io/arch".into()),
            Segment::Index(2),
        ];
        assert_eq!(PathDisplay(&p).to_string(), "spec.\"kubernetes.io/arch\"[2]");
    }
}
