// The other build: CI builds with node-gyp through `npm install`; this builds the same sources
// with cmake-js (CMakeLists.txt) and runs an op through the result.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

describe('build [slow]', () => {
  it('cmake-js builds the addon from CMakeLists.txt, with RPATH set, and it runs', function () {
    this.timeout(900_000);
    const built = spawnSync(process.execPath, ['bin/setup.js'], {
      cwd: root,
      env: { ...process.env, TRM_BUILDER: 'cmake' },
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr.slice(-3000));
    const addon = path.join(root, 'build-cmake', 'Release', 'trm_native.node');
    assert.ok(fs.existsSync(addon), `${addon} was not built`);
    const script = `
      const { torch } = require(${JSON.stringify(path.join(root, 'dist/lib'))});
      const x = torch.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
      process.stdout.write(JSON.stringify(x.matmul(x).toArray()));`;
    const env: NodeJS.ProcessEnv = { ...process.env, TRM_NATIVE: addon };
    delete env.LD_LIBRARY_PATH;
    const run = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [7, 10, 15, 22]);
  });
});
