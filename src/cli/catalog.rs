//! `capsim catalog`: list and filter the instance catalog.
//!
//! ```text
//! capsim catalog --family m5,m6i --min-cpu 4 --max-price 0.5
//! capsim catalog --arch arm64 --spot --csv > graviton.csv
//! capsim catalog --catalog my-types.csv --name xlarge
//! ```

use crate::cloud::allocatable::KubeletConfig;
use crate::cloud::{Arch, Catalog, InstanceType};
use crate::model::resources::{GIB, MIB};
use crate::model::units::Quantity;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// List and filter the instance catalog (bundled AWS us-east-1 table unless --catalog is given).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CatalogArgs {
    /// Only these families (comma-separated or repeated), e.g. m5,c6i.
    #[arg(long, value_delimiter = ',')]
    pub family: Vec<String>,
    /// Only this architecture: amd64 or arm64.
    #[arg(long, value_parser = parse_arch)]
    pub arch: Option<Arch>,
    /// At least this many vCPU.
    #[arg(long)]
    pub min_cpu: Option<u32>,
    /// At most this many vCPU.
    #[arg(long)]
    pub max_cpu: Option<u32>,
    /// At least this much instance memory, as a quantity (16Gi, 16384Mi, 17G).
    #[arg(long, value_parser = parse_memory)]
    pub min_memory: Option<i64>,
    /// At most this much instance memory, as a quantity.
    #[arg(long, value_parser = parse_memory)]
    pub max_memory: Option<i64>,
    /// At most this price in USD per hour (on-demand; spot with --spot).
    #[arg(long)]
    pub max_price: Option<f64>,
    /// Only types with a spot offering; --max-price and --sort price use the spot price.
    #[arg(long)]
    pub spot: bool,
    /// Only names containing this text, e.g. xlarge.
    #[arg(long)]
    pub name: Option<String>,
    /// Kubelet maxPods override (EC2NodeClass spec.kubelet.maxPods) for the pods and allocatable columns.
    #[arg(long)]
    pub max_pods: Option<u32>,
    /// Row order; ties keep catalog order.
    #[arg(long, value_enum, default_value_t = SortKey::Catalog)]
    pub sort: SortKey,
    /// Read this catalog CSV instead of the bundled one (same columns, see data/README.md).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

/// `--sort` keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    /// File order.
    #[default]
    Catalog,
    Name,
    /// On-demand price, or spot price with --spot.
    Price,
    Cpu,
    Memory,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    Arch::parse(s).ok_or_else(|| format!("expected amd64 or arm64, got {s:?}"))
}

/// A memory quantity in bytes, parsed exactly as Kubernetes parses quantities (`16Gi`, `16384Mi`,
/// `17G`, `129e6`; a bare number is bytes).
pub fn parse_memory(s: &str) -> Result<i64, String> {
    let q = Quantity::parse(s.trim()).map_err(|e| format!("expected a memory quantity such as 16Gi or 512Mi: {e}"))?;
    if q.is_negative() {
        return Err(format!("memory must not be negative, got {s:?}"));
    }
    Ok(q.value())
}

impl CatalogArgs {
    fn kubelet(&self) -> KubeletConfig {
        KubeletConfig {
            max_pods: self.max_pods,
            ..Default::default()
        }
    }

    fn price(&self, it: &InstanceType) -> Option<f64> {
        if self.spot {
            it.spot_price_hr
        } else {
            Some(it.od_price_hr)
        }
    }

    /// True when `it` passes every filter.
    pub fn matches(&self, it: &InstanceType) -> bool {
        let mem = it.memory_mib * MIB;
        (self.family.is_empty() || self.family.contains(&it.family))
            && self.arch.is_none_or(|a| a == it.arch)
            && self.min_cpu.is_none_or(|c| it.vcpu >= c)
            && self.max_cpu.is_none_or(|c| it.vcpu <= c)
            && self.min_memory.is_none_or(|m| mem >= m)
            && self.max_memory.is_none_or(|m| mem <= m)
            && (!self.spot || it.spot_price_hr.is_some())
            && self
                .max_price
                .is_none_or(|max| self.price(it).is_some_and(|p| p <= max))
            && self.name.as_deref().is_none_or(|n| it.name.contains(n))
    }

