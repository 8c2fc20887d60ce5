// Fused kernels of the reasoning blocks (native/kernels.cc, attention.cc, mlp.cc): one pass and one autograd node where
// the composed ops take several. The composed forms in lib/nn stay the definition; these must
// match them (test/torch/fused.test.ts). `fusedKernels()` is off under DISABLE_COMPILE=1, the
// official switch for "plain eager execution".
import { native } from '../native';
import { Tensor } from '../tensor';
import type { DType } from '../dtype';
import { optHandle } from './util';

// The kernels' loops are built for AVX-512 and for AVX2 + FMA on x86-64 (the loader picks one);
// x86 CPUs without AVX2 use the composed ops.
const supported = native.fusedKernelsSupported();
let enabled = supported && process.env.DISABLE_COMPILE !== '1';

/**
 * Whether lib/nn uses the fused kernels (default: yes, unless DISABLE_COMPILE=1 or the CPU lacks
 * AVX2) — for `on`'s device, when given: they are CPU kernels; CUDA tensors take the composed ops.
 */
export const fusedKernels = (on?: Tensor): boolean => enabled && (on === undefined || on.device === 'cpu');

/** Turns the fused kernels on or off for this process (e.g. to compare against the composed ops). */
export function setFusedKernels(on: boolean): void {
  enabled = on && supported;
}

/** rms_norm(x + residual) over the last dim, in float32 math, in x's dtype; residual may be null. */
export const fusedRmsNorm = (x: Tensor, residual: Tensor | null, eps: number): Tensor =>
  new Tensor(native.fusedRmsNorm(x.handle, optHandle(residual), eps));

/** [..., 2I] → [..., I]: silu(first half) · second half. */
export const fusedSwiGLU = (gateUp: Tensor): Tensor => new Tensor(native.fusedSwiGLU(gateUp.handle));

/**
 * softmax(q·kᵀ·scale)·v, non-causal, straight from the qkv projection [B, S, H + 2·KV, D]: q, k and v
 * are its heads (query head h reads key/value head h / (H / KV)), RoPE (rotate-half tables cos,
 * sin [≥S, D]) applied to q and k when given. Math in float32 (float64 for float64 qkv); out
 * [B, S, H, D] in `dtype` (default: qkv's), rounded once at the end.
 */
export const fusedAttention = (qkv: Tensor, numHeads: number, numKvHeads: number, cosSin: [Tensor, Tensor] | null, scale: number, dtype: DType = qkv.dtype): Tensor =>
  new Tensor(native.fusedAttention(qkv.handle, numHeads, numKvHeads, optHandle(cosSin?.[0]), optHandle(cosSin?.[1]), scale, dtype));

let amx: boolean | undefined;
/** Whether this CPU has AMX tiles for bfloat16 products (and TRM_NO_AMX is unset). */
export const amxSupported = (): boolean => (amx ??= native.amxSupported());

/**
 * down(silu(gate) · up) with [gate | up] = x·gateUpWeightᵀ and down = ·downWeightᵀ, all bfloat16,
 * on AMX tiles: [..., H] → [..., H], gateUpWeight [2I, H], downWeight [H, I], H and I multiples of
 * 32. Rounds where the composed ops round (linear, fusedSwiGLU, linear), adding in float on the same
 * tile unit. Differentiable: under autograd it keeps the projection and silu(gate) · up, and its
 * backward runs the composed ops' GEMMs.
 */
export const fusedMlp = (x: Tensor, gateUpWeight: Tensor, downWeight: Tensor): Tensor =>
  new Tensor(native.fusedMlp(x.handle, gateUpWeight.handle, downWeight.handle));
