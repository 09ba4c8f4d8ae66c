"""Generated clusters for load tests.

Spec: comma-separated `key=value`: deployments (2000), replicasets_per_deployment (5),
unowned_replicasets (10), cronjobs (100), jobs_per_cronjob (3), unowned_jobs (5),
nodes (50), namespaces (40), version (v1.30.4-eks-1), real_crds (0; 1 adds every
CustomResourceDefinition of ../shared/data/realworld, 38 real CRDs with their schemas).
"""

from pathlib import Path

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "data" / "realworld" / "manifests"


def real_crds():
    """The CRDs that ride along in the real-world manifests, as their projects ship them."""
    import yaml
    out = []
    for path in sorted(REALWORLD.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                doc.setdefault("status", {"storedVersions": [v["name"] for v in doc["spec"].get("versions", [])
                                                             if v.get("storage")]})
                out.append(doc)
    if not out:
        raise SystemExit(f"no CRDs found under {REALWORLD}")
    return out


def _pod_spec(name):
    return {
        "containers": [{
            "name": "app",
            "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:1.0.0",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "us-east-1"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10},
            "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "periodSeconds": 10},
        }],
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": name}},
        }],
        "terminationGracePeriodSeconds": 30,
    }


def generate(spec):
    opts = {
        "deployments": 2000, "replicasets_per_deployment": 5, "unowned_replicasets": 10,
        "cronjobs": 100, "jobs_per_cronjob": 3, "unowned_jobs": 5, "nodes": 50,
        "namespaces": 40, "version": "v1.30.4-eks-1", "real_crds": 0,
    }
    for part in filter(None, spec.split(",")):
        k, v = part.split("=", 1)
        opts[k] = v if k == "version" else int(v)
    ns = lambda i: f"team-{i % opts['namespaces']:03d}"
    objects = []
    for i in range(opts["nodes"]):
        objects.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"ip-10-0-{i // 250}-{i % 250}.ec2.internal",
                         "labels": {"eks.amazonaws.com/nodegroup": f"ng-{i % 3}",
                                    "topology.kubernetes.io/zone": f"us-east-1{'abc'[i % 3]}"}},
            "status": {"nodeInfo": {"kubeletVersion": opts["version"]}},
        })
    for i in range(opts["deployments"]):
        name = f"svc-{i:05d}"
        labels = {"app": name}
        objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns(i), "labels": labels,
                         "annotations": {"deployment.kubernetes.io/revision": str(opts["replicasets_per_deployment"])}},
            "spec": {"replicas": 3, "minReadySeconds": 10, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": _pod_spec(name)}},
        })
        for r in range(opts["replicasets_per_deployment"]):
            objects.append({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{name}-{r:05d}", "namespace": ns(i), "labels": labels,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                                  "uid": f"d-{i}", "controller": True, "blockOwnerDeletion": True}]},
                "spec": {"replicas": 3 if r == 0 else 0, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels}, "spec": _pod_spec(name)}},
            })
        objects.append({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns(i)},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
        })
    for i in range(opts["unowned_replicasets"]):
        name = f"orphan-{i:03d}"
        objects.append({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": ns(i), "labels": {"app": name}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": _pod_spec(name)}},
        })
    for i in range(opts["cronjobs"]):
        name = f"batch-{i:04d}"
        objects.append({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": name, "namespace": ns(i)},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": _pod_spec(name)}}}},
        })
        for j in range(opts["jobs_per_cronjob"]):
            objects.append({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": f"{name}-{j}", "namespace": ns(i),
                             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                                                  "uid": f"c-{i}", "controller": True}]},
                "spec": {"template": {"spec": _pod_spec(name)}},
            })
    for i in range(opts["unowned_jobs"]):
        name = f"oneoff-{i:03d}"
        objects.append({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": ns(i)},
            "spec": {"template": {"spec": _pod_spec(name)}},
        })
    if opts["real_crds"]:
        objects.extend(real_crds())
    info = {"gitVersion": opts["version"], "crds": []}
    return info, objects
