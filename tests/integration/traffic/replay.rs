//! Replay of small known CSV and Prometheus traces, each malformed-trace kind with its error, and
//! the bundled real traces.

use std::path::{Path, PathBuf};

use capsim::engine::{Rngs, SimTime};
use capsim::traffic::{TrafficError, TrafficModel, TrafficSpec};

/// A fresh directory for this test's fixture files.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("traffic_replay").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

fn write(d: &Path, file: &str, text: &str) {
    std::fs::write(d.join(file), text).unwrap_or_else(|e| panic!("{file}: {e}"));
}

fn load(d: &Path, yaml: &str) -> Result<TrafficModel, TrafficError> {
    let spec: TrafficSpec = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    TrafficModel::from_spec_in(&spec, "web", Some(d))
}

fn model(d: &Path, yaml: &str) -> TrafficModel {
    load(d, yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

/// rps at each (seconds) instant.
fn series(m: &TrafficModel, secs: &[f64]) -> Vec<f64> {
    let rngs = Rngs::new(1);
    secs.iter()
        .map(|s| m.rps_at(SimTime((s * 1000.0).round() as u64), &rngs))
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-9, "{what}[{i}]: got {g}, want {w} (all: {got:?})");
    }
}

/// 60 s samples: 10, 20, 40, 30 requests/s; the trace ends at 240 s.
const CSV: &str = "time,value\n0,10\n60,20\n120,40\n180,30\n";

#[test]
fn csv_replay_expected_demand_series() {
    let d = dir("csv");
    write(&d, "t.csv", CSV);
    let t = [0.0, 59.999, 60.0, 90.0, 150.0, 200.0, 239.0, 240.0, 1000.0];
    #[rustfmt::skip]
    let cases: &[(&str, &[f64])] = &[
        // hold (default): each sample holds until the next; after the end the last rate holds
        ("{file: t.csv}",                           &[10.0, 10.0, 20.0, 20.0, 40.0, 30.0, 30.0, 30.0, 30.0]),
        ("{file: t.csv, end: zero}",                &[10.0, 10.0, 20.0, 20.0, 40.0, 30.0, 30.0, 0.0, 0.0]),
        // loop: 240 s → 0 s, 1000 s → 40 s (1000 mod 240)
        ("{file: t.csv, end: loop}",                &[10.0, 10.0, 20.0, 20.0, 40.0, 30.0, 30.0, 10.0, 10.0]),
        // linear between samples: 10 + 10·(59.999/60), 20 + 20·0.5, 40 − 10·0.5; held after 180 s
        ("{file: t.csv, interpolate: linear}",      &[10.0, 19.999_833_333_333_33, 20.0, 30.0, 35.0, 30.0, 30.0, 30.0, 30.0]),
        ("{file: t.csv, scale: 2}",                 &[20.0, 20.0, 40.0, 40.0, 80.0, 60.0, 60.0, 60.0, 60.0]),
        // peak 40 → 100: factor 2.5
        ("{file: t.csv, scaleToPeak: 100}",         &[25.0, 25.0, 50.0, 50.0, 100.0, 75.0, 75.0, 75.0, 75.0]),
        // counts per 60 s sample → rates
        ("{file: t.csv, valueKind: count}",         &[10.0 / 60.0, 10.0 / 60.0, 20.0 / 60.0, 20.0 / 60.0, 40.0 / 60.0, 0.5, 0.5, 0.5, 0.5]),
        // window [60 s, 180 s): 60 s becomes time 0, the trace ends at 120 s (then holds 40)
        ("{file: t.csv, window: {from: 1m, to: 3m}}", &[20.0, 20.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0]),
        // window from 90 s: the sample at 60 s covers [−30 s, 30 s)
        ("{file: t.csv, window: {from: 90s}}",      &[20.0, 40.0, 40.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0]),
        // resample to 120 s bins: means (10 + 20)/2 and (40 + 30)/2
        ("{file: t.csv, resample: 2m}",             &[15.0, 15.0, 15.0, 15.0, 35.0, 35.0, 35.0, 35.0, 35.0]),
    ];
    for &(replay, want) in cases {
        let m = model(&d, &format!("replay: {replay}"));
        assert_close(&series(&m, &t), want, replay);
    }
    // compress 60: a trace minute per simulated second.
    let m = model(&d, "replay: {file: t.csv, compress: 60}");
    assert_close(
        &series(&m, &[0.0, 0.999, 1.0, 2.5, 3.0, 10.0]),
        &[10.0, 10.0, 20.0, 40.0, 30.0, 30.0],
        "compress",
    );
    // resample 30 s of the linear series: bin means 12.5, 17.5, 25, 35
    let m = model(&d, "replay: {file: t.csv, interpolate: linear, resample: 30s}");
    assert_close(
        &series(&m, &[0.0, 30.0, 60.0, 90.0, 119.0]),
        &[12.5, 17.5, 25.0, 35.0, 35.0],
        "linear resample",
    );
    // Means over intervals: hold (10 + 20 + 40 + 30)/4; linear ∫ over [0, 180 s) = 60·(15 + 30 + 35).
    let rngs = Rngs::new(1);
    let hold = model(&d, "replay: {file: t.csv}");
    assert!((hold.mean_rps_over(SimTime(0), SimTime(240_000), &rngs) - 25.0).abs() < 1e-9);
    let lin = model(&d, "replay: {file: t.csv, interpolate: linear}");
    assert!((lin.mean_rps_over(SimTime(0), SimTime(180_000), &rngs) - 80.0 / 3.0).abs() < 1e-9);
    // Shapes apply on top of the replayed rate.
    let shaped = model(&d, "replay: {file: t.csv}\nshape: [{step: {at: 2m, factor: 2}}]");
    assert_close(&series(&shaped, &[60.0, 120.0]), &[20.0, 80.0], "shaped");
    assert_eq!(shaped.base(), None);
    assert_eq!(
        shaped.trace().map(|t| t.samples().1.to_vec()),
        Some(vec![10.0, 20.0, 40.0, 30.0])
    );
}

