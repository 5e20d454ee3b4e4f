//! Stage 2: raw documents (after overrides) → validated [`Scenario`], with cross-checks.

use super::defaults;
use super::error::{ErrorKind, ScenarioError};
use super::manifests::{self, PriorityClassInfo, PriorityResolver, location, require_name, typed_at, typed_checked};
use super::raw::{CAPSIM_API_VERSION, RawDocument, SCENARIO_KIND};
use super::schema::{CapacityTypeSpec, QuantityField, ResourceUse, ScenarioSpec, ScoringSpec, TaintEffectSpec};
use super::{NodeLatency, Scenario};
use crate::cloud::latency::DistributionSpec;
use crate::cloud::{Catalog, Distribution};
use crate::controllers::provisioner::ProvisionerConfig;
use crate::engine::SimDuration;
use crate::model::DisruptionBudget;
use crate::model::{
    CapacityType, ScoringStrategy, ServiceModel, StaticNodes, Taint, TaintEffect, Workload, WorkloadKind,
};
use crate::traffic::TrafficModel;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How capsim treats each (apiVersion, kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Scenario,
    Deployment,
    StatefulSet,
    DaemonSet,
    /// `batch/v1 Job`: a batch workload whose arrivals come from `spec.workloads.<name>.batch`.
    Job,
    PriorityClass,
    Pdb,
    Hpa,
    NodePool,
    /// `autoscaling.k8s.io/v1 VerticalPodAutoscaler`.
    Vpa,
    /// `keda.sh/v1alpha1 ScaledObject`.
    Keda,
    /// `keda.sh/v1alpha1 ScaledJob` (its Job is synthesized as a `batch/v1 Job` document).
    KedaJob,
    /// `monitoring.coreos.com/v1 PrometheusRule`: alerting and recording rules.
    Rules,
    /// Kept raw in `Scenario::documents` for a later stage, no warning.
    KeptRaw,
    /// Skipped with a warning.
    Unknown,
}

/// The kinds capsim reads, with the one apiVersion it reads them in.
const KNOWN: &[(&str, &str, Role)] = &[
    (CAPSIM_API_VERSION, SCENARIO_KIND, Role::Scenario),
    ("apps/v1", "Deployment", Role::Deployment),
    ("apps/v1", "StatefulSet", Role::StatefulSet),
    ("apps/v1", "DaemonSet", Role::DaemonSet),
    ("batch/v1", "Job", Role::Job),
    ("scheduling.k8s.io/v1", "PriorityClass", Role::PriorityClass),
    ("policy/v1", "PodDisruptionBudget", Role::Pdb),
    ("autoscaling/v2", "HorizontalPodAutoscaler", Role::Hpa),
    ("karpenter.sh/v1", "NodePool", Role::NodePool),
    ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", Role::Vpa),
    (super::keda::API_VERSION, "ScaledObject", Role::Keda),
    (super::keda::API_VERSION, "ScaledJob", Role::KedaJob),
    // Credentials for KEDA's scalers: nothing capsim's numbers depend on.
    (super::keda::API_VERSION, "TriggerAuthentication", Role::KeptRaw),
    (super::keda::API_VERSION, "ClusterTriggerAuthentication", Role::KeptRaw),
    (CAPSIM_API_VERSION, "NodeGroup", Role::KeptRaw),
    ("karpenter.k8s.aws/v1", "EC2NodeClass", Role::KeptRaw),
    ("v1", "ConfigMap", Role::KeptRaw),
    ("monitoring.coreos.com/v1", "PrometheusRule", Role::Rules),
];

fn role(doc: &RawDocument) -> Result<Role, ScenarioError> {
    if let Some((_, _, r)) = KNOWN.iter().find(|(a, k, _)| doc.is(a, k)) {
        return Ok(*r);
    }
    // A kind capsim reads, in another apiVersion: say which one it reads rather than skip it.
    if let Some((a, k, _)) = KNOWN.iter().find(|(_, k, _)| *k == doc.kind) {
        return Err(doc.error(
            ErrorKind::Schema,
            "apiVersion",
            format!("capsim reads {k} as {a}, got {:?}", doc.api_version),
        ));
    }
    Ok(Role::Unknown)
}

