// Fused CPU kernels for the reasoning blocks, each an autograd function with a hand-written
// backward: one pass over memory where the composed ATen ops take five to ten (SPEC §11: on
// Debian's CPU LibTorch the step's time goes to these small ops, and TorchScript does not fuse).
//   rmsNorm(x, residual?)     rms_norm(x + residual), the sum rounded to x's dtype as the unfused code
//   swiglu(gate_up)           silu(gate) · up over the two halves of the last dim, no chunk copies
// (attention, the third, is in attention.cc.)
// Math runs in float (double for double inputs); results round to the input dtype where the
// composed code rounds. lib/nn uses them unless DISABLE_COMPILE=1.
// The loops are written to vectorize; -O3 without trapping math (as ATen itself is built) lets GCC
// do so (the rest of the addon builds at -O2), and `omp simd` lets it split the sums.
#pragma GCC optimize("O3", "no-trapping-math", "no-math-errno")

#include "kernels.h"

#include "common.h"
#include "parallel.h"
#include "simd.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <vector>

namespace trm {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// Rows per claimed chunk for rows of D values: 8,192 values or 16 rows, whichever is more (a claim
// costs about a cache line's trip between cores).
int64_t RowChunk(int64_t D) { return std::max<int64_t>(16, 8192 / std::max<int64_t>(D, 1)); }

// ---------------------------------------------------------------- row loops

// s = x + r rounded to T (or x), then s / rms(s); returns 1/rms.
template <typename T>
TRM_SIMD acc<T> RmsRow(const T* x, const T* r, T* sum, T* out, int64_t D, acc<T> eps) {
  using A = acc<T>;
  const T* s = x;
  if (r) {
    for (int64_t d = 0; d < D; ++d) sum[d] = Round<T>(static_cast<A>(x[d]) + static_cast<A>(r[d]));
    s = sum;
  }
  A ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t d = 0; d < D; ++d) ss += static_cast<A>(s[d]) * static_cast<A>(s[d]);
  const A inv = A(1) / std::sqrt(ss / static_cast<A>(D) + eps);
  for (int64_t d = 0; d < D; ++d) out[d] = Round<T>(static_cast<A>(s[d]) * inv);
  return inv;
}

// d s = inv · (g − y · mean(g · y)), y = s · inv.
template <typename T>
TRM_SIMD void RmsRowBackward(const T* s, const T* g, T* ds, acc<T> inv, int64_t D) {
  using A = acc<T>;
  A dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t d = 0; d < D; ++d) dot += static_cast<A>(g[d]) * static_cast<A>(s[d]);
  const A mean = dot * inv / static_cast<A>(D);
  for (int64_t d = 0; d < D; ++d) ds[d] = Round<T>(inv * (static_cast<A>(g[d]) - static_cast<A>(s[d]) * inv * mean));
}

// out = silu(gate) · up for one row of gate_up = [gate | up].
template <typename T>
TRM_SIMD void SwiGLURow(const T* gate_up, T* out, int64_t I) {
  using A = acc<T>;
  const T* up = gate_up + I;
  for (int64_t i = 0; i < I; ++i) {
    const A g = static_cast<A>(gate_up[i]);
    // silu rounded to T before the product, as the composed silu(gate) · up rounds.
    const A silu = static_cast<A>(Round<T>(g / (A(1) + Exp(-g))));
    out[i] = Round<T>(silu * static_cast<A>(up[i]));
  }
}

// d gate = g · up · σ · (1 + gate · (1 − σ)), d up = g · silu(gate), side by side like gate_up.
template <typename T>
TRM_SIMD void SwiGLURowBackward(const T* gate_up, const T* grad, T* d, int64_t I) {
  using A = acc<T>;
  const T* up = gate_up + I;
  for (int64_t i = 0; i < I; ++i) {
    const A x = static_cast<A>(gate_up[i]);
    const A go = static_cast<A>(grad[i]);
    const A sig = A(1) / (A(1) + Exp(-x));
    d[i] = Round<T>(go * static_cast<A>(up[i]) * sig * (A(1) + x * (A(1) - sig)));
    d[I + i] = Round<T>(go * x * sig);
  }
}

// ---------------------------------------------------------------- rms_norm(x + residual)

