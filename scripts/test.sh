#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, then lint, type check,
# unit tests and the integration tests over the real clips in ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
./scripts/build-tools.sh; source scripts/tools-env.sh  # control plane for tests, built from Go modules, cached
npm test
