#!/usr/bin/env bash
# The whole test suite, with its own setup: install, build, typecheck, lint, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests use tiny.en (English) and base (multilingual: language detection, translation).
WS_SETUP_MODELS="tiny.en base" WS_SETUP_BROWSER=1 WS_SETUP_VOICE=1 WS_SETUP_SCALE=1 WS_SETUP_REAL_SPEECH=1 \
  WS_SETUP_SPEAKER=1 WS_SETUP_ARM64=1 \
  bash scripts/setup.sh

printf '\n\033[1m==> Changesets, typecheck and lint\033[0m\n'
node scripts/changeset-check.mjs
pnpm exec turbo run typecheck lint --output-logs=errors-only
pnpm exec tsc -p tsconfig.json # the root's tests and benchmark
pnpm exec biome check .

printf '\n\033[1m==> Tests\033[0m\n'
rm -f .vitest-results.json
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results.json || status=$?
node scripts/test-summary.mjs .vitest-results.json || true
exit "$status"
