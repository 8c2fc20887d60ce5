// Building blocks of the config schema: a TypeSpec checks (and, like pydantic's lax mode,
// gently coerces) one value; a Fields table describes a mapping key by key with its type,
// default and meaning. Errors name the key, the expected type and the value received.

import { ConfigError } from './errors';
import { MISSING } from './interpolate';
import { closest } from '../util/suggest';
import { isDict } from './tree';

export interface TypeSpec<T> {
  /** How the type reads in messages and docs: "integer >= 1", "list of strings", … */
  readonly label: string;
  /** Check `value` found at `key`; return it (coerced) or throw ConfigError('type'). */
  parse(value: unknown, key: string): T;
}

export interface Field<T> {
  type: TypeSpec<T>;
  /** What the key means, one or two sentences (goes into the README). */
  doc: string;
  /** Default when the key is absent. A field without `default` is required. */
  default?: T;
}

/** A field table covering every key of `C`, each typed to match. */
export type Fields<C> = { [K in keyof C]-?: Field<C[K]> };

/** `"abc" (string)`, `1.5 (number)`, `[1,2] (list)` — how a received value reads in errors. */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `${JSON.stringify(value)} (list)`;
  if (isDict(value)) return `${JSON.stringify(value)} (mapping)`;
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  return `${String(value)} (${typeof value})`;
}

export function typeError(label: string, key: string, value: unknown, hint = ''): ConfigError {
  return new ConfigError('type', `Expected ${label} for ${key} but received ${show(value)}.${hint}`, key);
}

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;

function bounds(label: string, opts: { min?: number; max?: number; maxExclusive?: boolean }): string {
  const parts: string[] = [];
  if (opts.min !== undefined) parts.push(`>= ${opts.min}`);
  if (opts.max !== undefined) parts.push(`${opts.maxExclusive ? '<' : '<='} ${opts.max}`);
  return parts.length ? `${label} ${parts.join(' and ')}` : label;
}

function checkBounds(label: string, n: number, key: string, opts: { min?: number; max?: number; maxExclusive?: boolean }): number {
  if (opts.min !== undefined && !(n >= opts.min)) throw typeError(label, key, n);
  if (opts.max !== undefined && !(opts.maxExclusive ? n < opts.max : n <= opts.max)) throw typeError(label, key, n);
  return n;
}