/// Builds the validated scenario from the (overridden) documents.
pub fn build(
    display: &str,
    mut docs: Vec<RawDocument>,
    mut warnings: Vec<String>,
    base_dir: Option<PathBuf>,
) -> Result<Scenario, ScenarioError> {
    super::convert::convert(&mut docs, &mut warnings)?;
    super::keda::synthesize_hpas(&mut docs)?;
    super::keda::synthesize_jobs(&mut docs)?;
    let roles: Vec<Role> = docs.iter().map(role).collect::<Result<_, _>>()?;
    check_duplicates(&docs)?;
    let scenario_doc = the_scenario_document(display, &docs, &roles)?;
    warn_skipped(&docs, &roles, &mut warnings);
    let by_role = |role: Role| {
        docs.iter()
            .zip(&roles)
            .filter(move |(_, r)| **r == role)
            .map(|(d, _)| d)
    };

    // Manifests: PriorityClasses first (pod templates resolve their priority against them), then
    // the pod-creating kinds in document order.
    let (priority_classes, resolver) = priority_classes(by_role(Role::PriorityClass), &mut warnings)?;
    let (mut workloads, workload_docs) = pod_workloads(&docs, &roles, &resolver, &mut warnings)?;

    // The Scenario document.
    let (spec, name) = scenario_spec(display, scenario_doc)?;
    let (duration, resolution) = spans(scenario_doc, &spec)?;
    let warmup = spec.warmup.map_or(crate::engine::SimDuration::ZERO, |w| w.0);
    if warmup >= duration {
        return Err(scenario_doc.error(
            ErrorKind::Invalid,
            "spec.warmup",
            format!("must be shorter than spec.duration ({duration}), got {warmup}"),
        ));
    }
    let catalog_spec = spec.catalog.as_deref().unwrap_or(defaults::CATALOG);
    let catalog = load_catalog(catalog_spec, base_dir.as_deref())
        .map_err(|m| scenario_doc.error(ErrorKind::Invalid, "spec.catalog", m))?;
    let faults = super::faults::parse(scenario_doc, &spec.faults, duration, &catalog)?;
    let static_nodes = static_nodes(scenario_doc, &spec, &catalog, catalog_spec)?;
    let scoring = match spec.scheduler.as_ref().and_then(|s| s.scoring) {
        None => defaults::SCORING,
        Some(ScoringSpec::LeastAllocated) => ScoringStrategy::LeastAllocated,
        Some(ScoringSpec::MostAllocated) => ScoringStrategy::MostAllocated,
    };
    workload_entries(scenario_doc, &spec, &mut workloads, base_dir.as_deref())?;
    require_batch_arrivals(&workloads, &workload_docs)?;
    let provisioner = ProvisionerConfig::parse(spec.provisioner.as_ref())
        .map_err(|(path, message)| scenario_doc.error(ErrorKind::Invalid, path, message))?;
    let (node_latency, node_latency_by_type) = node_latencies(scenario_doc, &spec, &provisioner, &catalog)?;

    // Manifests that refer to workloads.
    let pdbs = disruption_budgets(by_role(Role::Pdb), &mut warnings)?;
    let hpas = autoscalers(by_role(Role::Hpa), &workloads, &mut warnings)?;
    let nodepools = by_role(Role::NodePool).map(|d| d.value.clone()).collect();
    let vpas = super::vpa::parse(by_role(Role::Vpa), &workloads, &mut warnings)?;
    let mut series = super::series::parse(scenario_doc, &spec.series, &workloads, base_dir.as_deref())?;
    let scaled_objects = super::keda::parse(by_role(Role::Keda), &workloads, &mut series, &mut warnings)?;
    let scaled_jobs = super::keda::parse_jobs(by_role(Role::KedaJob), &workloads, &mut series, &mut warnings)?;
    super::faults::check_series(scenario_doc, &faults, &series)?;
    let mut rule_groups = Vec::new();
    for d in by_role(Role::Rules) {
        rule_groups.extend(crate::alerts::rule_groups(d, &mut warnings)?);
    }
    warnings.extend(crate::alerts::unknown_series_warnings(&rule_groups));

    Ok(Scenario {
        name,
        duration,
        seed: spec.seed.unwrap_or(defaults::SEED),
        resolution,
        catalog,
        workloads,
        pdbs,
        hpas,
        vpas,
        series,
        scaled_objects,
        scaled_jobs,
        nodepools,
        static_nodes,
        scoring,
        node_latency,
        node_latency_by_type,
        warnings,
        provisioner,
        controller_manager: spec.controller_manager,
        metric_resolution: spec.metrics_server.and_then(|m| m.metric_resolution).map(|d| d.0),
        spot_interruptions: spec.spot_interruptions.unwrap_or(defaults::SPOT_INTERRUPTIONS),
        rule_groups,
        warm_start: spec
            .start
            .map_or(defaults::START_WARM, |s| s == super::schema::StartSpec::Warm),
        warmup,
        faults,
        priority_classes,
        base_dir,
        documents: docs,
    })
}

/// Exactly one Scenario document.
fn the_scenario_document<'d>(
    display: &str,
    docs: &'d [RawDocument],
    roles: &[Role],
) -> Result<&'d RawDocument, ScenarioError> {
    let scenarios: Vec<&RawDocument> = docs
        .iter()
        .zip(roles)
        .filter(|(_, r)| **r == Role::Scenario)
        .map(|(d, _)| d)
        .collect();
    match scenarios.as_slice() {
        [one] => Ok(*one),
        [] => Err(ScenarioError::file(
            ErrorKind::Schema,
            display,
            format!(
                "no `apiVersion: {CAPSIM_API_VERSION}, kind: {SCENARIO_KIND}` document found; a scenario needs exactly one"
            ),
        )),
        [first, second, ..] => Err(second.error(
            ErrorKind::Duplicate,
            "",
            format!(
                "a second Scenario document; the first is {}: document {}; a scenario needs exactly one",
                first.file, first.index
            ),
        )),
    }
}

