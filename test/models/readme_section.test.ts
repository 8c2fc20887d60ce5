// lib/models/README.section.md's TypeScript examples run as written ('@trm/core' resolves to a
// shim exporting torch, nn and models), and print what their `// output` comments say.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '../../..');

describe('models README section examples', () => {
  const text = fs.readFileSync(path.join(root, 'lib/models/README.section.md'), 'utf8');
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]);
  it('has an example', () => assert.ok(blocks.length >= 1));
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what it documents`, function () {
      this.timeout(60_000);
      const shim = path.join(__dirname, 'core_shim.js');
      const js = ts.transpileModule(code.replace(/'@trm\/core'/g, JSON.stringify(shim)), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      const file = path.join(__dirname, `.readme-section-${process.pid}-${i}.js`);
      fs.writeFileSync(file, js);
      try {
        const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        const printed = r.stdout.split('\n').map((l) => l.trim());
        for (const m of code.matchAll(/console\.log\((.*)\);\s*\/\/ (.+)$/gm)) assert.ok(printed.includes(m[2].trim()), `expected '${m[2]}' in:\n${r.stdout}`);
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
  });
});
