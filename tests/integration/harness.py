"""Starting the real components the integration tests talk to, and running the binary.

- moto server (AWS), started once per session from the test venv;
- the AWS stand-in in front of it (tests/fakes/aws_standin.py);
- one fake Kubernetes API server per test (tests/fakes/kube_apiserver.py), over HTTPS;
- the eksup binary, run with a clean environment and its exit code, output, wall time and
  peak RSS recorded.

Missing tools fail the test with a message saying how to get them; nothing is skipped.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKES = ROOT / "tests" / "fakes"
FIXTURES = ROOT / "tests" / "fixtures"
PY = sys.executable
ACCOUNT = "123456789012"
REGION = "us-east-1"


def eksup_bin():
    explicit = os.environ.get("TEST_EKSUP_BIN")
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "eksup-target"))
    path = Path(explicit) if explicit else target / "debug" / "eksup"
    if not path.is_file():
        pytest.fail(f"eksup binary not found at {path}: run tests/run.sh (it builds it), or set TEST_EKSUP_BIN")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ready(args, what, timeout=30):
    """Starts a fake that prints `READY <url>` and returns (process, url). A fake that has not
    printed it within `timeout` seconds is killed and fails the test, naming it and quoting
    the end of its stderr; one that exits first fails at once."""
    import threading
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = first[0] if first else None
    if line is not None and line.startswith("READY "):
        return proc, line.split()[1]
    if line is None:
        proc.kill()
        proc.wait()
        why = f"did not print READY within {timeout:g} s"
    elif line == "":
        why = f"exited with code {proc.wait()} before printing READY"
    else:
        proc.kill()
        proc.wait()
        why = f"printed {line!r} instead of READY"
    pytest.fail(f"{what} {why}; command: {' '.join(map(str, args))}; stderr: {proc.stderr.read()[-2000:]}")


def http_json(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    import ssl
    ctx = ssl._create_unverified_context()
    with urllib.request.urlopen(req, timeout=30, context=ctx if url.startswith("https") else None) as r:
        return json.loads(r.read())


def start_moto():
    exe = shutil.which("moto_server", path=str(Path(PY).parent)) or shutil.which("moto_server")
    if not exe:
        pytest.fail("moto_server not found: run tests/run.sh, which installs moto[server] into .venv")
    import tempfile
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return proc, url
        except Exception:
            time.sleep(0.1)
    code = proc.poll()
    proc.kill()
    proc.wait()
    log.seek(0)
    why = f"exited with code {code}" if code is not None else "did not answer within 30 s"
    pytest.fail(f"moto_server {why} on {url}; stderr: {log.read()[-2000:]}")


@dataclass
class KubeServer:
    proc: subprocess.Popen
    url: str
    ca_pem: Path
    git_version: str = "v1.30.4-eks-1"  # what /version answers: the fixture's, or the fake's default
    real = False

    @property
    def ca_b64(self):
        return base64.b64encode(self.ca_pem.read_bytes()).decode()

    def stats(self):
        return http_json(f"{self.url}/_fake/stats")["requests"]

    def deprecated_requested(self):
        """What the server's apiserver_requested_deprecated_apis holds now (not a request)."""
        return http_json(f"{self.url}/_fake/deprecated")["requested"]

    def faults(self, *rules):
        http_json(f"{self.url}/_fake/faults", "POST", {"faults": list(rules)})

    def reset(self):
        http_json(f"{self.url}/_fake/reset", "POST", {})

    def add(self, *objects):
        http_json(f"{self.url}/_fake/objects", "POST", {"objects": list(objects)})

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def start_kube(certs, fixture=None, generate=None, token_mode="eks", expect=None):
    """`expect=(cluster, region, account, standin_url)` with token_mode="eks-verified": accept only
    EKS tokens signed for that cluster and region by that account's credentials."""
    args = [PY, str(FAKES / "kube_apiserver.py"), "--certdir", str(certs["ca"].parent), "--token-mode", token_mode]
    if expect:
        args += ["--expect", *expect]
    args += ["--generate", generate] if generate else ["--fixture", str(FIXTURES / "clusters" / fixture)]
    # A generated cluster is built before the server listens; a fixture is only parsed.
    proc, url = start_ready(args, "fake Kubernetes API server", timeout=120 if generate else 30)
    server = KubeServer(proc, url, certs["ca"])
    import real_kube
    real_kube.served("fake")
    if fixture:
        server.git_version = real_kube.read_fixture(fixture)[0].get("gitVersion", server.git_version)
    return server


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    wall_seconds: float
    max_rss_kib: int  # the binary's own peak RSS (VmHWM, sampled every 10 ms)

    def json(self):
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"stdout is not JSON ({e}); stderr:\n{self.stderr}\nstdout:\n{self.stdout[:2000]}")


