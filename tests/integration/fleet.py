"""A fleet's worth of data written by the real binary, for the Athena queries, the dashboard
and the EMF metrics to be tested on.

Seven clusters in two accounts and four regions, reported on four days (TODAY - 3 … TODAY)
by a central runner and an in-cluster CronJob, each run under libfaketime so that the binary
itself stamps `run_time`, `dt` and the support windows with that day. Nothing the binary
wrote is changed afterwards.

| cluster   | account | region    | version                 | days reported                  |
|-----------|---------|-----------|-------------------------|--------------------------------|
| payments  | A       | us-east-1 | 1.33 (23 days to EoSS)  | every day, twice on TODAY      |
| web       | A       | us-east-1 | 1.33, upgraded to 1.34  | every day                      |
| legacy    | A       | eu-west-1 | 1.32 (extended support) | every day                      |
| batch     | B       | us-west-2 | 1.30 (extended support) | every day                      |
| analytics | B       | eu-west-1 | 1.35                    | every day, by its own CronJob  |
| retired   | B       | us-west-2 | 1.34                    | the first two days only        |
| ghost     | —       | eu-west-1 | cannot be read (error)  | the last two days              |

Snapshots are the repository's own (`examples/snapshot.json`, `tests/fixtures/snapshots/`)
with the cluster's name, account, region and version changed. Two clusters are in a
certificate-authority rotation dated from TODAY (CA_ROTATIONS): payments' successor is
auto-activated in 12 days (EKS106 required), legacy's in 200 (recommended); retired keeps the
example's rotation, whose dates have passed.
"""

import datetime
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import ROOT, eksup_bin, free_port

FAKETIME_INSTALL = "apt-get install -y faketime (tests/run.sh installs it)"
TODAY = datetime.date(2026, 7, 6)
DAYS = [TODAY - datetime.timedelta(days=n) for n in (3, 2, 1, 0)]
A, B = "111111111111", "222222222222"
EMF_NAMESPACE = "eksup"

SNAPSHOTS = ROOT / "tests" / "fixtures" / "snapshots"
DEMO = ROOT / "examples" / "snapshot.json"


@dataclass(frozen=True)
class Cluster:
    name: str
    account: str
    region: str
    base: Path
    # Version per day of DAYS; None: no row that day.
    versions: tuple
    writer: str = "central"


CLUSTERS = [
    Cluster("payments", A, "us-east-1", DEMO, ("1.33",) * 4),
    Cluster("web", A, "us-east-1", SNAPSHOTS / "healthy.json", ("1.33", "1.33", "1.34", "1.34")),
    Cluster("legacy", A, "eu-west-1", SNAPSHOTS / "mixed-capacity.json", ("1.32",) * 4),
    Cluster("batch", B, "us-west-2", SNAPSHOTS / "two-hop.json", ("1.30",) * 4),
    Cluster("analytics", B, "eu-west-1", SNAPSHOTS / "healthy.json", ("1.35",) * 4, writer="analytics-incluster"),
    Cluster("retired", B, "us-west-2", DEMO, ("1.34", "1.34", None, None)),
]


def _ca(ca_id, status, distribution, created, not_after, first=None, final=None):
    """A certificate authority as the snapshot stores it; dates are days from TODAY."""
    at = lambda days: None if days is None else f"{TODAY + datetime.timedelta(days=days)}T00:00:00Z"
    return {"id": ca_id, "signing_status": status, "distribution_status": distribution, "created_by": "EKS",
            "created_at": at(created), "activated_at": at(created) if status == "IN_USE" else None,
            "not_before": at(created), "not_after": at(not_after),
            "first_auto_activation": at(first), "final_auto_activation": at(final)}


CA_ROTATIONS = {
    "payments": [_ca("ca-pay-1", "IN_USE", "COMPLETE", -800, 75),
                 _ca("ca-pay-2", "NOT_USED", "IN_PROGRESS", -20, 3600, first=5, final=12)],
    "legacy": [_ca("ca-leg-1", "IN_USE", "COMPLETE", -900, 260),
               _ca("ca-leg-2", "NOT_USED", "COMPLETE", -10, 3600, first=150, final=200)],
}

# A cluster the central runner is told to read on the last two days and cannot reach.
GHOST = {"name": "ghost", "region": "eu-west-1", "days": DAYS[2:]}
# On TODAY the central runner runs a second time in the evening, for payments only, with
# K8S002 and K8S005 switched off: the latest state must come from that run.
EVENING_RERUN = {"cluster": "payments", "disabled": "K8S002,K8S005", "at": datetime.time(18, 0)}


@dataclass
class RunRecord:
    day: datetime.date
    writer: str
    code: int
    stdout: str
    stderr: str
    entries: list          # the run's `clusters` list


