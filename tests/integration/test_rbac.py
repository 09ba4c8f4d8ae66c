"""The RBAC in deploy/rbac/rbac.yaml is exactly what eksup needs: every request of a run is
allowed by it, and every rule is used by some request."""

import yaml

from harness import ROOT, run_eksup


def request_to_attributes(path):
    """(apiGroup, resource, verb, namespace, name) for a resource request; None for /version."""
    segs = [s for s in path.split("/") if s]
    if segs[0] == "api":
        group, rest = "", segs[2:]
    elif segs[0] == "apis":
        group, rest = segs[1], segs[3:]
    else:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    return group, resource, "get" if name else "list", namespace, name


def allowing_rules(docs, attrs):
    group, resource, verb, namespace, name = attrs
    hits = []
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        if doc["kind"] == "Role" and doc["metadata"]["namespace"] != namespace:
            continue
        for i, rule in enumerate(doc["rules"]):
            if (group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
                    and ("resourceNames" not in rule or name in rule["resourceNames"])):
                hits.append((doc["metadata"]["name"], i))
    return hits


def test_rbac_covers_every_request_and_nothing_unused(eks_cluster, tmp_path, standin):
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "rbac" / "rbac.yaml").read_text()))
    for doc in docs:
        for rule in doc.get("rules", []):
            assert set(rule["verbs"]) <= {"get", "list"}, rule
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"], rule
    name, kube = eks_cluster("trips-everything.yaml")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    used = set()
    for r in kube.stats():
        attrs = request_to_attributes(r["path"])
        if attrs is None:
            assert r["path"] == "/version"
            continue
        hits = allowing_rules(docs, attrs)
        assert hits, f"no RBAC rule allows {attrs}"
        used.update(hits)
    declared = {(d["metadata"]["name"], i) for d in docs if "rules" in d for i in range(len(d["rules"]))}
    assert declared == used, f"unused rules: {declared - used}"
