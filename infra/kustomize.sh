#!/usr/bin/env bash
# Prints the path of a kustomize binary of the pinned version, building it first into <repo>/.cache/bin
# from the Go module proxy when it is missing or another version (prebuilt binaries can't be downloaded
# here; a cold build takes under a minute on 2 cores). Idempotent and safe to run concurrently.
# Usage: "$(infra/kustomize.sh)" build deploy/k8s/overlays/dev
set -euo pipefail

KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5"
KUSTOMIZE_VERSION="v5.4.3"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.cache/bin"
bin="$bin_dir/kustomize"

have_pinned() {
  [[ -x "$bin" ]] || return 1
  # `kustomize version` says "(devel)" for `go install` builds; the module version is in the build info.
  go version -m "$bin" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+${KUSTOMIZE_MODULE}[[:space:]]+${KUSTOMIZE_VERSION}([[:space:]]|$)"
}

if ! command -v go >/dev/null 2>&1; then
  if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
  echo "infra/kustomize.sh: kustomize is not built and no Go toolchain is on PATH" >&2
  exit 1
fi

if ! have_pinned; then
  mkdir -p "$bin_dir"
  exec 9>"$bin_dir/.kustomize.lock"
  flock 9
  if ! have_pinned; then
    tmp="$(mktemp -d "$bin_dir/.kustomize-build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "infra/kustomize.sh: building ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION} (Go module proxy)" >&2
    GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}" >&2
    mv -f "$tmp/kustomize" "$bin"
  fi
fi

echo "$bin"
