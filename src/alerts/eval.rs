//! A PromQL evaluator for the alerting and recording rules capsim can run, with the semantics
//! of Prometheus 2.x (promql/engine.go, promql/functions.go, promql/quantile.go): instant
//! vector selectors take each series' latest sample within the 5-minute lookback
//! (`--query.lookback-delta`), a stale marker ending the series; range selectors take the
//! samples in `[t − range, t]`; `rate`/`increase` extrapolate as `extrapolatedRate` does.
//!
//! Supported: vector selectors with `=`, `!=`, `=~`, `!~` matchers; range selectors inside
//! `rate`, `increase`, `delta`, `irate`; `histogram_quantile` over classic buckets; `abs`,
//! `clamp_min`, `clamp_max`, `vector`; the aggregations `sum`, `avg`, `min`, `max`, `count` with
//! `by`/`without`; arithmetic, comparison (with `bool`) and `and`/`or`/`unless` between
//! scalars and vectors with one-to-one matching (`on`, `ignoring`). Anything else is
//! [`unsupported`] with the construct named, before the run.

use super::series::{Labels, SeriesSet};
use promql_parser::parser::token::TokenId;
use promql_parser::parser::token::{
    T_ADD, T_AVG, T_COUNT, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MAX, T_MIN, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, T_SUM,
};
use promql_parser::parser::{Expr, LabelModifier, VectorMatchCardinality};

/// `--query.lookback-delta` default (cmd/prometheus/main.go): 5 minutes.
pub const LOOKBACK_MS: u64 = 5 * 60 * 1000;

/// A sample of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// The value of an expression at one instant.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
}

const FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "histogram_quantile",
    "abs",
    "clamp_min",
    "clamp_max",
    "vector",
];

/// The first construct of `expr` the evaluator does not support, named as a user reads it.
pub fn unsupported(expr: &Expr) -> Option<String> {
    match expr {
        Expr::NumberLiteral(_) => None,
        Expr::StringLiteral(_) => Some("a string literal".into()),
        Expr::Paren(p) => unsupported(&p.expr),
        Expr::Unary(u) => unsupported(&u.expr),
        Expr::Subquery(_) => Some("a subquery".into()),
        Expr::Extension(_) => Some("an extension expression".into()),
        Expr::VectorSelector(v) => {
            if v.offset.is_some() {
                Some("the offset modifier".into())
            } else if v.at.is_some() {
                Some("the @ modifier".into())
            } else if !v.matchers.or_matchers.is_empty() {
                Some("`or` inside a selector's matchers".into())
            } else {
                None
            }
        }
        Expr::MatrixSelector(_) => Some("a range selector outside rate/increase/delta/irate".into()),
        Expr::Aggregate(a) => {
            if !matches!(a.op.id(), T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT) {
                return Some(format!("the aggregation {}", a.op));
            }
            unsupported(&a.expr)
        }
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier
                && matches!(
                    m.card,
                    VectorMatchCardinality::ManyToOne(_) | VectorMatchCardinality::OneToMany(_)
                )
            {
                return Some("group_left / group_right".into());
            }
            if !matches!(
                b.op.id(),
                T_ADD
                    | T_SUB
                    | T_MUL
                    | T_DIV
                    | T_MOD
                    | T_POW
                    | T_EQLC
                    | T_NEQ
                    | T_GTR
                    | T_LSS
                    | T_GTE
                    | T_LTE
                    | T_LAND
                    | T_LOR
                    | T_LUNLESS
            ) {
                return Some(format!("the operator {}", b.op));
            }
            unsupported(&b.lhs).or_else(|| unsupported(&b.rhs))
        }
        Expr::Call(c) => {
            let name = c.func.name;
            if !FUNCTIONS.contains(&name) {
                return Some(format!("the function {name}()"));
            }
            for (i, a) in c.args.args.iter().enumerate() {
                let ranged = matches!(name, "rate" | "increase" | "delta" | "irate");
                match &**a {
                    Expr::MatrixSelector(m) if ranged && i == 0 => {
                        if m.vs.offset.is_some() || m.vs.at.is_some() {
                            return Some("offset/@ on a range selector".into());
                        }
                    }
                    other => {
                        if let Some(u) = unsupported(other) {
                            return Some(u);
                        }
                    }
                }
            }
            None
        }
    }
}

