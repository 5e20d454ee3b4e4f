//! Writing run outputs.

use crate::sim::SimResult;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
}

/// The temporary file an output is written to before its rename: same directory (created if
/// needed), hidden, named after the process so concurrent runs do not collide.
fn temp_path_for(path: &Path) -> std::io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(dir.join(format!(".{name}.{}.tmp", std::process::id())))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temp_path_for(path).map_err(io)?;
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Serializes records to CSV in memory.
pub fn csv_bytes<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<Vec<u8>, OutputError> {
    let err = |source| OutputError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// Formats a float for CSV: fixed precision so output is byte-stable and readable.
pub fn f(x: f64) -> String {
    if x.is_infinite() {
        return "inf".into();
    }
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn timeline_csv(r: &SimResult) -> Vec<u8> {
    let mut out = String::from(
        "time_s,workload,demand_rps,served_rps,capacity_rps,replicas_desired,pods_pending,pods_starting,pods_ready,cpu_per_pod_m,cpu_utilization_pct,hpa_metric,nodes_ready,nodes_upcoming,cost_rate_usd_hr\n",
    );
    for row in &r.timeline {
        let name = &r.workload_names[row.workload as usize];
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            f(row.time.as_secs_f64()),
            name,
            f(row.demand_rps),
            f(row.served_rps),
            f(row.capacity_rps),
            row.desired,
            row.pending,
            row.starting,
            row.ready,
            f(row.cpu_per_pod_m),
            f(row.cpu_utilization),
            row.hpa_metric.map(f).unwrap_or_default(),
            row.nodes_ready,
            row.nodes_upcoming,
            f(row.cost_rate_hr),
        ));
    }
    out.into_bytes()
}

/// Streams records as CSV into a temporary file next to `path` (for the largest output, so it
/// is never held in memory whole) and returns the temporary file's path; on failure the
/// temporary file is removed.
fn csv_to_temp<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<PathBuf, OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temp_path_for(path).map_err(io)?;
    let result = (|| {
        let file = fs::File::create(&tmp).map_err(io)?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        for r in rows {
            w.serialize(r).map_err(|source| OutputError::Csv {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let buffered = w.into_inner().map_err(|e| io(e.into_error()))?;
        let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `summary.json`, `timeline.csv`, `pods.csv` and `nodes.csv` into `dir`. Every file is
/// rendered before any is put in place, so a failure to render writes nothing: all in memory
/// except `hpa.csv` (one row per HPA sync, the largest by far), which is streamed to a temporary
/// file and renamed last.
pub fn write_run_outputs(dir: &Path, r: &SimResult) -> Result<Vec<PathBuf>, OutputError> {
    let summary_path = dir.join("summary.json");
    let mut summary = serde_json::to_vec_pretty(&r.summary).map_err(|source| OutputError::Json {
        path: summary_path.clone(),
        source,
    })?;
    summary.push(b'\n');
    let pods_path = dir.join("pods.csv");
    let nodes_path = dir.join("nodes.csv");
    let files = vec![
        (summary_path, summary),
        (dir.join("timeline.csv"), timeline_csv(r)),
        (pods_path.clone(), csv_bytes(&pods_path, &r.pods)?),
        (nodes_path.clone(), csv_bytes(&nodes_path, &r.nodes)?),
    ];
    let mut files = files;
    if !r.decisions.is_empty() {
        let path = dir.join("autoscaler.csv");
        files.push((path.clone(), csv_bytes(&path, &r.decisions)?));
    }
    let hpa = if r.hpa.is_empty() {
        None
    } else {
        let path = dir.join("hpa.csv");
        let tmp = csv_to_temp(&path, &r.hpa)?;
        Some((path, tmp))
    };
    let mut written = Vec::new();
    for (path, bytes) in files {
        if let Err(e) = atomic_write(&path, &bytes) {
            if let Some((_, tmp)) = &hpa {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        written.push(path);
    }
    if let Some((path, tmp)) = hpa {
        if let Err(source) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(OutputError::Io { path, source });
        }
        written.push(path);
    }
    Ok(written)
}
