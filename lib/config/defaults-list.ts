// The defaults-list walk of Hydra: from the primary config, expand `_self_`, config groups
// (`arch: trm`), plain configs, `override`/`optional` entries and `group@pkg`, letting the
// command line choose (`arch=hrm`), append (`+g=x`, `++g=x`) or drop (`~g`) groups. The
// result is the ordered list of files to merge, each with the package it merges at.

import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from './errors';
import { Override } from './overrides';
import { didYouMean } from '../util/suggest';
import { ConfigDict, ConfigNode, isDict } from './tree';
import { LoadedConfigFile, readConfigFile } from './yaml-io';

/** The config directory: files, groups (sub-directories) and their options. */
export class Repository {
  private readonly cache = new Map<string, LoadedConfigFile>();
  constructor(readonly dir: string) {}

  file(configPath: string): string | undefined {
    for (const ext of ['.yaml', '.yml']) {
      const f = path.join(this.dir, configPath + ext);
      if (fs.existsSync(f) && fs.statSync(f).isFile()) return f;
    }
    return undefined;
  }

  load(configPath: string): LoadedConfigFile | undefined {
    const file = this.file(configPath);
    if (file === undefined) return undefined;
    let loaded = this.cache.get(file);
    if (!loaded) {
      loaded = readConfigFile(file);
      this.cache.set(file, loaded);
    }
    // callers mutate nothing they get from here except through deep copies in mergeInto
    return loaded;
  }

  isGroup(group: string): boolean {
    const d = path.join(this.dir, group);
    return fs.existsSync(d) && fs.statSync(d).isDirectory();
  }

  options(group: string): string[] {
    if (!this.isGroup(group)) return [];
    return fs
      .readdirSync(path.join(this.dir, group))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => f.replace(/\.ya?ml$/, ''))
      .sort();
  }
}

type Entry =
  | { kind: 'self' }
  | {
      kind: 'group';
      group: string; // absolute group path, e.g. 'arch'
      relative: string; // as written, e.g. 'arch' (used for the package)
      absolute: boolean;
      package: string | undefined; // from group@package
      option: ConfigNode;
      override: boolean;
      optional: boolean;
      key: string; // what a command line names it by: group[@package]
      appended?: Override;
    }
  | { kind: 'config'; path: string; relative: string; package: string | undefined; optional: boolean };

export interface MergeStep {
  file: string;
  package: string;
  body: ConfigDict;
}

/** One walk over the defaults tree, collecting the files to merge in order. */
export class DefaultsWalk {
  readonly merges: MergeStep[] = [];
  readonly choices: Record<string, string | string[] | null> = {};
  private readonly cli = new Map<string, { o: Override; used: boolean }>();
  private readonly deletions = new Map<string, { o: Override; used: boolean }>();
  private readonly appends: Override[] = [];
  private readonly listOverrides = new Map<string, ConfigNode>();
  private readonly seen = new Set<string>();

  constructor(private readonly repo: Repository, overrides: Override[], forceAppend: Set<string>) {
    for (const o of overrides) {
      const key = o.package === undefined ? o.key : `${o.key}@${o.package}`;
      if (o.key === 'hydra' || o.key.startsWith('hydra/')) continue; // Hydra's own groups: nothing to do here
      checkGroupValue(o, repo);
      if (o.kind === 'delete') this.deletions.set(key, { o, used: false });
      else if (o.kind === 'add' || (o.kind === 'force_add' && forceAppend.has(key))) this.appends.push(o);
      else this.cli.set(key, { o, used: false });
    }
  }

  run(configName: string): void {
    if (this.repo.file(configName) === undefined) {
      const available = fs
        .readdirSync(this.repo.dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => f.replace(/\.ya?ml$/, ''));
      throw new ConfigError(
        'not_found',
        `Cannot find primary config '${configName}' in '${this.repo.dir}'. Available: ${available.join(', ') || '(none)'}.${didYouMean(configName, available)}`,
      );
    }
    this.expand(configName, '', '', true, []);
  }

  unusedForceAdds(): string[] {
    return [...this.cli.entries()].filter(([, v]) => !v.used && v.o.kind === 'force_add').map(([k]) => k);
  }