/// Kinds capsim does not read: one warning per kind.
/// Kinds capsim does not model whose controllers would create pods or change replicas or
/// requests, and what they would do.
const UNMODELLED_CONTROLLERS: &[(&str, &str)] = &[
    (
        "HTTPScaledObject",
        "scales its target on HTTP request rate, to and from zero (KEDA HTTP add-on)",
    ),
    ("ReplicaSet", "keeps its own replicas of pods running"),
    ("Pod", "runs a pod that takes node capacity"),
    ("CronJob", "creates Jobs on its schedule"),
    (
        "Rollout",
        "replaces a Deployment's pods with its own canary or blue-green ReplicaSets (Argo Rollouts)",
    ),
    ("ResourceQuota", "rejects pods over the namespace's quota"),
    (
        "LimitRange",
        "sets default requests and limits on containers that have none",
    ),
];

fn warn_skipped(docs: &[RawDocument], roles: &[Role], warnings: &mut Vec<String>) {
    let mut skipped: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (d, r) in docs.iter().zip(roles) {
        if *r == Role::Unknown {
            skipped
                .entry((d.api_version.clone(), d.kind.clone()))
                .or_default()
                .push(d.qualified_name());
        }
    }
    for ((api, kind), names) in &skipped {
        // Kinds that would create pods or change replicas or requests in a cluster: say what the
        // missing controller would do, so a number that leaves it out is not read as complete.
        if let Some(what) = UNMODELLED_CONTROLLERS.iter().find(|(k, _)| k == kind).map(|(_, w)| w) {
            warnings.push(format!(
                "NOT MODELLED: {} {api} {kind} document{} ({}): in a cluster it {what}; capsim's numbers leave that out",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
            continue;
        }
        warnings.push(format!(
            "skipped {} {api} {kind} document{} (capsim does not model this kind): {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
}

/// `scheduling.k8s.io/v1 PriorityClass` documents, and the resolver pod templates use.
fn priority_classes<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    warnings: &mut Vec<String>,
) -> Result<(Vec<PriorityClassInfo>, PriorityResolver), ScenarioError> {
    let priority_classes: Vec<PriorityClassInfo> = docs.map(manifests::priority_class).collect::<Result<_, _>>()?;
    let resolver = PriorityResolver::new(priority_classes.clone());
    if resolver.global_default_count() > 1 {
        warnings.push(format!(
            "{} PriorityClasses are globalDefault; pods without a class get the lowest of them, as the \
             Priority admission plugin does",
            resolver.global_default_count()
        ));
    }
    Ok((priority_classes, resolver))
}

/// Deployments, DaemonSets and Jobs, in document order, with their documents.
fn pod_workloads<'d>(
    docs: &'d [RawDocument],
    roles: &[Role],
    resolver: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Workload>, Vec<&'d RawDocument>), ScenarioError> {
    let mut workloads = Vec::new();
    let mut workload_docs = Vec::new();
    for (d, r) in docs.iter().zip(roles) {
        let w = match r {
            Role::Deployment => deployment(d, resolver, warnings)?,
            Role::StatefulSet => stateful_set(d, resolver, warnings)?,
            Role::DaemonSet => daemon_set(d, resolver, warnings)?,
            Role::Job => job(d, resolver, warnings)?,
            _ => continue,
        };
        workloads.push(w);
        workload_docs.push(d);
    }
    Ok((workloads, workload_docs))
}

/// The Scenario document's `spec`, typed, and the scenario's name (the file's stem when the
/// document has none).
fn scenario_spec(display: &str, scenario_doc: &RawDocument) -> Result<(ScenarioSpec, String), ScenarioError> {
    for key in scenario_doc.value.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
            return Err(scenario_doc.error(
                ErrorKind::Schema,
                key.as_str(),
                "unknown field, expected one of `apiVersion`, `kind`, `metadata`, `spec`",
            ));
        }
    }
    let Some(spec_value) = scenario_doc.value.get("spec") else {
        return Err(scenario_doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let spec: ScenarioSpec = typed_at(scenario_doc, spec_value, "spec")?;
    let name = if scenario_doc.name.is_empty() {
        Path::new(display)
            .file_stem()
            .map_or_else(|| display.to_string(), |s| s.to_string_lossy().into_owned())
    } else {
        scenario_doc.name.clone()
    };
    Ok((spec, name))
}

/// `spec.duration` and `spec.resolution`, checked.
fn spans(scenario_doc: &RawDocument, spec: &ScenarioSpec) -> Result<(SimDuration, SimDuration), ScenarioError> {
    let duration = spec.duration.0;
    if duration.0 == 0 {
        return Err(scenario_doc.error(ErrorKind::Invalid, "spec.duration", "must be > 0"));
    }
    let resolution = spec.resolution.map_or(defaults::RESOLUTION, |r| r.0);
    if resolution.0 == 0 {
        return Err(scenario_doc.error(ErrorKind::Invalid, "spec.resolution", "must be > 0"));
    }
    if duration > defaults::MAX_DURATION {
        return Err(scenario_doc.error(
            ErrorKind::TooLarge,
            "spec.duration",
            format!("{duration} is longer than the limit of {}", defaults::MAX_DURATION),
        ));
    }
    if resolution > duration {
        return Err(scenario_doc.error(
            ErrorKind::Invalid,
            "spec.resolution",
            format!(
                "must be <= spec.duration ({} s), got {} s",
                duration.0 as f64 / 1000.0,
                resolution.0 as f64 / 1000.0
            ),
        ));
    }
    if duration.0 / resolution.0 > defaults::MAX_TIMELINE_SAMPLES {
        return Err(scenario_doc.error(
            ErrorKind::TooLarge,
            "spec.resolution",
            format!(
                "{resolution} over {duration} is {} timeline rows per workload, more than the limit of {}; use a coarser resolution",
                duration.0 / resolution.0,
                defaults::MAX_TIMELINE_SAMPLES
            ),
        ));
    }
    if let Some(r) = spec.metrics_server.as_ref().and_then(|m| m.metric_resolution)
        && r.0.is_zero()
    {
        return Err(scenario_doc.error(
            ErrorKind::Invalid,
            "spec.metricsServer.metricResolution",
            "must be > 0 (metrics-server scrapes at this interval)",
        ));
    }
    Ok((duration, resolution))
}

/// `spec.workloads` entries → traffic, batch arrivals, service model, start-up latencies.
fn workload_entries(
    scenario_doc: &RawDocument,
    spec: &ScenarioSpec,
    workloads: &mut [Workload],
    base_dir: Option<&Path>,
) -> Result<(), ScenarioError> {
    let mut seen_entries: BTreeMap<usize, String> = BTreeMap::new();
    for (key, ws) in &spec.workloads {
        let path = format!("spec.workloads.{}", quote_key(key));
        let idx =
            find_workload(workloads, key).map_err(|m| scenario_doc.error(ErrorKind::Reference, path.clone(), m))?;
        if let Some(other) = seen_entries.insert(idx, key.clone()) {
            return Err(scenario_doc.error(
                ErrorKind::Duplicate,
                path,
                format!("names the same workload as spec.workloads.{other}"),
            ));
        }
        let w = &mut workloads[idx];
        let stream_key = if w.namespace == defaults::NAMESPACE {
            w.name.clone()
        } else {
            format!("{}/{}", w.namespace, w.name)
        };
        if let Some(t) = &ws.traffic {
            let model = TrafficModel::from_spec_in(t, &stream_key, base_dir)
                .map_err(|m| scenario_doc.error(ErrorKind::Invalid, format!("{path}.traffic"), String::from(m)))?;
            w.traffic = Some(model);
        }
        match (&ws.batch, w.kind) {
            (Some(b), WorkloadKind::Batch) => {
                w.batch =
                    Some(super::batch::arrivals(b, &w.template, base_dir).map_err(|(field, m)| {
                        scenario_doc.error(ErrorKind::Invalid, format!("{path}.batch{field}"), m)
                    })?);
            }
            (Some(_), _) => {
                return Err(scenario_doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.batch"),
                    "only a batch/v1 Job takes batch arrivals",
                ));
            }
            (None, _) => {}
        }
        w.service = service_model(
            scenario_doc,
            &path,
            ws.per_request.as_ref(),
            ws.idle.as_ref(),
            ws.max_requests_per_pod,
        )?;
        if let Some(q) = &ws.queue {
            if !w.kind.is_replicated() && w.kind != WorkloadKind::Batch {
                return Err(scenario_doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.queue"),
                    "only a Deployment, a StatefulSet or a KEDA ScaledJob's Job consumes a queue",
                ));
            }
            if ws.traffic.is_none() {
                return Err(scenario_doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.queue"),
                    "needs traffic: the messages/s arriving in the queue",
                ));
            }
            w.service.queue = Some(crate::model::QueueModel {
                name: q.name.clone().unwrap_or_else(|| w.name.clone()),
                age_slo_s: q.age_slo.as_ref().map(|d| d.0.as_secs_f64()),
            });
        }
        if let Some(s) = &ws.startup {
            let p = format!("{path}.startup");
            let st = &mut w.startup;
            set_dist(
                scenario_doc,
                &format!("{p}.imagePull"),
                s.image_pull.as_ref(),
                &mut st.image_pull,
            )?;
            set_dist(
                scenario_doc,
                &format!("{p}.imagePullCached"),
                s.image_pull_cached.as_ref(),
                &mut st.image_pull_cached,
            )?;
            set_dist(
                scenario_doc,
                &format!("{p}.containerStart"),
                s.container_start.as_ref(),
                &mut st.container_start,
            )?;
            if let Some(r) = &s.ready {
                let mut d = Distribution::Constant(crate::engine::SimDuration::ZERO);
                set_dist(scenario_doc, &format!("{p}.ready"), Some(r), &mut d)?;
                st.readiness = Some(d);
            }
            set_dist(scenario_doc, &format!("{p}.warmup"), s.warmup.as_ref(), &mut st.warmup)?;
        }
        if let Some(l) = &ws.latency {
            if let Some(b) = l.base {
                w.service.base_latency_s = b.0.as_secs_f64();
            }
            if let Some(t) = l.timeout {
                if t.0.is_zero() {
                    return Err(scenario_doc.error(
                        ErrorKind::Invalid,
                        format!("{path}.latency.timeout"),
                        "must be > 0",
                    ));
                }
                w.service.timeout_s = t.0.as_secs_f64();
            }
        }
    }
    Ok(())
}

