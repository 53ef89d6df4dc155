#!/usr/bin/env bash
# Installs what is needed and starts the transcription server with its demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Listens on HOST:PORT (default 127.0.0.1:8765) and prints its URL; it opens nothing.
exec node packages/server/dist/cli.js "$@"
