// Reading config files and writing configs back as YAML. Files use the YAML 1.2 core schema, so
// `1e-4` is a float and `True` a bool, as OmegaConf reads them. A leading `# @package <pkg>`
// comment sets the file's package, as in Hydra.

import * as fs from 'fs';
import { parseDocument, stringify } from 'yaml';
import { ConfigError } from './errors';
import { ConfigDict, ConfigNode, isDict } from './tree';

export interface LoadedConfigFile {
  /** The path as given, for messages. */
  source: string;
  /** The `# @package` header, when the file has one. */
  packageHeader: string | undefined;
  /** The raw `defaults:` list, when the file has one. */
  defaults: ConfigNode[] | undefined;
  /** Everything else in the file. */
  body: ConfigDict;
}

export function readConfigFile(file: string): LoadedConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('not_found', `Cannot read config file '${file}': ${(e as Error).message}`);
  }
  return parseConfigText(text, file);
}

/** Parse YAML config text into a tree; `source` names it in errors. */
export function parseConfigText(text: string, source: string): LoadedConfigFile {
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError('yaml', `Invalid YAML in '${source}': ${doc.errors[0]!.message}`);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  const body: unknown = data ?? {};
  if (!isDict(body)) {
    throw new ConfigError('yaml', `Config '${source}' must be a mapping of keys to values, not ${describe(body)}.`);
  }
  checkPlainData(body, source, '');
  const header = packageHeader(text);
  let defaults: ConfigNode[] | undefined;
  if (Object.prototype.hasOwnProperty.call(body, 'defaults')) {
    const list = body['defaults'];
    if (!Array.isArray(list)) {
      throw new ConfigError('composition', `In '${source}': 'defaults' must be a list, not ${describe(list)}.`);
    }
    defaults = list;
    delete body['defaults'];
  }
  return { source, packageHeader: header, defaults, body };
}

/** `# @package <pkg>` among the comment lines that open the file. */
function packageHeader(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('#')) return undefined;
    const match = /^#\s*@package\s+(\S+)$/.exec(trimmed);
    if (match) return match[1];
  }
  return undefined;
}

/** Reject YAML values a config cannot hold (dates, binary, non-string keys turned odd). */
function checkPlainData(node: unknown, source: string, path: string): asserts node is ConfigNode {
  if (node === null || typeof node === 'boolean' || typeof node === 'number' || typeof node === 'string') return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkPlainData(item, source, path === '' ? String(i) : `${path}.${i}`));
    return;
  }
  if (isDict(node) && Object.getPrototypeOf(node) === Object.prototype) {
    for (const [k, v] of Object.entries(node)) checkPlainData(v, source, path === '' ? k : `${path}.${k}`);
    return;
  }
  throw new ConfigError('yaml', `In '${source}': unsupported value at '${path}' (${describe(node)}).`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  return `a ${typeof value}`;
}

/** A config tree (composed, resolved or validated) as YAML text that reads back to the same tree. */
export function configToYaml(config: ConfigNode | object): string {
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}
