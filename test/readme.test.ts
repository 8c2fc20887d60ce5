// README's TypeScript examples are runnable: each ```ts block is compiled and run as written
// (importing '@trm/core', which resolves to this package).
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '..', '..');

function examples(): { line: number; code: string }[] {
  const text = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const out: { line: number; code: string }[] = [];
  const re = /^```ts\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return out;
}

describe('README examples', () => {
  const blocks = examples();
  it('has TypeScript examples', () => assert.ok(blocks.length >= 5));
  for (const block of blocks) {
    it(`runs the example at README.md line ${block.line}`, function () {
      this.timeout(120_000);
      const js = ts.transpileModule(block.code, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-readme-'));
      const file = path.join(root, `.readme-example-${process.pid}-${block.line}.js`);
      fs.writeFileSync(file, js);
      try {
        const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 110_000 });
        assert.equal(r.status, 0, `example at line ${block.line} failed:\n${r.stderr}\n${r.stdout}`);
        // Lines the example documents as `// output` must match what it printed, where given literally.
        const printed = r.stdout.split('\n');
        for (const m of block.code.matchAll(/console\.log\((.*)\);\s*\/\/ (.+)$/gm)) {
          const expected = m[2].trim();
          if (expected.includes('<') || expected.includes('or ')) continue;
          assert.ok(printed.some((l) => l.trim() === expected), `expected a line '${expected}' (line ${block.line}), got:\n${r.stdout}`);
        }
      } finally {
        fs.rmSync(file, { force: true });
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
