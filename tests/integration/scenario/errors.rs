//! Bad input: every rejected scenario gets a typed error naming the file, document, object and field,
//! and never a panic. Issue 2 "Bad input" kinds first, then further checks.

use capsim::scenario::{self, ErrorKind, ScenarioError};
use std::path::{Path, PathBuf};

/// A valid two-document scenario the tests break one piece at a time.
const BASE: &str = r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 600s
  workloads:
    web: {traffic: {base: 10}, perRequest: {cpu: 1}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: "1", memory: "1000"}}
"#;

const HPA: &str = r#"---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 10
"#;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scenarios")
        .join(rel)
}

fn load(text: &str) -> Result<scenario::Scenario, ScenarioError> {
    scenario::load_str("scenario.yaml", text, None, &[])
}

/// `BASE` with `from` replaced by `to` must fail.
fn err_with(from: &str, to: &str) -> ScenarioError {
    assert!(BASE.contains(from), "fixture does not contain {from:?}");
    match load(&BASE.replace(from, to)) {
        Ok(_) => panic!("accepted BASE with {from:?} -> {to:?}"),
        Err(e) => e,
    }
}

fn err(text: &str) -> ScenarioError {
    match load(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn the_base_fixture_is_valid() {
    let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workloads[0].replicas, 2);
    load(&format!("{BASE}{HPA}")).unwrap_or_else(|e| panic!("{e}"));
}

// ---- the twelve kinds named in issue 2 ------------------------------------------------------------

#[test]
fn malformed_quantity() {
    let e = err_with(r#"cpu: "1", memory"#, r#"cpu: "1.5.5", memory"#);
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(
        e.path.as_deref(),
        Some("spec.template.spec.containers[0].resources.requests.cpu")
    );
    assert!(
        e.to_string().starts_with(
            "scenario.yaml: document 2 (Deployment web): spec.template.spec.containers[0].resources.requests.cpu: "
        ),
        "{e}"
    );
    assert!(
        e.message.contains("1.5.5") && e.message.contains("expected a quantity"),
        "{e}"
    );
    // In the Scenario document too.
    let e = err_with("perRequest: {cpu: 1}", "perRequest: {cpu: 2x}");
    assert_eq!(e.path.as_deref(), Some("spec.workloads.web.perRequest.cpu"));
    assert!(e.to_string().contains("document 1 (Scenario t)"), "{e}");
}

#[test]
fn malformed_duration() {
    let e = err_with("duration: 600s", "duration: 10x");
    assert_eq!((e.kind, e.path.as_deref()), (ErrorKind::Schema, Some("spec.duration")));
    assert!(e.message.contains("10x") && e.message.contains("Go duration"), "{e}");
    let e = err_with("duration: 600s", "duration: 600");
    assert!(
        e.message.contains("expected a duration"),
        "a bare number is not a duration: {e}"
    );
}

#[test]
fn missing_required_field() {
    let e = err_with("  duration: 600s\n", "");
    assert_eq!(e.path.as_deref(), Some("spec"));
    assert!(e.message.contains("missing field `duration`"), "{e}");
    let e = err_with("        image: nginx:1.27\n", "");
    assert_eq!(e.path.as_deref(), Some("spec.template.spec.containers[0].image"));
    assert!(e.message.contains("required"), "{e}");
    let e = err_with("      - name: web\n", "      -\n");
    assert_eq!(e.path.as_deref(), Some("spec.template.spec.containers[0].name"));
    let e = err_with("metadata: {name: web}", "metadata: {labels: {a: b}}");
    assert_eq!(e.path.as_deref(), Some("metadata.name"));
}

#[test]
fn wrong_type() {
    let e = err_with("replicas: 2", "replicas: two");
    assert_eq!((e.kind, e.path.as_deref()), (ErrorKind::Schema, Some("spec.replicas")));
    assert!(e.message.contains("invalid type: string \"two\""), "{e}");
    let e = err_with("metadata: {labels: {app: web}}", "metadata: {labels: [app]}");
    assert_eq!(e.path.as_deref(), Some("spec.template.metadata.labels"));
    let e = err_with("  duration: 600s\n", "  duration: 600s\n  seed: -3\n");
    assert_eq!(e.path.as_deref(), Some("spec.seed"));
    let e = err_with("traffic: {base: 10}", "traffic: {base: lots}");
    assert_eq!(e.path.as_deref(), Some("spec.workloads.web.traffic.base"));
}

#[test]
fn unknown_workload_name_in_traffic() {
    let e = err_with("    web: {traffic", "    wbe: {traffic");
    assert_eq!(
        (e.kind, e.path.as_deref()),
        (ErrorKind::Reference, Some("spec.workloads.wbe"))
    );
    assert!(
        e.message
            .contains("no Deployment or DaemonSet named \"wbe\"; workloads in the scenario: default/web"),
        "{e}"
    );
}

#[test]
fn negative_replicas() {
    let e = err_with("replicas: 2", "replicas: -1");
    assert_eq!(
        e.to_string(),
        "scenario.yaml: document 2 (Deployment web): spec.replicas: must be >= 0, got -1"
    );
}

#[test]
fn duplicate_object_names() {
    let second = &BASE[BASE.find("---").unwrap_or(0)..];
    let e = err(&format!("{BASE}{second}"));
    assert_eq!(e.kind, ErrorKind::Duplicate);
    assert_eq!(e.document, Some(3));
    assert!(
        e.to_string()
            .contains("duplicate object: Deployment web is already defined in scenario.yaml: document 2"),
        "{e}"
    );
    // Same name in another namespace is fine.
    let other_ns = second.replace("metadata: {name: web}", "metadata: {name: web, namespace: shop}");
    let base = BASE.replace("    web: {traffic", "    default/web: {traffic");
    load(&format!("{base}{other_ns}")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn yaml_syntax_error() {
    let e = err_with(
        "selector: {matchLabels: {app: web}}",
        "selector: {matchLabels: {app: web}",
    );
    assert_eq!(e.kind, ErrorKind::Syntax);
    let s = e.to_string();
    assert!(s.starts_with("scenario.yaml: YAML syntax error: "), "{s}");
    assert!(s.contains("line "), "names the line: {s}");
    let e = err("apiVersion: v1\nkind: Scenario\nkind: Scenario\n");
    assert_eq!(
        e.to_string(),
        "scenario.yaml: YAML syntax error: duplicate mapping key: kind at line 3, column 1"
    );
    let e = err("a: 1\n  b: 2\n");
    assert!(e.to_string().contains("at line 2, column 4"), "{e}");
}

#[test]
fn include_of_a_missing_file() {
    let e = scenario::load(&data("include-missing.yaml"), &[]).unwrap_err();
    assert_eq!(
        (e.kind, e.path.as_deref()),
        (ErrorKind::Include, Some("spec.include[0]"))
    );
    let s = e.to_string();
    assert!(
        s.contains("include-missing.yaml: document 1 (Scenario include-missing)"),
        "{s}"
    );
    assert!(
        s.contains("manifests/does-not-exist.yaml"),
        "names the missing file: {s}"
    );
    // Embedded scenarios have nothing to resolve includes against.
    let e = err(&BASE.replace("  duration: 600s\n", "  duration: 600s\n  include: [x/]\n"));
    assert_eq!(e.kind, ErrorKind::Include);
    assert!(e.message.contains("no base directory"), "{e}");
}

#[test]
fn alias_bomb() {
    let bomb = r#"apiVersion: capsim/v1alpha1
kind: Scenario
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"#;
    let e = err(bomb);
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(
        e.to_string()
            .starts_with("scenario.yaml: YAML input exceeds a safety limit: alias replay limit"),
        "{e}"
    );
    assert!(e.message.contains("alias bombs"), "{e}");
    // Deep nesting is bounded as well.
    let deep = format!("x: {}1{}", "[".repeat(500), "]".repeat(500));
    let e = err(&deep);
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(e.message.contains("depth"), "{e}");
}

#[test]
fn empty_file() {
    for f in ["empty.yaml", "comments-only.yaml"] {
        let e = scenario::load(&data(f), &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Empty, "{f}");
        assert!(e.to_string().contains(f) && e.message.contains("file is empty"), "{e}");
    }
    assert_eq!(err("").kind, ErrorKind::Empty);
}

#[test]
fn set_path_that_does_not_exist() {
    let ov = |o: &str| scenario::load_str("scenario.yaml", BASE, None, &[o.to_string()]).unwrap_err();
    let e = ov("Deployment/web:spec.template.spec.containerz[0].image=x");
    assert_eq!(
        (e.kind, e.path.as_deref()),
        (ErrorKind::Override, Some("spec.template.spec.containerz"))
    );
    assert_eq!(
        e.to_string(),
        "--set 'Deployment/web:spec.template.spec.containerz[0].image=x': spec.template.spec.containerz: \
         no key \"containerz\" under spec.template.spec; it has: containers (in Deployment web)"
    );
    let e = ov("Deployment/api:spec.replicas=3");
    assert!(
        e.message
            .contains("no Deployment named \"api\"; Deployment objects: default/web"),
        "{e}"
    );
    let e = ov("Deployment/web:spec.template.spec.containers[1].image=x");
    assert!(
        e.message
            .contains("index 1 is out of range: spec.template.spec.containers has 1 item"),
        "{e}"
    );
    let e = ov("Deployment/web:spec.replicas");
    assert!(e.message.contains("missing '=value'"), "{e}");
}

// ---- further checks ---------------------------------------------------------------------------------

#[test]
fn hpa_target_must_exist() {
    let e = err(&format!(
        "{BASE}{}",
        HPA.replace("kind: Deployment, name: web}", "kind: Deployment, name: wep}")
    ));
    assert_eq!(
        e.to_string(),
        "scenario.yaml: document 3 (HorizontalPodAutoscaler web): spec.scaleTargetRef.name: \
         no Deployment named \"wep\" in namespace \"default\"; Deployments there: web"
    );
    let e = err(&format!(
        "{BASE}{}",
        HPA.replace("kind: Deployment, name", "kind: StatefulSet, name")
    ));
    // StatefulSets scale too; the scenario has none of that name.
    assert_eq!(e.path.as_deref(), Some("spec.scaleTargetRef.name"));
    assert!(e.message.contains("no StatefulSet named"), "{e}");
    let e = err(&format!(
        "{BASE}{}",
        HPA.replace("kind: Deployment, name", "kind: ReplicaSet, name")
    ));
    assert_eq!(e.path.as_deref(), Some("spec.scaleTargetRef.kind"));
    let second = HPA.replace("metadata: {name: web}", "metadata: {name: web2}");
    let e = err(&format!("{BASE}{HPA}{second}"));
    assert_eq!((e.kind, e.document), (ErrorKind::Duplicate, Some(4)));
    assert!(
        e.message
            .contains("HorizontalPodAutoscaler web already targets Deployment web"),
        "{e}"
    );
    let e = err(&format!(
        "{BASE}{}",
        HPA.replace("maxReplicas: 10", "maxReplicas: many")
    ));
    assert_eq!(e.path.as_deref(), Some("spec.maxReplicas"));
}

#[test]
fn resolution_longer_than_duration() {
    let e = err_with("duration: 600s", "duration: 600s\n  resolution: 900s");
    assert_eq!(e.path.as_deref(), Some("spec.resolution"));
    assert!(e.message.contains("must be <= spec.duration (600 s), got 900 s"), "{e}");
    assert_eq!(
        err_with("duration: 600s", "duration: 0s").path.as_deref(),
        Some("spec.duration")
    );
}

#[test]
fn unknown_scenario_fields_are_rejected() {
    let e = err_with("  duration: 600s\n", "  duration: 600s\n  durration: 5s\n");
    assert_eq!(e.path.as_deref(), Some("spec.durration"));
    assert!(e.message.contains("unknown field `durration`"), "{e}");
    let e = err_with("perRequest: {cpu: 1}", "perRequest: {cpus: 1}");
    assert_eq!(e.path.as_deref(), Some("spec.workloads.web.perRequest.cpus"));
    let e = err_with("metadata: {name: t}", "metadata: {name: t}\nstatus: {}");
    assert_eq!(e.path.as_deref(), Some("status"));
    let e = err_with(
        "  duration: 600s\n",
        "  duration: 600s\n  scheduler: {scoring: Balanced}\n",
    );
    assert_eq!(e.path.as_deref(), Some("spec.scheduler.scoring"));
    assert!(e.message.contains("LeastAllocated"), "lists the choices: {e}");
}

#[test]
fn exactly_one_scenario_document() {
    let deployment = &BASE[BASE.find("apiVersion: apps/v1").unwrap_or(0)..];
    let e = err(deployment);
    assert!(
        e.message
            .contains("no `apiVersion: capsim/v1alpha1, kind: Scenario` document"),
        "{e}"
    );
    let scen = &BASE[..BASE.find("---").unwrap_or(0)];
    let e = err(&format!("{BASE}---\n{}", scen.replace("name: t", "name: u")));
    assert_eq!((e.kind, e.document), (ErrorKind::Duplicate, Some(3)));
    assert!(e.message.contains("a second Scenario document"), "{e}");
}

#[test]
fn known_kind_in_another_api_version() {
    let e = err_with("apiVersion: apps/v1", "apiVersion: extensions/v1beta1");
    assert_eq!(e.path.as_deref(), Some("apiVersion"));
    assert!(
        e.message
            .contains("capsim reads Deployment as apps/v1, got \"extensions/v1beta1\""),
        "{e}"
    );
}

#[test]
fn unknown_kinds_are_skipped_with_a_warning() {
    let s = load(&format!(
        "{BASE}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: web}}\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.warnings,
        ["skipped 1 networking.k8s.io/v1 Ingress document (capsim does not model this kind): default/web"]
    );
    assert_eq!(s.documents.len(), 3, "kept raw");
}

#[test]
fn unknown_priority_class() {
    let e = err_with(
        "    spec:\n      containers",
        "    spec:\n      priorityClassName: urgent\n      containers",
    );
    assert_eq!(
        (e.kind, e.path.as_deref()),
        (ErrorKind::Reference, Some("spec.template.spec.priorityClassName"))
    );
    assert!(
        e.message.contains("no PriorityClass with name \"urgent\" was found"),
        "{e}"
    );
    let e = err_with(
        "    spec:\n      containers",
        "    spec:\n      priority: 5\n      containers",
    );
    assert!(
        e.message
            .contains("must not differ from the priority of the PriorityClass (0)"),
        "{e}"
    );
}

#[test]
fn request_above_limit() {
    let e = err_with(
        r#"resources: {requests: {cpu: "1", memory: "1000"}}"#,
        r#"resources: {requests: {cpu: "2"}, limits: {cpu: "1"}}"#,
    );
    assert_eq!(
        e.path.as_deref(),
        Some("spec.template.spec.containers[0].resources.requests.cpu")
    );
    assert!(
        e.message
            .contains("must be less than or equal to the cpu limit (1000m), got 2000m"),
        "{e}"
    );
}

#[test]
fn selector_must_match_template() {
    let e = err_with(
        "selector: {matchLabels: {app: web}}",
        "selector: {matchLabels: {app: api}}",
    );
    assert_eq!(e.path.as_deref(), Some("spec.selector"));
    let e = err_with("selector: {matchLabels: {app: web}}", "selector: {}");
    assert!(e.message.contains("empty selector"), "{e}");
}

#[test]
fn invalid_tolerations_and_affinity() {
    let tol = |t: &str| {
        err_with(
            "    spec:\n      containers",
            &format!("    spec:\n      tolerations: [{t}]\n      containers"),
        )
    };
    let e = tol("{key: a, operator: Exists, value: b}");
    assert_eq!(e.path.as_deref(), Some("spec.template.spec.tolerations[0].value"));
    let e = tol("{value: b}");
    assert_eq!(e.path.as_deref(), Some("spec.template.spec.tolerations[0].operator"));
    let e = tol("{key: a, effect: NoScheduled}");
    assert_eq!(e.path.as_deref(), Some("spec.template.spec.tolerations[0].effect"));
    let aff = "    spec:\n      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: \
               {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Gt, values: [a]}]}]}}}\n      containers";
    let e = err_with("    spec:\n      containers", aff);
    assert_eq!(
        e.path.as_deref(),
        Some(
            "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"
        )
    );
}

#[test]
fn pdb_rules() {
    let pdb = |spec: &str| {
        err(&format!(
            "{BASE}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web}}\nspec: {spec}\n"
        ))
    };
    let e = pdb("{minAvailable: 1, maxUnavailable: 1, selector: {matchLabels: {app: web}}}");
    assert!(e.message.contains("cannot be both set"), "{e}");
    let e = pdb("{minAvailable: 150%, selector: {matchLabels: {app: web}}}");
    assert_eq!(e.path.as_deref(), Some("spec.minAvailable"));
}

#[test]
fn duplicate_static_node_names_and_bad_taints() {
    let e = err_with(
        "  duration: 600s\n",
        "  duration: 600s\n  nodes: [{instanceType: m5.large}, {instanceType: m5.large}]\n",
    );
    assert_eq!(e.path.as_deref(), Some("spec.nodes[1].name"));
    let e = err_with(
        "  duration: 600s\n",
        "  duration: 600s\n  nodes: [{instanceType: m5.large, taints: [{key: a, effect: Never}]}]\n",
    );
    assert_eq!(e.path.as_deref(), Some("spec.nodes[0].taints[0].effect"));
    let e = err_with(
        "  duration: 600s\n",
        "  duration: 600s\n  nodes: [{instanceType: m5.large, count: -2}]\n",
    );
    assert_eq!(e.path.as_deref(), Some("spec.nodes[0].count"));
}

#[test]
fn missing_catalog_file() {
    let e = err_with("  duration: 600s\n", "  duration: 600s\n  catalog: prices.csv\n");
    assert_eq!(e.path.as_deref(), Some("spec.catalog"));
    assert!(e.message.contains("prices.csv"), "{e}");
}

#[test]
fn file_too_large() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-too-large.yaml");
    let mut text = String::from("# padding\n");
    text.push_str(&"#".repeat(33 * 1024 * 1024));
    std::fs::write(&path, text).unwrap();
    let e = scenario::load(&path, &[]).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(
        e.to_string()
            .contains("scenario-too-large.yaml: file is larger than the 32 MiB limit"),
        "{e}"
    );
}

#[test]
fn missing_file_and_directory_as_scenario() {
    let e = scenario::load(&data("nope.yaml"), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.to_string().contains("nope.yaml: cannot read file"), "{e}");
    let e = scenario::load(&data("cycle"), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
}

#[test]
fn not_utf8() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-latin1.yaml");
    std::fs::write(&path, b"kind: Scenario\nname: caf\xe9\n").unwrap();
    let e = scenario::load(&path, &[]).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(e.message.contains("not UTF-8"), "{e}");
}

// ---- no input panics ----------------------------------------------------------------------------------

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parse_override_never_panics(s in "\\PC{0,40}") {
            let _ = scenario::parse_override(&s);
        }

        #[test]
        fn overrides_on_a_valid_scenario_never_panic(
            target in prop::sample::select(vec!["Deployment/web", "Scenario", "Deployment/default/web", "Nope/x"]),
            path in "[a-z\\.\\[\\]0-9\"]{1,24}",
            value in "[a-z0-9 \\[\\]{}:,\"-]{0,12}",
        ) {
            let ov = format!("{target}:{path}={value}");
            let _ = scenario::load_str("scenario.yaml", BASE, None, &[ov]);
        }

        /// BASE with a slice replaced by YAML-ish noise: any result is fine, a panic is not.
        #[test]
        fn mangled_scenarios_never_panic(
            at in 0..BASE.len(),
            cut in 0usize..12,
            noise in "[ :\\-\\[\\]{}a-z0-9\"'&*!\n]{0,8}",
        ) {
            let end = (at + cut).min(BASE.len());
            let text = format!("{}{}{}", &BASE[..at], noise, &BASE[end..]);
            let _ = load(&text);
        }
    }
}
