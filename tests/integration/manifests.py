"""The deploy/ tree as the tests see it: kustomize renders, and the lint tools.

Missing tools fail the test with the command that installs them; nothing is skipped.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import ROOT

KUSTOMIZE = ROOT / "deploy" / "kubernetes"
BASE = KUSTOMIZE / "base"
OVERLAYS = ("in-cluster", "central-runner", "central-runner-sharded", "cluster-access")


def tool(name, install):
    """Path of `name` from the test venv, then PATH; a failed test saying how to install it."""
    for candidate in (Path(sys.executable).parent / name, shutil.which(name)):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail(f"{name} not found: {install}")


def checkov():
    path = ROOT / ".venv-checkov" / "bin" / "checkov"
    if path.is_file():
        return str(path)
    return tool("checkov", "run tests/run.sh, which installs it into .venv-checkov from "
                "tests/requirements-checkov.txt (python3 -m venv .venv-checkov && "
                ".venv-checkov/bin/pip install -r tests/requirements-checkov.txt)")


def render_text(directory):
    kubectl = tool("kubectl", "install kubectl (kustomize is built in as `kubectl kustomize`): "
                   "apt-get install -y kubectl, or see https://kubernetes.io/docs/tasks/tools/")
    run = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"kubectl kustomize {directory} failed:\n{run.stderr}"
    return run.stdout


def render(directory):
    """The objects `kubectl kustomize directory` renders."""
    return [d for d in yaml.safe_load_all(render_text(directory)) if d]


def find(docs, kind, name=None):
    hits = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return hits
