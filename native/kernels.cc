// Fused CPU kernels for the reasoning blocks, each an autograd function with a hand-written
// backward: one pass over memory where the composed ATen ops take five to ten (SPEC §11: on
// Debian's CPU LibTorch the step's time goes to these small ops, and TorchScript does not fuse).
//   rmsNorm(x, residual?)     rms_norm(x + residual), the sum rounded to x's dtype as the unfused code
//   swiglu(gate_up)           silu(gate) · up over the two halves of the last dim, no chunk copies
//   attention(qkv, …)         softmax(q·kᵀ·scale)·v straight from the qkv projection, RoPE applied
//                             to q and k as they load (no rotate-half concatenations, no q, k, v
//                             tensors), one (batch, head) per thread with GEMMs on that thread
//                             (this build's bmm loops over matrices, each GEMM using every
//                             thread), written straight into the [B, S, heads, D] layout
// Math runs in float (double for double inputs); results round to the input dtype where the
// composed code rounds. lib/nn uses them unless DISABLE_COMPILE=1.
// The loops are written to vectorize; -O3 without trapping math (as ATen itself is built) lets GCC
// do so (the rest of the addon builds at -O2), and `omp simd` lets it split the sums.
#pragma GCC optimize("O3", "no-trapping-math", "no-math-errno")

#include "common.h"
#include "gemm.h"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace trm {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

constexpr int64_t kGrain = 16;  // rows per parallel task

template <typename scalar_t>
using acc = at::opmath_type<scalar_t>;

// The row loops are compiled for AVX-512 (16 floats per instruction) and for AVX2 + FMA (8), and
// the loader picks the clone the CPU runs (an ifunc); the kernels are only used where the CPU has
// at least AVX2 + FMA (the SSE2 baseline ran them slower than scalar code).
#if defined(__x86_64__)
#define TRM_SIMD __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
bool SimdSupported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
#define TRM_SIMD
bool SimdSupported() { return true; }
#endif

// exp for float without a libm call, so the loops around it vectorize: Cody–Waite reduction to
// r in [-ln2/2, ln2/2], Cephes' degree-6 polynomial (≤ 2 ulp), 2^n put in by the exponent bits.
inline float Exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float t = x * 1.44269504088896341f;
  const float n = static_cast<float>(static_cast<int32_t>(t + __builtin_copysignf(0.5f, t)));  // nearest
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}
inline double Exp(double x) { return std::exp(x); }

// Rounds like c10::BFloat16 (to nearest even, NaN kept) but branch-free, so it vectorizes.
template <typename T, typename V>
inline T Round(V v) {
  return static_cast<T>(v);
}
template <>
inline c10::BFloat16 Round<c10::BFloat16, float>(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  return c10::BFloat16(static_cast<uint16_t>(v != v ? 0x7FC0u : rounded), c10::BFloat16::from_bits());
}


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
      at::parallel_for(0, N, kGrain, [&](int64_t begin, int64_t end) {
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
      at::parallel_for(0, N, kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) RmsRowBackward<scalar_t>(sp + n * D, gp + n * D, dp + n * D, ip[n], D);
      });
    });
    const bool hasResidual = ctx->saved_data["residual"].toBool();
    return {dx, hasResidual ? dx : at::Tensor(), at::Tensor()};
  }
};

// ---------------------------------------------------------------- silu(gate) · up

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
      at::parallel_for(0, N, kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) SwiGLURow<scalar_t>(p + n * 2 * I, o + n * I, I);
      });
    });
    ctx->save_for_backward({gu});
    return out;
  }

  // d gate = g · up · σ · (1 + gate · (1 − σ)), d up = g · silu(gate), written side by side.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor gu = ctx->get_saved_variables()[0];
    const at::Tensor g = grads[0].contiguous();
    const int64_t I = gu.size(-1) / 2;
    const int64_t N = I ? gu.numel() / (2 * I) : 0;
    at::Tensor d = at::empty_like(gu);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, gu.scalar_type(), "swigluBackward", [&] {
      const scalar_t* p = gu.data_ptr<scalar_t>();
      const scalar_t* gp = g.data_ptr<scalar_t>();
      scalar_t* dp = d.data_ptr<scalar_t>();
      at::parallel_for(0, N, kGrain, [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) SwiGLURowBackward<scalar_t>(p + n * 2 * I, gp + n * I, dp + n * 2 * I, I);
      });
    });
    return {d};
  }
};

