// LibTorch discovery (bin/libtorch.js): the documented order, and one message naming every place
// looked and the commands that fix it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findLibTorch } = require('../../bin/libtorch.js') as {
  findLibTorch(env: Record<string, string | undefined>, systemCmakeDir?: string): { source: string; prefix: string; cxx11Abi: string; libDir: string };
};

function fakeLibTorch(root: string, abi = '1'): string {
  const cmake = path.join(root, 'share/cmake/Torch');
  fs.mkdirSync(cmake, { recursive: true });
  fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(cmake, 'TorchConfig.cmake'), `set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${abi}")\n`);
  return cmake;
}

describe('LibTorch discovery', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-libtorch-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes LIBTORCH first, then Torch_DIR, then the system', () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fakeLibTorch(a, '0');
    const bCmake = fakeLibTorch(b);
    const system = fakeLibTorch(path.join(dir, 'sys'));
    const viaLibtorch = findLibTorch({ LIBTORCH: a, Torch_DIR: bCmake }, system);
    assert.equal(viaLibtorch.source, 'LIBTORCH');
    assert.equal(viaLibtorch.prefix, a);
    assert.equal(viaLibtorch.cxx11Abi, '0');
    assert.equal(findLibTorch({ Torch_DIR: bCmake }, system).source, 'Torch_DIR');
    assert.equal(findLibTorch({}, system).source, 'system');
  });

  it('takes the torch inside Python when TRM_LIBTORCH=python', () => {
    const torchRoot = path.join(dir, 'site', 'torch');
    fakeLibTorch(torchRoot);
    const python = path.join(dir, 'python');
    // A stand-in interpreter that answers the one question asked: where torch.utils lives.
    fs.writeFileSync(python, `#!/bin/sh\necho ${path.join(torchRoot, 'utils')}\n`, { mode: 0o755 });
    const found = findLibTorch({ TRM_LIBTORCH: 'python', TRM_PYTHON: python }, path.join(dir, 'none'));
    assert.match(found.source, /^python/);
    assert.equal(found.prefix, torchRoot);
    assert.equal(found.libDir, path.join(torchRoot, 'lib'));
  });

  it('fails with one message listing where it looked and how to fix it', () => {
    const missing = path.join(dir, 'nothing');
    assert.throws(
      () => findLibTorch({ LIBTORCH: missing, TRM_LIBTORCH: 'python', TRM_PYTHON: path.join(dir, 'no-python') }, missing),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'LIBTORCH_NOT_FOUND');
        assert.match(e.message, new RegExp(`LIBTORCH=${missing}`));
        assert.match(e.message, /the torch inside .*no-python/);
        assert.match(e.message, /the system's LibTorch/);
        assert.match(e.message, /apt-get install -y libtorch-dev libopenblas0-pthread/);
        assert.match(e.message, /TRM_LIBTORCH=python npm install/);
        return true;
      }
    );
  });
});
