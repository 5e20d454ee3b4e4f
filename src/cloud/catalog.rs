//! The instance catalog: every column of `data/aws-instance-types.csv`, indexed by name.
//!
//! The bundled table (see `data/README.md` for its source and Apache-2.0 licence) is compiled into
//! the binary; `--catalog FILE` with the same columns replaces it. Parsing is strict: a missing
//! required column, an unknown column, a malformed number or a duplicate name is an error naming
//! the file, the line and the column.

use super::allocatable::{self, KubeletConfig};
use super::spot::InterruptionBand;
use crate::model::{CapacityType, Labels, Resources};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// The bundled AWS table (us-east-1), see `data/README.md`.
pub const BUNDLED_CSV: &str = include_str!("../../data/aws-instance-types.csv");
/// The name the bundled catalog reports in errors and listings.
pub const BUNDLED_NAME: &str = "bundled:aws-instance-types.csv";
/// Catalog files larger than this are refused before reading (bad input is bounded).
pub const MAX_CATALOG_BYTES: u64 = 16 * 1024 * 1024;

/// Well-known node labels.
/// upstream: kubernetes/kubernetes staging/src/k8s.io/api/core/v1/well_known_labels.go
pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
pub const LABEL_OS: &str = "kubernetes.io/os";
pub use crate::model::labels::LABEL_ZONE;
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
/// upstream: kubernetes-sigs/karpenter pkg/apis/v1/labels.go `CapacityTypeLabelKey`.
pub const LABEL_CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";
/// Set by EKS managed node groups (`ON_DEMAND` / `SPOT`), not by Karpenter.
/// upstream: docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html (capacity types).
pub const LABEL_EKS_CAPACITY_TYPE: &str = "eks.amazonaws.com/capacityType";
pub const LABEL_EKS_NODEGROUP: &str = "eks.amazonaws.com/nodegroup";
/// upstream: aws/karpenter-provider-aws pkg/apis/v1/labels.go (`LabelInstanceCategory`, ...).
pub const LABEL_INSTANCE_CATEGORY: &str = "karpenter.k8s.aws/instance-category";
pub const LABEL_INSTANCE_FAMILY: &str = "karpenter.k8s.aws/instance-family";
pub const LABEL_INSTANCE_GENERATION: &str = "karpenter.k8s.aws/instance-generation";
pub const LABEL_INSTANCE_SIZE: &str = "karpenter.k8s.aws/instance-size";
pub const LABEL_INSTANCE_CPU: &str = "karpenter.k8s.aws/instance-cpu";
pub const LABEL_INSTANCE_CPU_MANUFACTURER: &str = "karpenter.k8s.aws/instance-cpu-manufacturer";
pub const LABEL_INSTANCE_MEMORY: &str = "karpenter.k8s.aws/instance-memory";

/// CPU architecture, as the `kubernetes.io/arch` label spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "amd64" => Some(Arch::Amd64),
            "arm64" => Some(Arch::Arm64),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the catalog: every column, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    pub name: String,
    pub family: String,
    pub vcpu: u32,
    /// EC2 memory (`memory_gib` × 1024), before any overhead.
    pub memory_mib: i64,
    /// ENI-limited max pods (VPC CNI, no prefix delegation).
    pub max_pods: u32,
    pub arch: Arch,
    pub od_price_hr: f64,
    /// `None` when the type has no spot offering in the table.
    pub spot_price_hr: Option<f64>,
    /// Where the row came from (commit ids).
    pub source: String,
    pub spot_savings_pct: Option<f64>,
    pub interruption_band: Option<InterruptionBand>,
    /// Karpenter's published allocatable CPU (AL2023), when the table carries it.
    pub alloc_cpu_millicores: Option<i64>,
    /// Karpenter's published allocatable memory (AL2023), when the table carries it.
    pub alloc_memory_mib: Option<i64>,
    /// `intel`, `amd`, `aws` (lower case, as Karpenter's label value).
    pub manufacturer: String,
    pub burstable: bool,
}

/// The `karpenter.k8s.aws/instance-*` values derived from an instance-type name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameParts {
    /// `m` for `m6i.large`.
    pub category: String,
    /// `6` for `m6i.large`.
    pub generation: String,
    /// `m6i` for `m6i.large`.
    pub family: String,
    /// `large` for `m6i.large`.
    pub size: String,
}