// ---------------------------------------------------------------- RoPE

// One head's row of D values: out = x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁]
// (rounded to scalar_t, as the unfused code casts back to the input dtype), or a plain copy
// without tables. Inlined into the SIMD loops over a head's rows.
template <typename scalar_t, typename out_t>
inline void RotateRow(const scalar_t* x, const float* cos, const float* sin, out_t* out, int64_t D) {
  using A = acc<scalar_t>;
  const int64_t h = D / 2;
  if (!cos) {
    for (int64_t d = 0; d < D; ++d) out[d] = static_cast<out_t>(static_cast<A>(x[d]));
    return;
  }
  for (int64_t d = 0; d < h; ++d) {
    out[d] = static_cast<out_t>(static_cast<A>(Round<scalar_t>(static_cast<A>(x[d]) * cos[d] + -static_cast<A>(x[d + h]) * sin[d])));
  }
  for (int64_t d = h; d < D; ++d) {
    out[d] = static_cast<out_t>(static_cast<A>(Round<scalar_t>(static_cast<A>(x[d]) * cos[d] + static_cast<A>(x[d - h]) * sin[d])));
  }
}

// The transpose of RotateRow: dx = g·cos + rotate_halfᵀ(g·sin).
template <typename scalar_t, typename out_t>
inline void RotateRowBackward(const out_t* g, const float* cos, const float* sin, scalar_t* dx, int64_t D) {
  using A = acc<out_t>;
  const int64_t h = D / 2;
  if (!cos) {
    for (int64_t d = 0; d < D; ++d) dx[d] = static_cast<scalar_t>(static_cast<A>(g[d]));
    return;
  }
  for (int64_t d = 0; d < h; ++d) dx[d] = Round<scalar_t>(static_cast<A>(g[d]) * cos[d] + static_cast<A>(g[d + h]) * sin[d + h]);
  for (int64_t d = h; d < D; ++d) dx[d] = Round<scalar_t>(static_cast<A>(g[d]) * cos[d] + -static_cast<A>(g[d - h]) * sin[d - h]);
}

// ---------------------------------------------------------------- attention

// Row-major C = alpha·op(A)·op(B) + beta·C on the calling thread (float: oneDNN; double: plain
// loops, for the float64 gradient checks).
template <typename T>
void Gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc);

template <>
void Gemm<float>(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  RowMajorSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void Gemm<double>(char ta, char tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += (ta == 'N' ? a[i * lda + p] : a[p * lda + i]) * (tb == 'N' ? b[p * ldb + j] : b[j * ldb + p]);
      c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);
    }
  }
}

// Softmax over each of `rows` rows of n values, in place.
template <typename T>
TRM_SIMD void SoftmaxRows(T* p, int64_t rows, int64_t n) {
  for (T* row = p; row < p + rows * n; row += n) {
    T max = row[0];
#pragma omp simd reduction(max : max)
    for (int64_t j = 1; j < n; ++j) max = row[j] > max ? row[j] : max;
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) {
      row[j] = Exp(row[j] - max);
      sum += row[j];
    }
    const T inv = T(1) / sum;
    for (int64_t j = 0; j < n; ++j) row[j] *= inv;
  }
}

// dP → dScores in place, row by row: p · (dP − Σ dP·p).
template <typename T>
TRM_SIMD void SoftmaxBackwardRows(const T* p, T* dp, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows * n; i += n) {
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; ++j) dot += dp[i + j] * p[i + j];
    for (int64_t j = 0; j < n; ++j) dp[i + j] = p[i + j] * (dp[i + j] - dot);
  }
}

