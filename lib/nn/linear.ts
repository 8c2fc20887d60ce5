// CastedLinear: weights kept in float32 (the optimizer's copy), cast to the input's dtype at use.
import * as torch from '../torch';
import { truncNormal } from './init';
import { Module } from './module';

type Tensor = torch.Tensor;

export class CastedLinear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  /** Weight [out_features, in_features], truncated LeCun normal (std 1/√in); bias zeros. */
  constructor(readonly in_features: number, readonly out_features: number, bias: boolean) {
    super();
    checkPositive({ in_features, out_features });
    this.weight = this.registerParameter('weight', truncNormal([out_features, in_features], 1 / Math.sqrt(in_features)));
    this.bias = this.registerParameter('bias', bias ? torch.zeros([out_features]) : null);
  }

  /** [..., in_features] → [..., out_features], in the input's dtype. */
  forward(input: Tensor): Tensor {
    return torch.tidy(() => torch.linear(input, this.weight.to(input.dtype), this.bias?.to(input.dtype)));
  }

  override extraRepr(): string {
    return `in_features=${this.in_features}, out_features=${this.out_features}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Throws unless every value is a positive integer, naming it. */
export function checkPositive(values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`Expected positive integer for ${name} but received ${v}`);
  }
}
