// The feed-forward layers: SwiGLU (the blocks' MLP, and `mlp_t` across the sequence) and LinearSwish.
import * as torch from '../torch';
import { CastedLinear, checkPositive } from './linear';
import { Module } from './module';

type Tensor = torch.Tensor;

/** round(expansion·hidden·2/3), rounded up to a multiple of 256. */
export function swigluIntermediateSize(hidden_size: number, expansion: number): number {
  const inter = pyRound((expansion * hidden_size * 2) / 3);
  return Math.ceil(inter / 256) * 256;
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export class SwiGLU extends Module {
  readonly gate_up_proj: CastedLinear;
  readonly down_proj: CastedLinear;

  constructor(readonly hidden_size: number, readonly expansion: number) {
    super();
    checkPositive({ hidden_size });
    const inter = swigluIntermediateSize(hidden_size, expansion);
    this.gate_up_proj = this.registerModule('gate_up_proj', new CastedLinear(hidden_size, inter * 2, false));
    this.down_proj = this.registerModule('down_proj', new CastedLinear(inter, hidden_size, false));
  }

  /** [..., hidden] → [..., hidden]: down(silu(gate) · up). */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      if (this.onTiles(x)) return torch.fusedMlp(x, this.gate_up_proj.weight.to(x.dtype), this.down_proj.weight.to(x.dtype));
      const gateUp = this.gate_up_proj.forward(x); // [..., 2·inter]
      if (torch.fusedKernels(gateUp)) return this.down_proj.forward(torch.fusedSwiGLU(gateUp));
      const [gate, up] = gateUp.chunk(2, -1); // 2 × [..., inter]
      return this.down_proj.forward(gate.silu().mul(up));
    });
  }

  /** In bfloat16 on a CPU with AMX tiles: the whole MLP as one kernel that never reads the
   *  [..., 2·inter] projection back from memory (at that size memory set the composed ops' pace). */
  private onTiles(x: Tensor): boolean {
    return torch.fusedKernels(x) && x.dtype === 'bfloat16' && torch.amxSupported() &&
      this.hidden_size % 32 === 0 && this.down_proj.in_features % 32 === 0;
  }
}

export class LinearSwish extends Module {
  readonly linear: CastedLinear;

  /** reverse=false: linear(silu(x)); reverse=true: silu(linear(x)). */
  constructor(readonly hidden_size: number, readonly reverse = false) {
    super();
    this.linear = this.registerModule('linear', new CastedLinear(hidden_size, hidden_size, false));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => (this.reverse ? this.linear.forward(x).silu() : this.linear.forward(x.silu())));
  }

  override extraRepr(): string {
    return `reverse=${this.reverse ? 'True' : 'False'}`;
  }
}
