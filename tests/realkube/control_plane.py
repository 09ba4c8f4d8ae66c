"""A real control plane on loopback: etcd, kube-apiserver and the EKS-token verifier its
token webhook calls, started from the binaries tests/real-kube.sh builds.

`up(DIR, version)` generates a CA, serving and admin certificates, service-account keys, an
audit policy (every request at Metadata level, to DIR/audit.log) and the webhook's kubeconfig,
starts the three processes (their logs: DIR/<component>.log), waits until etcd is healthy and
kube-apiserver's /readyz answers the admin, and writes DIR/admin.kubeconfig and DIR/state.json
(what `down` stops). A component that exits or is not ready in time fails `up`, naming it and
quoting the end of its log. The pytest fixtures and `bash tests/real-kube.sh up|down` both use
this module.

Run: python control_plane.py up DIR [--version 1.34|1.37] [--etcd-data DIR] | down DIR
"""

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

import certs  # noqa: E402

# Seconds each component has to become ready (RBAC bootstrap takes most of kube-apiserver's).
READY_TIMEOUT = int(os.environ.get("EKSUP_KUBE_READY_TIMEOUT", "90"))
DEFAULT_VERSION = "1.37"
# The user the webhook maps every valid EKS token to, and its groups: what an EKS access entry
# for the eksup role gives (deploy/kubernetes/base/rbac binds its roles to `eksup-readers`).
EKS_USER = "arn:aws:iam::123456789012:role/eksup"
EKS_GROUPS = ("eksup-readers",)

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
# One event per request, when its answer is complete.
omitStages: [RequestReceived]
rules:
  - level: Metadata
"""


class StartError(Exception):
    """A component did not start; the message names it and quotes its log."""


@dataclass
class ControlPlane:
    dir: Path
    url: str
    version: str
    git_version: str
    pids: dict

    @property
    def ca(self) -> Path:
        return self.dir / "pki" / "ca.pem"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit.log"

    def admin_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(str(self.dir / "pki" / "admin.pem"), str(self.dir / "pki" / "admin-key.pem"))
        return ctx


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(version):
    """The binaries for `version`, built by tests/real-kube.sh when not cached."""
    out = subprocess.run(["bash", str(ROOT / "tests" / "real-kube.sh"), "build", "--version", version],
                         stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise StartError(f"building kube-apiserver {version} and etcd failed (exit {out.returncode}); "
                         "its output is above")
    return dict(line.split("=", 1) for line in out.stdout.split())


def tail(path, n=3000):
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def start(cmd, log, env=None):
    with open(log, "ab") as f:
        # A session of its own: `down` and the harness stop it, not the shell's job control.
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)


def wait_until(what, proc, log, probe, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartError(f"{what} exited with code {proc.returncode} before it was ready; "
                             f"log {log}:\n{tail(log)}")
        try:
            if probe():
                return
        except Exception as e:  # not listening yet, or not ready
            last = e
        time.sleep(0.2)
    raise StartError(f"{what} was not ready within {timeout} s (last probe: {last}); log {log}:\n{tail(log)}")


def write_pki(pki: Path):
    certs.make_chain(pki)
    certs.issue_client(pki, "admin", "eksup-test-admin", ["system:masters"])
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (pki / "sa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.TraditionalOpenSSL,
                                                   serialization.NoEncryption()))
    (pki / "sa.pub").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo))


def kubeconfig(server, ca, user):
    """A kubeconfig with one cluster, one user and one context (`user`: its `user:` map)."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "default", "cluster": {"server": server, **ca}}],
        "users": [{"name": "default", "user": user}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    }, indent=2)


