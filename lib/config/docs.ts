// Generates the README "Configuration" section from the schema tables and the shipped YAML,
// so the documented keys, types and defaults cannot drift from what the code accepts.
// Regenerate after a schema change:  node dist/lib/config/docs.js  (a test checks it is current).

import * as fs from 'fs';
import * as path from 'path';
import { TRAIN_FLAGS } from './argv';
import { packageConfigPath } from './compose';
import { Field, Fields } from './spec';
import {
  arcEvaluatorFields,
  hrmFields,
  lossFields,
  pretrainFields,
  transformersBaselineFields,
  trmFields,
} from './schema';
import { isDict } from './tree';
import { readConfigFile } from './yaml-io';

const ARCH_FILES = ['trm', 'trm_singlez', 'trm_hier6', 'hrm', 'transformers_baseline'] as const;
const FIELDS_OF: Record<(typeof ARCH_FILES)[number], Fields<object>> = {
  trm: trmFields,
  trm_singlez: trmFields,
  trm_hier6: trmFields,
  hrm: hrmFields,
  transformers_baseline: transformersBaselineFields,
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(value: unknown): string {
  return '`' + formatValue(value) + '`';
}

function formatValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (isDict(value)) return `{${Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')}}`;
  if (typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-3) return value.toExponential();
  return String(value);
}