// rows × n values from one float type to another (row strides ld_from, ld_to), rounding as Round does.
template <typename From, typename To>
TRM_SIMD void Convert(const From* from, int64_t ld_from, To* to, int64_t ld_to, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) to[r * ld_to + i] = Round<To>(static_cast<acc<From>>(from[r * ld_from + i]));
  }
}

// The shape of one attention call: qkv [B, S, H + 2·KV, D]; query head h reads key/value head
// h / (H / KV) (grouped-query attention; KV = H is plain multi-head).
struct Heads {
  int64_t B, S, H, KV, D;
  int64_t NH() const { return H + 2 * KV; }
  int64_t Group() const { return H / KV; }
  // Row t of head `head` (0 ≤ head < NH) of batch b, in qkv or in its gradient.
  int64_t Row(int64_t b, int64_t t, int64_t head) const { return ((b * S + t) * NH() + head) * D; }
};

// Rows of one head lie (H + 2·KV)·D values apart, too far for the hardware prefetcher to follow:
// LoadHead and StoreHeadGrad ask for the row this many ahead (waiting on each row's cache miss
// took a third of the loads' time).
constexpr int64_t kRowsAhead = 8;

// Head `head` of batch b as an S×D block in the compute type, RoPE applied when `cos` is given.
template <typename in_t, typename T>
TRM_SIMD void LoadHead(const Heads& x, const in_t* qkv, int64_t b, int64_t head, const float* cos, const float* sin, T* out) {
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(qkv + x.Row(b, t + kRowsAhead, head));
    RotateRow<in_t, T>(qkv + x.Row(b, t, head), cos ? cos + t * x.D : nullptr, sin ? sin + t * x.D : nullptr, out + t * x.D, x.D);
  }
}

// The transpose of LoadHead: an S×D gradient block into head `head` of dqkv.
template <typename in_t, typename T>
TRM_SIMD void StoreHeadGrad(const Heads& x, const T* grad, int64_t b, int64_t head, const float* cos, const float* sin, in_t* dqkv) {
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(dqkv + x.Row(b, t + kRowsAhead, head), /*rw=*/1);
    RotateRowBackward<in_t, T>(grad + t * x.D, cos ? cos + t * x.D : nullptr, sin ? sin + t * x.D : nullptr, dqkv + x.Row(b, t, head), x.D);
  }
}

// softmax(q·kᵀ·scale)·v straight from the qkv projection [B, S, H + 2·KV, D] (contiguous): RoPE
// (float32 tables cos, sin, or undefined) is applied to q and k as each thread loads its (batch,
// key/value head) block, so no q, k, v tensors exist. Math in float (double for double qkv); out
// [B, S, H, D] in out_dtype, rounded once. The probabilities [B, H, S, S] go to *probs when the
// backward needs them; otherwise they stay one S×S block.
at::Tensor AttentionForward(const at::Tensor& qkv, int64_t H, int64_t KV, const at::Tensor& cos, const at::Tensor& sin,
                            double scale, c10::ScalarType out_dtype, at::Tensor* probs) {
  const Heads x{qkv.size(0), qkv.size(1), H, KV, qkv.size(3)};
  at::Tensor out = at::empty({x.B, x.S, x.H, x.D}, qkv.options().dtype(out_dtype));
  const auto compute = qkv.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  if (probs) *probs = at::empty({x.B, x.H, x.S, x.S}, qkv.options().dtype(compute));
  const int64_t S = x.S, D = x.D;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, qkv.scalar_type(), "attention", [&] {
    using in_t = scalar_t;
    using T = acc<in_t>;
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, out_dtype, "attentionOut", [&] {
      using out_t = scalar_t;
      const in_t* xp = qkv.data_ptr<in_t>();
      const float* cp = cos.defined() ? cos.data_ptr<float>() : nullptr;
      const float* sp = sin.defined() ? sin.data_ptr<float>() : nullptr;
      T* pp = probs ? probs->data_ptr<T>() : nullptr;
      out_t* op = out.data_ptr<out_t>();
      at::parallel_for(0, x.B * x.KV, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> q(S * D), k(S * D), v(S * D), o(S * D), block(pp ? 0 : S * S);
        for (int64_t bg = begin; bg < end; ++bg) {
          const int64_t b = bg / x.KV, g = bg % x.KV;
          LoadHead(x, xp, b, x.H + g, cp, sp, k.data());
          LoadHead<in_t, T>(x, xp, b, x.H + x.KV + g, nullptr, nullptr, v.data());
          for (int64_t h = g * x.Group(); h < (g + 1) * x.Group(); ++h) {
            LoadHead(x, xp, b, h, cp, sp, q.data());
            T* p = pp ? pp + (b * x.H + h) * S * S : block.data();
            Gemm<T>('N', 'T', S, S, D, static_cast<T>(scale), q.data(), D, k.data(), D, T(0), p, S);
            SoftmaxRows(p, S, S);
            Gemm<T>('N', 'N', S, D, S, T(1), p, S, v.data(), D, T(0), o.data(), D);
            Convert(o.data(), D, op + (b * S * x.H + h) * D, x.H * D, S, D);  // into rows of [B, S, H, D]
          }
        }
      });
    });
  });
  return out;
}

