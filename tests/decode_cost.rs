//! What decoding one LIST page costs, step by step: the same page of 500 Deployments, as a
//! real API server writes them (managedFields, status, the last-applied annotation), decoded
//! the ways the collector has decoded pages. Bytes allocated are counted by a counting
//! allocator, so the assertions hold on any machine; times are printed for the record
//! (`cargo test --release --test decode_cost -- --nocapture`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use eksup::collect::kube::client::{Listed, decode_page};
use eksup::collect::kube::{project, wire};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn deployment(i: usize) -> serde_json::Value {
    let name = format!("svc-{i:05}");
    let container = json!({
        "name": "app", "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:1.0.0"),
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "us-east-1"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "periodSeconds": 10},
        "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent",
    });
    let spec = json!({
        "replicas": 3, "minReadySeconds": 10, "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": name}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [container], "restartPolicy": "Always",
                              "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                              "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                             "whenUnsatisfiable": "ScheduleAnyway",
                                                             "labelSelector": {"matchLabels": {"app": name}}}]}},
    });
    let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": name, "namespace": "team"}, "spec": spec});
    json!({
        "metadata": {
            "name": name, "namespace": format!("team-{:03}", i % 40), "uid": format!("0000-{i:012}"),
            "resourceVersion": (1_000_000 + i).to_string(), "generation": 3,
            "creationTimestamp": "2026-11-01T10:00:00Z", "labels": {"app": name},
            "annotations": {"deployment.kubernetes.io/revision": "6",
                            "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()},
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                 "time": "2026-11-30T08:15:42Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                                             "f:labels": {".": {}, "f:app": {}}},
                              "f:spec": {"f:minReadySeconds": {}, "f:replicas": {}, "f:selector": {},
                                         "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                                                        "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                                                            ".": {}, "f:image": {}, "f:name": {}, "f:ports": {},
                                                            "f:readinessProbe": {}, "f:livenessProbe": {}, "f:resources": {}}}}}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
                 "time": "2026-11-30T08:16:10Z", "fieldsType": "FieldsV1", "subresource": "status",
                 "fieldsV1": {"f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {},
                                           "f:readyReplicas": {}, "f:replicas": {}, "f:updatedReplicas": {}}}},
            ],
        },
        "spec": spec,
        "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
                   "availableReplicas": 3, "conditions": [
                       {"type": "Available", "status": "True", "lastUpdateTime": "2026-11-30T08:16:10Z",
                        "lastTransitionTime": "2026-11-30T08:16:10Z", "reason": "MinimumReplicasAvailable",
                        "message": "Deployment has minimum availability."},
                       {"type": "Progressing", "status": "True", "lastUpdateTime": "2026-11-30T08:16:10Z",
                        "lastTransitionTime": "2026-11-01T10:00:00Z", "reason": "NewReplicaSetAvailable",
                        "message": format!("ReplicaSet \"{name}-5d8f7c\" has successfully progressed.")}]},
    })
}

fn page() -> Vec<u8> {
    let items: Vec<_> = (0..500).map(deployment).collect();
    serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "DeploymentList",
                               "metadata": {"resourceVersion": "9", "continue": "next"}, "items": items}))
    .unwrap()
}

#[derive(Deserialize)]
struct OwnedRawPage {
    items: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
struct BorrowedRawPage<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
}

/// Bytes allocated and the best of 5 times (ms) for `decode`, which returns how many
/// containers it saw (so nothing is optimized away and every way reads the same page).
fn cost(decode: impl Fn() -> usize) -> (u64, f64, usize) {
    let mut best = f64::MAX;
    let mut allocated = 0;
    let mut seen = 0;
    for _ in 0..5 {
        let before = ALLOCATED.load(Ordering::Relaxed);
        let start = Instant::now();
        seen = decode();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        allocated = ALLOCATED.load(Ordering::Relaxed) - before;
    }
    (allocated, best, seen)
}

/// Keeps the projections, as the collector does, and counts their containers.
fn kept(objects: impl Iterator<Item = wire::Workload>) -> usize {
    let kept: Vec<_> = objects.filter_map(project::deployment).collect();
    kept.iter().map(|w| w.pod.containers.len()).sum()
}

#[test]
fn each_step_of_the_page_decode_allocates_less() {
    let body = page();
    let steps: Vec<(&str, (u64, f64, usize))> = vec![
        (
            "serde_json::Value",
            cost(|| {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                v["items"].as_array().unwrap().len()
            }),
        ),
        (
            "owned raw items → k8s-openapi Deployment",
            cost(|| {
                let p: OwnedRawPage = serde_json::from_slice(&body).unwrap();
                p.items
                    .iter()
                    .map(|raw| {
                        let d: k8s_openapi::api::apps::v1::Deployment =
                            serde_json::from_str(raw.get()).unwrap();
                        d.spec
                            .map_or(0, |s| s.template.spec.map_or(0, |s| s.containers.len()))
                    })
                    .sum()
            }),
        ),
        (
            "owned raw items → wire::Workload",
            cost(|| {
                let p: OwnedRawPage = serde_json::from_slice(&body).unwrap();
                kept(
                    p.items
                        .iter()
                        .map(|raw| serde_json::from_str(raw.get()).unwrap()),
                )
            }),
        ),
        (
            "borrowed raw items → wire::Workload",
            cost(|| {
                let p: BorrowedRawPage = serde_json::from_slice(&body).unwrap();
                kept(
                    p.items
                        .iter()
                        .map(|raw| serde_json::from_str(raw.get()).unwrap()),
                )
            }),
        ),
        (
            "one pass → wire::Workload (the collector)",
            cost(|| {
                let mut listed = Listed {
                    items: Vec::new(),
                    invalid: Vec::new(),
                };
                let next = decode_page(&body, "deployments", &mut listed, &mut project::deployment);
                assert_eq!(next.unwrap().as_deref(), Some("next"));
                listed.items.iter().map(|w| w.pod.containers.len()).sum()
            }),
        ),
    ];
    println!(
        "one page of 500 Deployments, {:.2} MB decoded:",
        body.len() as f64 / 1e6
    );
    for (name, (bytes, ms, _)) in &steps {
        println!(
            "  {name:<45} {:>8.2} MB allocated {ms:>8.2} ms",
            *bytes as f64 / 1e6
        );
    }
    let seen: Vec<usize> = steps.iter().skip(1).map(|(_, (_, _, n))| *n).collect();
    assert!(
        seen.iter().all(|&n| n == 500),
        "every way reads every container: {seen:?}"
    );
    let bytes = |i: usize| steps[i].1.0;
    // k8s-openapi builds every field, managedFields as JSON values included.
    assert!(bytes(2) * 3 < bytes(1), "{} vs {}", bytes(2), bytes(1));
    // Owned raw items copy the whole page once more; borrowed ones do not.
    assert!(bytes(3) + body.len() as u64 / 2 < bytes(2));
    // One pass allocates no more than the borrowed raw items (it keeps no list of them).
    assert!(bytes(4) <= bytes(3), "{} vs {}", bytes(4), bytes(3));
}
