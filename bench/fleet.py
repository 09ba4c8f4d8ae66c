"""Fleet benchmark: `eksup run` over a simulated fleet, at several concurrencies.

The fleet is N clusters spread over A accounts x R regions of moto, reached by the runner
through AssumeRole, each cluster with one managed node group, three addons and a small
Kubernetes API (nodes, deployments with their ReplicaSets and PDBs, CronJobs with Jobs).
Every AWS call is delayed by --aws-latency-ms in the stand-in and every Kubernetes request
by --kube-latency-ms in the fake API server, so the wall time shows how well eksup overlaps
its waits rather than how fast localhost is.

All Kubernetes clusters are served by one multi-tenant fake API server (`/c/<cluster>/…`
is cluster <cluster>'s API root, which DescribeCluster returns as its endpoint) so that a
thousand clusters do not need a thousand Python processes. The fakes report the CPU time
they spent, so a reader can tell whether eksup or the harness bounds the wall time.

Run (after `bash tests/run.sh` has made .venv):
    cargo build --release --locked
    .venv/bin/python bench/fleet.py                      # 1,000 clusters, concurrency 1, 8, 32
    .venv/bin/python bench/fleet.py --clusters 200 --concurrency 8 --keep-output out/
Prints one Markdown table row per concurrency; --keep-output keeps each run's output tree
(DIR/c<concurrency>/) for `eksup report` and Athena experiments.
"""

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "fakes"), str(ROOT / "tests" / "integration")]

import boto3  # noqa: E402

import certs as certgen  # noqa: E402
from harness import PY, assumed, clean_env, http_json, start_moto, start_ready, wait_measured  # noqa: E402

VERSIONS = ("1.31", "1.32", "1.33", "1.34")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a running process, all its threads included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def account_ids(n):
    return [f"{100000000000 + i * 1111:012d}" for i in range(1, n + 1)]


def addon_versions(version):
    """DescribeAddonVersions entries for the three addons every cluster runs."""
    out = []
    for name, builds in (("vpc-cni", ("v1.19.2-eksbuild.1", "v1.20.1-eksbuild.1")),
                         ("coredns", ("v1.11.4-eksbuild.2", "v1.12.1-eksbuild.1")),
                         ("kube-proxy", (f"v{version}.0-eksbuild.1", f"v{version}.2-eksbuild.3"))):
        out.append({"addonName": name, "type": "networking", "addonVersions": [
            {"addonVersion": b, "architecture": ["amd64", "arm64"],
             "compatibilities": [{"clusterVersion": version, "platformVersions": ["*"],
                                  "defaultVersion": b == builds[-1]}]} for b in builds]})
    return out


def build_fleet(moto, standin, kube_url, ca_b64, clusters, accounts, regions):
    """Creates the clusters in moto, round-robin over (account, region); returns
    [(account, region, name, version)]."""
    plan = []
    scopes = [(a, r) for a in accounts for r in regions]
    for i in range(clusters):
        account, region = scopes[i % len(scopes)]
        plan.append((account, region, f"bench-{i:04d}", VERSIONS[i % len(VERSIONS)]))
    creds = {a: assumed(moto, a) for a in accounts}
    subnets = {}
    for account, region in scopes:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto, **creds[account])
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets[(account, region)] = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i * 16}.0/20", AvailabilityZone=f"{region}{az}")
            ["Subnet"]["SubnetId"] for i, az in enumerate("abc")]
    eks_clients = {(a, r): boto3.client("eks", region_name=r, endpoint_url=moto, **creds[a]) for a, r in scopes}
    for account, region, name, version in plan:
        eks = eks_clients[(account, region)]
        ids = subnets[(account, region)]
        eks.create_cluster(name=name, version=version, roleArn=f"arn:aws:iam::{account}:role/eks-cluster",
                           resourcesVpcConfig={"subnetIds": ids}, tags={"team": "bench"})
        eks.create_nodegroup(clusterName=name, nodegroupName="default", nodeRole=f"arn:aws:iam::{account}:role/node",
                             subnets=ids, version=version, amiType="AL2023_x86_64_STANDARD",
                             scalingConfig={"minSize": 3, "maxSize": 6, "desiredSize": 3})
        http_json(f"{standin}/_standin/clusters/{name}", "POST", {
            "endpoint": f"{kube_url}/c/{name}", "ca": ca_b64,
            "addons": [{"addonName": "vpc-cni", "addonVersion": "v1.19.2-eksbuild.1"},
                       {"addonName": "coredns", "addonVersion": "v1.11.4-eksbuild.2"},
                       {"addonName": "kube-proxy", "addonVersion": f"v{version}.0-eksbuild.1"}],
        })
    http_json(f"{kube_url}/_bench/tenants", "POST", {name: version for _, _, name, version in plan})
    catalog = {}
    for v in VERSIONS + ("1.35",):
        catalog[v] = addon_versions(v)
    http_json(f"{standin}/_standin/addon-versions", "POST", catalog)
    return plan


