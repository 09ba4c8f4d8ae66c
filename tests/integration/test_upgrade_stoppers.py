"""Issue 20's three upgrade stoppers on one cluster, on the real binary: webhooks and
APIServices that cannot answer (K8S106, api-extensions.yaml on the fake API server), a cluster
CA being rotated (EKS106, from the stand-in's ListCertificateAuthorities and
DescribeCertificateAuthority) and the rollback window of a version update 2 days ago. The
findings and the request log of the run are written to target-figures/upgrade-stoppers.json."""

import datetime
import json
from pathlib import Path

from harness import ROOT, run_eksup
from test_ca_rotation import SIGNING, SUCCESSOR
from test_updates import NOW, update

ENABLE_CRDS = "checks:\n  K8S105:\n    enabled: true\n"


def test_one_cluster_trips_k8s106_eks106_and_is_inside_its_rollback_window(eks_cluster, tmp_path, standin):
    name, kube = eks_cluster("api-extensions.yaml", version="1.34", aws={
        "certificate_authorities": [SIGNING, SUCCESSOR],
        "updates": [update(1, "VersionUpdate", "Successful", 2, "1.34"),
                    update(2, "VersionUpdate", "Successful", 150, "1.33")],
    })
    (tmp_path / ".eksup.yaml").write_text(ENABLE_CRDS)
    run = run_eksup(["analyze", "--cluster", name, "--format", "json"], tmp_path, aws_url=standin)
    assert run.code == 0, run.stderr
    report = run.json()
    codes = {(f["code"], f["remediation"]) for f in report["findings"]}
    assert {("K8S106", "required"), ("K8S106", "recommended"), ("EKS106", "required")} <= codes, codes
    meta = report["metadata"]
    assert meta["readiness"] == "blocked"
    rollback = meta["rollback"]
    assert rollback["open"] is True and rollback["to_version"] == "1.33"
    assert datetime.datetime.fromisoformat(rollback["available_until"]) == NOW + datetime.timedelta(days=5)
    # K8S106 read three small lists, then only what the webhooks name.
    reqs = kube.stats()
    paths = [r["path"] for r in reqs]
    assert "/api/v1/services" not in paths and "/apis/discovery.k8s.io/v1/endpointslices" not in paths
    slices = [r for r in reqs if "endpointslices" in r["path"]]
    assert slices and all(r["query"]["labelSelector"].startswith("kubernetes.io/service-name=") for r in slices)
    read_for_k8s106 = [{"path": r["path"] + (f"?labelSelector={r['query']['labelSelector']}"
                                             if "labelSelector" in r.get("query", {}) else ""),
                        "status": r.get("status"), "bytes": r.get("bytes")} for r in reqs
                       if "webhookconfigurations" in r["path"] or "apiservices" in r["path"]
                       or "/services/" in r["path"] or "endpointslices" in r["path"]]
    out = Path(ROOT / "target-figures")
    out.mkdir(exist_ok=True)
    (out / "upgrade-stoppers.json").write_text(json.dumps({
        "findings": [{k: f[k] for k in ("code", "remediation", "resource_kind", "resource_namespace",
                                         "resource_name", "message")} for f in report["findings"]],
        "skipped": report["skipped_checks"], "rollback": rollback, "k8s106_requests": read_for_k8s106,
    }, indent=1))