#[test]
fn csv_time_formats_and_columns() {
    let d = dir("formats");
    write(
        &d,
        "unix.csv",
        "ts,rps,other\n1700000000,5,x\n1700000060,7,y\n1700000120,9,z\n",
    );
    write(
        &d,
        "rfc.csv",
        "when;load\n2024-01-01T00:00:00Z;5\n2024-01-01T01:01:00+01:00;7\n2024-01-01T00:02:00.000z;9\n",
    );
    let unix = "replay: {file: unix.csv, timeColumn: ts, valueColumn: rps, timeFormat: unix}";
    assert_close(&series(&model(&d, unix), &[0.0, 60.0, 120.0]), &[5.0, 7.0, 9.0], "unix");
    let win = "replay: {file: unix.csv, timeColumn: ts, valueColumn: rps, timeFormat: unix, \
               window: {from: '2023-11-14T22:14:20Z'}}"; // = 1700000060
    assert_close(&series(&model(&d, win), &[0.0, 60.0]), &[7.0, 9.0], "unix window");
    // Semicolons are not the CSV delimiter: the whole line is one column.
    let e = load(
        &d,
        "replay: {file: rfc.csv, timeColumn: when, valueColumn: load, timeFormat: rfc3339}",
    )
    .expect_err("semicolons");
    assert!(e.to_string().contains("no column \"when\""), "{e}");
    write(
        &d,
        "rfc.csv",
        "when,load\n2024-01-01T00:00:00Z,5\n2024-01-01T01:01:00+01:00,7\n2024-01-01T00:02:00.000z,9\n",
    );
    let rfc = "replay: {file: rfc.csv, timeColumn: when, valueColumn: load, timeFormat: rfc3339}";
    assert_close(
        &series(&model(&d, rfc), &[0.0, 60.0, 120.0]),
        &[5.0, 7.0, 9.0],
        "rfc3339",
    );
}