/// Every Job needs arrivals in the Scenario.
fn require_batch_arrivals(workloads: &[Workload], docs: &[&RawDocument]) -> Result<(), ScenarioError> {
    for (w, d) in workloads.iter().zip(docs) {
        // A ScaledJob's Job: KEDA creates its pods.
        let keda = !d.value["metadata"]["annotations"][super::keda::SCALED_JOB_ANNOTATION].is_null();
        if w.kind == WorkloadKind::Batch && w.batch.is_none() && !keda {
            return Err(d.error(
                ErrorKind::Reference,
                "metadata.name",
                format!(
                    "Job {} needs its arrivals in the Scenario: spec.workloads.{}.batch (ratePerHour and runtime, or a trace)",
                    w.name, w.name
                ),
            ));
        }
    }
    Ok(())
}

/// `spec.nodeLatency` over the provisioner's defaults, and its per-instance-type overrides.
fn node_latencies(
    scenario_doc: &RawDocument,
    spec: &ScenarioSpec,
    provisioner: &ProvisionerConfig,
    catalog: &Catalog,
) -> Result<(NodeLatency, BTreeMap<String, NodeLatency>), ScenarioError> {
    let mut node_latency = match provisioner {
        ProvisionerConfig::Registered { kind, .. } => (kind.default_node_latency)(),
        ProvisionerConfig::Static => defaults::node_latency(),
    };
    if let Some(nl) = &spec.node_latency {
        set_dist(
            scenario_doc,
            "spec.nodeLatency.launch",
            nl.launch.as_ref(),
            &mut node_latency.launch,
        )?;
        set_dist(
            scenario_doc,
            "spec.nodeLatency.register",
            nl.register.as_ref(),
            &mut node_latency.register,
        )?;
        set_dist(
            scenario_doc,
            "spec.nodeLatency.ready",
            nl.ready.as_ref(),
            &mut node_latency.ready,
        )?;
        set_dist(
            scenario_doc,
            "spec.nodeLatency.terminate",
            nl.terminate.as_ref(),
            &mut node_latency.terminate,
        )?;
    }
    // Per-instance-type overrides start from the scenario-wide stages.
    let mut node_latency_by_type = BTreeMap::new();
    for (it, o) in spec.node_latency.iter().flat_map(|nl| &nl.by_instance_type) {
        let p = format!("spec.nodeLatency.byInstanceType.{}", quote_key(it));
        if catalog.get(it).is_none() {
            return Err(scenario_doc.error(
                ErrorKind::Reference,
                p,
                format!("instance type {it:?} is not in the catalog"),
            ));
        }
        if !o.by_instance_type.is_empty() {
            return Err(scenario_doc.error(ErrorKind::Invalid, format!("{p}.byInstanceType"), "cannot nest"));
        }
        let mut l = node_latency.clone();
        set_dist(scenario_doc, &format!("{p}.launch"), o.launch.as_ref(), &mut l.launch)?;
        set_dist(
            scenario_doc,
            &format!("{p}.register"),
            o.register.as_ref(),
            &mut l.register,
        )?;
        set_dist(scenario_doc, &format!("{p}.ready"), o.ready.as_ref(), &mut l.ready)?;
        set_dist(
            scenario_doc,
            &format!("{p}.terminate"),
            o.terminate.as_ref(),
            &mut l.terminate,
        )?;
        node_latency_by_type.insert(it.clone(), l);
    }
    Ok((node_latency, node_latency_by_type))
}

