// The Hydra command-line override grammar: `key=v`, `a.b=v`, `+key=v`, `++key=v`, `~key[=v]`,
// `group@pkg=option`, with values typed the way Hydra types them (null, bool, int, float,
// quoted and unquoted strings, `[lists]`, `{dicts}`, `${interpolations}` kept for later).

import { ConfigError } from './errors';

/** A parsed override value. Interpolations stay strings (`"${a.b}"`) and resolve after composition. */
export type OverrideValue = null | boolean | number | string | OverrideValue[] | { [key: string]: OverrideValue };

/** `change`: key=v (key must exist) · `add`: +key=v (must not) · `force_add`: ++key=v · `delete`: ~key. */
export type OverrideKind = 'change' | 'add' | 'force_add' | 'delete';

export interface Override {
  kind: OverrideKind;
  /** Dotted key or `/`-separated config group, without the `@package` part. */
  key: string;
  /** The `@package` part of `group@package=option`, when given. */
  package: string | undefined;
  /** The value; undefined only for `~key` without `=value`. */
  value: OverrideValue | undefined;
  /** The override as written, for error messages. */
  input: string;
}

const KEY_SEGMENT = String.raw`[A-Za-z_$0-9][\w\-$]*`;
const KEY_RE = new RegExp(String.raw`^${KEY_SEGMENT}(?:[./]${KEY_SEGMENT})*$`);
const PACKAGE_RE = /^[\w\-$.]*$/;

/** Parse every override string, in order. Throws ConfigError('override_syntax') on the first bad one. */
export function parseOverrides(overrides: readonly string[]): Override[] {
  return overrides.map(parseOverride);
}

export function parseOverride(input: string): Override {
  let rest = input;
  let kind: OverrideKind = 'change';
  if (rest.startsWith('~')) {
    kind = 'delete';
    rest = rest.slice(1);
  } else if (rest.startsWith('++')) {
    kind = 'force_add';
    rest = rest.slice(2);
  } else if (rest.startsWith('+')) {
    kind = 'add';
    rest = rest.slice(1);
  }

  const eq = rest.indexOf('=');
  if (eq < 0 && kind !== 'delete') {
    throw syntaxError(input, `expected 'key=value' (or '~key' to delete)`);
  }
  const rawKey = (eq < 0 ? rest : rest.slice(0, eq)).trim();
  const at = rawKey.indexOf('@');
  const key = at < 0 ? rawKey : rawKey.slice(0, at);
  const pkg = at < 0 ? undefined : rawKey.slice(at + 1);
  if (!KEY_RE.test(key)) {
    throw syntaxError(input, `'${rawKey}' is not a valid key (letters, digits, '_', '-', joined by '.' or '/')`);
  }
  if (pkg !== undefined && !PACKAGE_RE.test(pkg)) {
    throw syntaxError(input, `'${pkg}' is not a valid package`);
  }
  const value = eq < 0 ? undefined : parseOverrideValue(rest.slice(eq + 1), input);
  return { kind, key, package: pkg, value, input };
}

/** Parse the right-hand side of an override on its own (`[1,2]`, `'a b'`, `1e-4`, …). */
export function parseOverrideValue(text: string, input: string = text): OverrideValue {
  const parser = new ValueParser(text, input);
  return parser.parseTop();
}

function syntaxError(input: string, why: string): ConfigError {
  return new ConfigError('override_syntax', `Error parsing override '${input}': ${why}.`);
}

// Hydra's primitive token shapes. Digits may be grouped with single underscores.
const INT_PART = String.raw`\d(?:_?\d)*`;
const POINT_FLOAT = String.raw`(?:(?:${INT_PART})?\.${INT_PART}|${INT_PART}\.)`;
const INT_RE = /^[+-]?(?:0|[1-9](?:_?\d)*)$/;
const FLOAT_RE = new RegExp(
  String.raw`^[+-]?(?:${POINT_FLOAT}|(?:${INT_PART}|${POINT_FLOAT})[eE][+-]?\d+|inf|nan)$`,
  'i',
);

/** Type an unquoted, unescaped primitive as Hydra does; anything else is a string. */
export function typePrimitive(text: string): null | boolean | number | string {
  if (/^null$/i.test(text)) return null;
  if (/^true$/i.test(text)) return true;
  if (/^false$/i.test(text)) return false;
  if (INT_RE.test(text)) return Number(text.replace(/_/g, ''));
  if (FLOAT_RE.test(text)) {
    const t = text.replace(/_/g, '').toLowerCase();
    if (t.endsWith('inf')) return t.startsWith('-') ? -Infinity : Infinity;
    if (t.endsWith('nan')) return NaN;
    return Number(t);
  }
  return text;
}