const PROM: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"job":"api","instance":"a"},"values":[[1700000000,"1"],[1700000015,"2"],[1700000030,"3"]]},
 {"metric":{"job":"api","instance":"b"},"values":[[1700000000,"10"],[1700000015,"20"],[1700000030,"30"]]},
 {"metric":{"job":"web","instance":"c"},"values":[[1700000000,"100"],[1700000015,"100"],[1700000030,"100"]]}
]}}"#;

#[test]
fn prometheus_replay_expected_demand_series() {
    let d = dir("prom");
    write(&d, "q.json", PROM);
    let t = [0.0, 14.999, 15.0, 30.0, 44.0];
    #[rustfmt::skip]
    let cases: &[(&str, &[f64])] = &[
        ("{file: q.json, selector: {job: api}}",                    &[11.0, 11.0, 22.0, 33.0, 33.0]),
        ("{file: q.json, selector: {}}",                            &[111.0, 111.0, 122.0, 133.0, 133.0]),
        ("{file: q.json, selector: {job: api, instance: b}}",       &[10.0, 10.0, 20.0, 30.0, 30.0]),
        ("{file: q.json, selector: {job: api}, scaleToPeak: 66}",   &[22.0, 22.0, 44.0, 66.0, 66.0]),
        ("{file: q.json, format: prometheus, selector: {job: api}, window: {from: 15s}}", &[22.0, 22.0, 33.0, 33.0, 33.0]),
    ];
    for &(replay, want) in cases {
        let m = model(&d, &format!("replay: {replay}"));
        assert_close(&series(&m, &t), want, replay);
    }
    // A series missing a point contributes 0 there (PromQL `sum`).
    write(
        &d,
        "gap.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"job":"api"},"values":[[1700000000,"1"],[1700000030,"3"]]},
        {"metric":{"job":"api"},"values":[[1700000000,"10"],[1700000015,"20"],[1700000030,"30"]]}]}}"#,
    );
    let m = model(&d, "replay: {file: gap.json, selector: {job: api}}");
    assert_close(&series(&m, &[0.0, 15.0, 30.0]), &[11.0, 20.0, 33.0], "missing point");
    // Several series and no selector: never summed silently.
    let e = load(&d, "replay: {file: q.json}").expect_err("ambiguous").to_string();
    assert!(e.contains("series in the response and no replay.selector"), "{e}");
    assert!(e.contains("selector: {}"), "{e}");
    // "NaN" (what Prometheus returns for 0/0) is no sample: a gap, held across by fillGaps.
    write(
        &d,
        "nan.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"job":"api"},"values":[[1700000000,"5"],[1700000015,"6"],[1700000030,"NaN"],[1700000045,"8"],[1700000060,"9"]]}]}}"#,
    );
    let e = load(&d, "replay: {file: nan.json}").expect_err("gap").to_string();
    assert!(e.contains("gap"), "{e}");
    let m = model(&d, "replay: {file: nan.json, fillGaps: hold}");
    assert_close(
        &series(&m, &[0.0, 15.0, 30.0, 45.0, 60.0]),
        &[5.0, 6.0, 6.0, 8.0, 9.0],
        "NaN held over",
    );
}

