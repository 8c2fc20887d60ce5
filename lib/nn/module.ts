// nn.Module: named parameters, buffers (persistent or not) and submodules, joined with "." into the
// same state-dict keys PyTorch produces; train/eval, dtype/device moves, and explicit lifetime.
import * as torch from '../torch';
import type { DType } from '../torch';

type Tensor = torch.Tensor;

export interface BufferOptions {
  /** Saved in stateDict() (true, the default) or runtime-only state (false). */
  persistent?: boolean;
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys are an error (default true). Shape mismatches always are. */
  strict?: boolean;
}

export interface ShapeMismatch {
  key: string;
  /** Shape in the checkpoint. */
  got: number[];
  /** Shape in this module. */
  expected: number[];
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** loadStateDict() could not match the checkpoint to the module; lists every problem at once. */
export class StateDictError extends Error {
  constructor(
    readonly moduleName: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly mismatched: ShapeMismatch[],
  ) {
    const lines = [`Error(s) in loading state_dict for ${moduleName}:`];
    const quote = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
    if (missingKeys.length) lines.push(`\tMissing key(s) in state_dict: ${quote(missingKeys)}.`);
    if (unexpectedKeys.length) lines.push(`\tUnexpected key(s) in state_dict: ${quote(unexpectedKeys)}.`);
    for (const m of mismatched) {
      lines.push(`\tsize mismatch for ${m.key}: copying a param with shape [${m.got.join(', ')}] from checkpoint, the shape in current model is [${m.expected.join(', ')}].`);
    }
    super(lines.join('\n'));
    this.name = 'StateDictError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$|^[0-9]+$/;

function checkName(name: string, owner: Module, kind: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`Expected ${kind} name to be an identifier or an index without "." but received ${JSON.stringify(name)}`);
  }
  if (owner.hasMember(name)) throw new TypeError(`${owner.className}: '${name}' is already registered`);
}

const isFloating = (t: Tensor) => torch.isFloatingDtype(t.dtype);

/**
 * Base class of every layer and model. Register state with `registerParameter`,
 * `registerBuffer` and `registerModule` (or `ModuleList`); keys join with "." as in PyTorch.
 * Parameters and buffers are exempt from tidy() scopes: they live until `dispose()`.
 */
export class Module {
  /** Training mode (true) or evaluation mode (false); set with train()/eval(). */
  training = true;
  private readonly params_ = new Map<string, Tensor | null>();
  private readonly buffers_ = new Map<string, Tensor | null>();
  private readonly nonPersistent_ = new Set<string>();
  private readonly modules_ = new Map<string, Module | null>();
  private disposed_ = false;

  get className(): string {
    return this.constructor.name;
  }

  /** @internal */
  hasMember(name: string): boolean {
    return this.params_.has(name) || this.buffers_.has(name) || this.modules_.has(name);
  }

  /** Adds a parameter (leaf tensor, requiresGrad on) and returns it. null reserves the name (e.g. no bias). */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    checkName(name, this, 'parameter');
    if (t !== null) {
      torch.keep(t);
      if (!t.requiresGrad) t.requiresGrad_(true);
    }
    this.params_.set(name, t);
    return t;
  }