/// Splits `m6i.2xlarge` into category `m`, generation `6`, family `m6i`, size `2xlarge`.
/// upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go `computeRequirements`
/// (regexp `(^[a-z]+)(\-[0-9]+tb)?([0-9]+).*\.`: letters, optional `-Ntb`, then the generation digits).
pub fn split_name(name: &str) -> Option<NameParts> {
    let (family, size) = name.split_once('.')?;
    if family.is_empty() || size.is_empty() {
        return None;
    }
    let letters = family.bytes().take_while(u8::is_ascii_lowercase).count();
    if letters == 0 {
        return None;
    }
    let mut rest = &family[letters..];
    // High-memory families carry a `-Ntb` part before the generation (`u-6tb1`).
    if let Some(after_dash) = rest.strip_prefix('-') {
        let digits = after_dash.bytes().take_while(u8::is_ascii_digit).count();
        rest = after_dash[digits..].strip_prefix("tb")?;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    Some(NameParts {
        category: family[..letters].to_string(),
        generation: rest[..digits].to_string(),
        family: family.to_string(),
        size: size.to_string(),
    })
}

/// The region of a zone name: `us-east-1a` → `us-east-1` (AWS zones are the region plus a letter).
pub fn region_of_zone(zone: &str) -> &str {
    let trimmed = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    if trimmed.len() < zone.len() && trimmed.ends_with(|c: char| c.is_ascii_digit()) {
        trimmed
    } else {
        zone
    }
}

impl InstanceType {
    /// A row with the required columns only (test kits, tools): family from the name, no spot
    /// offering, allocatable computed by the formula.
    pub fn new(name: &str, vcpu: u32, memory_mib: i64, max_pods: u32, arch: Arch, od_price_hr: f64) -> InstanceType {
        InstanceType {
            name: name.to_string(),
            family: name.split('.').next().unwrap_or(name).to_string(),
            vcpu,
            memory_mib,
            max_pods,
            arch,
            od_price_hr,
            spot_price_hr: None,
            source: String::new(),
            spot_savings_pct: None,
            interruption_band: None,
            alloc_cpu_millicores: None,
            alloc_memory_mib: None,
            manufacturer: String::new(),
            burstable: false,
        }
    }

    /// The same row with a spot offering.
    pub fn with_spot(mut self, spot_price_hr: f64, band: InterruptionBand) -> InstanceType {
        self.spot_price_hr = Some(spot_price_hr);
        self.interruption_band = Some(band);
        self
    }

    /// Spot interruptions per instance-hour from the advisor band (`None` without a band).
    pub fn interruption_rate_per_hour(&self) -> Option<f64> {
        self.interruption_band.map(InterruptionBand::rate_per_hour)
    }

    /// Capacity as the kubelet reports it, estimated as Karpenter does before a node exists
    /// (memory less the VM overhead, and the Graviton CMA on arm64), default kubelet settings.
    pub fn capacity(&self) -> Resources {
        self.capacity_with(&KubeletConfig::default())
    }

    /// Capacity with EC2NodeClass kubelet overrides (`maxPods`, `podsPerCore`).
    pub fn capacity_with(&self, kubelet: &KubeletConfig) -> Resources {
        allocatable::estimate(self, kubelet).capacity
    }

    /// Allocatable: capacity − kube-reserved − system-reserved − eviction threshold, default kubelet
    /// settings (Karpenter's AWS estimate, see [`allocatable`]). DaemonSets are not subtracted here.
    pub fn allocatable(&self) -> Resources {
        self.allocatable_with(&KubeletConfig::default())
    }

    /// Allocatable with EC2NodeClass kubelet overrides.
    pub fn allocatable_with(&self, kubelet: &KubeletConfig) -> Resources {
        allocatable::estimate(self, kubelet).allocatable
    }

    /// Hourly price of an offering; `None` when the type has no spot price in the table.
    pub fn price(&self, capacity_type: CapacityType) -> Option<f64> {
        match capacity_type {
            CapacityType::OnDemand => Some(self.od_price_hr),
            CapacityType::Spot => self.spot_price_hr,
        }
    }

    /// The name split into Karpenter's category / generation / family / size.
    pub fn name_parts(&self) -> NameParts {
        split_name(&self.name).unwrap_or_else(|| NameParts {
            category: String::new(),
            generation: String::new(),
            family: self.family.clone(),
            size: String::new(),
        })
    }

    /// Labels intrinsic to the type: `node.kubernetes.io/instance-type`, `kubernetes.io/arch`,
    /// `kubernetes.io/os` and the `karpenter.k8s.aws/instance-*` values Karpenter computes for it
    /// (upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go
    /// `computeRequirements`; `instance-memory` is the EC2 memory in MiB, before overhead).
    /// Values that cannot be derived (a name without generation digits) are left out.
    pub fn well_known_labels(&self) -> Labels {
        let mut l = Labels::new();
        l.insert(LABEL_INSTANCE_TYPE.into(), self.name.clone());
        l.insert(LABEL_ARCH.into(), self.arch.as_str().into());
        l.insert(LABEL_OS.into(), "linux".into());
        l.insert(LABEL_INSTANCE_FAMILY.into(), self.family.clone());
        if let Some(parts) = split_name(&self.name) {
            l.insert(LABEL_INSTANCE_CATEGORY.into(), parts.category);
            l.insert(LABEL_INSTANCE_GENERATION.into(), parts.generation);
            l.insert(LABEL_INSTANCE_SIZE.into(), parts.size);
        }
        l.insert(LABEL_INSTANCE_CPU.into(), self.vcpu.to_string());
        if !self.manufacturer.is_empty() {
            l.insert(LABEL_INSTANCE_CPU_MANUFACTURER.into(), self.manufacturer.clone());
        }
        l.insert(LABEL_INSTANCE_MEMORY.into(), self.memory_mib.to_string());
        l
    }

    /// The labels of a node Karpenter launches from this type: the intrinsic ones plus zone,
    /// region and `karpenter.sh/capacity-type` (`on-demand` / `spot`).
    pub fn labels(&self, capacity_type: CapacityType, zone: &str) -> Labels {
        let mut l = self.well_known_labels();
        insert_topology(&mut l, zone);
        l.insert(LABEL_CAPACITY_TYPE.into(), capacity_type.as_str().into());
        l
    }

    /// The labels of a node in an EKS managed node group (Cluster Autoscaler): instance type, arch,
    /// os, zone, region, `eks.amazonaws.com/capacityType` (`ON_DEMAND` / `SPOT`) and
    /// `eks.amazonaws.com/nodegroup`. Managed node groups do not set the Karpenter labels.
    pub fn managed_node_group_labels(&self, capacity_type: CapacityType, zone: &str, nodegroup: &str) -> Labels {
        let mut l = Labels::new();
        l.insert(LABEL_INSTANCE_TYPE.into(), self.name.clone());
        l.insert(LABEL_ARCH.into(), self.arch.as_str().into());
        l.insert(LABEL_OS.into(), "linux".into());
        insert_topology(&mut l, zone);
        let eks = match capacity_type {
            CapacityType::OnDemand => "ON_DEMAND",
            CapacityType::Spot => "SPOT",
        };
        l.insert(LABEL_EKS_CAPACITY_TYPE.into(), eks.into());
        l.insert(LABEL_EKS_NODEGROUP.into(), nodegroup.into());
        l
    }
}

fn insert_topology(l: &mut Labels, zone: &str) {
    if !zone.is_empty() {
        l.insert(LABEL_ZONE.into(), zone.into());
        l.insert(LABEL_REGION.into(), region_of_zone(zone).into());
    }
}

/// Why a catalog could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {size} bytes is larger than the {max}-byte limit for a catalog")]
    TooLarge { file: String, size: u64, max: u64 },
    #[error("{file}: line {line}: {message}")]
    Csv { file: String, line: u64, message: String },
    #[error("{file}: missing required column {column:?} (required: {})", REQUIRED_COLUMNS.join(", "))]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}: unknown column {column:?} (known: {})", KNOWN_COLUMNS.join(", "))]
    UnknownColumn { file: String, column: String },
    #[error("{file}: column {column:?} appears twice in the header")]
    RepeatedColumn { file: String, column: String },
    #[error("{file}: line {line}, column {column}: {message}")]
    Field {
        file: String,
        line: u64,
        column: &'static str,
        message: String,
    },
    #[error("{file}: line {line}: duplicate instance type {name:?} (first on line {first_line})")]
    Duplicate {
        file: String,
        line: u64,
        name: String,
        first_line: u64,
    },
    #[error("{catalog}: duplicate instance type {name:?} (entries {first} and {second})")]
    DuplicateType {
        catalog: String,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{file}: the catalog has no instance types")]
    Empty { file: String },
}

const REQUIRED_COLUMNS: &[&str] = &["name", "vcpu", "memory_gib", "max_pods", "arch", "od_price_usd_hr"];
const KNOWN_COLUMNS: &[&str] = &[
    "name",
    "family",
    "vcpu",
    "memory_gib",
    "max_pods",
    "arch",
    "od_price_usd_hr",
    "spot_price_usd_hr",
    "source",
    "spot_savings_pct",
    "spot_interruption_band",
    "alloc_cpu_millicores",
    "alloc_memory_mib",
    "cpu_manufacturer",
    "burstable",
];

/// The instance types of a run, in file order, indexed by name.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    name: String,
    types: Vec<InstanceType>,
    index: HashMap<String, usize>,
}