#[test]
fn csv_time_formats_are_decided_not_guessed() {
    let d = dir("timefmt");
    // Epoch milliseconds read as seconds would spread a 2-minute trace over 3 years: refused.
    write(
        &d,
        "ms.csv",
        "time,value\n1715590800000,1\n1715590860000,2\n1715590920000,3\n",
    );
    for fmt in ["", ", timeFormat: unix", ", timeFormat: seconds"] {
        let e = load(&d, &format!("replay: {{file: ms.csv{fmt}}}"))
            .expect_err(fmt)
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("epoch milliseconds") && e.contains("timeFormat: unix-ms"),
            "{e}"
        );
    }
    let m = model(&d, "replay: {file: ms.csv, timeFormat: unix-ms}");
    assert_close(&series(&m, &[0.0, 60.0, 120.0]), &[1.0, 2.0, 3.0], "unix-ms");
    // Grafana's CSV export: `2024-05-13 09:00:00`, no zone.
    write(
        &d,
        "grafana.csv",
        "time,value\n2024-05-13 09:00:00,4\n2024-05-13 09:01:00,5\n2024-05-13 09:02:00,6\n",
    );
    let e = load(&d, "replay: {file: grafana.csv}")
        .expect_err("seconds")
        .to_string();
    assert!(e.contains("timeFormat: datetime"), "{e}");
    let e = load(&d, "replay: {file: grafana.csv, timeFormat: rfc3339}")
        .expect_err("rfc")
        .to_string();
    assert!(e.contains("timeFormat: datetime"), "{e}");
    let m = model(
        &d,
        "replay: {file: grafana.csv, timeFormat: datetime, window: {from: '2024-05-13T09:01:00Z'}}",
    );
    assert_close(&series(&m, &[0.0, 60.0]), &[5.0, 6.0], "datetime read as UTC");
}

#[test]
fn poisson_arrivals_per_sample_bin() {
    let d = dir("arrivals");
    write(&d, "t.csv", CSV);
    let m = model(&d, "replay: {file: t.csv, arrivals: poisson}");
    let rngs = Rngs::new(3);
    // 60 s bins: each rate × 60 is a whole count, constant over the bin.
    for k in 0..4u64 {
        let v = m.rps_at(SimTime(k * 60_000), &rngs);
        assert_eq!((v * 60.0).fract(), 0.0, "bin {k}: {v}");
        assert_eq!(v, m.rps_at(SimTime(k * 60_000 + 59_999), &rngs));
    }
    // Averaged over many seeds, bin 2 (λ = 40 × 60 = 2400 arrivals) has mean rate ≈ 40
    // (SE of the mean over 400 seeds: √2400/60/20 ≈ 0.04).
    let mean: f64 = (0..400).map(|s| m.rps_at(SimTime(130_000), &Rngs::new(s))).sum::<f64>() / 400.0;
    assert!((mean - 40.0).abs() < 0.25, "mean {mean}");
    // Poisson twice is a conflict.
    let e = load(&d, "replay: {file: t.csv, arrivals: poisson}\nnoise: {kind: poisson}").expect_err("twice");
    assert!(e.to_string().starts_with("replay.arrivals:"), "{e}");
}

