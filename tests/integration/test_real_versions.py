"""The same cluster on two real minors, 1.34 and 1.37: what eksup finds is what the version
rules predict, from what each API server itself says (its /version, and the
apiserver_requested_deprecated_apis its deprecation logic records).

Both servers serve resource.k8s.io v1beta1 and v1beta2 (--runtime-config), and another client
lists DeviceClasses at both versions before eksup runs. Kubernetes deprecated v1beta1 in 1.35
(removed in 1.38) and v1beta2 in 1.36 (removed in 1.39): 1.34 records neither call, 1.37 both.
"""

import json

import pytest

from harness import run_eksup
from real_kube import start_real

BETA_DRA = "resource.k8s.io/v1beta1=true,resource.k8s.io/v1beta2=true"


def analyze_on(version, tmp_path):
    kube = start_real(tmp_path / "control-plane", "healthy.yaml", version=version, runtime_config=BETA_DRA)
    try:
        for group_version in ("v1beta1", "v1beta2"):
            code, _ = kube.client.request("GET", f"/apis/resource.k8s.io/{group_version}/deviceclasses")
            assert code == 200, f"{version} serves resource.k8s.io/{group_version}"
        run = run_eksup(["analyze", "--no-aws", "--kubeconfig", str(kube.plane.kubeconfig), "--format", "json"],
                        tmp_path, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
        assert run.code == 0, run.stderr
        return run.json(), kube.git_version
    finally:
        kube.stop()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return {v: analyze_on(v, tmp_path_factory.mktemp(f"minor-{v}")) for v in ("1.34", "1.37")}


def findings(report):
    return sorted((f["code"], f["remediation"], f["resource_kind"], f["resource_name"]) for f in report["findings"])


def test_version_is_read_from_each_server(reports):
    for version, (report, git_version) in reports.items():
        meta = report["metadata"]
        assert git_version.startswith(f"v{version}.")
        assert meta["server_version"] == git_version
        assert meta["current_version"] == version
    # 1.34 moves to the next minor; 1.37 is the newest EKS serves, so it is its own target.
    assert reports["1.34"][0]["metadata"]["target_version"] == "1.35"
    assert reports["1.37"][0]["metadata"]["target_version"] == "1.37"


def test_on_1_34_the_healthy_cluster_has_no_finding(reports):
    """v1beta1 and v1beta2 are not deprecated yet in 1.34: the calls leave no trace."""
    assert findings(reports["1.34"][0]) == []


def test_on_1_37_deprecated_calls_and_skew_are_found(reports):
    report = reports["1.37"][0]
    assert findings(report) == [
        ("K8S001", "recommended", "Node", "v1.34.1-eks-2a8a47a"),
        ("K8S011", "recommended", "DaemonSet", "kube-proxy"),
        ("K8S104", "recommended", "API", "deviceclasses.resource.k8s.io/v1beta1"),
        ("K8S104", "recommended", "API", "deviceclasses.resource.k8s.io/v1beta2"),
    ]
    messages = {f["resource_name"]: f["message"] for f in report["findings"] if f["code"] == "K8S104"}
    assert "removed in Kubernetes 1.38" in messages["deviceclasses.resource.k8s.io/v1beta1"]
    assert "removed in Kubernetes 1.39" in messages["deviceclasses.resource.k8s.io/v1beta2"]
    skew = next(f for f in report["findings"] if f["code"] == "K8S001")
    assert "3 minor(s) behind the control plane 1.37" in skew["message"], json.dumps(skew)
