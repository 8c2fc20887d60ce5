// OmegaConf-style interpolation over a composed tree: `${a.b}` (absolute), `${.x}` / `${..x}`
// (relative to the node that holds the interpolation), `${oc.env:VAR}` and
// `${oc.env:VAR,default}`. A value that is exactly one interpolation keeps the referenced
// value's type; interpolations inside longer strings are joined as text. `\${` is a literal.

import { ConfigError } from './errors';
import { typePrimitive } from './overrides';
import { didYouMean } from '../util/suggest';
import { ConfigDict, ConfigNode, isDict } from './tree';

/** Value OmegaConf uses for "must be supplied". */
export const MISSING = '???';

export function hasInterpolation(value: string): boolean {
  return findInterpolations(value).length > 0;
}

/** A deep copy of `root` with every interpolation replaced by its value. */
export function resolveConfig(root: ConfigDict, env: NodeJS.ProcessEnv = process.env): ConfigDict {
  const resolver = new Resolver(root, env);
  return resolver.resolveAt([]) as ConfigDict;
}

interface Span {
  start: number; // index of '$'
  end: number; // index after the closing '}'
  expr: string;
}

/** Top-level `${...}` spans in a string, skipping escaped `\${`. */
function findInterpolations(text: string): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '\\' && text[i + 1] === '$' && text[i + 2] === '{') {
      i += 3;
      continue;
    }
    if (text[i] === '$' && text[i + 1] === '{') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}' && --depth === 0) break;
      }
      if (j >= text.length) return spans; // unterminated: treated as plain text
      spans.push({ start: i, end: j + 1, expr: text.slice(i + 2, j) });
      i = j + 1;
      continue;
    }
    i++;
  }
  return spans;
}

const ENV_RESOLVERS = ['oc.env'];

class Resolver {
  private readonly done = new Map<string, ConfigNode>();
  private readonly active: string[] = [];

  constructor(private readonly root: ConfigDict, private readonly env: NodeJS.ProcessEnv) {}

  /** The fully resolved value of the raw node at `path`. */
  resolveAt(path: readonly string[]): ConfigNode {
    const id = path.join('.');
    const cached = this.done.get(id);
    if (cached !== undefined || this.done.has(id)) return cached ?? null;
    if (this.active.includes(id)) {
      throw new ConfigError('interpolation', `Interpolation cycle: ${[...this.active, id].join(' -> ')}`, id);
    }
    this.active.push(id);
    try {
      const raw = this.rawAt(path);
      let value: ConfigNode;
      if (typeof raw === 'string') value = this.resolveString(raw, path);
      else if (Array.isArray(raw)) value = raw.map((_, i) => this.resolveAt([...path, String(i)]));
      else if (isDict(raw)) {
        const out: ConfigDict = {};
        for (const key of Object.keys(raw)) out[key] = this.resolveAt([...path, key]);
        value = out;
      } else value = raw;
      this.done.set(id, value);
      return value;
    } finally {
      this.active.pop();
    }
  }

  private rawAt(path: readonly string[]): ConfigNode {
    let node: ConfigNode = this.root;
    for (const segment of path) {
      node = Array.isArray(node) ? node[Number(segment)]! : (node as ConfigDict)[segment]!;
    }
    return node;
  }