struct RmsNorm : torch::autograd::Function<RmsNorm> {
  // x, residual (may be undefined): [..., D]. Saves the (rounded) sum and 1/rms per row.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const c10::optional<at::Tensor>& residual, double eps) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor xc = x.contiguous();
    const at::Tensor rc = residual ? residual->contiguous() : at::Tensor();
    const int64_t D = x.size(-1);
    const int64_t N = D ? x.numel() / D : 0;
    at::Tensor sum = rc.defined() ? at::empty_like(xc) : xc;
    at::Tensor out = at::empty_like(xc);
    at::Tensor inv = at::empty({N}, x.options().dtype(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "rmsNorm", [&] {
      using A = acc<scalar_t>;
      const scalar_t* xp = xc.data_ptr<scalar_t>();
      const scalar_t* rp = rc.defined() ? rc.data_ptr<scalar_t>() : nullptr;
      scalar_t* sp = sum.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      A* ip = inv.data_ptr<A>();
      ParallelFor(N, RowChunk(D), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
          ip[n] = RmsRow<scalar_t>(xp + n * D, rp ? rp + n * D : nullptr, sp + n * D, op + n * D, D, static_cast<A>(eps));
        }
      });
    });
    ctx->save_for_backward({sum, inv});
    ctx->saved_data["residual"] = residual.has_value();
    return out;
  }

  // d sum = inv · (g − y · mean(g · y)), y = sum · inv; the same gradient goes to x and residual.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& sum = saved[0];
    const at::Tensor& inv = saved[1];
    const at::Tensor g = grads[0].contiguous();
    const int64_t D = sum.size(-1);
    const int64_t N = D ? sum.numel() / D : 0;
    at::Tensor dx = at::empty_like(sum);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, sum.scalar_type(), "rmsNormBackward", [&] {
      using A = acc<scalar_t>;
      const scalar_t* sp = sum.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      const A* ip = inv.data_ptr<A>();
      scalar_t* dp = dx.data_ptr<scalar_t>();
      ParallelFor(N, RowChunk(D), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) RmsRowBackward<scalar_t>(sp + n * D, gp + n * D, dp + n * D, ip[n], D);
      });
    });
    const bool hasResidual = ctx->saved_data["residual"].toBool();
    return {dx, hasResidual ? dx : at::Tensor(), at::Tensor()};
  }
};

// ---------------------------------------------------------------- silu(gate) · up

}  // namespace

at::Tensor SwiGLUBackward(const at::Tensor& gate_up, const at::Tensor& grad) {
  const at::Tensor gu = gate_up.contiguous(), g = grad.contiguous();
  const int64_t I = gu.size(-1) / 2;
  const int64_t N = I ? gu.numel() / (2 * I) : 0;
  at::Tensor d = at::empty_like(gu);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gu.scalar_type(), "swigluBackward", [&] {
    const scalar_t* p = gu.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* dp = d.data_ptr<scalar_t>();
    ParallelFor(N, RowChunk(2 * I), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) SwiGLURowBackward<scalar_t>(p + n * 2 * I, gp + n * I, dp + n * 2 * I, I);
    });
  });
  return d;
}

namespace {

struct SwiGLUGate : torch::autograd::Function<SwiGLUGate> {
  // gate_up: [..., 2I] → [..., I]
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gate_up) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor gu = gate_up.contiguous();
    const int64_t I = gu.size(-1) / 2;
    const int64_t N = I ? gu.numel() / (2 * I) : 0;
    std::vector<int64_t> shape = gu.sizes().vec();
    shape.back() = I;
    at::Tensor out = at::empty(shape, gu.options());
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gu.scalar_type(), "swiglu", [&] {
      const scalar_t* p = gu.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      ParallelFor(N, RowChunk(2 * I), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) SwiGLURow<scalar_t>(p + n * 2 * I, o + n * I, I);
      });
    });
    ctx->save_for_backward({gu});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {SwiGLUBackward(ctx->get_saved_variables()[0], grads[0])};
  }
};

void CheckFloating(const at::Tensor& t, const char* op, const char* what) {
  if (!at::isFloatingType(t.scalar_type()) || !t.device().is_cpu()) {
    throw std::invalid_argument(std::string(op) + ": expected a floating-point CPU tensor for " + what + ", got " + Describe(t));
  }
}

Napi::Value FusedRmsNorm(const Napi::CallbackInfo& info) {
  const at::Tensor& x = TensorArg(info, 0);
  at::Tensor residual = OptionalTensorArg(info, 1);
  CheckFloating(x, "rmsNorm", "x");
  if (residual.defined() && (residual.sizes() != x.sizes() || residual.scalar_type() != x.scalar_type())) {
    throw std::invalid_argument("rmsNorm: residual " + Describe(residual) + " does not match x " + Describe(x));
  }
  c10::optional<at::Tensor> r = residual.defined() ? c10::optional<at::Tensor>(residual) : c10::nullopt;
  return NewTensor(info.Env(), RmsNorm::apply(x, r, NumberArg(info, 2, "rmsNorm eps")));
}

Napi::Value FusedSwiGLU(const Napi::CallbackInfo& info) {
  const at::Tensor& gu = TensorArg(info, 0);
  CheckFloating(gu, "swiglu", "gate_up");
  if (gu.dim() < 1 || gu.size(-1) % 2 != 0) throw std::invalid_argument("swiglu: expected an even last dimension, got " + Describe(gu));
  return NewTensor(info.Env(), SwiGLUGate::apply(gu));
}

Napi::Value FusedKernelsSupported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), SimdSupported()); }

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "fusedKernelsSupported", FusedKernelsSupported);
  TRM_EXPORT(exports, "fusedRmsNorm", FusedRmsNorm);
  TRM_EXPORT(exports, "fusedSwiGLU", FusedSwiGLU);
}

}  // namespace trm