impl PartialEq for Catalog {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.types == other.types
    }
}

impl Catalog {
    /// The table compiled into the binary.
    pub fn bundled() -> Catalog {
        // The bundled table is fixed at compile time and checked by `bundled_catalog_parses`;
        // a failure here is a capsim bug, never bad input.
        Catalog::from_csv_str(BUNDLED_NAME, BUNDLED_CSV).expect("bundled catalog is valid (see tests)")
    }

    /// Reads a catalog file with the bundled table's columns.
    pub fn from_csv_path(path: &Path) -> Result<Catalog, CatalogError> {
        let file = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| CatalogError::Io {
            file: file.clone(),
            source,
        })?;
        if meta.len() > MAX_CATALOG_BYTES {
            return Err(CatalogError::TooLarge {
                file,
                size: meta.len(),
                max: MAX_CATALOG_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            file: file.clone(),
            source,
        })?;
        Catalog::from_csv_str(&file, &text)
    }

    /// Parses catalog CSV text; `name` is used in errors (usually the file path).
    pub fn from_csv_str(name: &str, text: &str) -> Result<Catalog, CatalogError> {
        let file = name.to_string();
        // Spreadsheets often save a byte-order mark before the header.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| csv_error(&file, &e))?.clone();
        let columns = Columns::new(&file, &headers)?;
        let mut types = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(&file, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            let row = Row {
                file: &file,
                line,
                record: &record,
                columns: &columns,
            };
            let it = row.instance_type()?;
            if let Some(&first) = index.get(&it.name) {
                return Err(CatalogError::Duplicate {
                    file,
                    line,
                    name: it.name,
                    first_line: lines[first],
                });
            }
            index.insert(it.name.clone(), types.len());
            lines.push(line);
            types.push(it);
        }
        if types.is_empty() {
            return Err(CatalogError::Empty { file });
        }
        Ok(Catalog {
            name: file,
            types,
            index,
        })
    }