/// The metric names `expr` selects.
pub fn metric_names(expr: &Expr, out: &mut Vec<String>) {
    let vs_name = |v: &promql_parser::parser::VectorSelector| {
        v.name.clone().or_else(|| {
            v.matchers
                .matchers
                .iter()
                .find(|m| m.name == "__name__")
                .map(|m| m.value.clone())
        })
    };
    match expr {
        Expr::VectorSelector(v) => out.extend(vs_name(v)),
        Expr::MatrixSelector(m) => out.extend(vs_name(&m.vs)),
        Expr::Paren(p) => metric_names(&p.expr, out),
        Expr::Unary(u) => metric_names(&u.expr, out),
        Expr::Aggregate(a) => metric_names(&a.expr, out),
        Expr::Binary(b) => {
            metric_names(&b.lhs, out);
            metric_names(&b.rhs, out);
        }
        Expr::Call(c) => c.args.args.iter().for_each(|a| metric_names(a, out)),
        Expr::Subquery(s) => metric_names(&s.expr, out),
        _ => {}
    }
}

fn selected<'s>(set: &'s SeriesSet, v: &promql_parser::parser::VectorSelector) -> impl Iterator<Item = usize> + 's {
    let name = v.name.clone();
    let matchers = v.matchers.matchers.clone();
    set.by_name(name.as_deref()).filter(move |&i| {
        let labels = &set.series[i].labels;
        matchers
            .iter()
            .all(|m| m.is_match(labels.get(&m.name).map_or("", String::as_str)))
    })
}

/// Evaluates `expr` at `t` (ms).
pub fn eval(expr: &Expr, set: &SeriesSet, t: u64) -> Result<Value, String> {
    match expr {
        Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
        Expr::Paren(p) => eval(&p.expr, set, t),
        Expr::Unary(u) => Ok(match eval(&u.expr, set, t)? {
            Value::Scalar(x) => Value::Scalar(-x),
            Value::Vector(v) => Value::Vector(
                v.into_iter()
                    .map(|mut s| {
                        s.labels.remove("__name__");
                        s.value = -s.value;
                        s
                    })
                    .collect(),
            ),
        }),
        Expr::VectorSelector(v) => {
            let mut out = Vec::new();
            for i in selected(set, v) {
                let s = &set.series[i];
                if let Some(value) = s.instant(t, LOOKBACK_MS) {
                    out.push(Sample {
                        labels: s.labels.clone(),
                        value,
                    });
                }
            }
            Ok(Value::Vector(out))
        }
        Expr::Aggregate(a) => {
            let Value::Vector(v) = eval(&a.expr, set, t)? else {
                return Err("aggregation over a scalar".into());
            };
            Ok(Value::Vector(aggregate(a.op.id(), a.modifier.as_ref(), v)))
        }
        Expr::Binary(b) => {
            let lhs = eval(&b.lhs, set, t)?;
            let rhs = eval(&b.rhs, set, t)?;
            let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
            binary(
                b.op.id(),
                lhs,
                rhs,
                b.modifier.as_ref().and_then(|m| m.matching.as_ref()),
                return_bool,
            )
        }
        Expr::Call(c) => call(c, set, t),
        other => Err(format!("unsupported expression {other}")),
    }
}

fn vector_arg(c: &promql_parser::parser::Call, k: usize, set: &SeriesSet, t: u64) -> Result<Vec<Sample>, String> {
    match eval(&c.args.args[k], set, t)? {
        Value::Vector(v) => Ok(v),
        Value::Scalar(_) => Err(format!("{}(): expected a vector", c.func.name)),
    }
}

fn scalar_arg(c: &promql_parser::parser::Call, k: usize, set: &SeriesSet, t: u64) -> Result<f64, String> {
    match eval(&c.args.args[k], set, t)? {
        Value::Scalar(x) => Ok(x),
        Value::Vector(_) => Err(format!("{}(): expected a scalar", c.func.name)),
    }
}

fn call(c: &promql_parser::parser::Call, set: &SeriesSet, t: u64) -> Result<Value, String> {
    let name = c.func.name;
    let drop_name = |mut v: Vec<Sample>, f: &dyn Fn(f64) -> f64| {
        for s in &mut v {
            s.labels.remove("__name__");
            s.value = f(s.value);
        }
        Value::Vector(v)
    };
    match name {
        "rate" | "increase" | "delta" | "irate" => {
            let Expr::MatrixSelector(m) = &*c.args.args[0] else {
                return Err(format!("{name}(): expected a range selector"));
            };
            let range = m.range.as_millis() as u64;
            let mut out = Vec::new();
            for i in selected(set, &m.vs) {
                let s = &set.series[i];
                let points = s.range(t.saturating_sub(range), t);
                let v = if name == "irate" {
                    irate(&points)
                } else {
                    extrapolated_rate(
                        &points,
                        t.saturating_sub(range),
                        t,
                        name != "delta",
                        name == "rate",
                        range,
                    )
                };
                if let Some(value) = v {
                    let mut labels = s.labels.clone();
                    labels.remove("__name__");
                    out.push(Sample { labels, value });
                }
            }
            Ok(Value::Vector(out))
        }
        "histogram_quantile" => {
            let q = scalar_arg(c, 0, set, t)?;
            Ok(Value::Vector(histogram_quantile(q, vector_arg(c, 1, set, t)?)))
        }
        "abs" => Ok(drop_name(vector_arg(c, 0, set, t)?, &f64::abs)),
        "clamp_min" => {
            let m = scalar_arg(c, 1, set, t)?;
            Ok(drop_name(vector_arg(c, 0, set, t)?, &|x| x.max(m)))
        }
        "clamp_max" => {
            let m = scalar_arg(c, 1, set, t)?;
            Ok(drop_name(vector_arg(c, 0, set, t)?, &|x| x.min(m)))
        }
        "vector" => Ok(Value::Vector(vec![Sample {
            labels: Labels::new(),
            value: scalar_arg(c, 0, set, t)?,
        }])),
        other => Err(format!("unsupported function {other}()")),
    }
}