/// (file name, content, replay options, expected message fragment)
#[rustfmt::skip]
const MALFORMED: &[(&str, &str, &str, &str)] = &[
    ("back.csv", "time,value\n0,1\n120,2\n60,3\n", "",
        "back.csv: line 4: time goes backwards: 60s comes after 120s (line 3)"),
    ("dup.csv", "time,value\n0,1\n60,2\n60,3\n", "",
        "dup.csv: line 4: duplicate time 60s (also at line 3)"),
    ("nan.csv", "time,value\n0,1\n60,NaN\n", "",
        "nan.csv: line 3: value in column \"value\" \"NaN\" is not a finite number"),
    ("inf.csv", "time,value\n0,1\n60,inf\n", "", "line 3: value in column \"value\" \"inf\" is not a finite number"),
    ("neg.csv", "time,value\n0,1\n60,-5\n", "", "neg.csv: line 3: value in column \"value\" -5 is negative"),
    ("word.csv", "time,value\n0,1\n60,lots\n", "", "line 3: value in column \"value\" \"lots\" is not a number"),
    ("blank.csv", "time,value\n0,1\n60,\n", "", "line 3: empty value in column \"value\""),
    ("badtime.csv", "time,value\n0,1\nsoon,2\n", "", "line 3: time \"soon\" in column \"time\" is not a number of seconds"),
    ("col.csv", "t,v\n0,1\n60,2\n", "",
        "col.csv: line 1: no column \"time\" in the header (columns: t, v); set replay.timeColumn"),
    ("vcol.csv", "time,rps\n0,1\n60,2\n", "", "no column \"value\" in the header (columns: time, rps); set replay.valueColumn"),
    ("short.csv", "time,value\n0,1\n60\n", "", "short.csv: line 3: row has 1 fields, the header has 2"),
    ("gap.csv", "time,value\n0,1\n60,1\n120,1\n600,1\n660,1\n", "",
        "gap.csv: line 5: gap of 480s between 120s (line 4) and 600s: more than 1.5 × the median step 60s"),
    ("empty.csv", "time,value\n", "", "empty.csv: data: a trace needs at least 2 samples, found 0"),
    ("one.csv", "time,value\n0,1\n", "", "a trace needs at least 2 samples, found 1"),
    ("rfc.csv", "time,value\n2024-01-01 00:00:00Z,1\n", ", timeFormat: rfc3339",
        "line 2: time \"2024-01-01 00:00:00Z\" in column \"time\" is not RFC 3339: expected 'T' between date and time, found a space"),
    ("win.csv", "time,value\n0,1\n60,2\n", ", window: {from: 1h}", "replay.window: no samples of"),
    ("winabs.csv", "time,value\n0,1\n60,2\n", ", window: {from: '2024-01-01T00:00:00Z'}",
        "replay.window.from: \"2024-01-01T00:00:00Z\" is an absolute time but"),
    ("winbad.csv", "time,value\n0,1\n60,2\n", ", window: {to: tomorrow}", "replay.window.to: \"tomorrow\" is neither a Go duration"),
    ("winorder.csv", "time,value\n0,1\n60,2\n", ", window: {from: 1m, to: 30s}", "replay.window.to: must be after window.from"),
    ("zero.csv", "time,value\n0,0\n60,0\n", ", scaleToPeak: 10", "replay.scaleToPeak: cannot rescale"),
    ("both.csv", CSV, ", scale: 2, scaleToPeak: 10", "replay.scale: set either scale or scaleToPeak, not both"),
    ("sel.csv", CSV, ", selector: {job: api}", "replay.selector: applies to prometheus traces only"),
    ("cmp.csv", CSV, ", compress: 0", "replay.compress: must be > 0, got 0"),
    ("maxgap.csv", CSV, ", maxGap: 0.5", "replay.maxGap: must be >= 1"),
    ("res.csv", CSV, ", resample: 0s", "replay.resample: must be > 0"),
    ("p-nan.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1,"1"],[2,"NaN"]]}]}}"#, "",
        "p-nan.json: data: a trace needs at least 2 samples, found 1"),
    ("p-inf.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1,"1"],[2,"+Inf"]]}]}}"#, "",
        "p-inf.json: data.result[0].values[1] (series {job=\"api\"}): value \"+Inf\" is not a finite number"),
    ("p-neg.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"-1"]]}]}}"#, "",
        "data.result[0].values[1] (series {}): value -1 is negative"),
    ("p-back.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[2,"1"],[1,"1"]]}]}}"#, "",
        "data.result[0].values[1] (series {}): time goes backwards: 1970-01-01T00:00:01Z after 1970-01-01T00:00:02Z"),
    ("p-dup.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[1,"1"]]}]}}"#, "",
        "data.result[0].values[1] (series {}): duplicate time"),
    ("p-vec.json", r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, "",
        "p-vec.json: data.resultType: expected \"matrix\" (a query_range response), got \"vector\""),
    ("p-err.json", r#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#, "",
        "p-err.json: status: Prometheus returned an error: parse error at char 4"),
    ("p-syntax.json", "{\"status\":\n\"success\",,}", "", "p-syntax.json: line 2: invalid JSON"),
    ("p-sel.json", r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"web"},"values":[[1,"1"],[2,"1"]]}]}}"#,
        ", selector: {job: api}", "data.result: no series matches the selector {\"job\": \"api\"}; series present: {job=\"web\"}"),
    ("p-empty.json", r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, "", "data.result: no series in the response"),
    ("p-col.json", PROM, ", timeColumn: t", "replay.timeColumn: applies to csv traces only"),
];