  /** Resolve a string value found at `path` (its container is `path` minus the last segment). */
  private resolveString(text: string, path: readonly string[]): ConfigNode {
    const spans = findInterpolations(text);
    if (spans.length === 0) return text.replace(/\\\$\{/g, '${');
    const where = path.join('.');
    if (spans.length === 1 && spans[0]!.start === 0 && spans[0]!.end === text.length) {
      return this.evaluate(spans[0]!.expr, path.slice(0, -1), where);
    }
    let out = '';
    let last = 0;
    for (const span of spans) {
      out += text.slice(last, span.start).replace(/\\\$\{/g, '${');
      const value = this.evaluate(span.expr, path.slice(0, -1), where);
      if (isDict(value) || Array.isArray(value)) {
        throw new ConfigError(
          'interpolation',
          `Interpolation '\${${span.expr}}' in '${where}' refers to a ${Array.isArray(value) ? 'list' : 'mapping'} and cannot be joined into text.`,
          where,
        );
      }
      out += String(value);
      last = span.end;
    }
    return out + text.slice(last).replace(/\\\$\{/g, '${');
  }

  private evaluate(expr: string, containerPath: readonly string[], where: string): ConfigNode {
    const colon = topLevelIndex(expr, ':');
    if (colon >= 0) return this.callResolver(expr.slice(0, colon).trim(), expr.slice(colon + 1), containerPath, where);
    return this.select(expr.trim(), containerPath, where);
  }

  private select(key: string, containerPath: readonly string[], where: string): ConfigNode {
    const fail = (why: string): ConfigError =>
      new ConfigError('interpolation', `Interpolation '\${${key}}' in '${where}' cannot be resolved: ${why}`, where);
    const normalized = key.replace(/\[(\w+)\]/g, '.$1');
    let base: string[];
    let rest: string;
    if (normalized.startsWith('.')) {
      const dots = /^\.+/.exec(normalized)![0].length;
      const up = dots - 1;
      if (up > containerPath.length) throw fail(`it climbs ${up} level(s) above '${containerPath.join('.') || '<root>'}'.`);
      base = containerPath.slice(0, containerPath.length - up);
      rest = normalized.slice(dots);
    } else {
      base = [];
      rest = normalized;
    }
    if (rest.includes('${')) throw fail('nested interpolation in a key is not supported.');
    const segments = rest === '' ? [] : rest.split('.');
    const path = [...base];
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const node = this.rawAt(path);
      if (typeof node === 'string' && hasInterpolation(node)) {
        // the path runs through another interpolation: continue on its resolved value
        return this.walkResolved(this.resolveAt(path), segments.slice(i), fail);
      }
      const exists = Array.isArray(node)
        ? /^\d+$/.test(segment) && Number(segment) < node.length
        : isDict(node) && Object.prototype.hasOwnProperty.call(node, segment);
      if (!exists) {
        const hint = isDict(node) ? didYouMean(segment, Object.keys(node)) : '';
        throw fail(`key '${[...path, segment].join('.')}' not found.${hint}`);
      }
      path.push(segment);
    }
    const value = this.resolveAt(path);
    if (value === MISSING) throw fail(`'${path.join('.')}' is a missing value (???).`);
    return value;
  }

  private walkResolved(node: ConfigNode, segments: string[], fail: (why: string) => ConfigError): ConfigNode {
    let current = node;
    for (const segment of segments) {
      if (Array.isArray(current)) current = current[Number(segment)]!;
      else if (isDict(current) && segment in current) current = current[segment]!;
      else throw fail(`key '${segment}' not found.`);
    }
    return current;
  }

  private callResolver(name: string, argText: string, containerPath: readonly string[], where: string): ConfigNode {
    if (name !== 'oc.env') {
      throw new ConfigError(
        'interpolation',
        `Unsupported resolver '${name}' in '${where}'; supported: ${ENV_RESOLVERS.join(', ')}.${didYouMean(name, ENV_RESOLVERS)}`,
        where,
      );
    }
    const args = splitArgs(argText).map((a) => this.resolveArg(a, containerPath, where));
    if (args.length < 1 || args.length > 2 || typeof args[0] !== 'string' || args[0] === '') {
      throw new ConfigError('interpolation', `In '${where}': use \${oc.env:VAR} or \${oc.env:VAR,default}.`, where);
    }
    const value = this.env[args[0]];
    if (value !== undefined) return value;
    if (args.length === 2) {
      const fallback = args[1]!;
      return fallback === null ? null : String(fallback);
    }
    throw new ConfigError(
      'interpolation',
      `Environment variable '${args[0]}' is not set (used in '${where}'); set it or give a default: \${oc.env:${args[0]},<default>}.`,
      where,
    );
  }

  /** A resolver argument: quoted text, a nested interpolation, or a Hydra-typed primitive. */
  private resolveArg(arg: string, containerPath: readonly string[], where: string): ConfigNode {
    const text = arg.trim();
    const quoted = /^'(.*)'$|^"(.*)"$/s.exec(text);
    if (quoted) return quoted[1] ?? quoted[2] ?? '';
    if (hasInterpolation(text)) {
      const spans = findInterpolations(text);
      if (spans.length === 1 && spans[0]!.start === 0 && spans[0]!.end === text.length) {
        return this.evaluate(spans[0]!.expr, containerPath, where);
      }
      return this.resolveString(text, [...containerPath, '<arg>']);
    }
    const typed = typePrimitive(text);
    return typed === null ? null : typeof typed === 'string' ? typed : text;
  }
}

/** Index of `ch` outside `${...}`, quotes and brackets; -1 if none. */
function topLevelIndex(text: string, ch: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ch && depth === 0) return i;
  }
  return -1;
}

function splitArgs(text: string): string[] {
  const args: string[] = [];
  let rest = text;
  for (;;) {
    const comma = topLevelIndex(rest, ',');
    if (comma < 0) break;
    args.push(rest.slice(0, comma));
    rest = rest.slice(comma + 1);
  }
  args.push(rest);
  return args;
}
