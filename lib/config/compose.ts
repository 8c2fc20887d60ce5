// Hydra-style composition: walk the primary config's defaults list (config groups such as
// `arch: trm`, plain configs, `_self_`, `override`/`optional` entries, `group@pkg`), let
// command-line group overrides (`arch=hrm`, `+group=x`, `++group=x`, `~group`) change it,
// merge the chosen files in order, then apply value overrides (`a.b=v`, `+k=v`, `++k=v`, `~k`).
// Interpolations are left in place; interpolate.ts resolves them afterwards.

import * as fs from 'fs';
import * as path from 'path';
import { DefaultsWalk, Repository } from './defaults-list';
import { ConfigError } from './errors';
import { Override, parseOverrides } from './overrides';
import { ConfigDict, isDict, mergeInto, splitPath } from './tree';
import { SchemaKeys, applyValueOverride } from './value-overrides';

export interface ComposeOptions {
  /** Directory holding the primary config and its groups. Default: this package's `config/`. */
  configPath?: string;
  /** Primary config file name, with or without `.yaml`. Default: `cfg_pretrain`. */
  configName?: string;
  /** Command-line overrides in Hydra syntax, applied in order. */
  overrides?: readonly string[];
  /**
   * The keys a schema allows inside the mapping at a path, if known. Used only to word errors:
   * to suggest valid keys and to say when `key=v` names a valid key the files do not set.
   */
  schemaKeys?: SchemaKeys;
}

export interface ComposedTree {
  /** The composed job config, interpolations unresolved, without the `hydra` node. */
  config: ConfigDict;
  /** The `hydra:` node of the configs plus `hydra.*` overrides (kept, not used by trm-train). */
  hydra: ConfigDict;
  /** The option chosen for each config group, e.g. `{ arch: 'trm' }` (null: deselected). */
  choices: Record<string, string | string[] | null>;
  /** The files merged, in order, with the package each was merged at. */
  sources: { file: string; package: string }[];
}

export const DEFAULT_CONFIG_NAME = 'cfg_pretrain';

/** The `config/` directory shipped with @trm/core (found by walking up to its package.json). */
export function packageConfigPath(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'config'))) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === '@trm/core') {
          return path.join(dir, 'config');
        }
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new ConfigError('not_found', `Cannot find the config/ directory of @trm/core above '${__dirname}'.`);
    dir = up;
  }
}

/** Compose the raw (unresolved) config tree. */
export function composeTree(options: ComposeOptions = {}): ComposedTree {
  const configDir = path.resolve(options.configPath ?? packageConfigPath());
  if (!fs.existsSync(configDir) || !fs.statSync(configDir).isDirectory()) {
    throw new ConfigError('not_found', `Config path '${configDir}' is not a directory.`);
  }
  const configName = (options.configName ?? DEFAULT_CONFIG_NAME).replace(/\.ya?ml$/, '');
  const parsed = parseOverrides(options.overrides ?? []);
  const repo = new Repository(configDir);

  const groupOverrides: Override[] = [];
  const valueOverrides: Override[] = [];
  for (const o of parsed) {
    if (o.package !== undefined || repo.isGroup(o.key)) groupOverrides.push(o);
    else valueOverrides.push(o);
  }

  // `++group=x` changes the group when the defaults list has it and appends it otherwise; Hydra
  // decides that after walking the list, so walk once and, if needed, again with the appends.
  let walk = new DefaultsWalk(repo, groupOverrides, new Set());
  walk.run(configName);
  const unusedForce = walk.unusedForceAdds();
  if (unusedForce.length > 0) {
    walk = new DefaultsWalk(repo, groupOverrides, new Set(unusedForce));
    walk.run(configName);
  }
  walk.checkAllUsed();

  const merged: ConfigDict = {};
  for (const step of walk.merges) {
    const target = ensureDictAt(merged, splitPath(step.package), step.file);
    mergeInto(target, step.body);
  }
  const hydra = isDict(merged['hydra']) ? merged['hydra'] : {};
  delete merged['hydra'];

  for (const o of valueOverrides) {
    if (o.key === 'hydra') throw new ConfigError('override', `'${o.input}': set keys inside hydra (hydra.<key>=<value>), not hydra itself.`, o.key);
    if (o.key.startsWith('hydra.')) {
      // Hydra's own settings (run dir, logging): kept apart, never validated, unused by trm-train.
      applyValueOverride(hydra, { ...o, kind: o.kind === 'delete' ? 'delete' : 'force_add', key: o.key.slice('hydra.'.length) });
    } else applyValueOverride(merged, o, options.schemaKeys);
  }

  return {
    config: merged,
    hydra,
    choices: walk.choices,
    sources: walk.merges.map((m) => ({ file: m.file, package: m.package })),
  };
}

function ensureDictAt(root: ConfigDict, pkg: string[], file: string): ConfigDict {
  let node = root;
  for (const segment of pkg) {
    const next = node[segment];
    if (next === undefined || next === null) node[segment] = {};
    else if (!isDict(next)) {
      throw new ConfigError('composition', `Cannot merge '${file}' at package '${pkg.join('.')}': '${segment}' already holds a value that is not a mapping.`);
    }
    node = node[segment] as ConfigDict;
  }
  return node;
}

export { applyValueOverride } from './value-overrides';