    /// A catalog built from rows (test kits, tools); duplicate names are an error.
    pub fn from_types(name: &str, types: Vec<InstanceType>) -> Result<Catalog, CatalogError> {
        let mut index = HashMap::new();
        for (i, t) in types.iter().enumerate() {
            if let Some(first) = index.insert(t.name.clone(), i) {
                return Err(CatalogError::DuplicateType {
                    catalog: name.to_string(),
                    name: t.name.clone(),
                    first,
                    second: i,
                });
            }
        }
        Ok(Catalog {
            name: name.to_string(),
            types,
            index,
        })
    }

    /// Where the catalog came from (file path or [`BUNDLED_NAME`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.index.get(name).map(|&i| &self.types[i])
    }

    /// Every type, in file order.
    pub fn types(&self) -> &[InstanceType] {
        &self.types
    }

    pub fn iter(&self) -> std::slice::Iter<'_, InstanceType> {
        self.types.iter()
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'a InstanceType;
    type IntoIter = std::slice::Iter<'a, InstanceType>;
    fn into_iter(self) -> Self::IntoIter {
        self.types.iter()
    }
}

fn csv_error(file: &str, e: &csv::Error) -> CatalogError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("expected {expected_len} fields (as in the header), found {len}")
        }
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
        _ => e.to_string(),
    };
    CatalogError::Csv {
        file: file.to_string(),
        line,
        message,
    }
}