/// `policy/v1 PodDisruptionBudget` documents.
fn disruption_budgets<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    warnings: &mut Vec<String>,
) -> Result<Vec<DisruptionBudget>, ScenarioError> {
    let mut pdbs = Vec::new();
    for d in docs {
        if let Some(p) = manifests::disruption_budget(d, warnings)? {
            pdbs.push(p);
        }
    }
    Ok(pdbs)
}

/// `autoscaling/v2 HorizontalPodAutoscaler` documents, each targeting a Deployment, at most one
/// per Deployment.
fn autoscalers<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    workloads: &[Workload],
    warnings: &mut Vec<String>,
) -> Result<Vec<HorizontalPodAutoscaler>, ScenarioError> {
    let mut hpas: Vec<HorizontalPodAutoscaler> = Vec::new();
    let mut hpa_targets: BTreeMap<(String, String), String> = BTreeMap::new();
    for d in docs {
        let h = hpa(d, workloads, warnings)?;
        let target = h
            .spec
            .as_ref()
            .map(|s| s.scale_target_ref.name.clone())
            .unwrap_or_default();
        // Two HPAs over the same pods: upstream sets ScalingActive=False (reason AmbiguousSelector) on
        // both and scales neither (kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go,
        // PR #112011, since 1.26). Almost always a mistake, so capsim rejects it up front.
        if let Some(other) = hpa_targets.insert((d.namespace.clone(), target.clone()), d.name.clone()) {
            return Err(d.error(
                ErrorKind::Duplicate,
                "spec.scaleTargetRef.name",
                format!(
                    "HorizontalPodAutoscaler {other} already targets Deployment {target}; upstream would scale neither"
                ),
            ));
        }
        hpas.push(h);
    }
    Ok(hpas)
}