def vm_hwm_kib(pid):
    """Peak RSS so far of a running process (VmHWM), 0 once it has exited. wait4's ru_maxrss
    cannot measure the binary: a child started by vfork+exec (Python's subprocess) reports the
    parent's peak when that is larger, and pytest's is larger than eksup's."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def clean_env(cwd, aws_url=None, env=None):
    """Only the environment a test gives the binary: test credentials, no AWS profile or
    config file, no instance metadata, no EKSUP_* from the caller; `env` on top."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(Path(cwd) / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(cwd) / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_COLOR": "1",
    }
    if aws_url:
        base["AWS_ENDPOINT_URL"] = aws_url
    base.update(env or {})
    for f in ("no-aws-config", "no-aws-credentials"):
        (Path(cwd) / f).touch()
    return base


def wait_measured(proc, deadline=None):
    """Waits for `proc`, sampling its peak RSS (VmHWM) every 10 ms, which misses at most the
    last 10 ms of growth. Returns (wait status, rusage, peak KiB); the status is None when
    `deadline` (time.monotonic) passed first, and the process is then killed."""
    peak_kib = 0
    while True:
        peak_kib = max(peak_kib, vm_hwm_kib(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, usage, peak_kib
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            return None, None, peak_kib
        time.sleep(0.01)


def run_eksup(args, cwd, aws_url=None, env=None, timeout=300, launcher=()):
    """Runs the binary with only the environment a test gives it (no EKSUP_* leaks in),
    started through `launcher` when given (a command that ends by exec'ing its arguments).
    `analyze`, `playbook` and `run` measure support windows from AS_OF unless the test passes
    --as-of: no test depends on the day it runs (a "healthy" 1.34 cluster left standard support
    on 2026-12-02). Tests about dates pass their own --as-of or run under libfaketime."""
    if args and args[0] in DATED_COMMANDS and "--as-of" not in args:
        args = [*args, "--as-of", AS_OF]
    base = clean_env(cwd, aws_url, env)
    out_path, err_path = Path(cwd) / ".stdout", Path(cwd) / ".stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen([*launcher, str(eksup_bin()), *args], cwd=cwd, env=base, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        status, _, peak_kib = wait_measured(proc, start + timeout)
        if status is None:
            pytest.fail(f"eksup {' '.join(args)} did not finish within {timeout} s")
        wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return Run(code, out_path.read_text(), err_path.read_text(), wall, peak_kib)


def assumed(url, account):
    """Credentials of `account` from AssumeRole through `url` (moto, or the stand-in, which
    then learns which account the keys belong to), as boto3 client keyword arguments."""
    import boto3
    sts = boto3.client("sts", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def create_cluster(moto_url, name, version):
    import boto3
    eks = boto3.client("eks", region_name=REGION, endpoint_url=moto_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return eks.create_cluster(
        name=name, version=version, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": ["subnet-0a", "subnet-0b"]},
    )["cluster"]


def register_endpoint(standin_url, name, kube):
    http_json(f"{standin_url}/_standin/clusters/{name}", "POST", {"endpoint": kube.url, "ca": kube.ca_b64})


# Support windows are measured from this day in tests, so results do not change with the date.
AS_OF = "2026-06-01"
# The commands whose findings depend on the day (EKS101, EKS106, the rollback window).
DATED_COMMANDS = ("analyze", "playbook", "run")
