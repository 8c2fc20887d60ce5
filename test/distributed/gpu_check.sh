#!/usr/bin/env bash
# The GPU check: on a machine with NVIDIA GPUs, in one go,
#   1. builds the addon against the CUDA LibTorch inside a pip-installed torch (or $LIBTORCH),
#   2. runs gpu_check.js as a world-size-1 NCCL group: collectives on cuda:0, then real training
#      steps of the trainer on a generated 4x4 Sudoku set (CPU and GPU losses side by side, an
#      evaluation, a checkpoint and a resume on the GPU), printing devices, losses and results,
#   3. with 2+ GPUs, the same again as one rank per GPU through the package's launcher.
# Exits non-zero at the first thing that is wrong. It rebuilds build/ in place (the CPU addon
# there is replaced; `node bin/setup.js` without TRM_LIBTORCH brings it back).
#
# Run it from anywhere (Node need not be installed: any Node >= 20 binary will do, e.g. from a
# nodejs.org tarball, whose bundled node-gyp and headers the build then uses):
#
#   NODE=/path/to/node bash test/distributed/gpu_check.sh
#
# Needs: node_modules (`npm ci` once, where the npm registry is reachable; typescript only if
# dist/ is not built yet), g++/make/python3 for node-gyp (or cmake for TRM_BUILDER=cmake), and a
# Python with a CUDA torch (`pip install torch`). Settings: TRM_PYTHON (default python3),
# LIBTORCH=/path/to/libtorch instead of pip's torch, MASTER_PORT (default 29531),
# TRM_GPU_CHECK_KEEP=1 to keep the temp folder.
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE=${NODE:-$(command -v node || true)}
if [ -z "$NODE" ] || ! "$NODE" --version >/dev/null 2>&1; then
  echo "gpu_check: no node: run as NODE=/path/to/node bash $0" >&2
  exit 1
fi
NODE=$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")
# binding.gyp and the bin/ scripts call `node`: this one.
export PATH="$(dirname "$NODE"):$PATH"
PYTHON=${TRM_PYTHON:-python3}
export TRM_PYTHON=$PYTHON
for dep in node-addon-api yaml; do
  [ -d "node_modules/$dep" ] || { echo "gpu_check: node_modules/$dep is missing: run 'npm ci' (needs the npm registry) and copy the tree here" >&2; exit 1; }
done

echo "== node $("$NODE" --version) at $NODE"
echo "== torch in $PYTHON"
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "GPUs", torch.cuda.device_count(), "nccl", torch.distributed.is_nccl_available())' || {
  [ -n "${LIBTORCH:-}" ] || { echo "gpu_check: no torch in $PYTHON: pip install torch, or set TRM_PYTHON or LIBTORCH" >&2; exit 1; }
}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader || true

[ -n "${LIBTORCH:-}" ] || export TRM_LIBTORCH=python
# pip's CUDA torch brings its CUDA and NCCL headers as nvidia-* packages (cuda_runtime.h, nccl.h);
# ProcessGroupNCCL.hpp includes them. A CUDA toolkit's, when there is one, serves as well.
site=$("$PYTHON" -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null || true)
extra=""
for d in $site; do
  for inc in "$d"/nvidia/*/include; do [ -d "$inc" ] && extra="$extra:$inc"; done
done
cuda_home=${CUDA_HOME:-/usr/local/cuda}
[ -d "$cuda_home/include" ] && extra="$extra:$cuda_home/include"
export CPATH="${extra#:}${CPATH:+:$CPATH}"

echo "== LibTorch"
"$NODE" bin/libtorch.js json
echo "== build (CPATH=$CPATH)"
rm -rf build build-cmake
"$NODE" bin/setup.js
addon=build/Release/trm_native.node
[ -f "$addon" ] || addon=build-cmake/Release/trm_native.node
[ -f "$addon" ] || { echo "gpu_check: the build made no trm_native.node" >&2; exit 1; }
export TRM_NATIVE=$PWD/$addon
if [ -f node_modules/typescript/bin/tsc ]; then
  "$NODE" node_modules/typescript/bin/tsc -p .
elif [ ! -f dist/test/distributed/gpu_check.js ]; then
  echo "gpu_check: dist/ is not built and node_modules/typescript is missing" >&2
  exit 1
fi
"$NODE" -e "const i = require('./dist/lib/torch/native').native.buildInfo(); console.log('addon', process.env.TRM_NATIVE, JSON.stringify(i)); if (!i.cuda || !i.nccl) { console.error('gpu_check: the addon was built without CUDA/NCCL'); process.exit(1); }"

export TRM_GPU_CHECK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trm-gpu-check-XXXXXX")
[ "${TRM_GPU_CHECK_KEEP:-0}" = 1 ] || trap 'rm -rf "$TRM_GPU_CHECK_DIR"' EXIT
echo "== one rank (world size 1, NCCL), data and checkpoints in $TRM_GPU_CHECK_DIR"
RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=${MASTER_PORT:-29531} \
  "$NODE" dist/test/distributed/gpu_check.js
gpus=$("$NODE" -p "require('./dist/lib/torch/native').native.buildInfo().cudaDeviceCount")
if [ "$gpus" -ge 2 ]; then
  echo "== $gpus ranks, one per GPU, through the launcher"
  "$NODE" -e "require('./dist/lib/distributed/launch').launch({ nprocPerNode: $gpus, command: [process.execPath, 'dist/test/distributed/gpu_check.js'] }).then((c) => process.exit(c))"
fi
echo "== GPU check passed"
