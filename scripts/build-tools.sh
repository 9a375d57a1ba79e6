#!/usr/bin/env bash
# Builds the test control plane from Go modules: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, KWOK (fake nodes), Helm and MinIO (the S3 server), into a cache
# outside the repository:
#   ${NFC_TOOLS_CACHE:-$HOME/.cache/nfc-tools}/<tool>-<version>/
# with symlinks to every binary in ${NFC_TOOLS_CACHE}/bin (what scripts/tools-env.sh exports as
# NFC_TOOLS_BIN). A tool already in the cache is not rebuilt, so a second run takes a second; a
# fresh clone on the same machine reuses it. Needs Go (go.mod's `go` line) and the module proxy
# only when something has to be built.
set -euo pipefail

# Versions, in one place. etcd and Kubernetes are built through the wrapper modules under tools/
# whose go.mod must require the same versions (tools/kubernetes/gen-go-mod.sh rewrites that one).
ETCD_VERSION=v3.7.3
KUBERNETES_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
# MinIO tags its releases RELEASE.<date>, which are not semantic versions, so the module proxy
# only serves commits as pseudo-versions: this is master of 2026-02-12 (its go.mod has no
# replace directives, so `go install` builds it directly).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${NFC_TOOLS_CACHE:-$HOME/.cache/nfc-tools}"
bin="$cache/bin"
mkdir -p "$cache" "$bin"

log() { printf 'build-tools: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# One build at a time per cache (two CI runs on one machine), never a half-written tool.
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build $1 (https://go.dev/dl/; the module proxy must be reachable)"
}

# Checks that a wrapper module requires the pinned version, so the cache key tells the truth.
check_pin() { # <go.mod> <module> <version>
  grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2[[:space:]]+$3([[:space:]]|$)" "$1" ||
    die "$1 does not require $2 $3 (the version pinned at the top of $0); update one of them"
}

# Builds <tool>-<version> with the given command unless the cache has it. The command writes its
# binaries into the directory "$out"; it is renamed into place only when the build succeeded.
build() { # <tool> <version> <binary...> -- <command...>
  local tool="$1" version="$2"
  shift 2
  local binaries=()
  while [ "$1" != "--" ]; do
    binaries+=("$1")
    shift
  done
  shift
  local dir="$cache/$tool-$version"
  if [ -f "$dir/.complete" ]; then
    log "$tool $version: cached in $dir"
  else
    need_go "$tool"
    log "$tool $version: building into $dir (first time only; minutes)"
    local start=$SECONDS
    out="$dir.partial.$$"
    rm -rf "$out"
    mkdir -p "$out"
    if ! "$@"; then
      rm -rf "$out"
      die "$tool $version: build failed"
    fi
    for b in "${binaries[@]}"; do
      if [ ! -f "$out/$b" ]; then
        rm -rf "$out"
        die "$tool $version: $b was not built"
      fi
    done
    go version >"$out/.complete"
    rm -rf "$dir"
    mv "$out" "$dir"
    log "$tool $version: built in $((SECONDS - start)) s"
  fi
  for b in "${binaries[@]}"; do
    ln -sfn "$dir/$b" "$bin/$b"
  done
}

export CGO_ENABLED=0
gobuild=(nice -n 10 go build -trimpath)

build_etcd() {
  (cd "$root/tools/etcd" && "${gobuild[@]}" -ldflags "-s -w" -o "$out/etcd" .)
}

build_kubernetes() {
  local minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local ldflags="-s -w" pkg
  # What Kubernetes' own build stamps into its binaries (hack/lib/version.sh), so `kubectl
  # version` and /version report the real release instead of v0.0.0-master.
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$root/tools/kubernetes" && "${gobuild[@]}" -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
}

build_kwok() {
  GOBIN="$out" nice -n 10 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The kwok binary plays no stage unless given some: the same defaults kwokctl uses (nodes
  # become Ready and renew their lease; Pods bound to them run, complete and are deleted).
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$src/$f" ] || die "kwok $KWOK_VERSION: stage $src/$f not found"
    [ $first = 1 ] || echo "---"
    first=0
    cat "$src/$f"
  done >"$out/kwok-stages.yaml"
}

build_helm() {
  # As Helm's Makefile does: its version, and the Kubernetes version of its client-go as the
  # default .Capabilities.KubeVersion (else `helm template` renders for Kubernetes 1.20).
  local gomod minor ldflags="-s -w"
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  minor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$gomod")"
  [ -n "$minor" ] || die "helm $HELM_VERSION: no k8s.io/client-go in $gomod"
  ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  GOBIN="$out" nice -n 10 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

build_minio() {
  # What MinIO's own build stamps (buildscripts/gen-ldflags.go), from the pseudo-version's
  # commit time and hash, so `minio --version` names the commit instead of DEVELOPMENT.GOGET.
  local stamp="${MINIO_VERSION#v0.0.0-}" commit time
  commit="${stamp#*-}"
  stamp="${stamp%%-*}"
  time="${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:8:2}:${stamp:10:2}:${stamp:12:2}Z"
  local ldflags="-s -w" pkg=github.com/minio/minio/cmd
  ldflags+=" -X $pkg.Version=$time -X $pkg.ReleaseTag=DEVELOPMENT.${time//:/-}"
  ldflags+=" -X $pkg.CommitID=$commit -X $pkg.ShortCommitID=$commit -X $pkg.CopyrightYear=${stamp:0:4}"
  GOBIN="$out" nice -n 10 go install -trimpath -ldflags "$ldflags" "github.com/minio/minio@$MINIO_VERSION"
}

check_pin "$root/tools/etcd/go.mod" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_pin "$root/tools/kubernetes/go.mod" k8s.io/kubernetes "$KUBERNETES_VERSION"

build etcd "$ETCD_VERSION" etcd -- build_etcd
build kubernetes "$KUBERNETES_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubectl -- build_kubernetes
build kwok "$KWOK_VERSION" kwok kwok-stages.yaml -- build_kwok
build helm "$HELM_VERSION" helm -- build_helm
build minio "$MINIO_VERSION" minio -- build_minio

log "tools ready in $bin"
echo "$bin"