def write_config(path, accounts, regions, concurrency, out_dir, label):
    path.write_text(json.dumps({
        "fleet": {"role_name": "eksup-reader", "accounts": accounts, "regions": regions,
                  "concurrency": concurrency, "cluster_timeout_seconds": 300},
        "outputs": {"directory": str(out_dir), "stdout": False},
        "writer": f"bench-{label}",
    }))


def run_once(binary, work, standin, accounts, regions, concurrency, fakes, kube_url, label):
    """One `eksup run`; returns its figures."""
    out_dir = work / label
    cwd = work / f"run-{label}"
    cwd.mkdir()
    write_config(cwd / "fleet.yaml", accounts, regions, concurrency, out_dir, label)
    http_json(f"{standin}/_standin/reset-calls", "POST", {})
    http_json(f"{kube_url}/_bench/reset", "POST", {})
    env = clean_env(cwd, standin)
    fake_cpu_before = {name: cpu_seconds(pid) for name, pid in fakes.items()}
    start = time.monotonic()
    with open(cwd / "stderr", "wb") as err:
        proc = subprocess.Popen([str(binary), "run", "--config", "fleet.yaml"], cwd=cwd, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        status, usage, peak = wait_measured(proc)
    wall = time.monotonic() - start
    fake_cpu = {name: cpu_seconds(pid) - fake_cpu_before[name] for name, pid in fakes.items()}
    stderr = (cwd / "stderr").read_text()
    summary = re.search(r"summary: (\d+) cluster row\(s\) in [\d.]+ s: ([^\n]*)", stderr)
    requests = re.search(r"requests: (\d+) AWS, (\d+) Kubernetes \((\d+) bytes\)", stderr)
    if not summary or not requests:
        raise SystemExit(f"no summary in the run's stderr (exit {os.waitstatus_to_exitcode(status)}):\n{stderr[-3000:]}")
    rows = int(summary.group(1))
    calls = http_json(f"{standin}/_standin/stats")["calls"]
    aws_seen = len(calls)
    by_op = dict(Counter(calls))
    kube_seen = http_json(f"{kube_url}/_bench/stats")
    return {
        "label": label, "concurrency": concurrency, "exit": os.waitstatus_to_exitcode(status), "rows": rows,
        "statuses": summary.group(2), "wall_s": wall, "peak_rss_mib": peak / 1024,
        "eksup_cpu_s": usage.ru_utime + usage.ru_stime,
        "aws_calls": int(requests.group(1)), "aws_calls_seen": aws_seen, "aws_calls_by_operation": by_op,
        "kube_requests": int(requests.group(2)), "kube_requests_seen": kube_seen["requests"],
        "kube_bytes": int(requests.group(3)), "fake_cpu_s": fake_cpu,
        "output_bytes": sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--concurrency", default="1,8,32", help="comma-separated, one run each")
    ap.add_argument("--kube-latency-ms", type=float, default=20)
    ap.add_argument("--aws-latency-ms", type=float, default=40)
    ap.add_argument("--binary", default=os.environ.get(
        "EKSUP_BIN", str(Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "eksup-target"))
                         / "release" / "eksup")))
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="skip the first run at the highest concurrency, which reaches moto for every call "
                         "and fills the stand-in's replay of moto's answers (then the fakes' CPU includes moto's)")
    ap.add_argument("--keep-output", help="copy each run's output tree to DIR/c<concurrency>/")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every cluster was read and eksup's request counts match the fakes'")
    args = ap.parse_args()
    binary = Path(args.binary)
    if not binary.is_file():
        raise SystemExit(f"no eksup binary at {binary}: run `cargo build --release --locked` or pass --binary")
    regions = args.regions.split(",")
    accounts = account_ids(args.accounts)
    levels = [int(c) for c in args.concurrency.split(",")]

    work = Path(tempfile.mkdtemp(prefix="eksup-bench-"))
    procs = []
    try:
        chain = certgen.make_chain(work / "certs")
        moto_proc, moto = start_moto()
        procs.append(moto_proc)
        standin_proc, standin = start_ready(
            [PY, str(ROOT / "bench" / "fakes.py"), "aws", "--upstream", moto,
             "--latency-ms", str(args.aws_latency_ms)], "AWS stand-in")
        procs.append(standin_proc)
        kube_proc, kube_url = start_ready(
            [PY, str(ROOT / "bench" / "fakes.py"), "kube", "--certdir", str(chain["ca"].parent),
             "--latency-ms", str(args.kube_latency_ms), "--versions", ",".join(VERSIONS)], "fake API server")
        procs.append(kube_proc)
        ca_b64 = base64.b64encode(chain["ca"].read_bytes()).decode()
        t0 = time.monotonic()
        plan = build_fleet(moto, standin, kube_url, ca_b64, args.clusters, accounts, regions)
        print(f"fleet of {len(plan)} clusters in {len(accounts)} accounts x {len(regions)} regions "
              f"built in {time.monotonic() - t0:.0f} s ({work})", file=sys.stderr, flush=True)
        fakes = {"moto": moto_proc.pid, "stand-in": standin_proc.pid, "kube": kube_proc.pid}
        results = []
        print("| concurrency | clusters | wall (s) | peak RSS (MiB) | eksup CPU (s) | AWS calls / cluster "
              "| K8s requests / cluster | K8s KiB / cluster | fakes' CPU (s): moto / stand-in / kube | exit |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        runs = [(max(levels), "warmup")] if args.warmup else []
        runs += [(c, f"c{c}") for c in levels]
        for c, label in runs:
            r = run_once(binary, work, standin, accounts, regions, c, fakes, kube_url, label)
            results.append(r)
            n = r["rows"]
            f = r["fake_cpu_s"]
            shown = f"{c} (warm-up, moto live)" if label == "warmup" else str(c)
            print(f"| {shown} | {n} ({r['statuses']}) | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} | "
                  f"{r['eksup_cpu_s']:.1f} | {r['aws_calls'] / n:.1f} | {r['kube_requests'] / n:.1f} | "
                  f"{r['kube_bytes'] / n / 1024:.1f} | {f['moto']:.1f} / {f['stand-in']:.1f} / {f['kube']:.1f} | "
                  f"{r['exit']} |", flush=True)
            if r["aws_calls"] != r["aws_calls_seen"] or r["kube_requests"] != r["kube_requests_seen"]:
                print(f"  note: eksup counted {r['aws_calls']} AWS / {r['kube_requests']} Kubernetes, the fakes "
                      f"saw {r['aws_calls_seen']} / {r['kube_requests_seen']}", flush=True)
            ops = sorted(r["aws_calls_by_operation"].items(), key=lambda kv: -kv[1])
            print("  AWS calls per cluster: " + ", ".join(f"{op} {n / max(n_rows, 1):.2f}" for op, n in ops)
                  if (n_rows := r["rows"]) else "", file=sys.stderr, flush=True)
            if args.keep_output:
                dest = Path(args.keep_output) / label
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(work / label, dest)
                shutil.copy(work / f"run-{label}" / "stderr", Path(args.keep_output) / f"{label}.stderr")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
        if args.check:
            bad = [r for r in results if r["exit"] != 0 or r["rows"] != args.clusters
                   or r["aws_calls"] != r["aws_calls_seen"] or r["kube_requests"] != r["kube_requests_seen"]]
            if bad:
                raise SystemExit(f"check failed for concurrency {[r['concurrency'] for r in bad]}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