  checkAllUsed(): void {
    for (const [key, { o, used }] of this.cli) {
      if (!used) {
        throw new ConfigError(
          'override',
          `Could not override '${key}': it is not in the defaults list. To add it, use +${o.input.replace(/^\++/, '')}`,
          key,
        );
      }
    }
    for (const [key, { used }] of this.deletions) {
      if (!used) throw new ConfigError('override', `Could not delete '${key}': it is not in the defaults list.`, key);
    }
  }

  private expand(configPath: string, pkg: string, parentGroup: string, primary: boolean, stack: string[]): void {
    if (stack.includes(configPath)) {
      throw new ConfigError('composition', `Defaults list cycle: ${[...stack, configPath].join(' -> ')}`);
    }
    const loaded = this.repo.load(configPath)!;
    const entries = (loaded.defaults ?? []).map((raw) => parseEntry(raw, parentGroup, loaded.source));
    const selfCount = entries.filter((e) => e.kind === 'self').length;
    if (selfCount > 1) throw new ConfigError('composition', `Duplicate _self_ in the defaults list of '${loaded.source}'.`);
    if (selfCount === 0) entries.push({ kind: 'self' }); // Hydra ≥1.1: the config overrides its defaults
    if (primary) {
      for (const o of this.appends) {
        entries.push({
          kind: 'group',
          group: o.key,
          relative: o.key,
          absolute: false,
          package: o.package,
          option: o.value as ConfigNode,
          override: false,
          optional: false,
          key: o.package === undefined ? o.key : `${o.key}@${o.package}`,
          appended: o,
        });
      }
    }
    for (const e of entries) {
      if (e.kind === 'group' && e.override) {
        if (!this.repo.isGroup(e.group)) {
          throw new ConfigError('composition', `In '${loaded.source}': 'override ${e.group}' names no config group.`);
        }
        if (!this.listOverrides.has(e.key)) this.listOverrides.set(e.key, e.option);
      }
    }

    for (const e of entries) {
      if (e.kind === 'self') {
        this.merges.push({ file: loaded.source, package: pkg, body: loaded.body });
      } else if (e.kind === 'config') {
        const childPkg = e.package !== undefined ? joinPackage(pkg, e.package) : joinPackage(pkg, dirnameDots(e.relative));
        if (this.repo.file(e.path) === undefined) {
          if (e.optional) continue;
          throw new ConfigError('composition', `In '${loaded.source}': cannot find config '${e.path}'.`);
        }
        this.expand(e.path, this.packageFor(e.path, childPkg), path.posix.dirname(e.path).replace(/^\.$/, ''), false, [...stack, configPath]);
      } else if (!e.override) {
        this.expandGroup(e, pkg, loaded.source, [...stack, configPath]);
      }
    }
  }

