"""The in-cluster CronJob path: `eksup run` configured only by EKSUP_CLUSTER and
EKSUP_IN_CLUSTER, reading the Kubernetes API with the pod's service-account token — the
files kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount and the
KUBERNETES_SERVICE_HOST/PORT variables — and AWS with the pod's AWS credentials.

The token files are mounted in a private mount namespace (`unshare -m`, as root, which the
test set-up already needs for apt-get), so nothing on the machine changes."""

import json
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest

from harness import REGION, run_eksup
from manifests import KUSTOMIZE

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def pod_launcher(token_dir: Path):
    """A command that starts the binary as a pod would see it: the service-account files
    mounted at SA_DIR, in a mount namespace of its own."""
    unshare = shutil.which("unshare")
    if not unshare or os.geteuid() != 0:
        pytest.fail("this test mounts the service-account files in a private mount namespace: "
                    "it needs unshare (util-linux) and root, as tests/run.sh's apt-get does")
    # /run gets a tmpfs of its own in the namespace; the token files are bind-mounted into it.
    script = (f"mount -t tmpfs eksup-test /run && mkdir -p {SA_DIR} && mount --bind {token_dir} {SA_DIR} "
              f'&& exec "$@"')
    return [unshare, "-m", "sh", "-c", script, "sh"]


def cluster_rows(out: Path):
    return [json.loads(line) for f in (out / "json" / "clusters").rglob("*.jsonl") for line in f.read_text().splitlines()]


def test_cronjob_reads_its_own_cluster_with_the_service_account(eks_cluster, standin, tmp_path):
    """On the real kube-apiserver: the in-cluster overlay's ServiceAccount, its RBAC, and a token
    from TokenRequest, as the kubelet mounts it."""
    name, kube = eks_cluster(fixture="healthy.yaml", kube="real")
    applied = kube.apply(KUSTOMIZE / "overlays" / "in-cluster")
    assert applied.returncode == 0, applied.stderr
    token_dir = tmp_path / "serviceaccount"
    token_dir.mkdir()
    (token_dir / "token").write_text(kube.token("eksup", "eksup"))
    (token_dir / "ca.crt").write_bytes(kube.ca_pem.read_bytes())
    (token_dir / "namespace").write_text("eksup")
    port = urllib.parse.urlparse(kube.url).port
    env = {
        # What the CronJob's pod has: the kubelet's variables and the job's configuration.
        "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port),
        "EKSUP_CLUSTER": name, "EKSUP_IN_CLUSTER": "true", "EKSUP_TARGET_VERSION": "1.35",
        "EKSUP_OUTPUTS__DIRECTORY": str(tmp_path / "out"), "EKSUP_OUTPUTS__STDOUT": "true",
    }
    kube.reset()
    run = run_eksup(["run"], tmp_path, aws_url=standin, env=env, launcher=pod_launcher(token_dir))
    assert run.code == 0, run.stderr[-3000:]

    rows = cluster_rows(tmp_path / "out")
    assert [(r["cluster_name"], r["status"], r["region"]) for r in rows] == [(name, "ok", REGION)]
    assert rows[0]["current_version"] == "1.34" and rows[0]["target_version"] == "1.35"
    assert rows[0]["nodes"] > 0, "the Kubernetes side was read"
    # Every request carried the service account's token, and the API server was reached at
    # KUBERNETES_SERVICE_HOST:PORT, not the EKS endpoint.
    reqs = kube.stats()
    assert {r["user"] for r in reqs} == {"system:serviceaccount:eksup:eksup"}
    # (404s are the optional kinds this cluster does not serve: Karpenter's NodePools…)
    assert reqs and not [r for r in reqs if r["status"] in (401, 403)]
    assert sum(r["status"] == 200 for r in reqs) >= 10
    assert {"/version", "/api/v1/nodes"} <= {r["path"] for r in reqs}

    # Without the mounted token the same job fails with a reason that names the service
    # account, exit 3, and still writes its error row.
    empty = tmp_path / "no-token"
    empty.mkdir()
    run = run_eksup(["run"], tmp_path, aws_url=standin, env={**env, "EKSUP_OUTPUTS__DIRECTORY": str(tmp_path / "out2")},
                    launcher=pod_launcher(empty))
    assert run.code == 3, run.stderr[-3000:]
    rows = cluster_rows(tmp_path / "out2")
    assert rows[0]["status"] == "error" and "in-cluster service account" in rows[0]["error"], rows[0]
