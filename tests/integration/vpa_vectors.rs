//! The Vertical Pod Autoscaler's own unit tests, transcribed into `tests/data/vpa-vectors.json`
//! (histograms, estimators, the container model's memory peaks and OOMs, the updater's priority
//! and queue), passed through the functions capsim's simulation calls.

use capsim::controllers::vpa::config::{RecommenderConfig, UpdaterConfig};
use capsim::controllers::vpa::histogram::{DecayingHistogram, Histogram, HistogramOptions};
use capsim::controllers::vpa::recommender::{self as rec, AggregateState, Amounts, ContainerState};
use capsim::controllers::vpa::spec::Recommendation;
use capsim::controllers::vpa::updater::{self, PodFacts, PodPriority};
use capsim::engine::{SimDuration, SimTime};
use capsim::model::units::Quantity;
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vpa-vectors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["schema"], "capsim/vpa-vectors/v1");
    doc["vectors"].as_array().unwrap().clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn options(v: &Value) -> HistogramOptions {
    let eps = f(&v["epsilon"]);
    if let Some(l) = v.get("linear") {
        HistogramOptions::linear(f(&l["max_value"]), f(&l["bucket_size"]), eps).unwrap()
    } else {
        let e = &v["exponential"];
        HistogramOptions::exponential(f(&e["max_value"]), f(&e["first_bucket_size"]), f(&e["ratio"]), eps).unwrap()
    }
}

fn in_epsilon(expected: f64, actual: f64, eps: f64) -> bool {
    if eps == 0.0 || expected == 0.0 {
        return expected == actual;
    }
    ((expected - actual) / expected).abs() <= eps
}

/// A plain or decaying histogram behind one interface, as upstream's `Histogram`.
enum AnyHistogram {
    Plain(Histogram),
    Decaying(DecayingHistogram),
}

impl AnyHistogram {
    fn apply(&mut self, op: &str, value: f64, weight: f64, t: f64) {
        match (self, op) {
            (AnyHistogram::Plain(h), "add") => h.add_sample(value, weight),
            (AnyHistogram::Plain(h), "sub") => h.subtract_sample(value, weight),
            (AnyHistogram::Decaying(h), "add") => h.add_sample(value, weight, t),
            (AnyHistogram::Decaying(h), "sub") => h.subtract_sample(value, weight, t),
            (_, other) => panic!("unknown op {other}"),
        }
    }
    fn percentile(&self, p: f64) -> f64 {
        match self {
            AnyHistogram::Plain(h) => h.percentile(p),
            AnyHistogram::Decaying(h) => h.percentile(p),
        }
    }
    fn is_empty(&self) -> bool {
        match self {
            AnyHistogram::Plain(h) => h.is_empty(),
            AnyHistogram::Decaying(h) => h.is_empty(),
        }
    }
}