struct Attention : torch::autograd::Function<Attention> {
  // AttentionForward (same arguments, the tables optional), saving qkv and the probabilities; the
  // backward reloads q, k, v from qkv.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& qkv, int64_t H, int64_t KV,
                            const c10::optional<at::Tensor>& cos_in, const c10::optional<at::Tensor>& sin_in, double scale,
                            c10::ScalarType out_dtype) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor cos = cos_in.value_or(at::Tensor()), sin = sin_in.value_or(at::Tensor());
    at::Tensor probs;
    at::Tensor out = AttentionForward(qkv, H, KV, cos, sin, scale, out_dtype, &probs);
    ctx->save_for_backward({qkv, cos, sin, probs});
    ctx->saved_data["heads"] = c10::IValue(std::vector<int64_t>{H, KV});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  // Per (batch, key/value head): dV = Σ Pᵀ·dO; dP = dO·vᵀ; dS = P·(dP − Σ dP·P); dQ = dS·k·scale;
  // dK = Σ dSᵀ·q·scale (Σ over the group's query heads); RoPE's transpose on the way out.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &qkv = saved[0], &cos = saved[1], &sin = saved[2], &probs = saved[3];
    const auto heads = ctx->saved_data["heads"].toIntVector();
    const double scale = ctx->saved_data["scale"].toDouble();
    const Heads x{qkv.size(0), qkv.size(1), heads[0], heads[1], qkv.size(3)};
    const int64_t S = x.S, D = x.D;
    const at::Tensor dout = grads[0].contiguous();
    at::Tensor dqkv = at::empty_like(qkv);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, qkv.scalar_type(), "attentionBackward", [&] {
      using in_t = scalar_t;
      using T = acc<in_t>;
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dout.scalar_type(), "attentionBackwardOut", [&] {
        using out_t = scalar_t;
        const in_t* xp = qkv.data_ptr<in_t>();
        const float* cp = cos.defined() ? cos.data_ptr<float>() : nullptr;
        const float* sp = sin.defined() ? sin.data_ptr<float>() : nullptr;
        const T* pp = probs.data_ptr<T>();
        const out_t* gp = dout.data_ptr<out_t>();
        in_t* dp = dqkv.data_ptr<in_t>();
        const T s = static_cast<T>(scale);
        at::parallel_for(0, x.B * x.KV, 1, [&](int64_t begin, int64_t end) {
          std::vector<T> q(S * D), k(S * D), v(S * D), go(S * D), dq(S * D), dk(S * D), dv(S * D), ds(S * S);
          for (int64_t bg = begin; bg < end; ++bg) {
            const int64_t b = bg / x.KV, g = bg % x.KV;
            LoadHead(x, xp, b, x.H + g, cp, sp, k.data());
            LoadHead<in_t, T>(x, xp, b, x.H + x.KV + g, nullptr, nullptr, v.data());
            for (int64_t h = g * x.Group(); h < (g + 1) * x.Group(); ++h) {
              const T beta = h == g * x.Group() ? T(0) : T(1);  // the first query head starts dk, dv
              LoadHead(x, xp, b, h, cp, sp, q.data());
              const T* p = pp + (b * x.H + h) * S * S;
              Convert(gp + (b * S * x.H + h) * D, x.H * D, go.data(), D, S, D);
              Gemm<T>('T', 'N', S, D, S, T(1), p, S, go.data(), D, beta, dv.data(), D);
              Gemm<T>('N', 'T', S, S, D, T(1), go.data(), D, v.data(), D, T(0), ds.data(), S);
              SoftmaxBackwardRows(p, ds.data(), S, S);
              Gemm<T>('N', 'N', S, D, S, s, ds.data(), S, k.data(), D, T(0), dq.data(), D);
              Gemm<T>('T', 'N', S, D, S, s, ds.data(), S, q.data(), D, beta, dk.data(), D);
              StoreHeadGrad(x, dq.data(), b, h, cp, sp, dp);
            }
            StoreHeadGrad(x, dk.data(), b, x.H + g, cp, sp, dp);
            StoreHeadGrad<in_t, T>(x, dv.data(), b, x.H + x.KV + g, nullptr, nullptr, dp);
          }
        });
      });
    });
    return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor OptionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsNull() || info[i].IsUndefined() ? at::Tensor() : TensorArg(info, i);
}

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