/// promql/functions.go `extrapolatedRate` (Prometheus 2.x).
fn extrapolated_rate(
    points: &[(u64, f64)],
    range_start: u64,
    range_end: u64,
    is_counter: bool,
    is_rate: bool,
    range_ms: u64,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    let mut result = last.1 - first.1;
    if is_counter {
        let mut prev = 0.0;
        for &(_, v) in points {
            if v < prev {
                result += prev;
            }
            prev = v;
        }
    }
    let mut to_start = (first.0 as f64 - range_start as f64) / 1000.0;
    let to_end = (range_end as f64 - last.0 as f64) / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = sampled / (points.len() - 1) as f64;
    if is_counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold { to_start } else { avg / 2.0 };
    interval += if to_end < threshold { to_end } else { avg / 2.0 };
    result *= interval / sampled;
    if is_rate {
        result /= range_ms as f64 / 1000.0;
    }
    Some(result)
}

/// promql/functions.go `instantValue` for `irate`.
fn irate(points: &[(u64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (a, b) = (points[points.len() - 2], points[points.len() - 1]);
    let d = if b.1 < a.1 { b.1 } else { b.1 - a.1 };
    let dt = (b.0 - a.0) as f64 / 1000.0;
    (dt > 0.0).then(|| d / dt)
}

fn grouping(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    match modifier {
        None => Labels::new(),
        Some(LabelModifier::Include(keep)) => labels
            .iter()
            .filter(|(k, _)| keep.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(LabelModifier::Exclude(drop)) => labels
            .iter()
            .filter(|(k, _)| *k != "__name__" && !drop.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn aggregate(op: TokenId, modifier: Option<&LabelModifier>, v: Vec<Sample>) -> Vec<Sample> {
    // Groups in order of their labels, as Prometheus orders its output (irrelevant for rules).
    let mut groups: std::collections::BTreeMap<Labels, (f64, usize)> = std::collections::BTreeMap::new();
    for s in v {
        let key = grouping(&s.labels, modifier);
        let e = groups.entry(key).or_insert((
            match op {
                T_MIN => f64::INFINITY,
                T_MAX => f64::NEG_INFINITY,
                _ => 0.0,
            },
            0,
        ));
        e.1 += 1;
        e.0 = match op {
            T_MIN => {
                if s.value < e.0 || e.0.is_nan() {
                    s.value
                } else {
                    e.0
                }
            }
            T_MAX => {
                if s.value > e.0 || e.0.is_nan() {
                    s.value
                } else {
                    e.0
                }
            }
            T_COUNT => e.0 + 1.0,
            _ => e.0 + s.value,
        };
    }
    groups
        .into_iter()
        .map(|(labels, (x, n))| Sample {
            labels,
            value: if op == T_AVG { x / n as f64 } else { x },
        })
        .collect()
}

fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(on)) => labels
            .iter()
            .filter(|(k, _)| on.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(LabelModifier::Exclude(ign)) => labels
            .iter()
            .filter(|(k, _)| *k != "__name__" && !ign.labels.iter().any(|l| l == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => labels
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

fn apply(op: TokenId, a: f64, b: f64) -> (f64, bool) {
    match op {
        T_ADD => (a + b, true),
        T_SUB => (a - b, true),
        T_MUL => (a * b, true),
        T_DIV => (a / b, true),
        T_MOD => (a % b, true),
        T_POW => (a.powf(b), true),
        T_EQLC => (a, a == b),
        T_NEQ => (a, a != b),
        T_GTR => (a, a > b),
        T_LSS => (a, a < b),
        T_GTE => (a, a >= b),
        T_LTE => (a, a <= b),
        _ => (f64::NAN, false),
    }
}

fn binary(
    op: TokenId,
    lhs: Value,
    rhs: Value,
    matching: Option<&LabelModifier>,
    return_bool: bool,
) -> Result<Value, String> {
    let cmp = is_comparison(op);
    // Comparisons keep the metric name unless `bool` (promql/engine.go `shouldDropMetricName`).
    let finish = |mut labels: Labels, value: f64, keep: bool| -> Option<Sample> {
        if cmp && !return_bool && !keep {
            return None;
        }
        if !cmp || return_bool {
            labels.remove("__name__");
        }
        let value = if cmp && return_bool {
            f64::from(u8::from(keep))
        } else {
            value
        };
        Some(Sample { labels, value })
    };
    match (lhs, rhs) {
        (Value::Scalar(a), Value::Scalar(b)) => {
            if cmp && !return_bool {
                return Err("comparisons between scalars need bool".into());
            }
            let (v, keep) = apply(op, a, b);
            Ok(Value::Scalar(if cmp { f64::from(u8::from(keep)) } else { v }))
        }
        (Value::Vector(v), Value::Scalar(b)) => Ok(Value::Vector(
            v.into_iter()
                .filter_map(|s| {
                    let (x, keep) = apply(op, s.value, b);
                    finish(s.labels, x, keep)
                })
                .collect(),
        )),
        (Value::Scalar(a), Value::Vector(v)) => Ok(Value::Vector(
            v.into_iter()
                .filter_map(|s| {
                    let (x, keep) = apply(op, a, s.value);
                    // A filtering comparison keeps the vector's own value.
                    let x = if cmp { s.value } else { x };
                    finish(s.labels, x, keep)
                })
                .collect(),
        )),
        (Value::Vector(l), Value::Vector(r)) => {
            let rsig: std::collections::BTreeMap<Labels, &Sample> =
                r.iter().map(|s| (signature(&s.labels, matching), s)).collect();
            match op {
                T_LAND => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|s| rsig.contains_key(&signature(&s.labels, matching)))
                        .collect(),
                )),
                T_LUNLESS => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|s| !rsig.contains_key(&signature(&s.labels, matching)))
                        .collect(),
                )),
                T_LOR => {
                    let lsig: std::collections::BTreeSet<Labels> =
                        l.iter().map(|s| signature(&s.labels, matching)).collect();
                    let mut out = l.clone();
                    out.extend(
                        r.iter()
                            .filter(|s| !lsig.contains(&signature(&s.labels, matching)))
                            .cloned(),
                    );
                    Ok(Value::Vector(out))
                }
                _ => {
                    let mut out = Vec::new();
                    let mut seen = std::collections::BTreeSet::new();
                    for s in l {
                        let sig = signature(&s.labels, matching);
                        let Some(o) = rsig.get(&sig) else { continue };
                        if !seen.insert(sig) {
                            return Err("many-to-one matching: group_left/group_right is not supported".into());
                        }
                        let (x, keep) = apply(op, s.value, o.value);
                        // One-to-one arithmetic keeps the matching labels only when `on` is used.
                        let labels = match matching {
                            Some(LabelModifier::Include(_)) if !cmp || return_bool => signature(&s.labels, matching),
                            _ => s.labels,
                        };
                        out.extend(finish(labels, x, keep));
                    }
                    Ok(Value::Vector(out))
                }
            }
        }
    }
}

/// promql/quantile.go `bucketQuantile` over classic buckets, grouped by every label but `le`.
fn histogram_quantile(q: f64, v: Vec<Sample>) -> Vec<Sample> {
    let mut groups: std::collections::BTreeMap<Labels, Vec<(f64, f64)>> = std::collections::BTreeMap::new();
    for mut s in v {
        let Some(le) = s.labels.remove("le") else { continue };
        let Ok(upper) = (if le == "+Inf" {
            Ok(f64::INFINITY)
        } else {
            le.parse::<f64>()
        }) else {
            continue;
        };
        s.labels.remove("__name__");
        groups.entry(s.labels).or_default().push((upper, s.value));
    }
    groups
        .into_iter()
        .map(|(labels, mut buckets)| Sample {
            labels,
            value: bucket_quantile(q, &mut buckets),
        })
        .collect()
}

fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.len() < 2 || buckets[buckets.len() - 1].0 != f64::INFINITY {
        return f64::NAN;
    }
    // ensureMonotonic
    let mut max = f64::NEG_INFINITY;
    for b in buckets.iter_mut() {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    let n = buckets.len();
    let observations = buckets[n - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = buckets[..n - 1].iter().position(|x| x.1 >= rank).unwrap_or(n - 1);
    if b == n - 1 {
        return buckets[n - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (start, mut count) = if b == 0 {
        (0.0, buckets[0].1)
    } else {
        (buckets[b - 1].0, buckets[b].1)
    };
    if b > 0 {
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (buckets[b].0 - start) * (rank / count)
}
