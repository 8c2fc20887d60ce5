#!/usr/bin/env node
'use strict';
// `npm install` runs this: find LibTorch (installing Debian's when it is missing and we may),
// then build the native addon with node-gyp (or cmake-js: TRM_BUILDER=cmake). Nothing is
// downloaded from outside the npm registry and Debian.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch } = require('./libtorch');

const root = path.resolve(__dirname, '..');
const env = process.env;
const say = (msg) => console.error(`[@trm/core] ${msg}`);

const DEBIAN_PACKAGES = ['libtorch-dev', 'libopenblas0-pthread', 'libgloo-dev'];

function canUseApt() {
  return env.TRM_NO_APT !== '1' && process.platform === 'linux' && process.getuid && process.getuid() === 0 &&
    spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

function aptInstall(packages, why) {
  say(`${why}: installing Debian's ${packages.join(', ')} with apt-get (set TRM_NO_APT=1 to turn this off)`);
  const run = (args) => {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
  };
  run(['update']);
  run(['install', '-y', '--no-install-recommends', ...packages]);
}

function missingDebianPackages(names) {
  return names.filter((name) => spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status !== 0);
}

function libtorch() {
  try {
    return findLibTorch();
  } catch (err) {
    if (err.code !== 'LIBTORCH_NOT_FOUND' || !canUseApt()) throw err;
    aptInstall(DEBIAN_PACKAGES, 'LibTorch was not found');
    return findLibTorch();
  }
}

function nodeGypPath() {
  const candidates = [
    env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ].filter(Boolean);
  return candidates.find((p) => fs.existsSync(p));
}

function nodeHeadersDir() {
  const dirs = [env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr'].filter(Boolean);
  return dirs.find((d) => fs.existsSync(path.join(d, 'include/node/node_api.h')));
}

function buildWithGyp(nodedir) {
  const gyp = nodeGypPath();
  const fresh = !fs.existsSync(path.join(root, 'build/Makefile'));
  const args = [gyp, fresh ? 'rebuild' : 'build', `--nodedir=${nodedir}`, '-j', 'max'];
  say(`building the native addon with node-gyp (${fresh ? 'full' : 'incremental'} build)`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('node-gyp build failed');
}

function buildWithCmake() {
  if (spawnSync('sh', ['-c', 'command -v cmake'], { stdio: 'ignore' }).status !== 0) {
    if (!canUseApt()) throw new Error('cmake is needed for TRM_BUILDER=cmake: apt-get install -y cmake');
    aptInstall(['cmake'], 'cmake was not found');
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  say('building the native addon with cmake-js');
  const jobs = String(require('os').availableParallelism?.() ?? require('os').cpus().length);
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build-cmake', '--parallel', jobs], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cmake-js build failed');
}

function main() {
  if (env.TRM_SKIP_BUILD === '1') return say('TRM_SKIP_BUILD=1: not building the native addon');
  const torch = libtorch();
  say(`LibTorch ${torch.version ?? ''} from ${torch.source}: ${torch.prefix}${torch.cuda ? ' (CUDA)' : ' (CPU)'}`);
  if (torch.source === 'system') {
    const missing = missingDebianPackages(DEBIAN_PACKAGES.slice(1));
    if (missing.length && canUseApt()) aptInstall(missing, 'fast BLAS and gloo headers are missing');
    else if (missing.includes('libopenblas0-pthread')) say('warning: libopenblas0-pthread is not installed; float32 matmul will be ~20x slower');
  }
  const builder = env.TRM_BUILDER || (nodeHeadersDir() && nodeGypPath() ? 'gyp' : 'cmake');
  if (builder === 'gyp') buildWithGyp(nodeHeadersDir());
  else if (builder === 'cmake') buildWithCmake();
  else throw new Error(`TRM_BUILDER must be 'gyp' or 'cmake', not '${builder}'`);
}

try {
  main();
} catch (err) {
  console.error(`[@trm/core] ${err.message}`);
  process.exit(1);
}