    /// The matching types in the requested order (ties keep catalog order).
    pub fn select<'a>(&self, catalog: &'a Catalog) -> Vec<&'a InstanceType> {
        let mut rows: Vec<&InstanceType> = catalog.iter().filter(|it| self.matches(it)).collect();
        match self.sort {
            SortKey::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            SortKey::Price => rows.sort_by(|a, b| {
                let (pa, pb) = (
                    self.price(a).unwrap_or(f64::INFINITY),
                    self.price(b).unwrap_or(f64::INFINITY),
                );
                pa.total_cmp(&pb)
            }),
            SortKey::Cpu => rows.sort_by_key(|it| it.vcpu),
            SortKey::Memory => rows.sort_by_key(|it| it.memory_mib),
            SortKey::Catalog => {}
        }
        rows
    }
}

/// Runs `capsim catalog`, printing to stdout.
pub fn run(args: &CatalogArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_to(args, &mut out)
}

/// As [`run`], writing to `out`.
pub fn run_to(args: &CatalogArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let catalog = match &args.catalog {
        Some(path) => Catalog::from_csv_path(path)?,
        None => Catalog::bundled(),
    };
    // A family the catalog does not have is a typo, not an empty answer.
    let families: std::collections::BTreeSet<&str> = catalog.types().iter().map(|t| t.family.as_str()).collect();
    if let Some(bad) = args.family.iter().find(|f| !families.contains(f.as_str())) {
        anyhow::bail!(
            "--family {bad}: no such family in {} (families: {})",
            catalog.name(),
            families.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let rows = args.select(&catalog);
    if args.csv {
        write_csv(args, &rows, out)
    } else {
        write_table(args, &catalog, &rows, out)
    }
}

fn fmt_price(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_string(), |p| format!("{p:.4}"))
}

fn fmt_gib(bytes: i64) -> String {
    let gib = bytes as f64 / GIB as f64;
    if gib.fract() == 0.0 {
        format!("{gib:.0}Gi")
    } else {
        format!("{gib:.2}Gi")
    }
}

fn write_table(
    args: &CatalogArgs,
    catalog: &Catalog,
    rows: &[&InstanceType],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let kubelet = args.kubelet();
    let header = [
        "NAME",
        "VCPU",
        "MEMORY",
        "MAX PODS",
        "ALLOC CPU",
        "ALLOC MEM",
        "ON-DEMAND $/H",
        "SPOT $/H",
        "INTERRUPTION",
    ];
    let body: Vec<[String; 9]> = rows
        .iter()
        .map(|it| {
            let alloc = it.allocatable_with(&kubelet);
            [
                it.name.clone(),
                it.vcpu.to_string(),
                fmt_gib(it.memory_mib * MIB),
                alloc.pods.to_string(),
                format!("{}m", alloc.cpu_m),
                fmt_gib(alloc.mem),
                fmt_price(Some(it.od_price_hr)),
                fmt_price(it.spot_price_hr),
                it.interruption_band.map_or("-", |b| b.as_str()).to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            // Names and bands left-aligned, numbers right-aligned.
            if i == 0 || i == 8 {
                s.push_str(&format!("{cell:<w$}"));
            } else {
                s.push_str(&format!("{cell:>w$}"));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &body {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    writeln!(
        out,
        "{} of {} instance types from {}; allocatable = capacity − kube-reserved − eviction (Karpenter AWS estimate), before DaemonSets",
        rows.len(),
        catalog.len(),
        catalog.name()
    )?;
    Ok(())
}

fn write_csv(args: &CatalogArgs, rows: &[&InstanceType], out: &mut dyn Write) -> anyhow::Result<()> {
    let kubelet = args.kubelet();
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "name",
        "family",
        "vcpu",
        "memory_mib",
        "max_pods",
        "arch",
        "alloc_cpu_millicores",
        "alloc_memory_mib",
        "od_price_usd_hr",
        "spot_price_usd_hr",
        "spot_interruption_band",
    ])
    .context("writing CSV header")?;
    for it in rows {
        let alloc = it.allocatable_with(&kubelet);
        w.write_record([
            it.name.clone(),
            it.family.clone(),
            it.vcpu.to_string(),
            it.memory_mib.to_string(),
            alloc.pods.to_string(),
            it.arch.as_str().to_string(),
            alloc.cpu_m.to_string(),
            (alloc.mem / MIB).to_string(),
            it.od_price_hr.to_string(),
            it.spot_price_hr.map(|p| p.to_string()).unwrap_or_default(),
            it.interruption_band.map(|b| b.as_str().to_string()).unwrap_or_default(),
        ])
        .context("writing CSV row")?;
    }
    w.flush().context("writing CSV")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CatalogArgs {
        CatalogArgs::default()
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        catalog: CatalogArgs,
    }

    fn parse(argv: &[&str]) -> Result<CatalogArgs, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("catalog").chain(argv.iter().copied())).map(|c| c.catalog)
    }

    #[test]
    fn command_line_parsing() {
        let a = parse(&[
            "--family",
            "m5,c6i",
            "--min-memory",
            "16Gi",
            "--arch",
            "arm64",
            "--sort",
            "price",
            "--spot",
        ])
        .expect("valid args");
        assert_eq!(a.family, ["m5", "c6i"]);
        assert_eq!(a.min_memory, Some(16 * GIB));
        assert_eq!(a.arch, Some(Arch::Arm64));
        assert_eq!(a.sort, SortKey::Price);
        assert!(a.spot && !a.csv);
        for bad in [
            &["--arch", "sparc"][..],
            &["--min-memory", "16GB"],
            &["--sort", "colour"],
            &["--min-cpu", "-1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let e = parse(&["--min-memory", "lots"])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("--min-memory") && e.contains("16Gi"), "{e}");
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_memory("16Gi"), Ok(16 * GIB));
        assert_eq!(parse_memory("512Mi"), Ok(512 * MIB));
        assert_eq!(parse_memory("1.5Gi"), Ok(3 * GIB / 2));
        assert_eq!(parse_memory("2G"), Ok(2_000_000_000));
        assert_eq!(parse_memory("1024"), Ok(1024));
        assert!(parse_memory("16GB").is_err());
        assert!(parse_memory("-1Gi").is_err());
        assert!(parse_memory("Gi").is_err());
        assert_eq!(parse_memory("129e6"), Ok(129_000_000));
    }

    #[test]
    fn filters_combine() {
        let c = Catalog::bundled();
        let a = CatalogArgs {
            family: vec!["m5".into()],
            min_cpu: Some(4),
            max_cpu: Some(8),
            ..args()
        };
        let names: Vec<&str> = a.select(&c).iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["m5.xlarge", "m5.2xlarge"]);
        let a = CatalogArgs {
            arch: Some(Arch::Arm64),
            min_memory: Some(64 * GIB),
            max_price: Some(0.6),
            ..args()
        };
        for t in a.select(&c) {
            assert!(
                t.arch == Arch::Arm64 && t.memory_mib >= 65536 && t.od_price_hr <= 0.6,
                "{}",
                t.name
            );
        }
        assert!(!a.select(&c).is_empty());
    }

    #[test]
    fn spot_price_sort() {
        let c = Catalog::bundled();
        let a = CatalogArgs {
            spot: true,
            name: Some(".large".into()),
            sort: SortKey::Price,
            ..args()
        };
        let rows = a.select(&c);
        assert!(rows.len() > 10);
        assert!(rows.windows(2).all(|w| w[0].spot_price_hr <= w[1].spot_price_hr));
    }

    #[test]
    fn table_and_csv_output() {
        let a = CatalogArgs {
            name: Some("m5.xlarge".into()),
            ..args()
        };
        let mut buf = Vec::new();
        run_to(&a, &mut buf).expect("table");
        let text = String::from_utf8(buf).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME"));
        // m5.xlarge: 4 vCPU, 16 GiB, 58 pods, 3920 m, 14162 MiB = 13.83 GiB, 0.192 $/h, 0.0653 spot, >20%.
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                "m5.xlarge",
                "4",
                "16Gi",
                "58",
                "3920m",
                "13.83Gi",
                "0.1920",
                "0.0653",
                ">20%"
            ]
        );
        let csv = CatalogArgs { csv: true, ..a };
        let mut buf = Vec::new();
        run_to(&csv, &mut buf).expect("csv");
        let text = String::from_utf8(buf).expect("utf8");
        assert_eq!(
            text.lines().nth(1),
            Some("m5.xlarge,m5,4,16384,58,amd64,3920,14162,0.192,0.0653,>20%")
        );
    }

    #[test]
    fn missing_catalog_file_is_an_error() {
        let a = CatalogArgs {
            catalog: Some(PathBuf::from("/nonexistent/types.csv")),
            ..args()
        };
        let err = run_to(&a, &mut Vec::new()).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/types.csv"), "{err}");
    }
}
