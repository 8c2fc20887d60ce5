import * as assert from 'assert';
import { parseTrainArgv } from '../../lib/config';
import { trainFlagsHelp } from '../../lib/config/argv';
import { throwsConfig } from './helpers';

describe('config/argv: trm-train command line', () => {
  it('separates overrides from Hydra flags', () => {
    const a = parseTrainArgv(['arch=hrm', '--cfg', 'job', 'lr=1e-4', '--config-path=conf', '-cn', 'mine', '--resolve', '+run_name=x']);
    assert.deepStrictEqual(a.overrides, ['arch=hrm', 'lr=1e-4', '+run_name=x']);
    assert.deepStrictEqual(a.flags, { resolve: true, help: false, launcher: {}, cfg: 'job', configPath: 'conf', configName: 'mine' });
    assert.deepStrictEqual(parseTrainArgv(['-c', 'all', '-cp', 'x', '-h']).flags, { resolve: false, help: true, launcher: {}, cfg: 'all', configPath: 'x' });
  });

  it('reads launcher flags in torchrun spellings and passes them on', () => {
    const a = parseTrainArgv([
      '--nproc-per-node', '4', '--nnodes=2', '--node_rank', '1', '--master-addr', '10.0.0.1', '--master_port=29500',
      '--rdzv_backend=c10d', '--rdzv_endpoint=localhost:0', '--standalone', 'arch=trm',
    ]);
    assert.deepStrictEqual(a.flags.launcher, {
      nprocPerNode: 4, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29500,
      rdzvBackend: 'c10d', rdzvEndpoint: 'localhost:0', standalone: true,
    });
    assert.deepStrictEqual(a.launcherArgs, [
      '--nproc-per-node=4', '--nnodes=2', '--node-rank=1', '--master-addr=10.0.0.1', '--master-port=29500',
      '--rdzv-backend=c10d', '--rdzv-endpoint=localhost:0', '--standalone',
    ]);
    assert.deepStrictEqual(a.overrides, ['arch=trm']);
    assert.strictEqual(parseTrainArgv(['--nproc_per_node=auto']).flags.launcher.nprocPerNode, 'auto');
  });

  it('treats everything after -- as overrides', () => {
    assert.deepStrictEqual(parseTrainArgv(['--', '~seed', '--cfg']).overrides, ['~seed', '--cfg']);
  });

  it('rejects unknown flags with a suggestion, and bad or missing values', () => {
    throwsConfig(() => parseTrainArgv(['--nproc-per-nod', '2']), 'argv', "Did you mean '--nproc-per-node'?");
    throwsConfig(() => parseTrainArgv(['--config_nam=x']), 'argv', "Did you mean '--config-name'?");
    throwsConfig(() => parseTrainArgv(['--cfg']), 'argv', '--cfg needs a value');
    throwsConfig(() => parseTrainArgv(['--cfg', 'jobs']), 'argv', 'job, hydra or all', "'jobs'");
    throwsConfig(() => parseTrainArgv(['--nnodes', 'two']), 'argv', 'integer', "'two'");
    throwsConfig(() => parseTrainArgv(['--master-port=70000']), 'argv', 'port');
    throwsConfig(() => parseTrainArgv(['--nproc-per-node=0']), 'argv', 'positive integer or auto');
    throwsConfig(() => parseTrainArgv(['--resolve=yes']), 'argv', 'takes no value');
    throwsConfig(() => parseTrainArgv(['-m', 'lr=1,2']), 'argv', 'multirun');
  });

  it('has help for every flag', () => {
    const help = trainFlagsHelp();
    for (const flag of ['--cfg', '--config-path', '--config-name', '--nproc-per-node', '--master-port']) assert.ok(help.includes(flag), flag);
  });
});
