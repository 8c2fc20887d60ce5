// AdamATan2 (the official `adam_atan2` package's optimizer): Adam with atan2 in place of
// m / (sqrt(v) + eps), decoupled weight decay; one fused native call per step over all parameters.
import * as torch from '../torch';
import { Tensor } from '../torch';
import { native } from '../torch/native';
import { checkNonNegative, checkUnitInterval, copyAs, GroupOptions, Optimizer, ParamGroup, ParamsArg, ParamState } from './optimizer';

export interface AdamATan2Group extends GroupOptions {
  lr: number;
  betas: [number, number];
  weightDecay: number;
}

export interface AdamATan2Options extends Partial<AdamATan2Group> {
  /**
   * true: the fused native kernel (native/optim.cc), fp32 math with one rounding per stored value.
   * false: plain ATen ops in the reference's order (each op rounds to the parameter dtype).
   * Default: fused, unless DISABLE_COMPILE=1 (plain eager execution, as the official code).
   */
  fused?: boolean;
  /** dtype of exp_avg / exp_avg_sq: the parameter's (default, as the official zeros_like) or float32. */
  stateDtype?: 'param' | 'float32';
}

type Kernel = (
  params: number[], grads: number[], expAvgs: number[], expAvgSqs: number[],
  step: number, lr: number, beta1: number, beta2: number, weightDecay: number
) => void;

interface Pending {
  param: Tensor;
  grad: Tensor;
  state: ParamState;
}

/**
 * Per parameter with a gradient, at its step t (counted per parameter, like torch):
 *   p ← p·(1 − lr·wd);  m ← lerp(m, g, 1 − β1);  v ← β2·v + (1 − β2)·g²;
 *   p ← p − lr·atan2(m / (1 − β1^t), sqrt(v) / sqrt(1 − β2^t))
 * State per parameter: `step` (number), `exp_avg`, `exp_avg_sq` (the official key names).
 */
export class AdamATan2 extends Optimizer<AdamATan2Group> {
  readonly fused: boolean;
  readonly stateDtype: 'param' | 'float32';
  private readonly kernel: Kernel | undefined;

  constructor(params: ParamsArg<AdamATan2Group>, options: AdamATan2Options = {}) {
    const { fused, stateDtype, ...group } = options;
    // The official package's defaults.
    super(params, { lr: 1e-3, betas: [0.9, 0.999], weightDecay: 1e-2, ...group });
    this.fused = fused ?? process.env.DISABLE_COMPILE !== '1';
    this.stateDtype = stateDtype ?? 'param';
    if (this.stateDtype !== 'param' && this.stateDtype !== 'float32') {
      throw new TypeError(`Expected 'param' or 'float32' for stateDtype but received ${String(stateDtype)}`);
    }
    if (this.fused) {
      const k = native.adamAtan2;
      if (typeof k !== 'function') {
        throw new Error('AdamATan2: the native addon has no adamAtan2 kernel (built from older sources). Possible solutions: rebuild with `npm run build`, or pass { fused: false }');
      }
      this.kernel = k as Kernel;
    }
  }

  protected override validateGroup(group: ParamGroup<AdamATan2Group>, index: number): void {
    super.validateGroup(group, index);
    if (!Array.isArray(group.betas) || group.betas.length !== 2) {
      throw new TypeError(`Expected a pair [beta1, beta2] for betas of group ${index} but received ${JSON.stringify(group.betas)}`);
    }
    checkUnitInterval(group.betas[0], `betas[0] of group ${index}`);
    checkUnitInterval(group.betas[1], `betas[1] of group ${index}`);
    checkNonNegative(group.weightDecay, `weightDecay of group ${index}`);
  }

  step(): void {
    torch.noGrad(() => {
      this.paramGroups.forEach((group, gi) => {
        // Parameters normally share one step count; group by it so each distinct t is one call.
        const byStep = new Map<number, Pending[]>();
        group.params.forEach((param, pi) => {
          const grad = param.grad;
          if (!grad) return;
          const state = (this.state[gi][pi] ??= this.initState(param));
          const t = (state.step as number) + 1;
          state.step = t;
          const list = byStep.get(t) ?? [];
          list.push({ param, grad, state });
          byStep.set(t, list);
        });
        try {
          for (const [t, list] of byStep) this.fused ? this.stepFused(list, t, group) : this.stepEager(list, t, group);
        } finally {
          for (const list of byStep.values()) for (const e of list) e.grad.dispose();
        }
      });
    });
  }

  private initState(p: Tensor): ParamState {
    const dtype = this.stateDtype === 'float32' ? 'float32' : p.dtype;
    return {
      step: 0,
      exp_avg: torch.keep(torch.zerosLike(p, { dtype })),
      exp_avg_sq: torch.keep(torch.zerosLike(p, { dtype })),
    };
  }

  private stepFused(list: Pending[], t: number, g: ParamGroup<AdamATan2Group>): void {
    this.kernel!(
      list.map((e) => e.param.handle),
      list.map((e) => e.grad.handle),
      list.map((e) => (e.state.exp_avg as Tensor).handle),
      list.map((e) => (e.state.exp_avg_sq as Tensor).handle),
      t, g.lr, g.betas[0], g.betas[1], g.weightDecay
    );
  }

  /** The same update as separate ATen ops, in the reference's order. */
  private stepEager(list: Pending[], t: number, g: ParamGroup<AdamATan2Group>): void {
    const [beta1, beta2] = g.betas;
    const bias1 = 1 - beta1 ** t;
    const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
    for (const { param, grad, state } of list) {
      torch.tidy(() => {
        const m = state.exp_avg as Tensor;
        const v = state.exp_avg_sq as Tensor;
        const gm = torch.to(grad, m.dtype); // lerp does not promote (float32 states, bfloat16 grads)
        torch.mul_(param, 1 - g.lr * g.weightDecay);
        torch.lerp_(m, gm, 1 - beta1);
        torch.addcmul_(torch.mul_(v, beta2), gm, gm, 1 - beta2);
        const update = torch.atan2(torch.div(m, bias1), torch.div(torch.sqrt(v), bias2Sqrt));
        torch.sub_(param, torch.mul(update, g.lr));
      });
    }
  }

  protected override loadStateTensor(key: string, v: Tensor, p: Tensor): Tensor {
    return copyAs(v, this.stateDtype === 'float32' ? 'float32' : p.dtype, p.device);
  }
}
