"""A fixture cluster on the real kube-apiserver, as the integration tests see it.

`start_real(fixture, version, tmp)` starts a control plane (tests/realkube/control_plane.py,
the same code as `bash tests/real-kube.sh up`), applies the eksup RBAC of
deploy/kubernetes/overlays/cluster-access with `kubectl apply -k` (server-side validation),
and loads the fixture through the API (tests/realkube/load.py). eksup's own EKS token is
accepted by the token webhook as the group that RBAC binds, so every read a test makes goes
through the real authorizer.

What the fake counted, the real server's audit log tells (`stats()`), and `/metrics` is
kube-apiserver's own.
"""

import atexit
import base64
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml

from harness import ROOT, FIXTURES

sys.path.insert(0, str(ROOT / "tests" / "realkube"))

import control_plane  # noqa: E402
import load  # noqa: E402

CLUSTER_ACCESS = ROOT / "deploy" / "kubernetes" / "overlays" / "cluster-access"
# The minors tests/real-kube.sh builds; a fixture on another minor stays on the fake.
BUILT = ("1.34", "1.37")
ADMIN = "eksup-test-admin"
METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
           "delete": "DELETE", "deletecollection": "DELETE"}


# Control planes started and not stopped yet: stopped when the test process exits, whatever
# failed in between (a fixture that raises after start_real never reaches its teardown).
RUNNING = set()
atexit.register(lambda: [control_plane.down(d) for d in list(RUNNING)])
# The tests that read a real server and those that read the fake (conftest prints both).
SERVED = {"real": set(), "fake": set()}


def served(kind):
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    if test:
        SERVED[kind].add(test.split("[")[0])


def read_fixture(fixture):
    """A fixture's FakeClusterInfo (or {}) and its objects."""
    docs = [d for d in yaml.safe_load_all((FIXTURES / "clusters" / fixture).read_text()) if d]
    info = next((d for d in docs if d.get("kind") == "FakeClusterInfo"), {})
    return info, [d for d in docs if d.get("kind") != "FakeClusterInfo"]


def fixture_minor(fixture):
    git_version = read_fixture(fixture)[0].get("gitVersion")
    return ".".join(git_version.lstrip("v").split(".")[:2]) if git_version else None


def kubectl(*args, kubeconfig, check=True):
    run = subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True,
                         timeout=120)
    if check and run.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed ({run.returncode}):\n{run.stderr}")
    return run


