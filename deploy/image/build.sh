#!/usr/bin/env bash
# Builds the eksup container image from a binary already built on this (Linux) machine.
#
# It assembles a build context whose rootfs/ holds only what the binary needs at run time —
# the binary, exactly the shared libraries `ldd` names (at the paths it names), a CA bundle,
# and /etc/passwd and /etc/group entries for the user 65532 — next to deploy/image/Dockerfile,
# which copies it onto `scratch`. Nothing is pulled from a registry.
#
# With buildah installed it builds the image (vfs storage, chroot isolation: no daemon, no
# privileges beyond root's); otherwise, or with --context-only, it leaves the context for
# `docker build` (docs/deploying.md, "The container image").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
  cat <<EOF
usage: deploy/image/build.sh [options]
  --binary PATH     the eksup binary (default: \${CARGO_TARGET_DIR:-target}/release/eksup)
  --context DIR     where to assemble the build context (must be absent or empty; default:
                    a temporary directory, removed after a buildah build)
  --context-only    assemble the context and stop (then: docker build -t TAG DIR)
  --tag NAME        the image name (default: eksup:<the binary's version>)
  --storage DIR     buildah's image store under DIR (default: buildah's own, /var/lib/containers)
  --ca-bundle PATH  PEM bundle for /etc/ssl/certs/ca-certificates.crt
                    (default: /etc/ssl/certs/ca-certificates.crt, Debian's ca-certificates)
EOF
}

binary="${CARGO_TARGET_DIR:-$repo/target}/release/eksup"
context=""
context_only=false
tag=""
storage=""
ca_bundle=/etc/ssl/certs/ca-certificates.crt

value() {  # option, remaining argument count
  if [ "$2" -lt 2 ]; then
    echo "build.sh: $1 needs a value" >&2
    exit 2
  fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) value "$1" $#; binary=$2; shift 2 ;;
    --context) value "$1" $#; context=$2; shift 2 ;;
    --context-only) context_only=true; shift ;;
    --tag) value "$1" $#; tag=$2; shift 2 ;;
    --storage) value "$1" $#; storage=$2; shift 2 ;;
    --ca-bundle) value "$1" $#; ca_bundle=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

fail() {
  echo "build.sh: $*" >&2
  exit 1
}
[ -x "$binary" ] || fail "no executable at $binary: build it (cargo build --release --locked) or pass --binary"
[ -s "$ca_bundle" ] || fail "no CA bundle at $ca_bundle: apt-get install ca-certificates, or pass --ca-bundle"
command -v ldd >/dev/null || fail "ldd not found (it lists the libraries to copy): apt-get install libc-bin"

# The version the binary reports ("eksup 0.1.0"), so the label cannot disagree with it.
version=$("$binary" --version | awk 'NR == 1 {print $NF}')
[ -n "$version" ] || fail "$binary --version printed no version"
tag=${tag:-eksup:$version}

if [ -z "$context" ]; then
  context=$(mktemp -d "${TMPDIR:-/tmp}/eksup-image.XXXXXX")
  temporary=true
else
  [ ! -e "$context" ] || [ -z "$(ls -A "$context")" ] || fail "$context is not empty"
  mkdir -p "$context"
  temporary=false
fi
rootfs="$context/rootfs"

# The loader and the libraries, copied (symlinks resolved) to the paths ldd names: the
# binary's PT_INTERP and the loader's default search path are those paths, and no
# ld.so.cache is needed. A static binary has none.
libraries=()
if ldd_out=$(ldd "$binary" 2>&1); then
  if grep -q 'not found' <<<"$ldd_out"; then
    fail "$binary needs libraries this machine lacks:"$'\n'"$ldd_out"
  fi
  while read -r path; do
    libraries+=("$path")
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out")
elif ! grep -q 'not a dynamic executable' <<<"$ldd_out"; then
  fail "ldd $binary: $ldd_out"
fi

install -D -m 0755 "$binary" "$rootfs/usr/local/bin/eksup"
for lib in "${libraries[@]}"; do
  install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
done
install -D -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
# Only the image's user: nothing runs as anyone else, and there is no home to write to.
printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'nonroot:x:65532:\n' >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
install -m 0644 "$here/Dockerfile" "$context/Dockerfile"

source_url=$(git -C "$repo" remote get-url origin 2>/dev/null || true)
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
build_args=(--build-arg "VERSION=$version" --build-arg "SOURCE=$source_url" --build-arg "REVISION=$revision")

if $context_only || ! command -v buildah >/dev/null; then
  $context_only || echo "build.sh: buildah not found; the context is ready for docker" >&2
  printf 'context: %s\nbuild it: docker build' "$context"
  printf ' %q' "${build_args[@]}" -t "$tag" "$context"
  printf '\n'
  exit 0
fi

store=()
if [ -n "$storage" ]; then
  store=(--root "$storage/root" --runroot "$storage/run")
fi
buildah "${store[@]}" --storage-driver vfs bud --isolation chroot "${build_args[@]}" \
  -t "$tag" -f "$context/Dockerfile" "$context"
if $temporary; then
  rm -rf "$context"
fi
echo "built $tag"
