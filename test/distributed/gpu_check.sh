#!/usr/bin/env bash
# On a GPU machine: builds the addon against a CUDA LibTorch ($LIBTORCH, else the torch inside
# `python3 -m pip install torch`), then runs gpu_check.ts as one NCCL rank and, with 2+ GPUs, as
# one rank per GPU through `trm-train`'s launcher machinery. Prints what it saw.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${LIBTORCH:-}" ] || export TRM_LIBTORCH=python
echo "== LibTorch"; node bin/libtorch.js json
echo "== build"; rm -rf build && node bin/setup.js && (npx tsc -p . || true)
echo "== one rank (world size 1)"
RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=${MASTER_PORT:-29531} node dist/test/distributed/gpu_check.js
gpus=$(node -p "require('./dist/lib/torch/native').native.buildInfo().cudaDeviceCount")
if [ "$gpus" -ge 2 ]; then
  echo "== $gpus ranks, one per GPU"
  node -e "require('./dist/lib/distributed/launch').launch({ nprocPerNode: $gpus, command: [process.execPath, 'dist/test/distributed/gpu_check.js'] }).then((c) => process.exit(c))"
fi
echo "== done"