  private expandGroup(e: Extract<Entry, { kind: 'group' }>, pkg: string, source: string, stack: string[]): void {
    if (this.seen.has(e.key)) {
      if (e.appended) {
        throw new ConfigError(
          'override',
          `Could not add '${e.appended.input}': '${e.key}' is already in the defaults list. Use ${e.appended.input.replace(/^\++/, '')} to change it.`,
          e.key,
        );
      }
      throw new ConfigError('composition', `'${e.key}' appears more than once in the defaults list.`);
    }
    this.seen.add(e.key);
    const deletion = this.deletions.get(e.key);
    let option: ConfigNode = e.option;
    if (this.listOverrides.has(e.key)) option = this.listOverrides.get(e.key)!;
    const cli = this.cli.get(e.key);
    if (cli) {
      cli.used = true;
      option = cli.o.value as ConfigNode;
    }
    if (deletion && (deletion.o.value === undefined || JSON.stringify(deletion.o.value) === JSON.stringify(option))) {
      deletion.used = true;
      return;
    }
    if (!this.repo.isGroup(e.group)) {
      throw new ConfigError('composition', `In '${source}': '${e.group}' is not a config group (no directory '${path.join(this.repo.dir, e.group)}').`);
    }
    if (option === null) {
      this.choices[e.key] = null;
      return;
    }
    if (option === '???') {
      const options = this.repo.options(e.group);
      throw new ConfigError('composition', `You must choose '${e.key}', e.g. ${e.key}=${options[0] ?? '<option>'}. Available options: ${options.join(', ')}.`, e.key);
    }
    const picked = Array.isArray(option) ? option : [option];
    if (!picked.every((p): p is string => typeof p === 'string')) {
      throw new ConfigError('composition', `In '${source}': the option for '${e.key}' must be a name, got ${JSON.stringify(option)}.`, e.key);
    }
    this.choices[e.key] = Array.isArray(option) ? picked : picked[0]!;
    const basePkg = e.package !== undefined ? joinPackage(e.absolute ? '' : pkg, e.package) : joinPackage(e.absolute ? '' : pkg, e.relative.replace(/\//g, '.'));
    for (const name of picked) {
      const file = `${e.group}/${name}`;
      if (this.repo.file(file) === undefined) {
        if (e.optional) continue;
        const options = this.repo.options(e.group);
        throw new ConfigError(
          'composition',
          `Could not find '${file}'. Available options in '${e.group}': ${options.join(', ')}.${didYouMean(name, options)}`,
          e.key,
        );
      }
      const childPkg = e.package !== undefined ? basePkg : this.packageFor(file, basePkg);
      this.expand(file, childPkg, e.group, false, stack);
    }
  }

  /** A `# @package` header overrides the package a file would otherwise get. */
  private packageFor(configPath: string, fallback: string): string {
    const header = this.repo.load(configPath)?.packageHeader;
    if (header === undefined) return fallback;
    if (header === '_global_') return '';
    if (header.startsWith('_global_.')) return header.slice('_global_.'.length);
    if (header === '_group_') return path.posix.dirname(configPath).replace(/\//g, '.').replace(/^\.$/, '');
    return header;
  }
}

function checkGroupValue(o: Override, repo: Repository): void {
  if (o.kind === 'delete' && o.value === undefined) return;
  const v = o.value;
  const ok = v === null || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  if (!ok) {
    const options = repo.options(o.key);
    throw new ConfigError(
      'override',
      `'${o.key}' is a config group; '${o.input}' must name one of its options (${options.join(', ')}). To set a key inside it, use ${o.key}.<key>=<value>.`,
      o.key,
    );
  }
}

function parseEntry(raw: ConfigNode, parentGroup: string, source: string): Entry {
  if (typeof raw === 'string') {
    if (raw === '_self_') return { kind: 'self' };
    let optional = false;
    let text = raw.trim();
    if (text.startsWith('optional ')) {
      optional = true;
      text = text.slice('optional '.length).trim();
    }
    const at = text.indexOf('@');
    const pathPart = at < 0 ? text : text.slice(0, at);
    const pkg = at < 0 ? undefined : text.slice(at + 1);
    const absolute = pathPart.startsWith('/');
    const rel = absolute ? pathPart.slice(1) : pathPart;
    const full = absolute || parentGroup === '' ? rel : `${parentGroup}/${rel}`;
    return { kind: 'config', path: full, relative: rel, package: pkg, optional };
  }
  if (isDict(raw) && Object.keys(raw).length === 1) {
    const [rawKey, option] = Object.entries(raw)[0]!;
    const words = rawKey.trim().split(/\s+/);
    const keyword = words.length === 2 ? words[0] : undefined;
    if (words.length > 2 || (keyword !== undefined && keyword !== 'override' && keyword !== 'optional')) {
      throw new ConfigError('composition', `In '${source}': bad defaults entry '${rawKey}' (expected 'group', 'override group' or 'optional group').`);
    }
    const spec = words[words.length - 1]!;
    const at = spec.indexOf('@');
    const groupPart = at < 0 ? spec : spec.slice(0, at);
    const pkg = at < 0 ? undefined : spec.slice(at + 1);
    const absolute = groupPart.startsWith('/');
    const rel = absolute ? groupPart.slice(1) : groupPart;
    const group = absolute || parentGroup === '' ? rel : `${parentGroup}/${rel}`;
    return {
      kind: 'group',
      group,
      relative: rel,
      absolute,
      package: pkg,
      option,
      override: keyword === 'override',
      optional: keyword === 'optional',
      key: pkg === undefined ? group : `${group}@${pkg}`,
    };
  }
  throw new ConfigError('composition', `In '${source}': bad defaults entry ${JSON.stringify(raw)}.`);
}

function joinPackage(parent: string, child: string): string {
  if (child === '_global_') return '';
  if (child.startsWith('_global_.')) return child.slice('_global_.'.length);
  if (parent === '') return child;
  if (child === '') return parent;
  return `${parent}.${child}`;
}

function dirnameDots(relPath: string): string {
  const dir = path.posix.dirname(relPath);
  return dir === '.' ? '' : dir.replace(/\//g, '.');
}
