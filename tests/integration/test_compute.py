"""EKS102 (Auto Mode), EKS103 (self-managed Karpenter), EKS104 (Hybrid Nodes), K8S104
(deprecated APIs still called) and K8S105 (CRD stored versions) on the real binary: the
stand-in serves computeConfig, remoteNetworkConfig and insights with clientStats (moto stores
none of them); the fake API server serves NodePools, EC2NodeClasses, CRDs and /metrics."""

from collections import Counter

from aws_fixture import addon_catalog
from harness import ROOT, run_eksup

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
FIXTURES = ROOT / "tests" / "fixtures" / "clusters"

AUTO_MODE_ADDONS = [
    {"addonName": "coredns", "addonVersion": "v1.11.1-eksbuild.4",
     "health": {"issues": [{"code": "InsufficientNumberOfReplicas", "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.", "resourceIds": []}]}},
    {"addonName": "vpc-cni", "addonVersion": "v1.15.0-eksbuild.1"},
    {"addonName": "kube-proxy", "addonVersion": "v1.30.0-eksbuild.1"},
]
AUTO_MODE_AWS = {
    "cluster": {"computeConfig": {"enabled": True, "nodePools": ["general-purpose", "system"],
                                  "nodeRoleArn": "arn:aws:iam::123456789012:role/auto-node"}},
    # Every node is an Auto Mode node: these add-ons serve none, and are listed as skipped.
    "addons": AUTO_MODE_ADDONS,
    # 1.35 supports none of the installed versions: judged, each would be required.
    "addon_versions": {"1.35": [
        addon_catalog("coredns", ["v1.12.1-eksbuild.2"], "v1.12.1-eksbuild.2", "1.35"),
        addon_catalog("vpc-cni", ["v1.20.4-eksbuild.1"], "v1.20.4-eksbuild.1", "1.35"),
        addon_catalog("kube-proxy", ["v1.35.0-eksbuild.2"], "v1.35.0-eksbuild.2", "1.35"),
    ]},
}
# The same add-ons beside the managed node group `workers`, whose node they serve.
MIXED_AWS = {**AUTO_MODE_AWS, "node_groups": [{"name": "workers", "subnets": ["a"]}]}
AUTO_ONLY = "managed by Auto Mode; no node runs it"

HYBRID_AWS = {
    "cluster": {"remoteNetworkConfig": {"remoteNodeNetworks": [{"cidrs": ["10.80.0.0/16"]}],
                                        "remotePodNetworks": [{"cidrs": ["10.85.0.0/16"]}]}},
}

# DescribeInsight as EKS publishes it: categorySpecificSummary.deprecationDetails with clientStats.
DEPRECATION_INSIGHT = {
    "id": "dep-1", "name": "Deprecated APIs removed in Kubernetes v1.32", "category": "UPGRADE_READINESS",
    "kubernetesVersion": "1.32", "description": "Checks for usage of deprecated APIs", "lastRefreshTime": 1763596800,
    "lastTransitionTime": 1763000000,
    "insightStatus": {"status": "ERROR", "reason": "Deprecated API usage detected within last 30 days"},
    "recommendation": "Update manifests and API clients to use newer Kubernetes APIs.",
    "additionalInfo": {},
    "resources": [],
    "categorySpecificSummary": {"deprecationDetails": [
        {"usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
         "replacedWith": "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas",
         "stopServingVersion": "1.32", "startServingReplacementVersion": "1.29",
         "clientStats": [{"userAgent": "kube-state-metrics/v2.10.0", "numberOfRequestsLast30Days": 4320,
                          "lastRequestTime": 1763593200},
                         {"userAgent": "datadog-cluster-agent/7.50.0", "numberOfRequestsLast30Days": 12,
                          "lastRequestTime": 1763500000}]},
        {"usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/prioritylevelconfigurations",
         "replacedWith": "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
         "stopServingVersion": "1.32", "startServingReplacementVersion": "1.29", "clientStats": []},
    ]},
}