Napi::Value FusedAttention(const Napi::CallbackInfo& info) {
  const at::Tensor& qkv = TensorArg(info, 0);
  const int64_t H = IntArg(info, 1, "attention num_heads");
  const int64_t KV = IntArg(info, 2, "attention num_key_value_heads");
  const at::Tensor cos = OptionalTensorArg(info, 3);
  const at::Tensor sin = OptionalTensorArg(info, 4);
  const double scale = NumberArg(info, 5, "attention scale");
  const c10::ScalarType out = ParseDtype(info[6].As<Napi::String>().Utf8Value());
  CheckFloating(qkv, "attention", "qkv");
  if (qkv.dim() != 4 || H < 1 || KV < 1 || H % KV != 0 || qkv.size(2) != H + 2 * KV) {
    throw std::invalid_argument("attention: expected qkv [B, S, num_heads + 2·num_key_value_heads, D] with num_heads a multiple of "
                                "num_key_value_heads, got " + Describe(qkv) + " for " + std::to_string(H) + " and " + std::to_string(KV) + " heads");
  }
  if (cos.defined() != sin.defined() ||
      (cos.defined() && (cos.dim() != 2 || cos.size(0) < qkv.size(1) || cos.size(1) != qkv.size(3) || sin.sizes() != cos.sizes()))) {
    throw std::invalid_argument("attention: expected cos and sin [>= S, D] for qkv " + Describe(qkv));
  }
  if (out != at::kFloat && out != at::kDouble && out != at::kBFloat16) {
    throw std::invalid_argument("attention: output dtype must be float32, float64 or bfloat16");
  }
  const at::Tensor x = qkv.contiguous();
  auto table = [](const at::Tensor& t) { return t.defined() ? t.to(at::kFloat).contiguous() : t; };
  const at::Tensor c = table(cos), s = table(sin);
  // Under noGrad (most of the ACT cycles) nothing is saved, so the probabilities need no tensor.
  if (!torch::autograd::GradMode::is_enabled() || !x.requires_grad()) {
    return NewTensor(info.Env(), AttentionForward(x, H, KV, c, s, scale, out, nullptr));
  }
  auto opt = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  return NewTensor(info.Env(), Attention::apply(x, H, KV, opt(c), opt(s), scale, out));
}

Napi::Value FusedKernelsSupported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), SimdSupported()); }

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "fusedKernelsSupported", FusedKernelsSupported);
  TRM_EXPORT(exports, "fusedRmsNorm", FusedRmsNorm);
  TRM_EXPORT(exports, "fusedSwiGLU", FusedSwiGLU);
  TRM_EXPORT(exports, "fusedAttention", FusedAttention);
}

}  // namespace trm