fn check_options(input: &Value, expect: &Value) -> Result<(), String> {
    let o = options(&input["options"]);
    let mut errs = vec![];
    if o.epsilon() != f(&expect["epsilon"]) {
        errs.push(format!("epsilon {}", o.epsilon()));
    }
    if o.num_buckets() as u64 != expect["num_buckets"].as_u64().unwrap() {
        errs.push(format!("num_buckets {}", o.num_buckets()));
    }
    for pair in expect["bucket_start"].as_array().unwrap() {
        let (b, want) = (pair[0].as_u64().unwrap() as usize, f(&pair[1]));
        if o.bucket_start(b) != want {
            errs.push(format!("bucket_start({b}) = {} ≠ {want}", o.bucket_start(b)));
        }
    }
    for pair in expect["find_bucket"].as_array().unwrap() {
        let (v, want) = (f(&pair[0]), pair[1].as_u64().unwrap() as usize);
        if o.find_bucket(v) != want {
            errs.push(format!("find_bucket({v}) = {} ≠ {want}", o.find_bucket(v)));
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
}

fn check_histogram(input: &Value, expect: &Value) -> Result<(), String> {
    let o = options(&input["options"]);
    let mut h = match input["half_life_s"].as_f64() {
        None => AnyHistogram::Plain(Histogram::new(o)),
        Some(hl) => AnyHistogram::Decaying(DecayingHistogram::new(o, hl)),
    };
    let mut errs = vec![];
    if input["initially_empty"].as_bool() == Some(true) && !h.is_empty() {
        errs.push("not empty when new".to_string());
    }
    for (i, op) in input["ops"].as_array().unwrap().iter().enumerate() {
        h.apply(
            op["op"].as_str().unwrap(),
            f(&op["value"]),
            f(&op["weight"]),
            f(&op["t_s"]),
        );
        if let Some(want) = op["then_empty"].as_bool()
            && h.is_empty() != want
        {
            errs.push(format!("after op {i}: is_empty {}", !want));
        }
    }
    if let Some(ps) = expect["percentiles"].as_array() {
        let eps = f(&expect["relative_epsilon"]);
        for pair in ps {
            let (p, want) = (f(&pair[0]), f(&pair[1]));
            let got = h.percentile(p);
            if !in_epsilon(want, got, eps) {
                errs.push(format!("percentile({p}) = {got} ≠ {want}"));
            }
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
}

fn amounts(v: &Value) -> Amounts {
    Amounts {
        cpu_m: v["cpu_m"].as_i64().unwrap_or(0),
        mem: v["memory_bytes"].as_f64().map_or(0, |b| b as i64),
    }
}

fn expect_amounts(expect: &Value, cpu_m: i64, mem: Option<i64>) -> Result<(), String> {
    let mut errs = vec![];
    if let Some(want) = expect["cpu_m"].as_i64()
        && want != cpu_m
    {
        errs.push(format!("cpu {cpu_m}m ≠ {want}m"));
    }
    if let (Some(want), Some(got)) = (expect["memory_bytes"].as_f64(), mem)
        && want as i64 != got
    {
        errs.push(format!("memory {got} ≠ {want}"));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
}

fn check_estimator(kind: &str, input: &Value, expect: &Value) -> Result<(), String> {
    let cfg = RecommenderConfig::default();
    match kind {
        "estimator.percentile" => {
            let mut s = AggregateState::new(&cfg);
            let w = f(&input["weight"]);
            for v in input["cpu_samples_cores"].as_array().unwrap() {
                s.cpu.add_sample(f(v), w, 0.0);
            }
            for v in input["memory_peaks_bytes"].as_array().unwrap() {
                s.memory_peaks.add_sample(f(v), w, 0.0);
            }
            let cpu = rec::cpu_percentile(&s, f(&input["cpu_percentile"]));
            let mem = rec::memory_percentile(&s, f(&input["memory_percentile"]));
            let tol = f(&expect["relative_tolerance"]);
            let (want_cpu, want_mem) = (f(&expect["cpu_m"]), f(&expect["memory_bytes"]));
            if in_epsilon(want_cpu, cpu as f64, tol) && in_epsilon(want_mem, mem as f64, tol) {
                Ok(())
            } else {
                Err(format!("cpu {cpu}m, memory {mem}"))
            }
        }
        "estimator.confidence" => {
            let mut s = AggregateState::new(&cfg);
            let mut c = ContainerState::default();
            let samples = &input["cpu_samples"];
            for i in 0..samples["count"].as_u64().unwrap() {
                c.add_cpu(&mut s, i as f64 * f(&samples["spacing_s"]), 1000);
            }
            let conf = rec::confidence(&s, f(&input["confidence_interval_s"]));
            if conf != f(&expect["confidence"]) {
                return Err(format!("confidence {conf}"));
            }
            let base = amounts(&input["base"]);
            let (m, e) = (f(&input["multiplier"]), f(&input["exponent"]));
            expect_amounts(
                expect,
                rec::with_confidence(base.cpu_m, m, e, conf),
                Some(rec::with_confidence(base.mem, m, e, conf)),
            )
        }
        "estimator.margin" => {
            let base = amounts(&input["base"]);
            let m = f(&input["margin_fraction"]);
            expect_amounts(
                expect,
                rec::with_margin(base.cpu_m, m),
                Some(rec::with_margin(base.mem, m)),
            )
        }
        "estimator.min_resources" => {
            // upstream's MinResourcesEstimator is max(base, min), as `estimate` applies it.
            let (base, min) = (amounts(&input["base"]), amounts(&input["min"]));
            expect_amounts(expect, base.cpu_m.max(min.cpu_m), Some(base.mem.max(min.mem)))
        }
        other => Err(format!("unknown kind {other}")),
    }
}

fn check_container(input: &Value, expect: &Value) -> Result<(), String> {
    let c = &input["config"];
    let cfg = RecommenderConfig {
        memory_aggregation_interval: SimDuration::from_secs_f64(f(&c["memory_aggregation_interval_s"])),
        oom_bump_up_ratio: f(&c["oom_bump_up_ratio"]),
        oom_min_bump_up_bytes: f(&c["oom_min_bump_up_bytes"]),
        memory_aggregation_interval_count: c["memory_aggregation_interval_count"]
            .as_u64()
            .map_or(RecommenderConfig::default().memory_aggregation_interval_count, |n| {
                n as u32
            }),
        ..RecommenderConfig::default()
    };
    let mut agg = AggregateState::new(&cfg);
    let mut ctr = ContainerState::default();
    let mut errs = vec![];
    for (i, op) in input["ops"].as_array().unwrap().iter().enumerate() {
        let t = f(&op["t_s"]);
        let accepted = match op["op"].as_str().unwrap() {
            "cpu" => ctr.add_cpu(&mut agg, t, op["cpu_m"].as_i64().unwrap()),
            "memory" => ctr.add_memory(&mut agg, &cfg, t, op["bytes"].as_i64().unwrap(), false),
            "oom" => ctr.record_oom(&mut agg, &cfg, t, op["request_bytes"].as_i64().unwrap()),
            other => panic!("unknown op {other}"),
        };
        if accepted != op["accepted"].as_bool().unwrap() {
            errs.push(format!("op {i} accepted: {accepted}"));
        }
    }
    // The calls upstream's mock histograms expect, replayed on fresh histograms.
    let fresh = AggregateState::new(&cfg);
    let replay = |mut h: DecayingHistogram, calls: &Value| {
        for call in calls.as_array().into_iter().flatten() {
            let (v, w, t) = (f(&call[1]), f(&call[2]), f(&call[3]));
            match call[0].as_str().unwrap() {
                "add" => h.add_sample(v, w, t),
                _ => h.subtract_sample(v, w, t),
            }
        }
        h
    };
    if !expect["cpu_histogram"].is_null() && replay(fresh.cpu.clone(), &expect["cpu_histogram"]) != agg.cpu {
        errs.push("CPU histogram differs from upstream's expected calls".into());
    }
    if replay(fresh.memory_peaks.clone(), &expect["memory_histogram"]) != agg.memory_peaks {
        errs.push("memory histogram differs from upstream's expected calls".into());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
}

fn quantity(v: &Value) -> Option<Quantity> {
    v.as_str().map(|s| Quantity::parse(s).unwrap())
}

/// A recommendation's amounts: CPU in millicores, memory in bytes (absent: 0, or unbounded).
fn rec_amounts(v: &Value, absent: i64) -> Amounts {
    Amounts {
        cpu_m: quantity(&v["cpu"]).map_or(absent, |q| q.milli_value()),
        mem: quantity(&v["memory"]).map_or(absent, |q| q.value()),
    }
}

fn check_priority(input: &Value, expect: &Value) -> Result<(), String> {
    let names: Vec<String> = input["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let requests: Vec<(&str, Amounts)> = input["containers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&names)
        .map(|(c, n)| {
            let a = Amounts {
                cpu_m: quantity(&c["cpu_request"]).map_or(0, |q| q.milli_value()),
                mem: quantity(&c["memory_request"]).map_or(0, |q| q.value()),
            };
            (n.as_str(), a)
        })
        .collect();
    let recs: Vec<(String, Recommendation)> = input["recommendation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let target = &r["target"];
            let rec = Recommendation {
                target: rec_amounts(target, 0),
                lower: rec_amounts(&r["lower_bound"], 0),
                upper: rec_amounts(&r["upper_bound"], i64::MAX),
                uncapped_target: rec_amounts(target, 0),
                cpu: !target["cpu"].is_null(),
                memory: !target["memory"].is_null(),
            };
            (r["name"].as_str().unwrap().to_string(), rec)
        })
        .collect();
    let p = updater::update_priority(&requests, &recs);
    let want = &expect["priority"];
    let mut errs = vec![];
    if let Some(o) = want["outside_recommended_range"].as_bool()
        && o != p.outside_range
    {
        errs.push(format!("outside_range {}", p.outside_range));
    }
    if let Some(u) = want["scale_up"].as_bool()
        && u != p.scale_up
    {
        errs.push(format!("scale_up {}", p.scale_up));
    }
    if (p.resource_diff - f(&want["resource_diff"])).abs() > f(&expect["delta"]) {
        errs.push(format!("resource_diff {}", p.resource_diff));
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join("; ")) }
}

fn check_queue(input: &Value, expect: &Value) -> Result<(), String> {
    let c = &input["config"];
    let cfg = UpdaterConfig {
        pod_update_threshold: f(&c["min_change_priority"]),
        pod_lifetime_update_threshold: SimDuration::from_secs_f64(f(&c["pod_lifetime_update_threshold_s"])),
        evict_after_oom_threshold: SimDuration::from_secs_f64(f(&c["evict_after_oom_threshold_s"])),
        ..UpdaterConfig::default()
    };
    let now = SimTime::from_secs(7 * 86400);
    let ago = |s: &Value| SimTime::from_secs(7 * 86400 - f(s) as u64);
    let mut queue = vec![];
    for pod in input["pods"].as_array().unwrap() {
        let pp = &pod["priority"];
        let p = PodPriority {
            outside_range: pp["outside_recommended_range"].as_bool().unwrap(),
            scale_up: pp["scale_up"].as_bool().unwrap(),
            resource_diff: f(&pp["resource_diff"]),
        };
        let oom = &pod["last_oom"];
        let facts = PodFacts {
            start_time: Some(ago(&pod["started_ago_s"])),
            last_oom: (!oom.is_null()).then(|| {
                (
                    ago(&oom["finished_ago_s"]),
                    SimDuration::from_secs_f64(f(&oom["ran_s"])),
                )
            }),
        };
        if updater::accepts(&p, &facts, now, &cfg) {
            queue.push((p, pod["name"].as_str().unwrap().to_string()));
        }
    }
    updater::sort_queue(&mut queue);
    let got: Vec<&str> = queue.iter().map(|(_, n)| n.as_str()).collect();
    let want: Vec<&str> = expect["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    if got == want {
        Ok(())
    } else {
        Err(format!("order {got:?}"))
    }
}

#[test]
fn every_upstream_vpa_vector_passes_through_capsims_code() {
    let vectors = vectors();
    let mut failures = vec![];
    for v in &vectors {
        let (kind, input, expect) = (v["kind"].as_str().unwrap(), &v["input"], &v["expect"]);
        let result = match kind {
            "histogram_options" => check_options(input, expect),
            "histogram" => check_histogram(input, expect),
            "container" => check_container(input, expect),
            "updater.priority" => check_priority(input, expect),
            "updater.queue" => check_queue(input, expect),
            k if k.starts_with("estimator.") => check_estimator(k, input, expect),
            other => Err(format!("unknown kind {other}")),
        };
        if let Err(e) = result {
            failures.push(format!(
                "{} ({} / {}): {e}",
                v["id"], v["source"]["test"], v["source"]["case"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    assert!(vectors.len() >= 60);
}

#[test]
fn a_wrong_expectation_fails() {
    // The harness can fail: a vector with its expected percentile changed does not pass.
    let mut v = vectors().into_iter().find(|v| v["id"] == "HIST-002").unwrap();
    v["expect"]["percentiles"][0][1] = 3.into();
    assert!(check_histogram(&v["input"], &v["expect"]).is_err());
    let mut q = vectors().into_iter().find(|v| v["id"] == "CALC-001").unwrap();
    q["expect"]["order"] = serde_json::json!(["POD1", "POD3", "POD4", "POD2"]);
    assert!(check_queue(&q["input"], &q["expect"]).is_err());
    // An OOM that upstream folds into the window's peak, expected as a plain extra sample.
    let mut c = vectors().into_iter().find(|v| v["id"] == "CTR-003").unwrap();
    c["expect"]["memory_histogram"].as_array_mut().unwrap().remove(1);
    assert!(check_container(&c["input"], &c["expect"]).is_err());
    let mut p = vectors().into_iter().find(|v| v["id"] == "PRIO-006").unwrap();
    p["expect"]["priority"]["outside_recommended_range"] = false.into();
    assert!(check_priority(&p["input"], &p["expect"]).is_err());
}
