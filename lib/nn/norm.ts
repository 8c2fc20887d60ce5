// RMS norm without a weight, computed in float32 (the official post-norm blocks use it).
import * as torch from '../torch';

type Tensor = torch.Tensor;

/** x · rsqrt(mean(x², -1) + eps), in float32, returned in x's dtype. */
export function rmsNorm(hidden_states: Tensor, variance_epsilon: number): Tensor {
  if (torch.fusedKernels(hidden_states)) return torch.fusedRmsNorm(hidden_states, null, variance_epsilon);
  return torch.tidy(() => {
    const x = hidden_states.to('float32');
    const variance = x.square().mean(-1, { keepdim: true });
    return x.mul(variance.add(variance_epsilon).rsqrt()).to(hidden_states.dtype);
  });
}
export { rmsNorm as rms_norm };

/** rms_norm(x + residual): the post-norm blocks' residual step, one fused kernel when enabled. */
export function addRmsNorm(x: Tensor, residual: Tensor, variance_epsilon: number): Tensor {
  if (torch.fusedKernels(x)) return torch.fusedRmsNorm(x, residual, variance_epsilon);
  return torch.tidy(() => rmsNorm(x.add(residual), variance_epsilon));
}