/// Column positions, checked against the known set.
struct Columns {
    pos: HashMap<&'static str, usize>,
}

impl Columns {
    fn new(file: &str, headers: &csv::StringRecord) -> Result<Columns, CatalogError> {
        let mut pos = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let Some(&known) = KNOWN_COLUMNS.iter().find(|k| **k == h) else {
                return Err(CatalogError::UnknownColumn {
                    file: file.to_string(),
                    column: h.to_string(),
                });
            };
            if pos.insert(known, i).is_some() {
                return Err(CatalogError::RepeatedColumn {
                    file: file.to_string(),
                    column: h.to_string(),
                });
            }
        }
        for &column in REQUIRED_COLUMNS {
            if !pos.contains_key(column) {
                return Err(CatalogError::MissingColumn {
                    file: file.to_string(),
                    column,
                });
            }
        }
        Ok(Columns { pos })
    }
}

struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a Columns,
}

impl Row<'_> {
    fn err(&self, column: &'static str, message: String) -> CatalogError {
        CatalogError::Field {
            file: self.file.to_string(),
            line: self.line,
            column,
            message,
        }
    }

    /// The cell, `None` when the column is absent or the cell empty.
    fn cell(&self, column: &'static str) -> Option<&str> {
        let i = *self.columns.pos.get(column)?;
        self.record.get(i).filter(|s| !s.is_empty())
    }

    fn required(&self, column: &'static str) -> Result<&str, CatalogError> {
        self.cell(column)
            .ok_or_else(|| self.err(column, "required value is empty".into()))
    }

    fn positive_int(&self, column: &'static str, v: &str) -> Result<u32, CatalogError> {
        match v.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(self.err(column, format!("expected a positive integer, got {v:?}"))),
        }
    }

    fn non_negative_int(&self, column: &'static str) -> Result<Option<i64>, CatalogError> {
        self.cell(column)
            .map(|v| match v.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(n),
                _ => Err(self.err(column, format!("expected a non-negative integer, got {v:?}"))),
            })
            .transpose()
    }

    fn price(&self, column: &'static str, v: &str) -> Result<f64, CatalogError> {
        match v.parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
            _ => Err(self.err(
                column,
                format!("expected a non-negative price in USD per hour, got {v:?}"),
            )),
        }
    }

    fn instance_type(&self) -> Result<InstanceType, CatalogError> {
        let name = self.required("name")?;
        if name.chars().any(char::is_whitespace) {
            return Err(self.err("name", format!("instance type names have no spaces, got {name:?}")));
        }
        let family = match self.cell("family") {
            Some(f) => f.to_string(),
            None => name.split('.').next().unwrap_or(name).to_string(),
        };
        let vcpu = self.positive_int("vcpu", self.required("vcpu")?)?;
        let gib_text = self.required("memory_gib")?;
        let gib = match gib_text.parse::<f64>() {
            Ok(g) if g.is_finite() && g > 0.0 && g < 1e9 => g,
            _ => {
                return Err(self.err(
                    "memory_gib",
                    format!("expected a positive number of GiB, got {gib_text:?}"),
                ));
            }
        };
        let mib = gib * 1024.0;
        if (mib - mib.round()).abs() > 1e-6 {
            return Err(self.err("memory_gib", format!("{gib_text} GiB is not a whole number of MiB")));
        }
        let max_pods = self.positive_int("max_pods", self.required("max_pods")?)?;
        let arch_text = self.required("arch")?;
        let arch = Arch::parse(arch_text)
            .ok_or_else(|| self.err("arch", format!("expected amd64 or arm64, got {arch_text:?}")))?;
        let od_price_hr = self.price("od_price_usd_hr", self.required("od_price_usd_hr")?)?;
        let spot_price_hr = self
            .cell("spot_price_usd_hr")
            .map(|v| self.price("spot_price_usd_hr", v))
            .transpose()?;
        let spot_savings_pct = self
            .cell("spot_savings_pct")
            .map(|v| match v.parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
                _ => Err(self.err("spot_savings_pct", format!("expected a percentage 0..100, got {v:?}"))),
            })
            .transpose()?;
        let interruption_band = self
            .cell("spot_interruption_band")
            .map(|v| InterruptionBand::parse(v).map_err(|e| self.err("spot_interruption_band", e.to_string())))
            .transpose()?;
        let burstable = match self.cell("burstable") {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => return Err(self.err("burstable", format!("expected true or false, got {v:?}"))),
        };
        Ok(InstanceType {
            name: name.to_string(),
            family,
            vcpu,
            memory_mib: mib.round() as i64,
            max_pods,
            arch,
            od_price_hr,
            spot_price_hr,
            source: self.cell("source").unwrap_or_default().to_string(),
            spot_savings_pct,
            interruption_band,
            alloc_cpu_millicores: self.non_negative_int("alloc_cpu_millicores")?,
            alloc_memory_mib: self.non_negative_int("alloc_memory_mib")?,
            manufacturer: self.cell("cpu_manufacturer").unwrap_or_default().to_ascii_lowercase(),
            burstable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_parses() {
        let c = Catalog::bundled();
        assert_eq!(c.len(), 144);
        let m5 = c.get("m5.xlarge").expect("m5.xlarge in the bundled table");
        assert_eq!((m5.vcpu, m5.memory_mib, m5.max_pods), (4, 16384, 58));
        assert_eq!(m5.od_price_hr, 0.192);
        assert_eq!(m5.spot_price_hr, Some(0.0653));
        assert_eq!(m5.interruption_band, Some(InterruptionBand::Over20));
        assert_eq!(m5.manufacturer, "intel");
        assert!(c.get("m5.huge").is_none());
    }

    #[test]
    fn name_parts_follow_karpenter() {
        let cases = [
            ("m5.large", "m", "5", "m5", "large"),
            ("m6i.2xlarge", "m", "6", "m6i", "2xlarge"),
            ("c7g.16xlarge", "c", "7", "c7g", "16xlarge"),
            ("t4g.medium", "t", "4", "t4g", "medium"),
            ("u-6tb1.metal", "u", "1", "u-6tb1", "metal"),
        ];
        for (name, cat, generation, fam, size) in cases {
            let p = split_name(name).expect(name);
            assert_eq!(
                (
                    p.category.as_str(),
                    p.generation.as_str(),
                    p.family.as_str(),
                    p.size.as_str()
                ),
                (cat, generation, fam, size),
                "{name}"
            );
        }
        assert!(split_name("nodot").is_none());
        assert!(split_name("5m.large").is_none());
        assert!(split_name("mx.large").is_none());
    }

    #[test]
    fn hand_built_rows_and_catalogs() {
        let a = InstanceType::new("m5.large", 2, 8192, 29, Arch::Amd64, 0.096);
        assert_eq!(
            a.allocatable(),
            Resources::new(1930, 6903 * crate::model::resources::MIB, 29)
        );
        assert_eq!(a.interruption_rate_per_hour(), None);
        let b =
            InstanceType::new("c7g.large", 2, 4096, 29, Arch::Arm64, 0.0725).with_spot(0.03, InterruptionBand::Under5);
        assert_eq!(b.price(CapacityType::Spot), Some(0.03));
        assert!(b.interruption_rate_per_hour().is_some_and(|r| r > 0.0));
        let c = Catalog::from_types("kit", vec![a.clone(), b]).expect("distinct names");
        assert_eq!(c.get("c7g.large").map(|t| t.family.as_str()), Some("c7g"));
        let err = Catalog::from_types("kit", vec![a.clone(), a]).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "kit: duplicate instance type \"m5.large\" (entries 0 and 1)"
        );
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let text = "\u{feff}name,vcpu,memory_gib,max_pods,arch,od_price_usd_hr\nm5.large,2,8,29,amd64,0.096\n";
        assert_eq!(Catalog::from_csv_str("bom.csv", text).map(|c| c.len()).ok(), Some(1));
    }

    #[test]
    fn region_from_zone() {
        assert_eq!(region_of_zone("us-east-1a"), "us-east-1");
        assert_eq!(region_of_zone("eu-west-3c"), "eu-west-3");
        assert_eq!(region_of_zone("zone-a"), "zone-a");
        assert_eq!(region_of_zone(""), "");
    }
}