def up(directory, version=DEFAULT_VERSION, etcd_data=None, expect=None, runtime_config=None) -> ControlPlane:
    """Starts etcd, the token verifier and kube-apiserver; see the module doc. `etcd_data`
    keeps etcd's data elsewhere (a cached, pre-loaded cluster); `expect` = (cluster, region,
    account, standin URL) makes the verifier accept only EKS tokens signed for that cluster;
    `runtime_config` is kube-apiserver's --runtime-config (beta APIs that are off by default)."""
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    if (d / "state.json").exists():
        raise StartError(f"{d} already holds a running control plane: `down {d}` first")
    bins = build(version)
    pki = d / "pki"
    pki.mkdir(exist_ok=True)
    write_pki(pki)
    (d / "audit-policy.yaml").write_text(AUDIT_POLICY)
    pids, procs = {}, {}
    state = {"version": version, "pids": pids, "starts": {}, "binaries": bins}

    def save():
        (d / "state.json").write_text(json.dumps(state, indent=2))

    try:
        # etcd: one member, no fsync (tests), its own data dir.
        client, peer = free_port(), free_port()
        data = Path(etcd_data).resolve() if etcd_data else d / "etcd"
        etcd_url = f"http://127.0.0.1:{client}"
        procs["etcd"] = start([
            bins["ETCD"], "--name=eksup-test", f"--data-dir={data}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}", f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=eksup-test=http://127.0.0.1:{peer}", "--unsafe-no-fsync",
            "--watch-progress-notify-interval=5s", "--quota-backend-bytes=8589934592", "--log-level=warn",
        ], d / "etcd.log")
        pids["etcd"] = procs["etcd"].pid
        state["starts"]["etcd"] = start_time(procs["etcd"].pid)
        save()
        wait_until("etcd", procs["etcd"], d / "etcd.log",
                   lambda: json.loads(urllib.request.urlopen(f"{etcd_url}/health", timeout=2).read())["health"] == "true")

        # The EKS-token verifier the webhook calls (plain HTTP on loopback).
        vport = free_port()
        verifier = [sys.executable, str(HERE / "token_verifier.py"), "--port", str(vport), "--user", EKS_USER,
                    *[a for g in EKS_GROUPS for a in ("--group", g)]]
        if expect:
            verifier += ["--expect", *expect]
        procs["token-verifier"] = start(verifier, d / "token-verifier.log")
        pids["token-verifier"] = procs["token-verifier"].pid
        state["starts"]["token-verifier"] = start_time(procs["token-verifier"].pid)
        save()
        wait_until("token verifier", procs["token-verifier"], d / "token-verifier.log",
                   lambda: urllib.request.urlopen(f"http://127.0.0.1:{vport}/healthz", timeout=2).status == 200)
        (d / "token-webhook.kubeconfig").write_text(
            kubeconfig(f"http://127.0.0.1:{vport}/tokenreview", {}, {}))

        port = free_port()
        url = f"https://127.0.0.1:{port}"
        procs["kube-apiserver"] = start([
            bins["KUBE_APISERVER"], f"--etcd-servers={etcd_url}", f"--secure-port={port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            # No controller keeps the `kubernetes` Service's endpoints; loopback is refused for them.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki / 'server.pem'}", f"--tls-private-key-file={pki / 'server-key.pem'}",
            f"--client-ca-file={pki / 'ca.pem'}", "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--audit-policy-file={d / 'audit-policy.yaml'}", f"--audit-log-path={d / 'audit.log'}",
            "--audit-log-mode=blocking",
            f"--authentication-token-webhook-config-file={d / 'token-webhook.kubeconfig'}",
            "--authentication-token-webhook-version=v1", "--authentication-token-webhook-cache-ttl=0s",
            # Webhooks and APIServices whose Services have no endpoint fail at once, not after a timeout.
            "--enable-aggregator-routing=true", "--allow-privileged=true",
            *([f"--runtime-config={runtime_config}"] if runtime_config else []),
        ], d / "kube-apiserver.log")
        pids["kube-apiserver"] = procs["kube-apiserver"].pid
        state["starts"]["kube-apiserver"] = start_time(procs["kube-apiserver"].pid)
        state["url"] = url
        save()
        plane = ControlPlane(d, url, version, "", pids)
        ctx = plane.admin_context()
        wait_until("kube-apiserver", procs["kube-apiserver"], d / "kube-apiserver.log",
                   lambda: urllib.request.urlopen(f"{url}/readyz", timeout=5, context=ctx).read() == b"ok")
        plane.git_version = json.loads(urllib.request.urlopen(f"{url}/version", context=ctx).read())["gitVersion"]
        state["git_version"] = plane.git_version
        save()
        (d / "admin.kubeconfig").write_text(kubeconfig(url, {"certificate-authority": str(pki / "ca.pem")}, {
            "client-certificate": str(pki / "admin.pem"), "client-key": str(pki / "admin-key.pem")}))
        return plane
    except BaseException:
        down(d)
        raise


def start_time(pid):
    """When `pid` started (clock ticks since boot): with the pid, it names one process for good."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def alive(pid, started):
    """Whether `pid` is still the process `up` started, not a later one with its number."""
    return started is not None and start_time(pid) == started


def down(directory):
    """Stops exactly the processes `up(directory)` started, API server first."""
    d = Path(directory).resolve()
    try:
        state = json.loads((d / "state.json").read_text())
    except (OSError, ValueError):
        return []
    stopped = []
    for name in ("kube-apiserver", "token-verifier", "etcd"):
        pid, started = state["pids"].get(name), state.get("starts", {}).get(name)
        if pid is None or not alive(pid, started):
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while alive(pid, started) and time.monotonic() < deadline:
            reap(pid)
            time.sleep(0.1)
        if alive(pid, started):
            os.kill(pid, signal.SIGKILL)
        reap(pid)
        stopped.append(name)
    (d / "state.json").unlink()
    return stopped


def reap(pid):
    """Collects `pid` when it is this process's child (the pytest fixtures), so that it does
    not linger as a zombie that /proc still lists."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up")
    u.add_argument("dir")
    u.add_argument("--version", default=DEFAULT_VERSION, choices=["1.34", "1.37"])
    u.add_argument("--etcd-data", help="etcd's data directory (default: DIR/etcd)")
    u.add_argument("--runtime-config", help="kube-apiserver's --runtime-config (e.g. resource.k8s.io/v1beta1=true)")
    u.add_argument("--expect", nargs=4, metavar=("CLUSTER", "REGION", "ACCOUNT", "STANDIN_URL"),
                   help="accept only EKS tokens signed for this cluster by this account's credentials")
    dn = sub.add_parser("down")
    dn.add_argument("dir")
    args = ap.parse_args()
    if args.command == "down":
        stopped = down(args.dir)
        print(f"stopped {', '.join(stopped) or 'nothing'}")
        return 0
    try:
        plane = up(args.dir, args.version, args.etcd_data, args.expect, args.runtime_config)
    except StartError as e:
        print(f"real-kube: {e}", file=sys.stderr)
        return 1
    print(f"READY {plane.url} {plane.git_version} kubeconfig={plane.kubeconfig}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
