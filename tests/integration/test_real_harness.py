"""The real control plane's harness as anyone runs it: `bash tests/real-kube.sh up DIR` is
ready in bounded time and says so (`READY <url>`), serves the admin kubeconfig, audits every
request and accepts eksup's EKS token through its webhook; `down DIR` stops exactly what that
`up` started. A broken etcd or API server fails `up` naming the component and its log, and
leaves nothing running."""

import base64
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness import ROOT

SCRIPT = ROOT / "tests" / "real-kube.sh"
PY = str(ROOT / ".venv" / "bin" / "python")


def real_kube(*args, env=None, timeout=180):
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHON": PY, **(env or {})})


def pids(directory):
    return json.loads((Path(directory) / "state.json").read_text())["pids"]


def running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def eks_token():
    """An EKS token's shape: a presigned STS GetCallerIdentity URL signing x-k8s-aws-id."""
    url = ("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
           "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F20261208%2Fus-east-1%2Fsts%2Faws4_request"
           "&X-Amz-Date=20261208T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
           "&X-Amz-Signature=" + "0" * 64)
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def get(url, ca, token):
    ctx = ssl.create_default_context(cafile=str(ca))
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_up_is_ready_serves_audits_and_down_stops_exactly_it(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    started = time.monotonic()
    up = real_kube("up", one, "--version", "1.37")
    assert up.returncode == 0, up.stderr
    assert time.monotonic() - started < 90
    line = up.stdout.strip().splitlines()[-1]
    assert line.startswith("READY https://127.0.0.1:") and " v1.37." in line, line
    url = line.split()[1]
    assert real_kube("up", two, "--version", "1.34").returncode == 0
    try:
        kubeconfig = one / "admin.kubeconfig"
        ns = subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "get", "namespaces", "-o", "name"],
                            capture_output=True, text=True, timeout=60)
        assert "namespace/kube-system" in ns.stdout, ns.stderr
        # eksup's kind of token is authenticated by the webhook (403: known, but no RBAC here);
        # anything else is not (401).
        assert get(f"{url}/api/v1/nodes", one / "pki" / "ca.pem", eks_token()) == 403
        assert get(f"{url}/api/v1/nodes", one / "pki" / "ca.pem", "not-a-token") == 401
        events = [json.loads(l) for l in (one / "audit.log").read_text().splitlines()]
        nodes = [e for e in events if e["requestURI"] == "/api/v1/nodes"]
        assert [(e["user"].get("username"), e["responseStatus"]["code"]) for e in nodes] == [
            ("arn:aws:iam::123456789012:role/eksup", 403), (None, 401)]
        assert {e["level"] for e in events} == {"Metadata"}
        first, second = pids(one), pids(two)
        assert set(first) == {"etcd", "token-verifier", "kube-apiserver"}
        down = real_kube("down", one)
        assert down.returncode == 0 and "stopped kube-apiserver, token-verifier, etcd" in down.stdout
        assert not any(running(p) for p in first.values())
        assert all(running(p) for p in second.values()), "the other control plane is left alone"
        assert real_kube("down", one).stdout.strip() == "stopped nothing"
    finally:
        real_kube("down", one)
        real_kube("down", two)


def broken_cache(tmp_path, component, script):
    """A build cache whose `component` is `script`; the other binary is the real one."""
    real = dict(line.split("=", 1) for line in real_kube("build", "--version", "1.37").stdout.split())
    cache = tmp_path / "cache"
    kdir = cache / "kubernetes-v1.37.2"
    kdir.mkdir(parents=True)
    erel = (Path(real["KUBE_APISERVER"]).parent / "etcd-release").read_text().strip()
    (kdir / "etcd-release").write_text(erel + "\n")
    edir = cache / f"etcd-{erel}"
    edir.mkdir()
    for path, name in ((kdir / "kube-apiserver", "KUBE_APISERVER"), (edir / "etcd", "ETCD")):
        if path.name == component:
            path.write_text(script)
            path.chmod(0o755)
        else:
            path.symlink_to(real[name])
    return cache


def test_a_broken_etcd_fails_up_naming_it_and_its_log(tmp_path):
    cache = broken_cache(tmp_path, "etcd", "#!/bin/sh\necho 'etcd: data dir is corrupt (on purpose)' >&2\nexit 3\n")
    up = real_kube("up", tmp_path / "cp", env={"EKSUP_KUBE_CACHE": str(cache)})
    assert up.returncode == 1 and "READY" not in up.stdout
    assert "etcd exited with code 3 before it was ready" in up.stderr
    assert f"log {tmp_path / 'cp' / 'etcd.log'}" in up.stderr and "corrupt (on purpose)" in up.stderr
    assert not (tmp_path / "cp" / "state.json").exists()


def test_an_api_server_that_never_gets_ready_fails_in_bounded_time(tmp_path):
    cache = broken_cache(tmp_path, "kube-apiserver", "#!/bin/sh\necho 'kube-apiserver: waiting forever'\nexec sleep 6007\n")
    started = time.monotonic()
    up = real_kube("up", tmp_path / "cp", env={"EKSUP_KUBE_CACHE": str(cache), "EKSUP_KUBE_READY_TIMEOUT": "5"})
    assert time.monotonic() - started < 30
    assert up.returncode == 1
    assert "kube-apiserver was not ready within 5 s" in up.stderr and "waiting forever" in up.stderr
    assert f"log {tmp_path / 'cp' / 'kube-apiserver.log'}" in up.stderr
    # What it had started is stopped again: no sleeping stand-in, no etcd left behind.
    leftover = subprocess.run(["pgrep", "-a", "-f", f"{tmp_path / 'cp'}|sleep 6007"], capture_output=True,
                              text=True).stdout
    assert leftover == "", leftover
