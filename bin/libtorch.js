#!/usr/bin/env node
'use strict';
// Finds LibTorch for both builds (node-gyp reads it through the CLI below, cmake-js through
// -DTorch_DIR). Order: LIBTORCH or Torch_DIR; the torch inside Python when TRM_LIBTORCH=python;
// the system's (Debian's libtorch-dev).
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function multiarchLibDir() {
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch] || process.arch;
  return `/usr/lib/${arch}-linux-gnu`;
}

// A LibTorch described by its install prefix, include and library folders and CMake config.
function describe(source, prefix, cmakeDir, libDir) {
  const config = path.join(cmakeDir, 'TorchConfig.cmake');
  if (!fs.existsSync(config)) return null;
  const text = fs.readFileSync(config, 'utf8');
  const abi = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(text);
  const include = path.join(prefix, 'include');
  const has = (lib) => fs.existsSync(path.join(libDir, lib));
  let version = null;
  const versionFile = [path.join(include, 'torch/csrc/api/include/torch/version.h')].find((f) => fs.existsSync(f));
  if (versionFile) {
    const m = /TORCH_VERSION\s+"?([\d.]+)/.exec(fs.readFileSync(versionFile, 'utf8').replace(/\\\n/g, ''));
    const major = /TORCH_VERSION_MAJOR (\d+)/.exec(fs.readFileSync(versionFile, 'utf8'));
    const minor = /TORCH_VERSION_MINOR (\d+)/.exec(fs.readFileSync(versionFile, 'utf8'));
    version = m ? m[1] : major && minor ? `${major[1]}.${minor[1]}` : null;
  }
  const cuda = has('libtorch_cuda.so');
  return {
    source,
    prefix,
    cmakeDir,
    libDir,
    includeDirs: [include, path.join(include, 'torch/csrc/api/include')],
    cxx11Abi: abi ? abi[1] : '1',
    version,
    cuda,
    nccl: cuda && fs.existsSync(path.join(include, 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp')),
  };
}

function fromPrefix(source, prefix) {
  return describe(source, prefix, path.join(prefix, 'share/cmake/Torch'), path.join(prefix, 'lib'));
}

function fromPython(python) {
  const code = 'import torch.utils, os; print(os.path.dirname(torch.utils.__file__))';
  const torchUtils = execFileSync(python, ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  return fromPrefix(`python (${python})`, path.dirname(torchUtils));
}

// Returns the LibTorch to build against, or throws an Error listing where it looked and the fix.
// `systemCmakeDir` is where the system's LibTorch keeps its CMake config (tests point it elsewhere).
function findLibTorch(env = process.env, systemCmakeDir = path.join(multiarchLibDir(), 'cmake/Torch')) {
  const looked = [];
  if (env.LIBTORCH) {
    const found = fromPrefix('LIBTORCH', env.LIBTORCH);
    if (found) return found;
    looked.push(`LIBTORCH=${env.LIBTORCH} (no share/cmake/Torch/TorchConfig.cmake there)`);
  }
  if (env.Torch_DIR) {
    const prefix = path.resolve(env.Torch_DIR, '../../..');
    const lib = fs.existsSync(path.join(prefix, 'lib/libtorch.so')) ? path.join(prefix, 'lib') : multiarchLibDir();
    const found = describe('Torch_DIR', prefix, env.Torch_DIR, lib);
    if (found) return found;
    looked.push(`Torch_DIR=${env.Torch_DIR} (no TorchConfig.cmake there)`);
  }
  if (env.TRM_LIBTORCH === 'python') {
    const python = env.TRM_PYTHON || 'python3';
    try {
      const found = fromPython(python);
      if (found) return found;
      looked.push(`the torch inside ${python} (no CMake config found beside it)`);
    } catch {
      looked.push(`the torch inside ${python} (\`${python} -c "import torch"\` failed)`);
    }
  }
  const system = describe('system', '/usr', systemCmakeDir, multiarchLibDir());
  if (system) return system;
  looked.push(`the system's LibTorch (${systemCmakeDir}: not installed)`);
  const err = new Error(
    'LibTorch was not found. Looked in:\n' +
      looked.map((l) => `  - ${l}`).join('\n') +
      '\nPossible solutions:\n' +
      '  - Debian/Ubuntu (CPU): apt-get update && apt-get install -y libtorch-dev libopenblas0-pthread libgloo-dev\n' +
      '  - A LibTorch folder (e.g. a CUDA build): LIBTORCH=/path/to/libtorch npm install\n' +
      '  - The torch of a pip install: TRM_LIBTORCH=python npm install (TRM_PYTHON picks the interpreter)'
  );
  err.code = 'LIBTORCH_NOT_FOUND';
  throw err;
}

module.exports = { findLibTorch };

// CLI for binding.gyp: `node bin/libtorch.js include-dirs|lib-dir|defines|cmake-dir|json`
if (require.main === module) {
  const t = findLibTorch();
  const what = process.argv[2] || 'json';
  const defines = [`_GLIBCXX_USE_CXX11_ABI=${t.cxx11Abi}`, 'USE_C10D_GLOO', 'USE_DISTRIBUTED'];
  if (t.nccl) defines.push('USE_C10D_NCCL');
  if (t.cuda) defines.push('TRM_CUDA');
  const out = {
    'include-dirs': t.includeDirs.join(' '),
    'lib-dir': t.libDir,
    'cmake-dir': t.cmakeDir,
    defines: defines.join(' '),
    libs: ['-ltorch', '-ltorch_cpu', '-lc10'].concat(t.cuda ? ['-ltorch_cuda', '-lc10_cuda'] : []).join(' '),
    json: JSON.stringify(t, null, 2),
  }[what];
  if (out === undefined) {
    console.error(`unknown query '${what}'`);
    process.exit(2);
  }
  console.log(out);
}