class RealKube:
    """One real control plane with a fixture in it; the fake KubeServer's `url`, `ca_pem`,
    `ca_b64`, `stats()`, `add()` and `stop()`, from the real thing."""

    real = True

    def __init__(self, plane):
        self.plane = plane
        self.url = plane.url
        self.ca_pem = plane.ca
        self.client = load.Client(plane.url, plane.admin_context())
        self._offset = 0

    @property
    def ca_b64(self):
        return base64.b64encode(self.ca_pem.read_bytes()).decode()

    @property
    def git_version(self):
        return self.plane.git_version

    def mark(self):
        """From here on, stats() and audit() see only newer requests."""
        self._offset = self.plane.audit_log.stat().st_size if self.plane.audit_log.exists() else 0

    def audit(self):
        """The audit events since mark(), oldest first."""
        with open(self.plane.audit_log, "rb") as f:
            f.seek(self._offset)
            return [json.loads(line) for line in f.read().splitlines() if line.strip()]

    def stats(self):
        """The requests of clients other than the tests' admin and the API server itself (eksup),
        in the fake's shape."""
        out = []
        for e in self.audit():
            user = e["user"]["username"]
            if user == ADMIN or (user.startswith("system:") and not user.startswith("system:serviceaccount:")):
                continue
            url = urllib.parse.urlparse(e["requestURI"])
            out.append({"method": METHODS.get(e["verb"], e["verb"]), "verb": e["verb"], "path": url.path,
                        "query": dict(urllib.parse.parse_qsl(url.query)),
                        "status": e.get("responseStatus", {}).get("code"), "user": user,
                        "groups": e["user"].get("groups", []), "user_agent": e.get("userAgent", ""),
                        "resource": e.get("objectRef", {}).get("resource")})
        return out

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen(f"{self.url}/metrics", context=self.plane.admin_context(), timeout=30) as r:
            return r.read().decode()

    def apply(self, kustomization):
        """`kubectl apply --server-side -k` as the admin (strict server-side validation)."""
        return kubectl("apply", "--server-side", "-k", str(kustomization), kubeconfig=self.plane.kubeconfig,
                       check=False)

    def token(self, namespace="eksup", name="eksup"):
        """A fresh token of a ServiceAccount (TokenRequest), as the kubelet would mount it."""
        answer = self.client.must("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                   "spec": {"expirationSeconds": 3600}}, "TokenRequest")
        return answer["status"]["token"]

    def deny(self, group, resource, role="eksup-reader"):
        """Takes `resource` out of the generated ClusterRole: eksup's reads of it get a real 403."""
        path = f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}"
        current = self.client.must("GET", path)
        rules = []
        for rule in current["rules"]:
            if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
                rule = {**rule, "resources": [r for r in rule["resources"] if r != resource]}
                if not rule["resources"]:
                    continue
            rules.append(rule)
        assert rules != current["rules"], f"no rule of {role} grants {group}/{resource}"
        self.client.must("PUT", path, {**current, "rules": rules}, f"ClusterRole {role}")

    def reset(self):
        """What the fake's reset does for the tests: forget the requests so far."""
        self.mark()

    def deprecated_requested(self):
        """apiserver_requested_deprecated_apis as the server exposes it, in the fake's shape."""
        import re
        out = []
        for line in self.metrics().splitlines():
            if line.startswith("apiserver_requested_deprecated_apis{"):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
                out.append({k: labels.get(k, "") for k in ("group", "version", "resource", "subresource",
                                                            "removed_release")})
        return out

    def add(self, *objects):
        for o in objects:
            load.create(self.client, o)

    def stop(self):
        control_plane.down(self.plane.dir)
        RUNNING.discard(self.plane.dir)


IN_CLUSTER = ROOT / "deploy" / "kubernetes" / "overlays" / "in-cluster"


def token_kubeconfig(path, kube, token, context="edge"):
    """A kubeconfig that reads `kube` with a bearer token (a ServiceAccount's, from TokenRequest)."""
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": kube.url, "certificate-authority": str(kube.ca_pem)}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
    }))
    return path


def serviceaccount(kube):
    """The in-cluster overlay applied (its ServiceAccount bound to the generated RBAC); a fresh
    token of that ServiceAccount."""
    applied = kube.apply(IN_CLUSTER)
    if applied.returncode != 0:
        pytest.fail(f"kubectl apply -k {IN_CLUSTER} failed:\n{applied.stderr}")
    return kube.token("eksup", "eksup")


def start_real(tmp, fixture=None, version=None, objects=(), rbac=CLUSTER_ACCESS, expect=None, runtime_config=None):
    """A real control plane on `version` (default: the fixture's minor) holding the fixture and
    `objects`, with the RBAC of `rbac` (a kustomize directory, or None) applied."""
    version = version or (fixture_minor(fixture) if fixture else "1.37")
    if version not in BUILT:
        pytest.fail(f"no real kube-apiserver {version} is built here (tests/real-kube.sh builds {BUILT})")
    try:
        plane = control_plane.up(Path(tmp), version, expect=expect, runtime_config=runtime_config)
    except control_plane.StartError as e:
        pytest.fail(f"the real control plane did not start: {e}")
    kube = RealKube(plane)
    RUNNING.add(plane.dir)
    served("real")
    try:
        if rbac:
            applied = kube.apply(rbac)
            if applied.returncode != 0:
                pytest.fail(f"kubectl apply -k {rbac} failed:\n{applied.stderr}")
        info, docs = read_fixture(fixture) if fixture else ({}, [])
        load.apply(kube.client, info, [*docs, *objects])
    except BaseException:
        kube.stop()
        raise
    kube.mark()
    return kube
