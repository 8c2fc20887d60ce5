// Exponential moving average of the weights (the official models/ema.py EMAHelper): shadow copies
// of the trainable parameters, updated after each step, swapped in for evaluation.
import * as torch from '../torch';
import { Tensor } from '../torch';

/** Named parameters, as a module's namedParameters() gives them (pairs, a Map or a plain object). */
export type NamedTensors = Iterable<readonly [string, Tensor]> | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

function entries(named: NamedTensors): Array<readonly [string, Tensor]> {
  if (named instanceof Map) return [...named.entries()];
  if (typeof (named as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(named as Iterable<readonly [string, Tensor]>)];
  return Object.entries(named as Record<string, Tensor>);
}

/** Only parameters that require grad take part, as in the official helper. */
function trainable(named: NamedTensors): Array<readonly [string, Tensor]> {
  return entries(named).filter(([, p]) => p.requiresGrad);
}

/** Undoes a swapIn(). */
export interface EmaSwap {
  restore(): void;
}

export class EMAHelper {
  readonly mu: number;
  /** name -> shadow copy (same dtype and device as the parameter). */
  readonly shadow = new Map<string, Tensor>();

  constructor(mu = 0.999) {
    if (typeof mu !== 'number' || !(mu >= 0 && mu <= 1)) throw new RangeError(`Expected a number in [0, 1] for mu (ema_rate) but received ${String(mu)}`);
    this.mu = mu;
  }

  /** Starts shadows as copies of the current parameters. */
  register(named: NamedTensors): void {
    torch.noGrad(() => {
      for (const [name, p] of trainable(named)) {
        this.shadow.get(name)?.dispose();
        this.shadow.set(name, torch.keep(torch.clone(p)));
      }
    });
  }

  /** shadow ← (1 − mu)·param + mu·shadow, for every registered parameter. */
  update(named: NamedTensors): void {
    const list = trainable(named);
    for (const [name, p] of list) this.shadowOf(name, p);
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const [name, p] of list) {
          const s = this.shadow.get(name)!;
          const fresh = torch.mul(p, 1 - this.mu);
          torch.add_(torch.mul_(s, this.mu), fresh);
        }
      })
    );
  }

  /** Copies the shadows into the parameters (the official ema(); there is no way back). */
  ema(named: NamedTensors): void {
    const list = trainable(named);
    for (const [name, p] of list) this.shadowOf(name, p);
    torch.noGrad(() => {
      for (const [name, p] of list) torch.copy_(p, this.shadow.get(name)!);
    });
  }

  /**
   * Puts the EMA weights into the parameters until restore() (the official evaluates a deep copy
   * holding them; swapping in place needs no second model).
   */
  swapIn(named: NamedTensors): EmaSwap {
    const list = trainable(named);
    for (const [name, p] of list) this.shadowOf(name, p);
    const saved = torch.noGrad(() => list.map(([, p]) => torch.keep(torch.clone(p))));
    this.ema(named);
    let done = false;
    return {
      restore: () => {
        if (done) return;
        done = true;
        torch.noGrad(() => list.forEach(([, p], i) => torch.copy_(p, saved[i])));
        torch.dispose(saved);
      },
    };
  }

  /** Runs `fn` (sync or async) with the EMA weights in place, then puts the trained ones back. */
  withEma<T>(named: NamedTensors, fn: () => T): T {
    const swap = this.swapIn(named);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      swap.restore();
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => swap.restore()) as T;
    swap.restore();
    return result;
  }

  /** name -> shadow (the live tensors: serialize or clone them, do not dispose them). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.shadow);
  }

  /** Replaces the shadows with copies of `sd`'s tensors (the caller keeps ownership of `sd`). */
  loadStateDict(sd: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>): void {
    const list = entries(sd);
    for (const [name, t] of list) {
      if (!(t instanceof Tensor) || t.isDisposed) throw new TypeError(`EMAHelper.loadStateDict: '${name}' is not a live Tensor`);
    }
    const copies = torch.noGrad(() => list.map(([, t]) => torch.keep(torch.clone(t))));
    this.dispose();
    list.forEach(([name], i) => this.shadow.set(name, copies[i]));
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
    this.shadow.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private shadowOf(name: string, p: Tensor): Tensor {
    const s = this.shadow.get(name);
    if (!s) throw new RangeError(`EMAHelper: parameter '${name}' was not registered (call register() first)`);
    if (s.shape.join() !== p.shape.join()) {
      throw new RangeError(`EMAHelper: parameter '${name}' has shape [${p.shape}] but its shadow has [${s.shape}]`);
    }
    return s;
  }
}
