#!/usr/bin/env bash
# Assembles .device/gpu/ (git-ignored, < 64 MiB): everything `npm run bench -- gpu` needs on a GPU
# machine that has no Node and no network. Then, with the device tool:
#   run: bash .device/gpu/run.sh [bench options]     carry: [".device/gpu"]
# It prints the bench lines; the JSON figures also land in $OUT/gpu-bench.json.
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device/gpu
rm -rf "$D" && mkdir -p "$D/node_modules/webgpu/dist/linux-x64"
# Node itself, compressed (about 24 MB).
xz -T2 -6 -c "$(command -v node)" > "$D/node.xz"
# Dawn's Node binding for linux-x64 only (the package ships every platform).
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$D/node_modules/webgpu/"
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$D/dawn.node.xz"
# The bench and the engine as one ES module; the PyTorch baseline beside it.
printf "import { main } from './bench/gpu.ts';\nconst figures = await main(process.argv.slice(2));\nconsole.log(JSON.stringify({ bench: 'gpu', date: new Date().toISOString(), ...figures }));\n" > "$D/entry.ts"
cp -r bench src "$D/" # esbuild resolves the entry's imports from here
node_modules/.bin/esbuild "$D/entry.ts" --bundle --platform=node --format=esm --target=node20 --external:webgpu --outfile="$D/bench.mjs" --log-level=warning
rm -rf "$D/bench" "$D/src" "$D/entry.ts"
cp bench/torch_snn_step.py "$D/"
# The Vulkan loader (the NVIDIA driver's ICD is on the machine; the loader is not).
mkdir -p /tmp/spikeflow-amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/spikeflow-amd64 -oAPT::Sandbox::User=root'
apt-get $o update -qq
(cd "$D" && apt-get $o download -qq libvulkan1)
cat > "$D/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: unpack the loader and Node, then run the bench with the NVIDIA Vulkan driver.
set -euo pipefail
cd "$(dirname "$0")"
for f in *.deb; do dpkg -x "$f" /; done
ldconfig
xz -dc node.xz > /tmp/node && chmod +x /tmp/node
xz -dc dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
/tmp/node bench.mjs "$@" | tee /tmp/gpu-bench.log
tail -n 1 /tmp/gpu-bench.log > "${OUT:-/tmp}/gpu-bench.json"
RUN
chmod +x "$D/run.sh"
du -sh "$D"