export const t = {
  /** An integer; integral floats (2.0) and integer text ("2") are accepted, as pydantic does. */
  int(opts: { min?: number; max?: number } = {}): TypeSpec<number> {
    const label = bounds('integer', opts);
    return {
      label,
      parse(value, key) {
        let n: number | undefined;
        if (typeof value === 'number' && Number.isInteger(value)) n = value;
        else if (typeof value === 'string' && INT_TEXT.test(value.trim())) n = Number(value.trim());
        if (n === undefined) throw typeError(label, key, value);
        return checkBounds(label, n, key, opts);
      },
    };
  },

  /** A number; numeric text ("1e-4", e.g. from ${oc.env:...}) is accepted. */
  float(opts: { min?: number; max?: number; maxExclusive?: boolean } = {}): TypeSpec<number> {
    const label = bounds('number', opts);
    return {
      label,
      parse(value, key) {
        let n: number | undefined;
        if (typeof value === 'number') n = value;
        else if (typeof value === 'string' && FLOAT_TEXT.test(value.trim())) {
          const s = value.trim().toLowerCase().replace(/^\+/, '');
          n = s.endsWith('nan') ? NaN : s.includes('inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
        }
        if (n === undefined) throw typeError(label, key, value);
        return checkBounds(label, n, key, opts);
      },
    };
  },

  /** true/false; also 0/1 and the words pydantic accepts ("true", "no", "on", …). */
  bool(): TypeSpec<boolean> {
    const words: Record<string, boolean> = { true: true, false: false, yes: true, no: false, on: true, off: false, '1': true, '0': false, t: true, f: false, y: true, n: false };
    return {
      label: 'boolean',
      parse(value, key) {
        if (typeof value === 'boolean') return value;
        if (value === 0 || value === 1) return value === 1;
        if (typeof value === 'string' && value.trim().toLowerCase() in words) return words[value.trim().toLowerCase()]!;
        throw typeError('boolean', key, value);
      },
    };
  },

  str(): TypeSpec<string> {
    return {
      label: 'string',
      parse(value, key) {
        if (typeof value === 'string') return value;
        const hint = typeof value === 'number' || typeof value === 'boolean' ? ` To pass it as text, quote it: ${key}="'${String(value)}'".` : '';
        throw typeError('string', key, value, hint);
      },
    };
  },

  /** One of a fixed set of strings. */
  oneOf<const V extends string>(values: readonly V[]): TypeSpec<V> {
    const label = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
    return {
      label,
      parse(value, key) {
        if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as V;
        const near = typeof value === 'string' ? closest(value, values) : undefined;
        throw typeError(label, key, value, near ? ` Did you mean '${near}'?` : '');
      },
    };
  },

  nullable<T>(inner: TypeSpec<T>): TypeSpec<T | null> {
    return {
      label: `${inner.label} or null`,
      parse(value, key) {
        return value === null ? null : inner.parse(value, key);
      },
    };
  },

  list<T>(inner: TypeSpec<T>): TypeSpec<T[]> {
    const label = `list of ${plural(inner.label)}`;
    return {
      label,
      parse(value, key) {
        if (!Array.isArray(value)) {
          const hint = typeof value === 'string' ? ` Write a list as [a,b] (quote it in the shell: ${key}="[${value}]").` : '';
          throw typeError(label, key, value, hint);
        }
        return value.map((item, i) => inner.parse(item, `${key}[${i}]`));
      },
    };
  },
};

function plural(label: string): string {
  if (label.startsWith('integer')) return label.replace(/^integer/, 'integers');
  if (label.startsWith('string')) return label.replace(/^string/, 'strings');
  if (label.startsWith('number')) return label.replace(/^number/, 'numbers');
  if (label.startsWith('boolean')) return label.replace(/^boolean/, 'booleans');
  return label;
}

export interface ObjectCheckOptions {
  /** Keys that are not allowed, with the reason shown to the user. */
  reserved?: Record<string, string>;
  /** Describes where the keys come from, for the unknown-key message ("arch 'trm'"). */
  owner?: string;
}

/**
 * Check a mapping against a field table: unknown keys fail with the closest valid key, missing
 * required keys fail with their meaning, absent keys with defaults get the default.
 */
export function parseFields<C>(fields: Fields<C>, value: unknown, prefix: string, options: ObjectCheckOptions = {}): C {
  const where = prefix === '' ? 'the config' : prefix;
  if (!isDict(value)) throw typeError('mapping', prefix === '' ? '<root>' : prefix, value);
  const known = Object.keys(fields);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const full = prefix === '' ? key : `${prefix}.${key}`;
    if (options.reserved && key in options.reserved) {
      throw new ConfigError('unknown_key', `Key '${full}' cannot be set in the config: ${options.reserved[key]}`, full);
    }
    if (!Object.prototype.hasOwnProperty.call(fields, key)) {
      const near = closest(key, known);
      const suggestion = near ? ` Did you mean '${prefix === '' ? near : `${prefix}.${near}`}'?` : '';
      throw new ConfigError(
        'unknown_key',
        `Unknown key '${full}' in ${options.owner ?? where}.${suggestion} Valid keys: ${known.join(', ')}.`,
        full,
      );
    }
  }
  for (const key of known) {
    const field = (fields as Record<string, Field<unknown>>)[key]!;
    const full = prefix === '' ? key : `${prefix}.${key}`;
    const present = Object.prototype.hasOwnProperty.call(value, key) && value[key] !== MISSING;
    if (!present) {
      if (!('default' in field)) {
        throw new ConfigError('missing', `Missing required key '${full}' (${field.type.label}): ${field.doc}`, full);
      }
      out[key] = structuredClone(field.default);
      continue;
    }
    out[key] = field.type.parse(value[key], full);
  }
  return out as C;
}
