"""K8S106 end to end on the real binary against the fake API server: admission webhooks,
APIServices and CRD conversion webhooks judged by the ready endpoints of the Services they
name, `url` webhooks listed as skipped, and the least load: three small cluster-scoped lists,
then a GET of each named Service and a label-selected EndpointSlice list in its namespace —
never a cluster-wide Service or EndpointSlice list."""

import json
from collections import Counter
from pathlib import Path

from harness import ROOT, run_eksup

VALIDATING = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MUTATING = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
API_SERVICES = "/apis/apiregistration.k8s.io/v1/apiservices"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
# The Services the webhooks and the conversion webhook name, and nothing else.
NAMED = {("policy", "policy-webhook"), ("policy", "audit-webhook"), ("mesh", "injector"),
         ("legacy", "removed-webhook"), ("widgets", "widget-converter")}
ENABLE_CRDS = "checks:\n  K8S105:\n    enabled: true\n"

# (remediation, kind, resource, webhook) of every K8S106 finding of api-extensions.yaml.
EXPECTED = sorted([
    ("required", "ValidatingWebhookConfiguration", "policy-gate", "validate.policy.example.com"),
    ("recommended", "ValidatingWebhookConfiguration", "policy-gate", "audit.policy.example.com"),
    ("required", "MutatingWebhookConfiguration", "sidecar-injector", "defaults.legacy.example.com"),
    ("required", "APIService", "v1beta1.metrics.k8s.io", ""),
    ("required", "APIService", "v1beta1.external.metrics.k8s.io", ""),
    ("recommended", "APIService", "v1alpha1.reports.example.com", ""),
    ("required", "CustomResourceDefinition", "widgets.example.com", ""),
])


def k8s106(report):
    return [f for f in report["findings"] if f["code"] == "K8S106"]


def rows(report):
    return sorted((f["remediation"], f["resource_kind"], f["resource_name"], f["details"].get("webhook", ""))
                  for f in k8s106(report))


def extension_requests(reqs):
    """The requests K8S106 made: its three lists, Service GETs and EndpointSlice lists."""
    return [r for r in reqs if r["path"] in (VALIDATING, MUTATING, API_SERVICES)
            or "/services" in r["path"] or "endpointslices" in r["path"]]


