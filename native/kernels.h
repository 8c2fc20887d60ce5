// The fused row kernels that other native files reuse (see kernels.cc).
#pragma once

#include <ATen/core/Tensor.h>

namespace trm {

// The gradient of swiglu(gate_up) = silu(gate) · up for the output gradient `grad` [..., I]:
// [d gate | d up] [..., 2I], in gate_up's dtype.
at::Tensor SwiGLUBackward(const at::Tensor& gate_up, const at::Tensor& grad);

}  // namespace trm
