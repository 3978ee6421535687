#!/usr/bin/env bash
# `npm test`: system packages, build (child processes and the test broker CLI run dist/), typecheck, then
# every vitest project. Extra arguments go to vitest, e.g. `npm test -- sdk/test/danube`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-packages.sh
npm run build --silent
npm run lint --silent
exec npx vitest run "$@"
