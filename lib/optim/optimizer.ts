// The optimizer base, as torch.optim.Optimizer: parameter groups with their hyperparameters,
// per-parameter state, zeroGrad, and a state dict (step counts included) that resumes a run exactly.
import * as torch from '../torch';
import { Tensor } from '../torch';

/** One entry of an optimizer's per-parameter state: a tensor (moments) or a number (step count). */
export type StateValue = Tensor | number;
export type ParamState = Record<string, StateValue>;

/** Hyperparameters every group has. */
export interface GroupOptions {
  lr: number;
}

/** A parameter group: its parameters and its hyperparameters. */
export type ParamGroup<H extends GroupOptions> = H & { params: Tensor[] };

/** What a constructor accepts: a flat list of parameters, or groups that override some defaults. */
export type ParamsArg<H extends GroupOptions> = Iterable<Tensor> | Array<Partial<H> & { params: Iterable<Tensor> }>;

/**
 * torch's layout: `state` keyed by the parameter's index counted across all groups in order;
 * `paramGroups` holds each group's hyperparameters and the indices of its parameters.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

export abstract class Optimizer<H extends GroupOptions> {
  readonly defaults: Readonly<H>;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per group, per parameter; undefined until the parameter's first step. */
  protected readonly state: Array<Array<ParamState | undefined>> = [];

  protected constructor(params: ParamsArg<H>, defaults: H) {
    this.defaults = Object.freeze({ ...defaults });
    const list = Array.isArray(params) ? params : [...(params as Iterable<Tensor>)];
    if (list.length === 0) throw new TypeError(`${this.constructor.name}: expected a non-empty list of parameters`);
    if (list.every(isTensor)) this.addParamGroup({ params: list as Tensor[] } as Partial<H> & { params: Tensor[] });
    else for (const g of list as Array<Partial<H> & { params: Iterable<Tensor> }>) this.addParamGroup(g);
  }

  /** Adds a group; unset hyperparameters take the defaults. A parameter may be in one group only. */
  addParamGroup(group: Partial<H> & { params: Iterable<Tensor> }): void {
    if (group === null || typeof group !== 'object' || group.params === undefined) {
      throw new TypeError(`${this.constructor.name}: expected a parameter group { params, ... } but received ${String(group)}`);
    }
    const params = [...group.params];
    params.forEach((p, i) => {
      if (!isTensor(p)) throw new TypeError(`${this.constructor.name}: params[${i}] of group ${this.paramGroups.length} is not a Tensor`);
    });
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (seen.has(p)) throw new TypeError(`${this.constructor.name}: a parameter appears in more than one place`);
      seen.add(p);
    }
    const full = { ...this.defaults, ...group, params } as ParamGroup<H>;
    this.validateGroup(full, this.paramGroups.length);
    this.paramGroups.push(full);
    this.state.push(params.map(() => undefined));
  }

  /** Checks a group's hyperparameters; subclasses throw a TypeError/RangeError naming the bad one. */
  protected validateGroup(group: ParamGroup<H>, index: number): void {
    checkNonNegative(group.lr, `lr of group ${index}`);
  }

  /** One optimization step over every group. */
  abstract step(): void;

  /** Clears the gradients: to null (default, as torch ≥ 2.0) or to zeros in place. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) {
          p.grad = null;
          continue;
        }
        const grad = p.grad;
        if (grad) {
          torch.zero_(grad);
          grad.dispose();
        }
      }
    }
  }

  /** Sets `lr` of every group (what the official loop does before each step). */
  setLr(lr: number): void {
    checkNonNegative(lr, 'lr');
    for (const g of this.paramGroups) g.lr = lr;
  }

  /**
   * The optimizer's state: hyperparameters per group and the per-parameter state. Tensors are the
   * live ones (as torch returns them): serialize or clone them, do not dispose them.
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    this.paramGroups.forEach((g, gi) => {
      const { params, ...hyper } = g;
      const ids: number[] = [];
      params.forEach((_p, pi) => {
        const s = this.state[gi][pi];
        if (s) state[index] = { ...s };
        ids.push(index++);
      });
      paramGroups.push({ ...structuredClone(hyper), params: ids });
    });
    return { state, paramGroups };
  }

  /**
   * Restores a state dict from stateDict() (of an optimizer over the same parameters in the same
   * order): group hyperparameters and per-parameter state. Tensors are copied (the caller keeps
   * ownership of `sd`) and cast to the parameter's dtype and device, as torch does.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new TypeError(`${name}.loadStateDict: expected { state, paramGroups }`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${name}.loadStateDict: the state dict has ${sd.paramGroups.length} parameter groups but the optimizer has ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, gi) => {
      if (!Array.isArray(g.params) || g.params.length !== this.paramGroups[gi].params.length) {
        throw new RangeError(`${name}.loadStateDict: group ${gi} has ${g.params?.length} parameters in the state dict but ${this.paramGroups[gi].params.length} here`);
      }
    });
    // Check everything before changing anything.
    const incoming: Array<Array<ParamState | undefined>> = sd.paramGroups.map((g, gi) =>
      g.params.map((id, pi) => {
        const s = sd.state[id];
        if (s === undefined) return undefined;
        const p = this.paramGroups[gi].params[pi];
        for (const [k, v] of Object.entries(s)) {
          if (isTensor(v)) {
            if (v.isDisposed) throw new TypeError(`${name}.loadStateDict: state ${id}.${k} was disposed`);
            if (v.shape.join() !== p.shape.join() && v.numel() !== 1) {
              throw new RangeError(`${name}.loadStateDict: state ${id}.${k} has shape [${v.shape}] but its parameter has shape [${p.shape}]`);
            }
          } else if (typeof v !== 'number') {
            throw new TypeError(`${name}.loadStateDict: state ${id}.${k} is neither a Tensor nor a number`);
          }
        }
        return s;
      })
    );
    const hyper = sd.paramGroups.map(({ params: _ids, ...h }) => structuredClone(h));
    hyper.forEach((h, gi) => this.validateGroup({ ...this.paramGroups[gi], ...h } as ParamGroup<H>, gi));

    this.disposeState();
    incoming.forEach((group, gi) => {
      Object.assign(this.paramGroups[gi], hyper[gi]);
      group.forEach((s, pi) => {
        if (!s) return;
        const p = this.paramGroups[gi].params[pi];
        const copy: ParamState = {};
        for (const [k, v] of Object.entries(s)) copy[k] = isTensor(v) ? this.loadStateTensor(k, v, p) : v;
        this.state[gi][pi] = copy;
      });
    });
  }

  /** A private copy of a saved state tensor, in the parameter's dtype and on its device. */
  protected loadStateTensor(_key: string, v: Tensor, p: Tensor): Tensor {
    return copyAs(v, p.dtype, p.device);
  }

  /** Frees every state tensor (the optimizer can go on; state restarts from scratch). */
  disposeState(): void {
    for (const group of this.state) {
      for (let i = 0; i < group.length; i++) {
        const s = group[i];
        if (s) for (const v of Object.values(s)) if (isTensor(v)) v.dispose();
        group[i] = undefined;
      }
    }
  }

  /** Frees the optimizer's tensors. Parameters belong to the caller and are left alone. */
  dispose(): void {
    this.disposeState();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** A new tensor (exempt from scopes) holding `v` in `dtype` on `device`. */
export function copyAs(v: Tensor, dtype: torch.DType, device: string): Tensor {
  return torch.keep(torch.noGrad(() => torch.tidy(() => torch.clone(torch.to(torch.to(v, device), dtype)))));
}

export function checkNonNegative(v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`Expected a finite number >= 0 for ${what} but received ${String(v)}`);
  }
}

export function checkUnitInterval(v: unknown, what: string): void {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new RangeError(`Expected a number in [0, 1) for ${what} but received ${String(v)}`);
  }
}
