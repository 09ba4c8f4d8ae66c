#!/usr/bin/env bash
# The real Kubernetes control plane for tests and the benchmark: kube-apiserver and etcd built
# from their Go modules (cached by version outside the clone), started on loopback.
#
#   bash tests/real-kube.sh build [--version 1.34|1.37]   build if not cached, print the binaries
#   bash tests/real-kube.sh up DIR [--version 1.34|1.37] [--verifier URL] [--etcd-data DIR]
#                                                          start etcd + kube-apiserver; prints READY <url>
#   bash tests/real-kube.sh down DIR                       stop exactly what `up DIR` started
#   bash tests/real-kube.sh kubectl [1.34|1.37]            build kubectl of that release, print its path
#
# Cache: ${EKSUP_KUBE_CACHE:-$HOME/.cache/eksup-kube}/kubernetes-vX.Y.Z/kube-apiserver and
# etcd-vX.Y.Z/etcd. The Go module and build caches are Go's own (GOMODCACHE, GOCACHE).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${EKSUP_KUBE_CACHE:-$HOME/.cache/eksup-kube}"

# The patch release each supported minor builds. Bump here; the staging modules and the etcd
# version are read from that release's go.mod, never listed by hand.
kube_release() {
  case "$1" in
    1.34) echo v1.34.4 ;;
    1.37) echo v1.37.2 ;;
    *) echo "unsupported Kubernetes version '$1' (use 1.34 or 1.37)" >&2; return 2 ;;
  esac
}

die() { echo "real-kube: $*" >&2; exit 1; }
log() { echo "real-kube: $*" >&2; }

# The go.mod of k8s.io/kubernetes@REL, downloaded through the module proxy.
kube_gomod() {
  local rel="$1" tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && go mod download -json "k8s.io/kubernetes@$rel") \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
  rm -rf "$tmp"
}

# The etcd server release the Kubernetes release is built and tested against (its go.mod).
etcd_release() {
  local gomod="$1" v
  v="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$gomod")"
  [ -n "$v" ] || die "no go.etcd.io/etcd/server/v3 in $gomod"
  echo "$v"
}

build_kube_cmd() {  # CMD REL GOMOD OUT: a command of k8s.io/kubernetes/cmd, version stamped
  local cmd="$1" rel="$2" gomod="$3" out="$4" minor stage work ldflags m started
  minor="${rel#v1.}"; minor="${minor%%.*}"
  stage="v0.${rel#v1.}"
  work="$(mktemp -d)"
  {
    echo "module eksup.test/kube-apiserver"
    echo
    grep -m1 '^go ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $rel"
    echo
    # Every staging module, as the kubernetes go.mod lists it, at its published tag.
    sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod" \
      | while read -r m; do echo "replace $m => $m $stage"; done
  } > "$work/go.mod"
  grep -q '^replace k8s.io/api ' "$work/go.mod" || die "no staging replaces read from $gomod"
  started=$(date +%s)
  log "building $cmd $rel (cold: minutes to tens of minutes on 2 cores)"
  (
    cd "$work"
    go get "k8s.io/kubernetes/cmd/$cmd@$rel" >/dev/null 2>"$work/get.log" \
      || { cat "$work/get.log" >&2; exit 1; }
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$rel -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitCommit=$rel -X $pkg.gitTreeState=clean"
      ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$cmd"
  ) || { rm -rf "$work"; die "$cmd $rel did not build"; }
  mv "$out.tmp" "$out"
  rm -rf "$work"
  log "$cmd $rel built in $(( $(date +%s) - started )) s, $(du -m "$out" | cut -f1) MB"
}

build_etcd() {  # REL OUT
  local rel="$1" out="$2" work started
  work="$(mktemp -d)"
  printf 'module eksup.test/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$rel" > "$work/go.mod"
  started=$(date +%s)
  log "building etcd $rel"
  (
    cd "$work"
    go get "go.etcd.io/etcd/server/v3@$rel" >/dev/null 2>"$work/get.log" \
      || { cat "$work/get.log" >&2; exit 1; }
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" go.etcd.io/etcd/server/v3
  ) || { rm -rf "$work"; die "etcd $rel did not build"; }
  mv "$out.tmp" "$out"
  rm -rf "$work"
  log "etcd $rel built in $(( $(date +%s) - started )) s, $(du -m "$out" | cut -f1) MB"
}

# Builds what is missing; prints "KUBE_APISERVER=<path>" and "ETCD=<path>".
cmd_build() {
  local version="1.37" rel gomod erel kdir edir
  while [ $# -gt 0 ]; do
    case "$1" in
      --version) version="${2:?--version needs a value}"; shift 2 ;;
      *) echo "unknown argument '$1'" >&2; exit 2 ;;
    esac
  done
  command -v go >/dev/null || die "Go is needed to build kube-apiserver and etcd (go.dev/dl, or Debian golang)"
  rel="$(kube_release "$version")" || exit 2
  kdir="$CACHE/kubernetes-$rel"
  mkdir -p "$kdir"
  # One build at a time per cache: a second caller waits, then finds the binaries built.
  exec 9>"$CACHE/.build.lock"
  flock 9
  # The etcd release is remembered beside the binary so a cached build reads no go.mod.
  if [ ! -x "$kdir/kube-apiserver" ] || [ ! -s "$kdir/etcd-release" ]; then
    gomod="$(kube_gomod "$rel")"
    [ -s "$gomod" ] || die "could not download k8s.io/kubernetes@$rel's go.mod (GOPROXY=$(go env GOPROXY))"
    etcd_release "$gomod" > "$kdir/etcd-release"
    [ -x "$kdir/kube-apiserver" ] || build_kube_cmd kube-apiserver "$rel" "$gomod" "$kdir/kube-apiserver"
  fi
  erel="$(cat "$kdir/etcd-release")"
  edir="$CACHE/etcd-$erel"
  mkdir -p "$edir"
  [ -x "$edir/etcd" ] || build_etcd "$erel" "$edir/etcd"
  echo "KUBE_APISERVER=$kdir/kube-apiserver"
  echo "ETCD=$edir/etcd"
}

# kubectl of that release, for a machine without one (the tests call `kubectl kustomize` and
# `kubectl apply -k`); prints its path.
cmd_kubectl() {
  local rel kdir gomod
  rel="$(kube_release "${1:-1.37}")" || exit 2
  kdir="$CACHE/kubernetes-$rel"
  mkdir -p "$kdir"
  exec 9>"$CACHE/.build.lock"
  flock 9
  if [ ! -x "$kdir/kubectl" ]; then
    gomod="$(kube_gomod "$rel")"
    build_kube_cmd kubectl "$rel" "$gomod" "$kdir/kubectl"
  fi
  echo "$kdir/kubectl"
}

# up/down need the `cryptography` package: the test venv's Python (tests/run.sh makes it).
python_with_cryptography() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; elif [ -x "$HERE/../.venv/bin/python" ]; then
    echo "$HERE/../.venv/bin/python"; else echo python3; fi
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  kubectl) shift; cmd_kubectl "$@" ;;
  up|down) exec "$(python_with_cryptography)" "$HERE/realkube/control_plane.py" "$@" ;;
  *) echo "usage: bash tests/real-kube.sh build|up DIR|down DIR [--version 1.34|1.37]" >&2; exit 2 ;;
esac
