"""Generated clusters for load tests.

Spec: comma-separated `key=value`: deployments (2000), replicasets_per_deployment (5),
unowned_replicasets (10), cronjobs (100), jobs_per_cronjob (3), unowned_jobs (5),
nodes (50), namespaces (40), version (v1.30.4-eks-1), real_crds (0; 1 adds every
CustomResourceDefinition of ../shared/data/realworld, 38 real CRDs with their schemas),
cascade_orphans (0: ReplicaSets left behind by a Deployment deleted with `--cascade=orphan`,
which keep the `pod-template-hash` label but lose their owner), server_fields (0; 1 gives
every object the `managedFields`, `status` and bookkeeping metadata a real API server
adds, as kube-apiserver 1.30 writes them).

ReplicaSets a Deployment owns carry `pod-template-hash`, as the Deployment controller sets it.
"""

import hashlib

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


def _hash(text):
    """A pod-template-hash-like token (10 characters of [a-z0-9])."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _job_pod_spec(name):
    """A Job's pods may not restart Always: a real API server refuses the Job otherwise."""
    return {**_pod_spec(name), "restartPolicy": "OnFailure"}


def _managed(manager, operation, fields, subresource=None):
    entry = {"manager": manager, "operation": operation, "apiVersion": "apps/v1",
             "time": "2026-11-30T08:15:42Z", "fieldsType": "FieldsV1", "fieldsV1": fields}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _server_fields(obj, index):
    """What kube-apiserver and the controllers add to an object: uid, resourceVersion,
    generation, creationTimestamp, managedFields (kubectl's apply, the controller's status
    updates) and a status section."""
    meta = obj["metadata"]
    kind = obj["kind"]
    meta.update({"uid": f"{_hash(kind + meta['name'])[:8]}-0000-4000-8000-{index:012d}",
                 "resourceVersion": str(1000000 + index), "generation": 3,
                 "creationTimestamp": "2026-11-01T10:00:00Z"})
    labels = {f"f:{k}": {} for k in meta.get("labels", {})}
    spec_fields = {"f:replicas": {}, "f:selector": {}, "f:template": {
        "f:metadata": {"f:labels": labels},
        "f:spec": {"f:containers": {'k:{"name":"app"}': {
            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:livenessProbe": {"f:httpGet": {"f:path": {}, "f:port": {}}},
            "f:name": {}, "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
            "f:readinessProbe": {"f:httpGet": {"f:path": {}, "f:port": {}}}, "f:resources": {"f:limits": {}, "f:requests": {}}}},
            "f:terminationGracePeriodSeconds": {}, "f:topologySpreadConstraints": {}}}}
    status_fields = {"f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {},
                                  "f:readyReplicas": {}, "f:replicas": {}}}
    if kind == "Node":
        meta["managedFields"] = [
            _managed("kubelet", "Update", {"f:metadata": {"f:labels": labels}}),
            _managed("kubelet", "Update", {"f:status": {"f:allocatable": {}, "f:capacity": {}, "f:conditions": {},
                                                        "f:images": {}, "f:nodeInfo": {}}}, "status"),
        ]
        obj["status"] = {
            **obj.get("status", {}),
            "capacity": {"cpu": "8", "memory": "32386544Ki", "pods": "58", "ephemeral-storage": "83873772Ki"},
            "allocatable": {"cpu": "7910m", "memory": "31369712Ki", "pods": "58", "ephemeral-storage": "76224326324"},
            "conditions": [{"type": t, "status": "False" if t != "Ready" else "True",
                            "lastHeartbeatTime": "2026-12-01T10:00:00Z", "lastTransitionTime": "2026-11-01T10:00:00Z",
                            "reason": f"Kubelet{t}", "message": f"kubelet reports {t}"}
                           for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
            "addresses": [{"type": "InternalIP", "address": f"10.0.{index // 250}.{index % 250}"},
                          {"type": "Hostname", "address": meta["name"]}],
            "images": [{"names": [f"123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-{i:05d}@sha256:{_hash(str(i)) * 6}",
                                  f"123456789012.dkr.ecr.us-east-1.amazonaws.com/svc-{i:05d}:1.0.0"],
                        "sizeBytes": 50000000 + i} for i in range(index % 7, index % 7 + 8)],
        }
        obj["status"]["nodeInfo"] = {"machineID": _hash(meta["name"]) * 3, "systemUUID": _hash(meta["name"] + "u") * 3,
                                     "bootID": _hash(meta["name"] + "b"), "kernelVersion": "6.1.115-126.197.amzn2023.x86_64",
                                     "osImage": "Amazon Linux 2023.6.20241121", "containerRuntimeVersion": "containerd://1.7.23",
                                     "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
                                     **obj["status"].get("nodeInfo", {})}
        return obj
    meta["managedFields"] = [
        _managed("kubectl-client-side-apply" if kind == "Deployment" else "kube-controller-manager", "Update",
                 {"f:metadata": {"f:annotations": {}, "f:labels": labels}, "f:spec": spec_fields}),
        _managed("kube-controller-manager", "Update", status_fields, "status"),
    ]
    if kind in ("Deployment", "ReplicaSet"):
        replicas = obj.get("spec", {}).get("replicas", 1)
        obj["status"] = {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                         "observedGeneration": 3, "conditions": [
                             {"type": "Available", "status": "True", "lastUpdateTime": "2026-11-30T08:16:10Z",
                              "lastTransitionTime": "2026-11-30T08:16:10Z", "reason": "MinimumReplicasAvailable",
                              "message": "Deployment has minimum availability."}]}
    return obj


def generate(spec):
    opts = {
        "deployments": 2000, "replicasets_per_deployment": 5, "unowned_replicasets": 10,
        "cronjobs": 100, "jobs_per_cronjob": 3, "unowned_jobs": 5, "nodes": 50,
        "namespaces": 40, "version": "v1.30.4-eks-1", "real_crds": 0, "cascade_orphans": 0,
        "server_fields": 0,
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
            template_hash = _hash(f"{name}/{r}")
            objects.append({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{name}-{template_hash}", "namespace": ns(i),
                             "labels": {**labels, "pod-template-hash": template_hash},
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
    for i in range(opts["cascade_orphans"]):
        # `kubectl delete deployment --cascade=orphan`: the garbage collector removes the
        # owner reference; the label the Deployment controller set stays.
        name = f"leftover-{i:03d}"
        template_hash = _hash(name)
        objects.append({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{name}-{template_hash}", "namespace": ns(i),
                         "labels": {"app": name, "pod-template-hash": template_hash}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name, "pod-template-hash": template_hash}},
                     "template": {"metadata": {"labels": {"app": name, "pod-template-hash": template_hash}},
                                  "spec": _pod_spec(name)}},
        })
    for i in range(opts["cronjobs"]):
        name = f"batch-{i:04d}"
        objects.append({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": name, "namespace": ns(i)},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": _job_pod_spec(name)}}}},
        })
        for j in range(opts["jobs_per_cronjob"]):
            objects.append({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": f"{name}-{j}", "namespace": ns(i),
                             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                                                  "uid": f"c-{i}", "controller": True}]},
                "spec": {"template": {"spec": _job_pod_spec(name)}},
            })
    for i in range(opts["unowned_jobs"]):
        name = f"oneoff-{i:03d}"
        objects.append({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": ns(i)},
            "spec": {"template": {"spec": _job_pod_spec(name)}},
        })
    if opts["server_fields"]:
        objects = [_server_fields(o, i) for i, o in enumerate(objects)]
    if opts["real_crds"]:
        objects.extend(real_crds())
    info = {"gitVersion": opts["version"], "crds": []}
    return info, objects
