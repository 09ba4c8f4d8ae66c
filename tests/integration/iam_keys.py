"""The object keys an eksup writer may put, as Terraform computes them, and IAM's wildcard
matching to test concrete keys against them.

terraform/modules/object-keys has no provider, so `terraform console` evaluates it offline:
the patterns the tests check are the ones the root module and cluster-writer deploy.
"""

import json
import os
import re
import shutil
import subprocess
import uuid
from functools import lru_cache

import pytest

from harness import ROOT

MODULE = ROOT / "terraform" / "modules" / "object-keys"


def iam_match(pattern: str, value: str) -> bool:
    """IAM resource matching: `*` any run of characters (`/` included), `?` exactly one,
    everything else literal and case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def terraform():
    exe = shutil.which("terraform")
    if not exe:
        pytest.fail("terraform not found on PATH: install Terraform >= 1.5 (the machine image has 1.11)")
    return exe


@lru_cache(maxsize=None)
def _workdir(base: str) -> str:
    """A copy of the module, initialized once (init of a module without providers is offline)."""
    work = os.path.join(base, "object-keys")
    shutil.copytree(MODULE, work, ignore=shutil.ignore_patterns(".terraform*"))
    run = subprocess.run([terraform(), "init", "-backend=false", "-input=false"], cwd=work,
                         capture_output=True, text=True, env=tf_env(base), timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return work


def tf_env(home):
    return {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null", "HOME": home,
            "TF_IN_AUTOMATION": "1"}


@lru_cache(maxsize=None)
def patterns(base: str, prefix: str, writers: tuple, shards: int = 1, fleet_page: bool = False,
             output: str = "keys") -> tuple:
    """`output` of modules/object-keys for these inputs, from `terraform console`."""
    work = _workdir(base)
    args = [terraform(), "console", "-var", f"prefix={prefix}", "-var", f"writers={json.dumps(list(writers))}",
            "-var", f"shards={shards}", "-var", f"fleet_page={str(fleet_page).lower()}"]
    expr = {"keys": "local.keys", "page_keys": "local.page_keys"}[output]
    run = subprocess.run(args, input=f"jsonencode({expr})\n", cwd=work, capture_output=True, text=True,
                         env=tf_env(base), timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return tuple(json.loads(json.loads(run.stdout)))


def may_put(key: str, allowed) -> bool:
    return any(iam_match(p, key) for p in allowed)


def keys_of(prefix: str, writer: str, dt="2026-11-23", run_id=None, batches=(0, 1, 12),
            cluster=("012345678901", "eu-west-1", "prod")):
    """Every key one run of `writer` writes (DESIGN.md, "S3 layout and tables"), with the batch
    number zero-padded to 4 digits and the cluster report named after the writer."""
    run_id = run_id or str(uuid.UUID("0192f0c4-7d2a-7b3e-8a1f-3c4d5e6f7a8b"))
    out = [f"{prefix}/runs/dt={dt}/{run_id}.{writer}.json",
           f"{prefix}/cluster-reports/dt={dt}/{'/'.join(cluster)}/{run_id}.{writer}.json"]
    for b in batches:
        for table in ("findings", "clusters"):
            out.append(f"{prefix}/{table}/dt={dt}/{run_id}-{b:04d}.{writer}.parquet")
            out.append(f"{prefix}/json/{table}/dt={dt}/{run_id}-{b:04d}.{writer}.jsonl")
    return out


def page_keys(prefix: str, dt="2026-11-23", run_id="0192f0c4-7d2a-7b3e-8a1f-3c4d5e6f7a8b"):
    return [f"{prefix}/fleet-page/latest.html", f"{prefix}/fleet-page/dt={dt}/{run_id}.html"]