#[test]
fn malformed_traces_get_clear_errors() {
    let d = dir("malformed");
    for &(file, content, opts, want) in MALFORMED {
        write(&d, file, content);
        let e = load(&d, &format!("replay: {{file: {file}{opts}}}"))
            .expect_err(file)
            .to_string();
        assert!(e.contains(want), "{file}:\n  got:  {e}\n  want: {want}");
    }
    let e = load(&d, "replay: {file: missing.csv}")
        .expect_err("missing")
        .to_string();
    assert!(e.contains("missing.csv: cannot read trace:"), "{e}");
}

#[test]
fn gaps_can_be_filled() {
    let d = dir("gaps");
    // 60 s samples with a hole between 120 s and 600 s.
    write(&d, "g.csv", "time,value\n0,10\n60,10\n120,10\n600,20\n660,20\n");
    let t = [150.0, 200.0, 539.0, 560.0, 600.0];
    let hold = model(&d, "replay: {file: g.csv, fillGaps: hold}");
    assert_close(&series(&hold, &t), &[10.0, 10.0, 10.0, 10.0, 20.0], "hold");
    // zero: 10 until one step after 120 s (180 s), 0 until 600 s (a zero sample also at 540 s).
    let zero = model(&d, "replay: {file: g.csv, fillGaps: zero}");
    assert_close(&series(&zero, &t), &[10.0, 0.0, 0.0, 0.0, 20.0], "zero");
    let zero_lin = model(&d, "replay: {file: g.csv, fillGaps: zero, interpolate: linear}");
    // linear: 10 at 120 s → 0 at 180 s, 0 until 540 s, → 20 at 600 s
    assert_close(
        &series(&zero_lin, &[150.0, 300.0, 570.0]),
        &[5.0, 0.0, 10.0],
        "zero linear",
    );
    // A larger tolerance accepts the gap as is.
    let tolerant = model(&d, "replay: {file: g.csv, maxGap: 10}");
    assert_close(&series(&tolerant, &[300.0]), &[10.0], "maxGap");
}

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn bundled_nasa_trace_sts70_surge() {
    // 11:00–15:00 UTC on 13 July 1995; the peak (405 req/min = 6.75 req/s) is at 13:49 UTC,
    // 2 h 49 m into the window; scaled to 1200 req/s.
    let m = model(
        &repo_dir(),
        "replay: {file: data/traces/nasa-http-1995-07.csv, timeColumn: unix_s, valueColumn: rps, timeFormat: unix, \
         window: {from: '1995-07-13T11:00:00Z', to: '1995-07-13T15:00:00Z'}, scaleToPeak: 1200}",
    );
    let trace = m.trace().expect("a replay");
    let (times, values) = trace.samples();
    assert_eq!(times.len(), 240);
    assert_eq!(values.iter().copied().fold(0.0, f64::max), 1200.0);
    let rngs = Rngs::new(1);
    assert!((m.rps_at(SimTime((2 * 60 + 49) * 60_000), &rngs) - 1200.0).abs() < 1e-9);
    assert!(m.rps_at(SimTime((2 * 60 + 48) * 60_000), &rngs) < 1200.0);
}

#[test]
fn bundled_elb_trace_has_gaps_to_fill() {
    let base = "replay: {file: data/traces/nab-elb-request-count-8c0756.csv, timeColumn: unix_s, valueColumn: requests, \
                timeFormat: unix, valueKind: count";
    let e = load(&repo_dir(), &format!("{base}}}")).expect_err("gaps").to_string();
    assert!(e.contains("gap of 600s"), "{e}");
    let m = model(&repo_dir(), &format!("{base}, fillGaps: hold}}"));
    let (_, values) = m.trace().expect("a replay").samples();
    // Largest count 656 per 300 s sample.
    let peak = values.iter().copied().fold(0.0, f64::max);
    assert!((peak - 656.0 / 300.0).abs() < 1e-12, "{peak}");
}