def analyze(eks_cluster, tmp_path, standin, fixture, version, aws, extra=()):
    name, kube = eks_cluster(fixture, version=version, aws=aws)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", *extra], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    return name, kube, run.json()


def rows(report, *codes):
    return sorted((f["code"], f["remediation"], f["resource_kind"], f["resource_namespace"], f["resource_name"])
                  for f in report["findings"] if f["code"] in codes)


def playbook(name, tmp_path, standin, target):
    run = run_eksup(["playbook", "--cluster", name], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    return (tmp_path / f"{name}-v{target}-upgrade.md").read_text()


def test_auto_mode(eks_cluster, tmp_path, standin):
    name, _, report = analyze(eks_cluster, tmp_path, standin, "auto-mode.yaml", "1.34", AUTO_MODE_AWS)
    assert rows(report, "EKS102") == [
        ("EKS102", "recommended", "Deployment", "payments", "ledger"),
        ("EKS102", "required", "NodePool", "", "batch"),
    ]
    # Each add-on and the kube-proxy DaemonSet is accounted for by name, none judged.
    def named(r):
        return r and (f"{r['kind']} {r['namespace']}/{r['name']}" if r["namespace"] else f"{r['kind']} {r['name']}")
    skipped = sorted((s["code"], named(s.get("resource")), s["reason"], s["cause"]) for s in report["skipped_checks"]
                     if s["code"] in ("EKS004", "EKS005", "K8S011", "K8S012"))
    assert skipped == sorted(
        [(code, f"Addon {a['addonName']}", AUTO_ONLY, "not_applicable")
         for code in ("EKS004", "EKS005") for a in AUTO_MODE_ADDONS]
        + [(code, "DaemonSet kube-system/kube-proxy", AUTO_ONLY, "not_applicable") for code in ("K8S011", "K8S012")])
    skipped = {s["code"]: s["reason"] for s in report["skipped_checks"]}
    assert skipped["EKS103"] == "EKS Auto Mode manages Karpenter; no self-managed controller runs"
    assert not rows(report, "EKS004", "EKS005", "K8S011", "K8S012", "EKS103")
    # The four checks judged nothing, so they count as skipped, once each.
    assert report["metadata"]["checks_skipped"] == len({s["code"] for s in report["skipped_checks"]})
    text = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert "  EKS005 (Addon coredns)  managed by Auto Mode; no node runs it" in text.stdout, text.stdout
    assert "  K8S011 (DaemonSet kube-system/kube-proxy)  managed by Auto Mode; no node runs it" in text.stdout
    print("\n".join(l for l in text.stdout.splitlines() if AUTO_ONLY in l))
    md = playbook(name, tmp_path, standin, "1.35")
    assert "#### EKS Auto Mode nodes (1.35)" in md
    assert "· EKS102 · NodePool `batch`" in md
    assert "| `overnight` | `nodes: 0` during `0 8 * * mon-fri` for 12h, `nodes: 20%` always |" in md
    assert "#### Managed node group" not in md and "update-nodegroup-version" not in md
    assert "#### Addon coredns" not in md, "Auto Mode's own addons get no update step"
    assert "- EKS005 (Addon coredns): managed by Auto Mode; no node runs it" in md


def test_auto_mode_beside_a_node_group(eks_cluster, tmp_path, standin):
    """A managed node group beside Auto Mode: its node runs the add-ons and kube-proxy, so
    they are judged exactly as without Auto Mode, and the message says whom they serve."""
    name, _, report = analyze(eks_cluster, tmp_path, standin, "auto-mode-mixed.yaml", "1.34", MIXED_AWS)
    assert rows(report, "EKS004", "EKS005", "K8S011", "K8S012") == [
        ("EKS004", "required", "Addon", "", "coredns"),
        ("EKS005", "required", "Addon", "", "coredns"),
        ("EKS005", "required", "Addon", "", "kube-proxy"),
        ("EKS005", "required", "Addon", "", "vpc-cni"),
        ("K8S011", "required", "DaemonSet", "kube-system", "kube-proxy"),
        ("K8S012", "recommended", "ConfigMap", "kube-system", "kube-proxy-config"),
    ]
    assert not {"EKS004", "EKS005", "K8S011", "K8S012"} & {s["code"] for s in report["skipped_checks"]}
    serves = "(1 managed node group(s), 1 node(s) outside Auto Mode)"
    coredns = next(f for f in report["findings"] if f["code"] == "EKS005" and f["resource_name"] == "coredns")
    assert coredns["message"] == (
        "coredns v1.11.1-eksbuild.4 is not supported on Kubernetes 1.35; update it to v1.12.1-eksbuild.2 before "
        "that upgrade. EKS Auto Mode runs its own coredns on its nodes; this add-on serves the rest of the "
        f"cluster {serves}")
    proxy = next(f for f in report["findings"] if f["code"] == "K8S011")
    assert proxy["message"].endswith(f"the kube-proxy DaemonSet serves the rest of the cluster {serves}")
    text = run_eksup(["analyze", "--cluster", name], tmp_path, aws_url=standin)
    assert text.code == 0, text.stderr
    print("\n".join(f["message"] for f in report["findings"] if f["code"] == "EKS005"))
    md = playbook(name, tmp_path, standin, "1.35")
    assert "#### Addon coredns" in md, "the add-ons serving the node group get their update step"


AUTO_MODE_SKIPS = {"EKS004", "EKS005", "K8S011", "K8S012", "EKS103"}


def test_auto_mode_skips_do_not_make_the_verdict_unknown(eks_cluster, tmp_path, standin):
    """What Auto Mode runs itself is skipped as not applicable, so the verdict follows the
    findings: blocked by the NodePool that never lets a node go, and ready once that budget
    is gone, with the same Auto Mode skips."""
    _, _, report = analyze(eks_cluster, tmp_path, standin, "auto-mode.yaml", "1.34", AUTO_MODE_AWS)
    causes = {s["code"]: s["cause"] for s in report["skipped_checks"]}
    # Nothing else is skipped but the opt-in K8S105 and K8S016 (from 1.36); nothing is blind.
    assert causes == {**dict.fromkeys(AUTO_MODE_SKIPS, "not_applicable"), "K8S105": "not_applicable",
                      "K8S016": "not_applicable"}
    required = [(f["code"], f["resource_name"]) for f in report["findings"] if f["remediation"] == "required"]
    assert required == [("EKS102", "batch")]
    assert report["metadata"]["readiness"] == "blocked"
    # The same cluster with the batch NodePool letting its nodes go: nothing required is
    # left, and the skips stay what they were.
    fixed = tmp_path / "auto-mode-fixed.yaml"
    text = (FIXTURES / "auto-mode.yaml").read_text()
    assert text.count('budgets: [{nodes: "0"}]') == 1
    fixed.write_text(text.replace('budgets: [{nodes: "0"}]', 'budgets: [{nodes: "10%"}]'))
    name, _, after = analyze(eks_cluster, tmp_path, standin, str(fixed), "1.34", AUTO_MODE_AWS)
    assert not [f for f in after["findings"] if f["remediation"] == "required"], after["findings"]
    assert {s["code"]: s["cause"] for s in after["skipped_checks"]} == causes
    assert after["metadata"]["readiness"] == "ready", after["skipped_checks"]
    gate = run_eksup(["analyze", "--cluster", name, "--fail-on", "unknown", "-o", "r.json"], tmp_path,
                     aws_url=standin)
    assert gate.code == 0, gate.stderr


def test_karpenter(eks_cluster, tmp_path, standin):
    name, _, report = analyze(eks_cluster, tmp_path, standin, "karpenter.yaml", "1.31", {})
    assert rows(report, "EKS103", "EKS008") == [
        ("EKS008", "recommended", "EC2NodeClass", "", "legacy"),
        ("EKS103", "recommended", "EC2NodeClass", "", "default"),
        ("EKS103", "recommended", "NodePool", "", "critical"),
        ("EKS103", "required", "Deployment", "kube-system", "karpenter"),
    ]
    controller = next(f for f in report["findings"] if f["code"] == "EKS103" and f["resource_kind"] == "Deployment")
    assert "Karpenter 1.0.6 is older than 1.2.0, the minimum for Kubernetes 1.32" in controller["message"]
    assert controller["details"]["source"] == "https://karpenter.sh/docs/upgrading/compatibility/"
    assert "EKS103" not in {s["code"] for s in report["skipped_checks"]}
    md = playbook(name, tmp_path, standin, "1.32")
    assert "### Karpenter controller" in md
    assert "#### Karpenter NodePool default (1.32)" in md and "#### Karpenter NodePool critical (1.32)" in md
    assert "kubectl patch ec2nodeclass default --type merge" in md
    assert "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/release_version" in md
    assert "· EKS008 · EC2NodeClass `legacy`" in md
    # The AL2 class is pinned to AL2023, never to an AL2 alias with an AL2023 release number.
    assert "kubectl patch ec2nodeclass legacy" in md and '\\"alias\\":\\"al2023@v${RELEASE##*-}' in md
    assert '\\"alias\\":\\"al2@' not in md
    assert "first).\n\n- [ ] Pin the AMI release" in md


def test_karpenter_older_hop_in_two_hops(eks_cluster, tmp_path, standin):
    """Every hop's minimum applies: 1.0.6 passes 1.31 but not 1.32 on the way to 1.33."""
    name, _ = eks_cluster("karpenter.yaml", version="1.31")
    run = run_eksup(["analyze", "--cluster", name, "--format", "json", "--target-version", "1.33"],
                    tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    f = next(f for f in run.json()["findings"] if f["code"] == "EKS103" and f["resource_kind"] == "Deployment")
    assert "the minimum for Kubernetes 1.33" in f["message"]
    assert [h["minimum"] for h in f["details"]["minimum_by_hop"]] == ["1.2.0", "1.5.0"]


def test_hybrid_nodes(eks_cluster, tmp_path, standin):
    name, _, report = analyze(eks_cluster, tmp_path, standin, "hybrid.yaml", "1.31", HYBRID_AWS)
    assert rows(report, "EKS104") == [("EKS104", "recommended", "Node", "", "v1.30.9-eks-5e0fdde")]
    f = next(f for f in report["findings"] if f["code"] == "EKS104")
    assert f["details"]["nodes"] == ["mi-0123456789abcdef0", "mi-0123456789abcdef1"]
    assert ("K8S001", "recommended", "Node", "", "v1.30.9-eks-5e0fdde") in rows(report, "K8S001")
    md = playbook(name, tmp_path, standin, "1.32")
    assert "#### Hybrid nodes (1.32)" in md
    assert "sudo nodeadm upgrade 1.32" in md
    assert "`mi-0123456789abcdef2`" in md


def test_no_hybrid_finding_without_remote_network(eks_cluster, tmp_path, standin):
    _, _, report = analyze(eks_cluster, tmp_path, standin, "hybrid.yaml", "1.31", {})
    assert rows(report, "EKS104") == []


def test_deprecated_apis_still_called(eks_cluster, tmp_path, standin):
    # K8S105's CRD list is opt-in.
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S105:\n    enabled: true\n")
    name, kube, report = analyze(eks_cluster, tmp_path, standin, "deprecated-apis.yaml", "1.31",
                                 {"insights": [DEPRECATION_INSIGHT]})
    assert rows(report, "K8S104", "K8S105") == [
        ("K8S104", "recommended", "API", "", "nodepools.karpenter.sh/v1beta1"),
        ("K8S104", "required", "API", "", "flowschemas.flowcontrol.apiserver.k8s.io/v1beta3"),
        ("K8S105", "recommended", "CustomResourceDefinition", "", "widgets.example.com"),
    ]
    flows = next(f for f in report["findings"] if f["resource_name"].startswith("flowschemas"))
    d = flows["details"]
    assert (d["group"], d["version"], d["resource"]) == ("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas")
    assert d["removed_release"] == "1.32"
    assert d["replacement"] == "flowcontrol.apiserver.k8s.io/v1 flowschemas"
    assert d["callers"] == ["datadog-cluster-agent/7.50.0", "kube-state-metrics/v2.10.0"]
    sources = {e["source"]: e for e in d["evidence"]}
    assert sources["eks-insights"]["window"] == "the 30 days to 2025-11-20T00:00:00+00:00"
    assert sources["eks-insights"]["clients"][0]["requests_last_30_days"] == 4320
    assert sources["apiserver-metrics"]["window"].startswith("since the API server process that answered started")
    # A deprecation the insight lists without any client is not evidence of a call.
    assert not any("prioritylevelconfigurations" in f["resource_name"] for f in report["findings"])
    karp = next(f for f in report["findings"] if f["resource_name"] == "nodepools.karpenter.sh/v1beta1")
    assert karp["details"]["callers"] == [] and "callers unknown" in karp["message"]
    # eksup's own requests never show up in the API server's deprecated-API metric.
    assert sorted((r["group"], r["version"]) for r in kube.deprecated_requested()) == [
        ("flowcontrol.apiserver.k8s.io", "v1beta3"), ("karpenter.sh", "v1beta1")]
    by_path = Counter(r["path"] for r in kube.stats())
    assert by_path["/metrics"] == 1
    assert by_path[CRDS] == 1
    metrics = next(r for r in kube.stats() if r["path"] == "/metrics")
    assert metrics["gzip"] and metrics["status"] == 200


def test_metrics_source_can_be_turned_off(eks_cluster, tmp_path, standin):
    (tmp_path / ".eksup.yaml").write_text("checks:\n  K8S104:\n    api_server_metrics: false\n")
    _, kube, report = analyze(eks_cluster, tmp_path, standin, "deprecated-apis.yaml", "1.31",
                              {"insights": [DEPRECATION_INSIGHT]})
    paths = {r["path"] for r in kube.stats()}
    # No /metrics, and no CRD list: K8S105 is off by default and says how to turn it on.
    assert "/metrics" not in paths and CRDS not in paths
    k8s105 = next(s for s in report["skipped_checks"] if s["code"] == "K8S105")
    assert k8s105["cause"] == "not_applicable" and "checks: {K8S105: {enabled: true}}" in k8s105["reason"]
    assert rows(report, "K8S105") == []
    # Insights alone still show the call, and say so.
    assert rows(report, "K8S104") == [
        ("K8S104", "required", "API", "", "flowschemas.flowcontrol.apiserver.k8s.io/v1beta3")]
    assert report["collection_errors"] == []


def test_forbidden_metrics_is_a_collection_error_not_a_failure(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("deprecated-apis.yaml", version="1.31", aws={"insights": [DEPRECATION_INSIGHT]})
    kube.faults({"path": "^/metrics$", "status": 403, "times": -1})
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    errors = {e["source"]: e["message"] for e in report["collection_errors"]}
    assert "HTTP 403" in errors["kubernetes/metrics"] and "/metrics" in errors["kubernetes/metrics"]
    assert [f["resource_name"] for f in report["findings"] if f["code"] == "K8S104"] == [
        "flowschemas.flowcontrol.apiserver.k8s.io/v1beta3"]


def test_fake_api_server_records_a_deprecated_request(eks_cluster):
    """The no-deprecated-reads assertions above can fail: a request through a deprecated
    group/version lands in the fake API server's metric, as in kube-apiserver."""
    import base64
    import ssl
    import urllib.request
    _, kube = eks_cluster("deprecated-apis.yaml", version="1.31")
    presigned = ("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
                 "&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=00")
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(presigned.encode()).decode().rstrip("=")
    req = urllib.request.Request(f"{kube.url}/apis/policy/v1beta1/poddisruptionbudgets",
                                 headers={"Authorization": f"Bearer {token}"})
    ctx = ssl.create_default_context(cafile=str(kube.ca_pem))
    try:
        urllib.request.urlopen(req, context=ctx, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 404, "policy/v1beta1 is not served"
    assert {"group": "policy", "version": "v1beta1", "resource": "poddisruptionbudgets", "subresource": "",
            "removed_release": "1.25"} in kube.deprecated_requested()
