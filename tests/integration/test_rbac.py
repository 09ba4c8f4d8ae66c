"""The RBAC of the kustomize base (deploy/kubernetes/base) is exactly what eksup needs: every
request of a run is allowed by it, and every rule is used by some request of a run with every
optional source on (the K8S105 CRD list is off by default; the role keeps its rule so that
enabling it needs no RBAC change)."""

from harness import run_eksup
from manifests import BASE, render


def request_to_attributes(path):
    """(apiGroup, resource, verb, namespace, name) for a resource request; the path alone for a
    non-resource URL (/version)."""
    segs = [s for s in path.split("/") if s]
    if segs[0] == "api":
        group, rest = "", segs[2:]
    elif segs[0] == "apis":
        group, rest = segs[1], segs[3:]
    else:
        return path
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    return group, resource, "get" if name else "list", namespace, name


def allowing_rules(docs, attrs):
    if isinstance(attrs, str):
        # A non-resource URL: only a ClusterRole can grant it, by nonResourceURLs.
        return [(d["metadata"]["name"], i) for d in docs if d["kind"] == "ClusterRole"
                for i, rule in enumerate(d["rules"])
                if attrs in rule.get("nonResourceURLs", []) and "get" in rule["verbs"]]
    group, resource, verb, namespace, name = attrs
    hits = []
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        if doc["kind"] == "Role" and doc["metadata"]["namespace"] != namespace:
            continue
        for i, rule in enumerate(doc["rules"]):
            if "nonResourceURLs" in rule:
                continue
            if (group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
                    and ("resourceNames" not in rule or name in rule["resourceNames"])):
                hits.append((doc["metadata"]["name"], i))
    return hits


def test_rbac_covers_every_request_and_nothing_unused(eks_cluster, tmp_path, standin):
    docs = [d for d in render(BASE) if d["kind"] in ("ClusterRole", "Role")]
    assert {d["kind"] for d in docs} == {"ClusterRole", "Role"}
    for doc in docs:
        for rule in doc["rules"]:
            assert set(rule["verbs"]) <= {"get", "list"}, rule
            resources = rule.get("resources", [])
            assert "secrets" not in resources and "*" not in resources, rule
            assert not any("/" in r for r in resources), f"subresource granted: {rule}"
    name, kube = eks_cluster("trips-everything.yaml")
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S105:\n    enabled: true\n")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    used = set()
    for r in kube.stats():
        attrs = request_to_attributes(r["path"])
        hits = allowing_rules(docs, attrs)
        assert hits, f"no RBAC rule allows {attrs}"
        used.update(hits)
    declared = {(d["metadata"]["name"], i) for d in docs if "rules" in d for i in range(len(d["rules"]))}
    assert declared == used, f"unused rules: {declared - used}"