function defaultText(field: Field<unknown>, shipped: unknown, hasShipped: boolean): string {
  if (hasShipped) return code(shipped);
  if ('default' in field) return code(field.default);
  return '*required*';
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderConfigDocs(configPath: string = packageConfigPath()): string {
  const primary = readConfigFile(path.join(configPath, 'cfg_pretrain.yaml')).body;
  const archBodies = Object.fromEntries(
    ARCH_FILES.map((a) => [a, readConfigFile(path.join(configPath, 'arch', `${a}.yaml`)).body]),
  ) as Record<(typeof ARCH_FILES)[number], Record<string, unknown>>;

  const out: string[] = [];
  out.push('## Configuration', '');
  out.push(
    'trm-train builds its config the way Hydra builds it for the official `pretrain.py`: it starts from',
    '`config/cfg_pretrain.yaml`, merges the files named in its `defaults:` list (the config group `arch`,',
    'then `_self_`, so the primary file wins over the arch file), applies the command-line overrides in',
    'order, resolves `${...}` interpolations and checks the result against one schema. A misspelt key is',
    'rejected with the closest valid key; a wrong type names the key, the expected type and the value.',
    '',
    '### Overrides',
    '',
  );
  out.push(
    table(
      ['Form', 'Meaning', 'Example'],
      [
        ['`key=value`', 'change a key that exists (nested keys with dots)', '`lr=3e-4 arch.L_cycles=4`'],
        ['`+key=value`', 'add a key that is not in the config (error if it is)', '`+run_name=sudoku_mlp`'],
        ['`++key=value`', 'add or change', '`++checkpoint_path=ckpt/run1`'],
        ['`~key`', 'delete a key (`~key=value`: only if it has that value)', '`~evaluators`'],
        ['`group=option`', 'choose a config group option (`config/<group>/<option>.yaml`)', '`arch=hrm`'],
        ['`+group=option` / `~group`', 'add a group to / drop it from the defaults list', '`~arch`'],
        ['`[a,b]`, `{k: v}`', 'lists and mappings; nest freely', '`data_paths="[data/a,data/b]"`'],
        ['`\'text\'`, `"text"`', 'quoted strings stay strings (`\'1\'` is text, `1` an int)', `\`+run_name="'2024'"\``],
        ['`null`, `true`/`false`, `1`, `1e-4`', 'typed as Hydra types them (case-insensitive null/true/false)', '`eval_interval=null`'],
        ['`${a.b}`, `${.x}`, `${..x}`', 'interpolation: absolute, or relative to the mapping holding it', '`arch.puzzle_emb_ndim=${.hidden_size}`'],
        ['`${oc.env:VAR}`, `${oc.env:VAR,default}`', 'an environment variable (text), with an optional default', `\`++checkpoint_path='\${oc.env:CKPT,ckpt}'\``],
      ],
    ),
    '',
    'Quote overrides that hold `[`, `]`, `{`, `}`, `$` or spaces so the shell passes them unchanged.',
    'A comma outside brackets or quotes is a Hydra sweep, which trm-train rejects.',
    '',
    '### Command-line flags',
    '',
  );
  out.push(
    table(
      ['Flag', 'Meaning'],
      TRAIN_FLAGS.map((f) => [
        [...(f.aliases ?? []), f.name].map((n) => `\`${n}\``).join(', ') + (f.kind === 'bool' ? '' : f.kind === 'cfg' ? ' `job`' : ' *value*'),
        f.help,
      ]),
    ),
    '',
    '`trm-train --cfg job` prints the composed config (interpolations as written; add `--resolve` to',
    'resolve them) and exits. Launcher flags also accept torchrun\'s spelling with underscores',
    '(`--nproc_per_node`).',
    '',
    '### Top-level keys',
    '',
    'Default: the value in `config/cfg_pretrain.yaml`, else the schema default; *required* keys must be',
    'given by some config file or override.',
    '',
  );
  out.push(
    table(
      ['Key', 'Type', 'Default', 'Meaning'],
      Object.entries(pretrainFields as Fields<object>).map(([key, f]) => {
        const field = f as Field<unknown>;
        const hasShipped = key !== 'arch' && Object.prototype.hasOwnProperty.call(primary, key);
        const type = key === 'arch' ? 'mapping' : key === 'evaluators' ? 'list of evaluator mappings' : field.type.label;
        const def = key === 'arch' ? '`arch: trm` (defaults list)' : defaultText(field, primary[key], hasShipped);
        return [`\`${key}\``, type, def, field.doc];
      }),
    ),
    '',
    '### `arch` keys',
    '',
    'Which keys an architecture accepts depends on `arch.name`; any other key is an error. `arch.batch_size`,',
    '`arch.seq_len`, `arch.vocab_size` and `arch.num_puzzle_identifiers` are set by trm-train from',
    'the data and cannot be set in the config.',
    '',
  );
  const archKeys: string[] = [];
  for (const a of ARCH_FILES) for (const k of Object.keys(FIELDS_OF[a])) if (!archKeys.includes(k)) archKeys.push(k);
  const rows: string[][] = [];
  for (const key of archKeys) {
    if (key === 'loss') {
      for (const [lk, lf] of Object.entries(lossFields as Fields<object>)) {
        rows.push([`\`loss.${lk}\``, (lf as Field<unknown>).type.label, '*required*', 'all', (lf as Field<unknown>).doc]);
      }
      continue;
    }
    const owners = ARCH_FILES.filter((a) => key in FIELDS_OF[a]);
    const field = (FIELDS_OF[owners[0]!] as Record<string, Field<unknown>>)[key]!;
    const doc = key === 'name' ? 'Architecture, as `module@Class` of the official code; set by choosing `arch=<file>`.' : field.doc;
    const applies = owners.length === ARCH_FILES.length ? 'all' : owners.join(', ');
    rows.push([`\`${key}\``, key === 'name' ? 'string' : field.type.label, 'default' in field ? code(field.default) : '*required*', applies, doc]);
  }
  out.push(table(['Key', 'Type', 'Schema default', 'Architectures', 'Meaning'], rows), '');
  out.push('Values in the shipped `config/arch/*.yaml` files (— : the key does not apply; *d*: schema default):', '');
  const valueRows = archKeys.flatMap((key): string[][] => {
    const keys = key === 'loss' ? ['loss.name', 'loss.loss_type'] : [key];
    return keys.map((k) => [
      `\`${k}\``,
      ...ARCH_FILES.map((a) => {
        if (!(key in FIELDS_OF[a])) return '—';
        const body = archBodies[a];
        const value = k.startsWith('loss.') ? (isDict(body['loss']) ? body['loss'][k.slice(5)] : undefined) : body[k];
        if (value !== undefined) return code(value);
        const field = (FIELDS_OF[a] as Record<string, Field<unknown>>)[key]!;
        return 'default' in field ? `${code(field.default)} *d*` : '*required*';
      }),
    ]);
  });
  out.push(table(['Key', ...ARCH_FILES], valueRows), '');
  out.push('### Evaluator keys', '', 'Each entry of `evaluators` names its class and may set its own keys:', '');
  out.push(
    table(
      ['Key', 'Type', 'Default', 'Meaning'],
      Object.entries(arcEvaluatorFields as Fields<object>).map(([key, f]) => {
        const field = f as Field<unknown>;
        return [`\`${key}\``, key === 'name' ? '`arc@ARC`' : field.type.label, 'default' in field ? code(field.default) : '*required*', field.doc];
      }),
    ),
    '',
    '### The paper\'s recipes',
    '',
    'The hyperparameters of the official runs, as trm-train commands (datasets built first; see "Data"):',
    '',
    '```sh',
    '# Sudoku-Extreme, MLP variant (1 GPU)',
    'npx trm-train arch=trm data_paths="[data/sudoku-extreme-1k-aug-1000]" evaluators="[]" \\',
    '  epochs=50000 eval_interval=5000 lr=1e-4 puzzle_emb_lr=1e-4 weight_decay=1.0 puzzle_emb_weight_decay=1.0 \\',
    '  arch.mlp_t=True arch.pos_encodings=none arch.L_layers=2 arch.H_cycles=3 arch.L_cycles=6 \\',
    '  +run_name=pretrain_mlp_t_sudoku ema=True',
    '',
    '# Sudoku-Extreme, attention variant (1 GPU)',
    'npx trm-train arch=trm data_paths="[data/sudoku-extreme-1k-aug-1000]" evaluators="[]" \\',
    '  epochs=50000 eval_interval=5000 lr=1e-4 puzzle_emb_lr=1e-4 weight_decay=1.0 puzzle_emb_weight_decay=1.0 \\',
    '  arch.L_layers=2 arch.H_cycles=3 arch.L_cycles=6 +run_name=pretrain_att_sudoku ema=True',
    '',
    '# Maze-Hard 30x30 (4 GPUs)',
    'npx trm-train --nproc-per-node 4 arch=trm data_paths="[data/maze-30x30-hard-1k]" evaluators="[]" \\',
    '  epochs=50000 eval_interval=5000 lr=1e-4 puzzle_emb_lr=1e-4 weight_decay=1.0 puzzle_emb_weight_decay=1.0 \\',
    '  arch.L_layers=2 arch.H_cycles=3 arch.L_cycles=4 +run_name=pretrain_att_maze30x30 ema=True',
    '',
    '# ARC-AGI-1 (4 GPUs)',
    'npx trm-train --nproc-per-node 4 arch=trm data_paths="[data/arc1concept-aug-1000]" \\',
    '  arch.L_layers=2 arch.H_cycles=3 arch.L_cycles=4 +run_name=pretrain_att_arc1concept_4 ema=True',
    '',
    '# ARC-AGI-2 (4 GPUs)',
    'npx trm-train --nproc-per-node 4 arch=trm data_paths="[data/arc2concept-aug-1000]" \\',
    '  arch.L_layers=2 arch.H_cycles=3 arch.L_cycles=4 +run_name=pretrain_att_arc2concept_4 ema=True',
    '```',
    '',
  );
  return out.join('\n');
}

/** Where the generated section lives in the source tree. */
export function configDocsFile(configPath: string = packageConfigPath()): string {
  return path.join(path.dirname(configPath), 'lib', 'config', 'README.section.md');
}

if (require.main === module) {
  const file = configDocsFile();
  fs.writeFileSync(file, renderConfigDocs());
  process.stdout.write(`wrote ${file}\n`);
}