@dataclass
class Fleet:
    root: Path          # the Hive-partitioned tree: clusters/, findings/, json/, cluster-reports/
    runs: list = field(default_factory=list)

    def emf_lines(self):
        """Every EMF line any run printed on stdout (lines with an `_aws` member)."""
        out = []
        for r in self.runs:
            for line in r.stdout.splitlines():
                doc = json.loads(line)
                if "_aws" in doc:
                    out.append(doc)
        return out

    def json_rows(self, table):
        """The rows of `table` as the binary wrote them in JSON lines, with their dt."""
        rows = []
        for path in sorted((self.root / "json" / table).glob("dt=*/*.jsonl")):
            dt = path.parent.name.removeprefix("dt=")
            rows += [{**json.loads(line), "dt": dt} for line in path.read_text().splitlines()]
        return rows


def faketime():
    exe = shutil.which("faketime")
    if not exe:
        pytest.fail(f"faketime not found: {FAKETIME_INSTALL}")
    return exe


def variant(base: Path, cluster: Cluster, version: str, into: Path) -> Path:
    """A snapshot of `base` renamed to the cluster, in its account and region, at `version`
    (control plane and managed node groups)."""
    snap = json.loads(base.read_text())
    c = snap["cluster"]
    c.update(name=cluster.name, account_id=cluster.account, region=cluster.region, version=version,
             arn=f"arn:aws:eks:{cluster.region}:{cluster.account}:cluster/{cluster.name}")
    for ng in (snap.get("aws") or {}).get("node_groups", []):
        ng["version"] = version
    if cluster.name in CA_ROTATIONS:
        snap["aws"]["certificate_authorities"] = CA_ROTATIONS[cluster.name]
    path = into / f"{cluster.name}-{version}.json"
    path.write_text(json.dumps(snap, indent=1))
    return path


def run_at(when: datetime.datetime, args, cwd: Path, env=None, timeout=120):
    """Runs the binary with the wall clock set to `when` (UTC) and advancing from there."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(cwd / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # Nothing listens here: a live cluster entry fails at once with a connection error.
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_MAX_ATTEMPTS": "1",
        "NO_COLOR": "1",
    }
    base.update(env or {})
    for f in ("no-aws-config", "no-aws-credentials"):
        (cwd / f).touch()
    stamp = "@" + when.strftime("%Y-%m-%d %H:%M:%S")
    proc = subprocess.run([faketime(), "-f", stamp, str(eksup_bin()), *args], cwd=cwd, env=base,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return proc


def write_config(path: Path, entries, out: Path, writer: str, stdout: bool):
    lines = ["clusters:"]
    for t in entries:
        lines.append(f"  - {json.dumps(t)}")
    lines += [
        "outputs:",
        f"  directory: {json.dumps(str(out))}",
        f"  stdout: {'true' if stdout else 'false'}",
        f"  emf: {{namespace: {EMF_NAMESPACE}, notice_days: 90}}",
        f"writer: {writer}",
    ]
    path.write_text("\n".join(lines) + "\n")


def build(work: Path) -> Fleet:
    """Writes the fleet's tree under work/out with the real binary, one run per writer per day."""
    out = work / "out"
    snaps = work / "snapshots"
    snaps.mkdir(parents=True)
    fleet = Fleet(root=out)

    def run(day, writer, entries, at, stdout=False, env=None):
        cwd = work / f"{writer}-{day}-{at.hour:02d}"
        cwd.mkdir()
        write_config(cwd / "eksup.yaml", entries, out, writer, stdout)
        proc = run_at(datetime.datetime.combine(day, at), ["run", "--config", "eksup.yaml"], cwd, env)
        fleet.runs.append(RunRecord(day, writer, proc.returncode, proc.stdout, proc.stderr, entries))

    for i, day in enumerate(DAYS):
        by_writer = {}
        for c in CLUSTERS:
            if c.versions[i]:
                by_writer.setdefault(c.writer, []).append(
                    {"snapshot": str(variant(c.base, c, c.versions[i], snaps))})
        if day in GHOST["days"]:
            by_writer["central"].append({"cluster": GHOST["name"], "region": GHOST["region"]})
        run(day, "central", by_writer.pop("central"), datetime.time(6, 0))
        for writer, entries in by_writer.items():
            # The in-cluster CronJob also prints its JSON lines, as it would for a log agent.
            run(day, writer, entries, datetime.time(6, 30), stdout=True)
    payments = next(c for c in CLUSTERS if c.name == EVENING_RERUN["cluster"])
    run(TODAY, "central", [{"snapshot": str(variant(payments.base, payments, payments.versions[-1], snaps))}],
        EVENING_RERUN["at"], env={"EKSUP_CHECKS__DISABLED": EVENING_RERUN["disabled"]})
    return fleet


def expected_exit(record: RunRecord) -> int:
    """0 when every cluster was read; 3 when one (the ghost) could not be."""
    return 3 if any("cluster" in t for t in record.entries) else 0