  /** Adds a buffer: state that is not trained by the optimizer (persistent ones are saved). */
  registerBuffer<T extends Tensor | null>(name: string, t: T, options: BufferOptions = {}): T {
    checkName(name, this, 'buffer');
    if (t !== null) torch.keep(t);
    this.buffers_.set(name, t);
    if (options.persistent === false) this.nonPersistent_.add(name);
    return t;
  }

  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName(name, this, 'module');
    if (m !== null && !(m instanceof Module)) throw new TypeError(`Expected a Module for '${name}' but received ${String(m)}`);
    this.modules_.set(name, m);
    return m;
  }

  /** The parameter registered as `name` on this module (not recursive). */
  getParameter(name: string): Tensor | null {
    if (!this.params_.has(name)) throw new TypeError(`${this.className} has no parameter '${name}'`);
    return this.params_.get(name) ?? null;
  }

  getBuffer(name: string): Tensor | null {
    if (!this.buffers_.has(name)) throw new TypeError(`${this.className} has no buffer '${name}'`);
    return this.buffers_.get(name) ?? null;
  }

  /** The submodule at a dotted path, e.g. `inner.L_level.layers.0`. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    if (path === '') return m;
    for (const part of path.split('.')) {
      const next = m.modules_.get(part);
      if (!next) throw new TypeError(`${m.className} has no submodule '${part}' (in '${path}')`);
      m = next;
    }
    return m;
  }

  // ---- traversal --------------------------------------------------------------------------------

  namedChildren(): [string, Module][] {
    return [...this.modules_].filter((e): e is [string, Module] => e[1] !== null);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module ('' ) and every submodule, depth first, in registration order, each once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  private namedMembers(pick: (m: Module) => Map<string, Tensor | null>, prefix: string, recurse: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [modPrefix, m] of mods) {
      for (const [name, t] of pick(m)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([modPrefix ? `${modPrefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Every parameter with its dotted name, in registration order. These are the live tensors: do not dispose them. */
  namedParameters(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers((m) => m.params_, prefix, recurse);
  }

  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, t]) => t);
  }

  /** Every buffer (persistent or not) with its dotted name. Live tensors: do not dispose them. */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers((m) => m.buffers_, prefix, recurse);
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, t]) => t);
  }

  /** Total elements of all parameters (buffers such as the puzzle embedding table are not counted). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  // ---- state dict -------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted key, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children). The values are new detached handles that
   * share storage with the module's tensors: the caller owns the handles (torch.dispose(sd)),
   * and writing into them writes into the module.
   */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [modPrefix, m] of this.namedModules(prefix)) {
      const key = (name: string) => (modPrefix ? `${modPrefix}.${name}` : name);
      for (const [name, t] of m.params_) if (t !== null) out.set(key(name), t.detach());
      for (const [name, t] of m.buffers_) if (t !== null && !m.nonPersistent_.has(name)) out.set(key(name), t.detach());
    }
    return out;
  }

  /** Live tensors behind every state-dict key (no new handles). */
  private stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [modPrefix, m] of this.namedModules()) {
      const key = (name: string) => (modPrefix ? `${modPrefix}.${name}` : name);
      for (const [name, t] of m.params_) if (t !== null) out.set(key(name), t);
      for (const [name, t] of m.buffers_) if (t !== null && !m.nonPersistent_.has(name)) out.set(key(name), t);
    }
    return out;
  }

  /**
   * Copies values into the module's tensors (cast to each tensor's dtype; identity kept, so
   * optimizers holding the parameters stay valid). Throws a StateDictError listing every missing,
   * unexpected (when strict) and shape-mismatched key before copying anything.
   */
  loadStateDict(sd: Map<string, Tensor> | Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateTensors();
    const missingKeys = [...own.keys()].filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !own.has(k));
    const mismatched: ShapeMismatch[] = [];
    for (const [key, target] of own) {
      const src = entries.get(key);
      if (src === undefined) continue;
      const got = src.shape;
      const expected = target.shape;
      if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) mismatched.push({ key, got, expected });
    }
    if (mismatched.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      throw new StateDictError(this.className, strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatched);
    }
    torch.noGrad(() => {
      for (const [key, target] of own) {
        const src = entries.get(key);
        if (src !== undefined) target.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- modes, dtype, grads ----------------------------------------------------------------------

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Casts floating-point parameters and buffers to `dtype`, or moves everything to a device
   * ('cpu', 'cuda:0'), in place: each tensor keeps its identity (as `param.data = …` in PyTorch).
   */
  to(target: DType | string): this {
    const device = target === 'cpu' || target.startsWith('cuda');
    torch.noGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        if (!device && !isFloating(t)) continue;
        const moved = t.to(target);
        if (moved !== t) {
          torch.call('aten::set_data', t, moved);
          moved.dispose();
        }
      }
    });
    return this;
  }

  /**
   * Clears the gradients of the parameters, and of buffers that require grad (the sparse
   * puzzle embedding's `local_weights`). With setToNone=false they are zeroed instead.
   */
  zeroGrad(setToNone = true): void {
    const withGrad = [...this.parameters(), ...this.buffers().filter((b) => b.requiresGrad)];
    for (const p of withGrad) {
      if (setToNone) {
        p.grad = null;
        continue;
      }
      const g = p.grad;
      if (g !== null) {
        g.zero_();
        g.dispose();
      }
    }
  }

  /** Frees every parameter and buffer of this module and its submodules. The module is unusable afterwards. */
  dispose(): void {
    if (this.disposed_) return;
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
    for (const m of this.modules()) m.disposed_ = true;
  }

  get isDisposed(): boolean {
    return this.disposed_;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- printing ---------------------------------------------------------------------------------

  /** The text between the parentheses of this module's line, e.g. `in_features=4, out_features=2, bias=False`. */
  extraRepr(): string {
    return '';
  }

  /** PyTorch's module print: `Name(extra)` for leaves, children indented as `(name): Child(...)`. */
  toString(): string {
    const extra = this.extraRepr();
    const children = this.namedChildren();
    if (children.length === 0) return `${this.className}(${extra})`;
    const indent = (s: string) => s.split('\n').join('\n  ');
    const lines: string[] = [];
    if (extra) lines.push(...extra.split('\n'));
    for (const [name, m] of children) lines.push(`(${name}): ${indent(m.toString())}`);
    return `${this.className}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Submodules named "0", "1", ... (torch.nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items.at(i);
    if (m === undefined) throw new RangeError(`ModuleList index ${i} out of range for length ${this.items.length}`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