const ESCAPABLE = new Set(['\\', '(', ')', '[', ']', '{', '}', ':', '=', ',', ' ', '\t', "'", '"']);

class ValueParser {
  private pos = 0;
  constructor(private readonly text: string, private readonly input: string) {}

  parseTop(): OverrideValue {
    this.skipWs();
    if (this.pos >= this.text.length) return '';
    const value = this.parseElement('top');
    this.skipWs();
    if (this.peek() === ',') {
      throw this.error(`sweeps like 'a,b' are not supported; quote the value ('a,b') or write a list [a,b]`);
    }
    if (this.pos < this.text.length) throw this.error(`unexpected '${this.peek()}' at column ${this.pos + 1}`);
    return value;
  }

  private parseElement(context: 'top' | 'list' | 'dict'): OverrideValue {
    this.skipWs();
    const c = this.peek();
    if (c === '[') return this.parseList();
    if (c === '{') return this.parseDict();
    if (c === "'" || c === '"') {
      const s = this.parseQuoted();
      this.skipWs();
      const next = this.peek();
      if (next !== undefined && !this.isTerminator(next, context)) {
        throw this.error(`unexpected '${next}' after a quoted string`);
      }
      return s;
    }
    return this.parsePrimitive(context);
  }

  private parseList(): OverrideValue[] {
    this.pos++; // [
    const items: OverrideValue[] = [];
    this.skipWs();
    if (this.peek() === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.parseElement('list'));
      this.skipWs();
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return items;
      }
      throw this.error(c === undefined ? `missing ']'` : `expected ',' or ']' but found '${c}'`);
    }
  }

  private parseDict(): { [key: string]: OverrideValue } {
    this.pos++; // {
    const dict: { [key: string]: OverrideValue } = {};
    this.skipWs();
    if (this.peek() === '}') {
      this.pos++;
      return dict;
    }
    for (;;) {
      const key = this.parseDictKey();
      dict[key] = this.parseElement('dict');
      this.skipWs();
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return dict;
      }
      throw this.error(c === undefined ? `missing '}'` : `expected ',' or '}' but found '${c}'`);
    }
  }

  private parseDictKey(): string {
    this.skipWs();
    let key = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error(`missing ':' after dict key`);
      if (c === ':') break;
      if (c === '\\' && ESCAPABLE.has(this.text[this.pos + 1] ?? '')) {
        key += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if ('[]{},\'"='.includes(c)) throw this.error(`unexpected '${c}' in dict key`);
      key += c;
      this.pos++;
    }
    this.pos++; // :
    key = key.trim();
    if (key === '') throw this.error('empty dict key');
    return key;
  }

  private parseQuoted(): string {
    const quote = this.text[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error(`unterminated ${quote === "'" ? 'single' : 'double'}-quoted string`);
      if (c === '\\' && (this.text[this.pos + 1] === quote || this.text[this.pos + 1] === '\\')) {
        out += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      this.pos++;
      if (c === quote) return out;
      out += c;
    }
  }

  private parsePrimitive(context: 'top' | 'list' | 'dict'): OverrideValue {
    let raw = '';
    let literal = false; // escapes or interpolations make the value a string, never a number
    for (;;) {
      const c = this.peek();
      if (c === undefined || this.isTerminator(c, context)) break;
      if (c === '\\' && ESCAPABLE.has(this.text[this.pos + 1] ?? '')) {
        raw += this.text[this.pos + 1];
        this.pos += 2;
        literal = true;
        continue;
      }
      if (c === '$' && this.text[this.pos + 1] === '{') {
        raw += this.readInterpolation();
        literal = true;
        continue;
      }
      if (c === "'" || c === '"') throw this.error(`a quote may only start a value; quote the whole value`);
      if (c === '[' || c === ']' || c === '{' || c === '}') throw this.error(`unexpected '${c}'`);
      if (c === '(' || c === ')') {
        throw this.error(`sweep functions like choice(...) are not supported; escape or quote '('`);
      }
      raw += c;
      this.pos++;
    }
    const trimmed = raw.trim();
    if (trimmed === '' && context !== 'top') throw this.error('empty element');
    return literal ? trimmed : typePrimitive(trimmed);
  }

  /** Consume `${...}` verbatim, braces balanced, so commas inside (oc.env defaults) do not split. */
  private readInterpolation(): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      this.pos++;
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) return this.text.slice(start, this.pos);
      }
    }
    throw this.error(`unterminated interpolation '${this.text.slice(start)}'`);
  }

  private isTerminator(c: string, context: 'top' | 'list' | 'dict'): boolean {
    if (c === ',') return true;
    if (context === 'list') return c === ']';
    if (context === 'dict') return c === '}';
    return false;
  }

  private skipWs(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private error(why: string): ConfigError {
    return syntaxError(this.input, why);
  }
}
