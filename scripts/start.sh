#!/usr/bin/env bash
# Installs what is needed and starts the transcription server with its demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f packages/server/package.json ]; then
  exec pnpm --filter @ws/server start
fi
cat <<'MSG'

The libraries are installed and built. The server package (@ws/server) is not part of this
checkout yet, so there is nothing to start; `npm test` runs the test suite.
MSG
