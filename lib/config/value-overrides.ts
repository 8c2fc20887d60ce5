// Value overrides on a composed tree, with Hydra's rules: `key=v` needs the key to exist,
// `+key=v` needs it absent (or null), `++key=v` does either, `~key[=v]` deletes.

import { ConfigError } from './errors';
import { Override, OverrideValue } from './overrides';
import { didYouMean } from '../util/suggest';
import { ConfigDict, ConfigNode, deletePath, getPath, isDict, setPath, splitPath } from './tree';

/** Keys a schema allows inside the mapping at a path, if known (only used to word errors). */
export type SchemaKeys = (parentPath: readonly string[]) => readonly string[] | undefined;

/** Apply one `key=v`, `+key=v`, `++key=v` or `~key[=v]` to the composed tree, as Hydra does. */
export function applyValueOverride(config: ConfigDict, o: Override, schemaKeys?: SchemaKeys): void {
  const keyPath = splitPath(o.key);
  const current = getPath(config, keyPath);
  const value = o.value as ConfigNode;
  switch (o.kind) {
    case 'change': {
      if (!current.found || !setPath(config, keyPath, value, { createParents: false, merge: true })) {
        const parentPath = keyPath.slice(0, -1);
        const last = keyPath[keyPath.length - 1]!;
        const parent = getPath(config, parentPath);
        const known = schemaKeys?.(parentPath) ?? [];
        if (known.includes(last)) {
          throw new ConfigError(
            'override',
            `Could not override '${o.key}': it is a valid key, but no config file sets it (its default applies). To set it, use +${o.input}`,
            o.key,
          );
        }
        const siblings = parent.found && isDict(parent.value) ? Object.keys(parent.value) : [];
        const hint = didYouMean(last, new Set([...siblings, ...known]));
        throw new ConfigError(
          'override',
          `Could not override '${o.key}': no such key in the config.${hint} To add a key, use +${o.input}`,
          o.key,
        );
      }
      return;
    }
    case 'add':
      if (current.found && current.value !== null) {
        throw new ConfigError(
          'override',
          `Could not add '${o.key}': it is already in the config (value ${JSON.stringify(current.value)}). Use ${o.input.slice(1)} to change it, or +${o.input} to add or change.`,
          o.key,
        );
      }
      if (!setPath(config, keyPath, value, { createParents: true, merge: false })) {
        throw new ConfigError('override', `Could not add '${o.key}': its parent is not a mapping.`, o.key);
      }
      return;
    case 'force_add':
      if (!setPath(config, keyPath, value, { createParents: true, merge: true })) {
        throw new ConfigError('override', `Could not set '${o.key}': its parent is not a mapping.`, o.key);
      }
      return;
    case 'delete':
      if (!current.found) throw new ConfigError('override', `Could not delete '${o.key}': no such key in the config.`, o.key);
      if (o.value !== undefined && !sameValue(current.value, o.value)) {
        throw new ConfigError(
          'override',
          `Could not delete '${o.key}': its value is ${JSON.stringify(current.value)}, not ${JSON.stringify(o.value)}.`,
          o.key,
        );
      }
      deletePath(config, keyPath);
      return;
  }
}

function sameValue(a: ConfigNode, b: OverrideValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