/// The catalog named by `spec.catalog`: `aws` (bundled) or a CSV path relative to the scenario.
///
/// CATALOG HOOK — the single call site: when the cloud module lands, `aws` becomes
/// `Catalog::bundled()` and a path becomes `Catalog::from_csv_path(&path)`. Until then both give the
/// empty placeholder catalog (and static nodes are not checked against it).
fn load_catalog(spec: &str, base_dir: Option<&Path>) -> Result<Arc<Catalog>, String> {
    if spec == defaults::CATALOG {
        return Ok(Arc::new(Catalog::bundled()));
    }
    let path = match base_dir {
        Some(b) => b.join(spec),
        None => PathBuf::from(spec),
    };
    if !path.is_file() {
        return Err(format!(
            "catalog {:?} is neither the bundled \"aws\" catalog nor a readable CSV file ({} not found)",
            spec,
            path.display()
        ));
    }
    Catalog::from_csv_path(&path).map(Arc::new).map_err(|e| e.to_string())
}

/// Quotes a map key for a field path when it contains a dot.
fn quote_key(k: &str) -> String {
    if k.contains(['.', '[', ']']) {
        format!("\"{k}\"")
    } else {
        k.to_string()
    }
}

/// Finds the workload a `spec.workloads` key names: `name` (unique across namespaces) or `namespace/name`.
fn find_workload(workloads: &[Workload], key: &str) -> Result<usize, String> {
    let (ns, name) = match key.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, key),
    };
    let hits: Vec<usize> = workloads
        .iter()
        .enumerate()
        .filter(|(_, w)| w.name == name && ns.is_none_or(|ns| w.namespace == ns))
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => {
            let names: Vec<String> = workloads
                .iter()
                .map(|w| format!("{}/{}", w.namespace, w.name))
                .collect();
            Err(if names.is_empty() {
                format!("no Deployment or DaemonSet named {key:?}: the scenario has no workloads")
            } else {
                format!(
                    "no Deployment or DaemonSet named {key:?}; workloads in the scenario: {}",
                    names.join(", ")
                )
            })
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|&i| format!("{}/{}", workloads[i].namespace, workloads[i].name))
                .collect();
            Err(format!(
                "{key:?} is ambiguous ({}); write namespace/name",
                names.join(", ")
            ))
        }
    }
}

fn set_dist(
    doc: &RawDocument,
    path: &str,
    spec: Option<&DistributionSpec>,
    slot: &mut Distribution,
) -> Result<(), ScenarioError> {
    if let Some(s) = spec {
        *slot = Distribution::from_spec(s).map_err(|m| doc.error(ErrorKind::Invalid, path, m))?;
    }
    Ok(())
}

fn service_model(
    doc: &RawDocument,
    path: &str,
    per_request: Option<&ResourceUse>,
    idle: Option<&ResourceUse>,
    max_rps: Option<f64>,
) -> Result<ServiceModel, ScenarioError> {
    let nonneg = |sub: &str, q: Option<&QuantityField>, scale: f64| -> Result<f64, ScenarioError> {
        let Some(q) = q else { return Ok(0.0) };
        let v = q.0.as_f64() * scale;
        if v < 0.0 {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.{sub}"),
                format!("must be >= 0, got {}", q.0.as_f64()),
            ));
        }
        Ok(v)
    };
    // CPU quantities are in cores: `2m` per request/s = 2 millicores per request/s.
    let model = ServiceModel {
        cpu_per_rps_m: nonneg("perRequest.cpu", per_request.and_then(|r| r.cpu.as_ref()), 1000.0)?,
        mem_per_rps: nonneg("perRequest.memory", per_request.and_then(|r| r.memory.as_ref()), 1.0)?,
        idle_cpu_m: nonneg("idle.cpu", idle.and_then(|r| r.cpu.as_ref()), 1000.0)?,
        idle_mem: nonneg("idle.memory", idle.and_then(|r| r.memory.as_ref()), 1.0)?,
        max_rps_per_pod: max_rps,
        ..ServiceModel::default()
    };
    if let Some(m) = max_rps
        && !(m.is_finite() && m > 0.0)
    {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.maxRequestsPerPod"),
            format!("must be > 0, got {m}"),
        ));
    }
    Ok(model)
}

