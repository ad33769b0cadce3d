#!/usr/bin/env bash
# Puts a software Vulkan adapter (Mesa 25 lavapipe from Debian's bookworm-backports) into .vulkan/,
# for the WebGPU backend's tests. Nothing from backports is installed system-wide: its packages are
# downloaded and unpacked here, and .vulkan/env sets VK_DRIVER_FILES and LD_LIBRARY_PATH.
# Debian 12's own Mesa 22.3 lavapipe is rejected by Dawn (missing dynamic-indexing features).
# Needs root for apt-get (run by scripts/test.sh); a no-op when .vulkan/env exists.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="$PWD/.vulkan"
[ -f "$DEST/env" ] && exit 0

# Mesa's runtime dependencies that bookworm itself provides (plus the Vulkan loader).
DEPS=(libvulkan1 libllvm15 libelf1 libexpat1 libwayland-client0 libx11-xcb1 libxcb-dri3-0 libxcb-present0
  libxcb-randr0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb1 libxshmfence1 libzstd1 zlib1g)
missing=()
for p in "${DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A private apt configuration: the machine's own Debian entry with only the suite changed.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/parts" "$WORK/lists/partial" "$WORK/debs"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  awk 'BEGIN{RS="";ORS="\n\n"} /Suites:[^\n]*bookworm( |$|\n)/ && !/security/ {print; exit}' /etc/apt/sources.list.d/debian.sources \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > "$WORK/parts/backports.sources"
else
  grep -E '^deb .* bookworm main' /etc/apt/sources.list | head -n1 | sed -E 's/ bookworm / bookworm-backports /' > "$WORK/parts/backports.list"
fi
APT=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$WORK/parts" -o "Dir::State::Lists=$WORK/lists" -o APT::Sandbox::User=root)
apt-get "${APT[@]}" update -qq
(cd "$WORK/debs" && apt-get "${APT[@]}" download -qq mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 libdrm-common)
rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp"
for f in "$WORK"/debs/*.deb; do dpkg -x "$f" "$DEST.tmp/root"; done
LIB="$DEST/root/usr/lib/$(uname -m)-linux-gnu"
ICD="$DEST.tmp/lvp_icd.json"
# The ICD names the driver by file name only; point it at the unpacked copy (its final place).
sed "s|\"libvulkan_lvp.so\"|\"$LIB/libvulkan_lvp.so\"|" "$DEST.tmp/root/usr/share/vulkan/icd.d/lvp_icd.json" > "$ICD"
printf 'export VK_DRIVER_FILES=%q\nexport LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "$DEST/lvp_icd.json" "$LIB" > "$DEST.tmp/env"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
echo "setup-lavapipe: $(ls "$WORK"/debs | tr '\n' ' ')-> .vulkan/"
