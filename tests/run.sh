#!/usr/bin/env bash
# The one test command (README "Run all tests"; CI runs it through .ci/run).
# Sets up everything it needs — a Python venv with the pinned test tools (moto, pytest,
# boto3, cryptography, PyYAML, python-hcl2, sqlglot, the AWS provider schema, hadolint,
# kubernetes-validate), checkov in a venv of its own, faketime, chromium, strace, buildah, skopeo, umoci and shellcheck (apt) —
# and kube-apiserver and etcd built from their Go modules (tests/real-kube.sh, cached) —
# then runs formatting and lint checks, the Rust unit tests, and the integration tests that drive the real binary
# against moto, the real kube-apiserver and the fake Kubernetes API server.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/eksup-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# No HashiCorp version check from the terraform the tests run (it writes ~/.terraform.d/).
export CHECKPOINT_DISABLE=1

step() { printf '\n==> %s\n' "$*"; }

step "Python test tools (.venv, tests/requirements.txt)"
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi
.venv/bin/python -c "import moto, pytest, yaml, cryptography, boto3" \
  || { echo "the test venv is broken: remove .venv and run again" >&2; exit 1; }

step "checkov (.venv-checkov, tests/requirements-checkov.txt), faketime, chromium, strace and the image tools"
want=$(sha256sum tests/requirements-checkov.txt | cut -d' ' -f1)
if [ ! -x .venv-checkov/bin/checkov ] || [ "$(cat .venv-checkov/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-checkov.txt
  echo "$want" > .venv-checkov/.requirements.sha256
fi
# Debian packages the tests call, installed when missing (as root, no sudo).
apt_tool() {  # command, package, what needs it
  if command -v "$1" >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then return 0; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$2" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; } \
    || echo "could not install $2 (apt-get install -y $2): $3 will fail" >&2
}
# The fleet tests run the binary under libfaketime to write several days of results.
apt_tool faketime faketime "the fleet tests"
# The report tests load the HTML page in a real headless browser (Debian's chromium).
apt_tool chromium chromium "the report tests"
# The deploy test traces the CronJob's run to show it writes no file.
apt_tool strace strace "the deploy test"
# The image test builds deploy/image/Dockerfile without a Docker engine (buildah), exports
# it (skopeo), unpacks it (umoci) and runs it; shellcheck lints deploy/image/build.sh.
apt_tool buildah buildah "the image test"
apt_tool skopeo skopeo "the image test"
apt_tool umoci umoci "the image test"
apt_tool shellcheck shellcheck "the image test"

step "kube-apiserver and etcd for 1.34 and 1.37 (built from their Go modules, cached by version)"
# The real control plane the Kubernetes tests read (tests/real-kube.sh; cold: see README).
for minor in 1.34 1.37; do
  bash tests/real-kube.sh build --version "$minor" >/dev/null
done

# terraform (fmt -check) and kubectl (kustomize, apply -k) come with the machine image; where
# one is missing, it is built from the Go module proxy (terraform 1.8.5 is the last that
# `go install` builds without a wrapper module; kubectl from the same wrapper as kube-apiserver).
if ! command -v terraform >/dev/null 2>&1; then
  GOBIN="$HOME/.cache/eksup-tools" go install github.com/hashicorp/terraform@v1.8.5
  export PATH="$HOME/.cache/eksup-tools:$PATH"
fi
if ! command -v kubectl >/dev/null 2>&1; then
  mkdir -p "$HOME/.cache/eksup-tools"
  ln -sf "$(bash tests/real-kube.sh kubectl 1.37)" "$HOME/.cache/eksup-tools/kubectl"
  export PATH="$HOME/.cache/eksup-tools:$PATH"
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test (unit tests)"
cargo test --locked

step "cargo build (the binary the integration tests run)"
cargo build --locked

step "integration tests (moto, real kube-apiserver, fake Kubernetes API server)"
TEST_EKSUP_BIN="$CARGO_TARGET_DIR/debug/eksup" .venv/bin/python -m pytest tests -q -p no:cacheprovider