def test_every_case_of_k8s106_and_what_it_read(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("api-extensions.yaml")
    (tmp_path / ".eksup.yaml").write_text(ENABLE_CRDS)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    assert report["collection_errors"] == []
    assert rows(report) == EXPECTED
    assert {f["code"] for f in report["findings"]} == {"K8S106"}, "the fixture trips nothing else"
    by = {(f["resource_name"], f["details"].get("webhook", "")): f for f in k8s106(report)}
    fail = by[("policy-gate", "validate.policy.example.com")]
    assert fail["details"]["failure_policy"] == "Fail", "unset means Fail in v1"
    assert fail["details"]["backends"] == {"ready": 0, "total": 1}
    assert "none of the 1 endpoint(s) of Service policy/policy-webhook is ready" in fail["message"]
    assert "pods drained from old nodes are not re-created" in fail["message"]
    ignore = by[("policy-gate", "audit.policy.example.com")]
    assert (ignore["details"]["failure_policy"], ignore["details"]["backend"]) == ("Ignore", "no_endpoints")
    missing = by[("sidecar-injector", "defaults.legacy.example.com")]
    assert missing["details"]["backend"] == "missing"
    assert "Service legacy/removed-webhook does not exist" in missing["message"]
    metrics = by[("v1beta1.metrics.k8s.io", "")]
    assert metrics["details"]["reason"] == "MissingEndpoints"
    assert "MissingEndpoints" in metrics["message"] and "HorizontalPodAutoscalers" in metrics["message"]
    assert by[("v1alpha1.reports.example.com", "")]["details"]["reason"] == "FailedDiscoveryCheck"
    conversion = by[("widgets.example.com", "")]
    assert conversion["details"] == {"service": "widgets/widget-converter", "backend": "no_endpoints",
                                     "backends": {"ready": 0, "total": 0}, "served_versions": ["v1", "v2"]}
    # Silent: the injector with ready endpoints (one with `ready` unset), the local APIService,
    # the CRD without a conversion webhook.
    flagged = json.dumps(k8s106(report))
    for silent in ("inject.mesh.example.com", "v1.apps", "gadgets.example.com"):
        assert silent not in flagged, silent
    # The url webhook is listed as skipped, by resource, with the reason; it fails closed, so
    # it is a blind spot, yet the check ran: it counts once among the checks run.
    per_resource = [s for s in report["skipped_checks"] if s.get("resource")]
    assert len(per_resource) == 1, report["skipped_checks"]
    url = per_resource[0]
    assert (url["code"], url["cause"]) == ("K8S106", "not_collected")
    assert url["resource"] == {"kind": "ValidatingWebhookConfiguration", "namespace": "",
                               "name": "policy-gate"}
    assert "saas.vendor.example.com" in url["reason"] and "https://hooks.vendor.example.com/validate" in url["reason"]
    meta = report["metadata"]
    assert meta["readiness"] == "blocked"
    assert meta["checks_skipped"] == len([s for s in report["skipped_checks"] if not s.get("resource")])
    assert "K8S106" in report["summary"]["checks_with_findings"]
    assert report["summary"]["required"] == 5 and report["summary"]["recommended"] == 2

    # What was read for K8S106: each list once, then only the named Services by GET and only
    # their EndpointSlices, by label, in their namespace.
    reqs = kube.stats()
    by_path = Counter(r["path"] for r in reqs)
    for path in (VALIDATING, MUTATING, API_SERVICES, CRDS):
        assert by_path[path] == 1, path
    gets = {tuple(r["path"].split("/")[4:7:2]) for r in reqs if "/services/" in r["path"]}
    assert gets == NAMED
    assert len([r for r in reqs if "/services/" in r["path"]]) == len(NAMED), "one GET per Service"
    slices = [r for r in reqs if "endpointslices" in r["path"]]
    # One per existing, non-ExternalName Service (the removed one has none to list).
    assert sorted((r["path"].split("/")[5], r["query"]["labelSelector"]) for r in slices) == sorted(
        (ns, f"kubernetes.io/service-name={svc}") for ns, svc in NAMED - {("legacy", "removed-webhook")})
    for r in reqs:
        assert r["path"] not in ("/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"), r
        if "endpointslices" in r["path"]:
            assert r["query"].get("labelSelector", "").startswith("kubernetes.io/service-name="), r
        # gzip is the fake's record; a real server compresses only answers above 128 KiB.
        assert r["method"] == "GET" and (kube.real or r["gzip"])
    assert "policy-ui" not in json.dumps(reqs), "a Service nothing names is never read"
    log = [{"path": r["path"] + (f"?labelSelector={r['query']['labelSelector']}" if "labelSelector" in r["query"] else ""),
            "status": r["status"], "bytes": r.get("bytes")} for r in extension_requests(reqs)]
    figures = {"requests": len(log), "bytes": sum(r["bytes"] or 0 for r in log), "log": log,
               "findings": [f"{f['remediation']:<11} {f['resource_kind']} {f['resource_name']}: {f['message']}"
                            for f in k8s106(report)],
               "skipped": [f"{s['code']} {s['cause']}: {s['reason']}" for s in per_resource]}
    out = Path(ROOT / "target-figures")
    out.mkdir(exist_ok=True)
    (out / "api-extensions.json").write_text(json.dumps(figures, indent=2))
    print("K8S106:", json.dumps(figures, indent=2))

    # The playbook says what to do before the upgrade.
    playbook = run_eksup(["playbook", "--cluster", name, "--output", "-"], tmp_path, aws_url=standin)
    assert playbook.code == 0, playbook.stderr
    text = playbook.stdout
    section = text.split("### API extensions that must answer", 1)[1].split("\n### ", 1)[0]
    assert "failurePolicy: Ignore" in section and "policy-gate" in section and "v1beta1.metrics.k8s.io" in section


def test_without_the_crd_list_conversion_webhooks_are_not_read(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("api-extensions.yaml")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    assert rows(run.json()) == [r for r in EXPECTED if r[1] != "CustomResourceDefinition"]
    paths = {r["path"] for r in kube.stats()}
    assert CRDS not in paths
    assert not any("widget-converter" in p for p in paths), "no CRD list, so no converter read"


def test_a_failed_list_skips_the_check_and_a_failed_service_read_skips_its_webhook(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("api-extensions.yaml", kube="fake")  # 403 on demand
    kube.faults({"path": f"^{API_SERVICES}$", "status": 403, "times": -1,
                 "message": "apiservices.apiregistration.k8s.io is forbidden"})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    errors = {e["source"]: e["message"] for e in report["collection_errors"]}
    assert "forbidden" in errors["kubernetes/apiservices"]
    skipped = next(s for s in report["skipped_checks"] if s["code"] == "K8S106" and not s.get("resource"))
    assert skipped["cause"] == "not_collected" and skipped["reason"].startswith("kubernetes/apiservices could not be read")
    assert k8s106(report) == [], "skipped, never clean"
    assert report["metadata"]["readiness"] == "unknown"

    kube.reset()
    kube.faults({"path": "^/api/v1/namespaces/policy/services/policy-webhook$", "status": 403, "times": -1,
                 "message": "services \"policy-webhook\" is forbidden"})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    errors = {e["source"]: e["message"] for e in report["collection_errors"]}
    assert errors["kubernetes/webhook-services"].startswith("Service policy/policy-webhook: HTTP 403")
    # The other webhooks are still judged; the one whose Service could not be read is skipped.
    assert ("required", "ValidatingWebhookConfiguration", "policy-gate", "validate.policy.example.com") not in rows(report)
    assert ("required", "APIService", "v1beta1.metrics.k8s.io", "") in rows(report)
    unread = [s for s in report["skipped_checks"] if s.get("resource") and "validate.policy.example.com" in s["reason"]]
    assert len(unread) == 1 and unread[0]["cause"] == "not_collected"
    assert "could not be read: HTTP 403" in unread[0]["reason"]


def test_disabled_k8s106_reads_nothing_and_a_snapshot_keeps_the_findings(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("api-extensions.yaml")
    live = run_eksup(["analyze", "--cluster", name, "--format", "json", "--save-snapshot", "snap.json"],
                     tmp_path, aws_url=standin)
    assert live.code == 0, live.stderr
    offline = run_eksup(["analyze", "--snapshot", "snap.json", "--format", "json"], tmp_path,
                        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert offline.code == 0, offline.stderr
    assert rows(offline.json()) == rows(live.json()) != []
    kube.reset()
    (tmp_path / ".eksup.yaml").write_text("checks:\n  disabled: [K8S106]\n")
    quiet = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert quiet.code == 0, quiet.stderr
    assert extension_requests(kube.stats()) == []
    assert k8s106(quiet.json()) == []
