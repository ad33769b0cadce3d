#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine, then runs every test.
# Debian packages are installed only when missing and only when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(lz4 zstd python3-brian mosquitto socat chromium)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing Debian packages (${missing[*]}); run as root or install them; tests needing them will fail" >&2
  fi
fi

# The WebGPU backend's tests run on a software Vulkan adapter unpacked into .vulkan/ (see the script).
if [ "$(id -u)" = 0 ]; then
  bash scripts/setup-lavapipe.sh
elif [ ! -f .vulkan/env ]; then
  echo "test.sh: .vulkan/ missing and not root; the WebGPU tests will fail (run scripts/setup-lavapipe.sh as root)" >&2
fi

if [ ! -d ../shared/data ] && [ -z "${SPIKEFLOW_SHARED_DATA:-}" ]; then
  echo "test.sh: ../shared/data not found (set SPIKEFLOW_SHARED_DATA to the recordings folder)" >&2
  exit 1
fi

npm ci --no-audit --no-fund
npm run typecheck
npm test
