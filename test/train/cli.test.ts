// The trm-train command line itself (spawned as `node bin/trm-train.js`): help, --cfg job that
// parses back to the config a run would use, and override mistakes reported in one line with a
// suggestion, exit code non-zero, no stack trace.
import * as assert from 'assert';
import { composeConfig, parseConfigYaml } from '../../lib/config';
import { errorLine, runCli } from './helpers';

function fails(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.notStrictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, '', 'nothing printed on stdout');
  assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace:\n${r.stderr}`);
  assert.strictEqual(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
  assert.match(errorLine(r.stderr), pattern);
}

describe('[slow] trm-train CLI', () => {
  it('--help prints usage and every option, exit 0', () => {
    for (const flag of ['--help']) {
      const r = runCli([flag]);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: trm-train \[options\] \[overrides\.\.\.\]/);
      for (const opt of ['--cfg', '--resolve', '--config-path', '--config-name', '--nproc-per-node']) assert.ok(r.stdout.includes(opt), opt);
      assert.match(r.stdout, /built-in Sudoku demo/);
    }
  });

  it('--cfg job prints a config that parses back to the composed one', () => {
    const overrides = ['arch=hrm', 'lr=3e-4', 'arch.hidden_size=64', '+run_name=x', 'data_paths=[data/a,data/b]'];
    const r = runCli(['--cfg', 'job', ...overrides]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('hydra:') && !r.stdout.includes('defaults:'));
    assert.deepStrictEqual(parseConfigYaml(r.stdout, '--cfg job'), composeConfig({ overrides }));
    const resolved = runCli(['--cfg', 'job', '--resolve', ...overrides]);
    assert.strictEqual(resolved.status, 0, resolved.stderr);
    assert.deepStrictEqual(parseConfigYaml(resolved.stdout), composeConfig({ overrides }));
  });

  it('--config-name chooses another primary config (the demo)', () => {
    const r = runCli(['--config-name', 'demo_sudoku', '--cfg', 'job']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(parseConfigYaml(r.stdout), composeConfig({ overrides: [], configName: 'demo_sudoku' }));
  });

  it('an override typo gets a suggestion', () => {
    fails(['evl_interval=2'], /^trm-train: Could not override 'evl_interval': no such key in the config\. Did you mean 'eval_interval'\?/);
    fails(['arch.hiden_size=64'], /Did you mean 'hidden_size'\?/);
    fails(['arch=tmr'], /Could not find 'arch\/tmr'.*Did you mean 'trm'\?/);
  });

  it('a value of the wrong type names the key, the type expected and the value', () => {
    fails(['epochs=abc'], /Expected integer >= 1 for epochs but received "abc"/);
  });

  it('an unknown flag points at --help', () => {
    fails(['--bogus'], /Unknown option '--bogus'\. Run trm-train --help/);
  });
});