fn deployment(
    doc: &RawDocument,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<Workload, ScenarioError> {
    let d: k8s_openapi::api::apps::v1::Deployment = typed_checked(doc, warnings)?;
    let name = require_name(doc)?;
    let Some(spec) = d.spec else {
        return Err(doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let replicas = replicas(doc, spec.replicas)?;
    let template = owned_template(doc, &spec.template, &spec.selector, priorities, warnings)?;
    Ok(workload(doc, name, WorkloadKind::Deployment, replicas, template))
}

/// `spec.replicas` of a Deployment or StatefulSet (default 1).
/// upstream: pkg/apis/apps/validation `ValidateDeploymentSpec` / `ValidateStatefulSetSpec`
/// (ValidateNonnegativeField); capsim caps it at [`defaults::MAX_REPLICAS`].
fn replicas(doc: &RawDocument, replicas: Option<i32>) -> Result<u32, ScenarioError> {
    let replicas = replicas.unwrap_or(defaults::DEPLOYMENT_REPLICAS);
    let replicas = u32::try_from(replicas).map_err(|_| {
        doc.error(
            ErrorKind::Invalid,
            "spec.replicas",
            format!("must be >= 0, got {replicas}"),
        )
    })?;
    if replicas > defaults::MAX_REPLICAS {
        return Err(doc.error(
            ErrorKind::TooLarge,
            "spec.replicas",
            format!("{replicas} is more than the limit of {}", defaults::MAX_REPLICAS),
        ));
    }
    Ok(replicas)
}

/// The pod template of a workload whose controller owns its pods by `selector` (a ReplicaSet's
/// or StatefulSet's): checked against the selector, with the cluster's default spread
/// constraints when it sets none.
fn owned_template(
    doc: &RawDocument,
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<crate::model::PodTemplate, ScenarioError> {
    let mut template = manifests::pod_template(doc, template, priorities, warnings)?;
    let owner = manifests::check_selector(doc, selector, &template.labels)?;
    if template.constraints.spread.is_empty() {
        template.constraints.spread = crate::model::topology::system_default_spread(&owner);
    }
    Ok(template)
}

/// `apps/v1 StatefulSet`: ordinal identities, `podManagementPolicy`, and zonal volumes from
/// `volumeClaimTemplates` (a pod stays in the zone its volume was created in).
fn stateful_set(
    doc: &RawDocument,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<Workload, ScenarioError> {
    let d: k8s_openapi::api::apps::v1::StatefulSet = typed_checked(doc, warnings)?;
    let name = require_name(doc)?;
    let Some(spec) = d.spec else {
        return Err(doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let replicas = replicas(doc, spec.replicas)?;
    // upstream: pkg/apis/apps/validation `ValidateStatefulSetSpec`.
    let parallel = match spec.pod_management_policy.as_deref() {
        None | Some("OrderedReady") => false,
        Some("Parallel") => true,
        Some(other) => {
            return Err(doc.error(
                ErrorKind::Invalid,
                "spec.podManagementPolicy",
                format!("must be OrderedReady or Parallel, got {other:?}"),
            ));
        }
    };
    let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
    if start < 0 {
        return Err(doc.error(
            ErrorKind::Invalid,
            "spec.ordinals.start",
            format!("must be >= 0, got {start}"),
        ));
    }
    // A volume claim template binds a volume on first scheduling (the usual
    // WaitForFirstConsumer class, e.g. EBS gp3): zonal, so the ordinal keeps its zone.
    let zonal_volumes = spec.volume_claim_templates.as_ref().is_some_and(|v| !v.is_empty());
    // `whenScaled: Delete` drops a scaled-down ordinal's volume (and its zone).
    let delete_when_scaled = spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .and_then(|p| p.when_scaled.as_deref())
        == Some("Delete");
    let template = owned_template(doc, &spec.template, &spec.selector, priorities, warnings)?;
    let mut w = workload(doc, name, WorkloadKind::StatefulSet, replicas, template);
    w.stateful = Some(crate::model::StatefulSpec {
        parallel,
        ordinal_start: start as u32,
        zonal_volumes,
        delete_when_scaled,
    });
    Ok(w)
}

fn daemon_set(
    doc: &RawDocument,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<Workload, ScenarioError> {
    let d: k8s_openapi::api::apps::v1::DaemonSet = typed_checked(doc, warnings)?;
    let name = require_name(doc)?;
    let Some(spec) = d.spec else {
        return Err(doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let mut template = manifests::pod_template(doc, &spec.template, priorities, warnings)?;
    manifests::check_selector(doc, &spec.selector, &template.labels)?;
    manifests::add_daemon_set_tolerations(&mut template.tolerations, manifests::host_network(&spec.template));
    Ok(workload(doc, name, WorkloadKind::DaemonSet, 0, template))
}

fn job(
    doc: &RawDocument,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<Workload, ScenarioError> {
    let j: k8s_openapi::api::batch::v1::Job = typed_checked(doc, warnings)?;
    let name = require_name(doc)?;
    let Some(spec) = j.spec else {
        return Err(doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let template = manifests::pod_template(doc, &spec.template, priorities, warnings)?;
    Ok(workload(doc, name, WorkloadKind::Batch, 0, template))
}

fn workload(
    doc: &RawDocument,
    name: String,
    kind: WorkloadKind,
    replicas: u32,
    template: crate::model::PodTemplate,
) -> Workload {
    Workload {
        name,
        namespace: doc.namespace.clone(),
        kind,
        replicas,
        template,
        traffic: None,
        service: ServiceModel::default(),
        startup: defaults::startup_latency(),
        batch: None,
        stateful: None,
    }
}

/// Parses an HPA and checks its target exists; its semantics are validated by the HPA module.
fn hpa(
    doc: &RawDocument,
    workloads: &[Workload],
    warnings: &mut Vec<String>,
) -> Result<HorizontalPodAutoscaler, ScenarioError> {
    let mut h: HorizontalPodAutoscaler = typed_checked(doc, warnings)?;
    require_name(doc)?;
    // Downstream code sees the effective namespace, not an absent one.
    h.metadata.namespace = Some(doc.namespace.clone());
    let Some(spec) = h.spec.as_ref() else {
        return Err(doc.error(ErrorKind::Schema, "spec", "required field is missing"));
    };
    let target = &spec.scale_target_ref;
    let kind = match target.kind.as_str() {
        "Deployment" => WorkloadKind::Deployment,
        "StatefulSet" => WorkloadKind::StatefulSet,
        other => {
            return Err(doc.error(
                ErrorKind::Invalid,
                "spec.scaleTargetRef.kind",
                format!("capsim scales Deployments and StatefulSets, got {other:?}"),
            ));
        }
    };
    if let Some(api) = target.api_version.as_deref().filter(|a| *a != "apps/v1") {
        return Err(doc.error(
            ErrorKind::Invalid,
            "spec.scaleTargetRef.apiVersion",
            format!("must be apps/v1 for a {}, got {api:?}", target.kind),
        ));
    }
    let found = workloads
        .iter()
        .any(|w| w.kind == kind && w.name == target.name && w.namespace == doc.namespace);
    if !found {
        let names: Vec<&str> = workloads
            .iter()
            .filter(|w| w.kind == kind && w.namespace == doc.namespace)
            .map(|w| w.name.as_str())
            .collect();
        return Err(doc.error(
            ErrorKind::Reference,
            "spec.scaleTargetRef.name",
            format!(
                "no {} named {:?} in namespace {:?}; {}s there: {}",
                target.kind,
                target.name,
                doc.namespace,
                target.kind,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    Ok(h)
}

fn static_nodes(
    doc: &RawDocument,
    spec: &ScenarioSpec,
    catalog: &Catalog,
    catalog_name: &str,
) -> Result<Vec<StaticNodes>, ScenarioError> {
    let mut out: Vec<StaticNodes> = Vec::new();
    let mut names = BTreeSet::new();
    let mut total: u64 = 0;
    for (i, n) in spec.nodes.iter().enumerate() {
        let path = format!("spec.nodes[{i}]");
        total += u64::from(n.count.unwrap_or(defaults::STATIC_NODE_COUNT));
        if total > defaults::MAX_STATIC_NODES {
            return Err(doc.error(
                ErrorKind::TooLarge,
                format!("{path}.count"),
                format!(
                    "{} static nodes in all, more than the limit of {}",
                    total,
                    defaults::MAX_STATIC_NODES
                ),
            ));
        }
        let name = n.name.clone().unwrap_or_else(|| n.instance_type.clone());
        if !names.insert(name.clone()) {
            return Err(doc.error(
                ErrorKind::Duplicate,
                format!("{path}.name"),
                format!("another node group is already named {name:?} (the name defaults to the instance type)"),
            ));
        }
        // Checked once the catalog has content (the placeholder catalog is empty).
        if !catalog.types().is_empty() && catalog.get(&n.instance_type).is_none() {
            let family = n.instance_type.split('.').next().unwrap_or_default();
            let similar: Vec<&str> = catalog
                .types()
                .iter()
                .filter(|t| t.name.split('.').next() == Some(family))
                .map(|t| t.name.as_str())
                .take(8)
                .collect();
            return Err(doc.error(
                ErrorKind::Reference,
                format!("{path}.instanceType"),
                format!(
                    "{:?} is not in the {catalog_name} catalog{}",
                    n.instance_type,
                    if similar.is_empty() {
                        String::new()
                    } else {
                        format!("; same family: {}", similar.join(", "))
                    }
                ),
            ));
        }
        let mut taints = Vec::new();
        for (j, t) in n.taints.iter().enumerate() {
            if t.key.is_empty() {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.taints[{j}].key"),
                    "must not be empty",
                ));
            }
            taints.push(Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect: match t.effect {
                    TaintEffectSpec::NoSchedule => TaintEffect::NoSchedule,
                    TaintEffectSpec::PreferNoSchedule => TaintEffect::PreferNoSchedule,
                    TaintEffectSpec::NoExecute => TaintEffect::NoExecute,
                },
            });
        }
        out.push(StaticNodes {
            name,
            instance_type: n.instance_type.clone(),
            count: n.count.unwrap_or(defaults::STATIC_NODE_COUNT),
            capacity_type: match n.capacity_type {
                None => defaults::CAPACITY_TYPE,
                Some(CapacityTypeSpec::OnDemand) => CapacityType::OnDemand,
                Some(CapacityTypeSpec::Spot) => CapacityType::Spot,
            },
            zone: n.zone.clone().unwrap_or_else(|| defaults::ZONE.to_string()),
            labels: n.labels.clone(),
            taints,
        });
    }
    Ok(out)
}

/// Two objects with the same apiVersion group, kind, namespace and name are an error (kubectl would
/// silently let the later one win).
fn check_duplicates(docs: &[RawDocument]) -> Result<(), ScenarioError> {
    let mut seen: BTreeMap<(String, String, String), &RawDocument> = BTreeMap::new();
    for d in docs {
        if d.name.is_empty() {
            continue;
        }
        let key = (d.kind.clone(), d.namespace.clone(), d.name.clone());
        if let Some(first) = seen.get(&key) {
            return Err(d.error(
                ErrorKind::Duplicate,
                "metadata.name",
                format!(
                    "duplicate object: {} is already defined in {}",
                    d.object(),
                    location(first)
                ),
            ));
        }
        seen.insert(key, d);
    }
    Ok(())
}
