// Plain-data config trees (what YAML and overrides produce) and the few operations composition
// needs: deep copy, OmegaConf-style merge (dicts merge, everything else replaces), and
// get/set/delete by dotted path, where numeric segments index lists.

export type ConfigNode = null | boolean | number | string | ConfigNode[] | ConfigDict;
export interface ConfigDict {
  [key: string]: ConfigNode;
}

export function isDict(value: unknown): value is ConfigDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepCopy<T extends ConfigNode>(node: T): T {
  if (Array.isArray(node)) return node.map((item) => deepCopy(item)) as T;
  if (isDict(node)) {
    const out: ConfigDict = {};
    for (const [k, v] of Object.entries(node)) out[k] = deepCopy(v);
    return out as T;
  }
  return node;
}

/** Merge `source` into `target` in place: nested dicts merge key by key, lists and scalars replace. */
export function mergeInto(target: ConfigDict, source: ConfigDict): ConfigDict {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isDict(existing) && isDict(value)) mergeInto(existing, value);
    else target[key] = deepCopy(value);
  }
  return target;
}

/** `"a.b.0"` → `["a", "b", "0"]`; `""` → `[]` (the root). */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

type Container = ConfigDict | ConfigNode[];

function child(container: Container, segment: string): { found: boolean; value: ConfigNode } {
  if (Array.isArray(container)) {
    const index = /^\d+$/.test(segment) ? Number(segment) : -1;
    return index >= 0 && index < container.length
      ? { found: true, value: container[index]! }
      : { found: false, value: null };
  }
  return Object.prototype.hasOwnProperty.call(container, segment)
    ? { found: true, value: container[segment]! }
    : { found: false, value: null };
}

/** The node at `path`, or `found: false` when any segment is absent. */
export function getPath(root: ConfigNode, path: readonly string[]): { found: boolean; value: ConfigNode } {
  let node: ConfigNode = root;
  for (const segment of path) {
    if (!Array.isArray(node) && !isDict(node)) return { found: false, value: null };
    const next = child(node, segment);
    if (!next.found) return next;
    node = next.value;
  }
  return { found: true, value: node };
}

/**
 * Set `path` to `value`. With `createParents`, missing intermediate dicts are created; otherwise
 * the parent must exist. When both the old and new values are dicts and `merge` is set, they merge.
 * Returns false when the parent does not exist (or is not a container) and could not be created.
 */
export function setPath(
  root: ConfigDict,
  path: readonly string[],
  value: ConfigNode,
  options: { createParents: boolean; merge: boolean },
): boolean {
  if (path.length === 0) throw new Error('setPath: empty path');
  let node: Container = root;
  for (const segment of path.slice(0, -1)) {
    const next = child(node, segment);
    if (next.found && (isDict(next.value) || Array.isArray(next.value))) {
      node = next.value;
      continue;
    }
    if (!options.createParents || Array.isArray(node)) return false;
    const created: ConfigDict = {};
    node[segment] = created;
    node = created;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) {
    const index = /^\d+$/.test(last) ? Number(last) : -1;
    if (index < 0 || index >= node.length) return false;
    node[index] = deepCopy(value);
    return true;
  }
  const existing = node[last];
  if (options.merge && isDict(existing) && isDict(value)) mergeInto(existing, value);
  else node[last] = deepCopy(value);
  return true;
}

/** Remove `path`; returns false when it was not there. */
export function deletePath(root: ConfigDict, path: readonly string[]): boolean {
  const parent = getPath(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!parent.found || last === undefined) return false;
  if (Array.isArray(parent.value)) {
    const index = /^\d+$/.test(last) ? Number(last) : -1;
    if (index < 0 || index >= parent.value.length) return false;
    parent.value.splice(index, 1);
    return true;
  }
  if (!isDict(parent.value) || !Object.prototype.hasOwnProperty.call(parent.value, last)) return false;
  delete parent.value[last];
  return true;
}
