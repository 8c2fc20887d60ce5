// Fused CPU kernels for the reasoning blocks, each an autograd function with a hand-written
// backward: one pass over memory where the composed ATen ops take five to ten (SPEC §11: on
// Debian's CPU LibTorch the step's time goes to these small ops, and TorchScript does not fuse).
//   rmsNorm(x, residual?)     rms_norm(x + residual), the sum rounded to x's dtype as the unfused code
//   swiglu(gate_up)           silu(gate) · up over the two halves of the last dim, no chunk copies
//   splitHeads(qkv, …)        q, k, v as [B, heads, S, D] in the attention's dtype, RoPE applied to
//                             q and k on the way (no rotate-half concatenations)
//   attention(q, k, v, scale) softmax(q·kᵀ·scale)·v, one (batch, head) per thread with GEMMs on
//                             that thread (this build's bmm loops over matrices, each GEMM using
//                             every thread), written straight into the [B, S, heads, D] layout
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

// The row loops are compiled for AVX2 + FMA on x86-64 (8 floats per instruction; the SSE2
// baseline ran them slower than scalar code) and only called where the CPU has both.
#if defined(__x86_64__)
#define TRM_SIMD __attribute__((target("avx2,fma")))
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

// ---------------------------------------------------------------- q, k, v heads with RoPE

// One head's row of D values: out = x·cos + rotate_half(x)·sin (rounded to scalar_t, as the
// unfused code casts back to the input dtype), or a plain copy without tables.
template <typename scalar_t, typename out_t>
TRM_SIMD void RotateRow(const scalar_t* x, const float* cos, const float* sin, out_t* out, int64_t D) {
  using A = acc<scalar_t>;
  const int64_t h = D / 2;
  if (!cos) {
    for (int64_t d = 0; d < D; ++d) out[d] = static_cast<out_t>(static_cast<A>(x[d]));
    return;
  }
  for (int64_t d = 0; d < D; ++d) {
    const A rot = d < h ? -static_cast<A>(x[d + h]) : static_cast<A>(x[d - h]);
    const scalar_t v = Round<scalar_t>(static_cast<A>(x[d]) * cos[d] + rot * sin[d]);
    out[d] = static_cast<out_t>(static_cast<A>(v));
  }
}

// The transpose of RotateRow: dx = g·cos + rotate_halfᵀ(g·sin).
template <typename scalar_t, typename out_t>
TRM_SIMD void RotateRowBackward(const out_t* g, const float* cos, const float* sin, scalar_t* dx, int64_t D) {
  using A = acc<out_t>;
  const int64_t h = D / 2;
  if (!cos) {
    for (int64_t d = 0; d < D; ++d) dx[d] = static_cast<scalar_t>(static_cast<A>(g[d]));
    return;
  }
  for (int64_t d = 0; d < D; ++d) {
    const A rot = d < h ? static_cast<A>(g[d + h]) * sin[d + h] : -static_cast<A>(g[d - h]) * sin[d - h];
    dx[d] = Round<scalar_t>(static_cast<A>(g[d]) * cos[d] + rot);
  }
}

// Where head `head` of qkv [B, S, H + 2·KV, D] goes: part 0, 1, 2 (q, k, v) and the row offset of
// (b, that head, t) in the part's [B, n, S, D].
struct HeadSlot {
  int part;
  int64_t offset;
};
inline HeadSlot Slot(int64_t head, int64_t H, int64_t KV, int64_t b, int64_t t, int64_t S, int64_t D) {
  const int part = head < H ? 0 : head < H + KV ? 1 : 2;
  const int64_t n = part == 0 ? H : KV;
  const int64_t h = head - (part == 0 ? 0 : part == 1 ? H : H + KV);
  return {part, ((b * n + h) * S + t) * D};
}

struct SplitHeads : torch::autograd::Function<SplitHeads> {
  // qkv [B, S, H + 2·KV, D] → q [B, H, S, D], k, v [B, KV, S, D] in out_dtype; RoPE tables cos,
  // sin [≥S, D] float32 (undefined: no rotation) applied to q and k.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& qkv, int64_t H, int64_t KV,
                               const c10::optional<at::Tensor>& cos, const c10::optional<at::Tensor>& sin,
                               c10::ScalarType out_dtype) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor x = qkv.contiguous();
    const int64_t B = x.size(0), S = x.size(1), NH = x.size(2), D = x.size(3);
    const at::Tensor c = cos ? cos->to(at::kFloat).contiguous() : at::Tensor();
    const at::Tensor s = sin ? sin->to(at::kFloat).contiguous() : at::Tensor();
    const auto opts = x.options().dtype(out_dtype);
    at::Tensor q = at::empty({B, H, S, D}, opts), k = at::empty({B, KV, S, D}, opts), v = at::empty({B, KV, S, D}, opts);
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "splitHeads", [&] {
      using in_t = scalar_t;
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, out_dtype, "splitHeadsOut", [&] {
        using out_t = scalar_t;
        const in_t* xp = x.data_ptr<in_t>();
        const float* cp = c.defined() ? c.data_ptr<float>() : nullptr;
        const float* sp = s.defined() ? s.data_ptr<float>() : nullptr;
        out_t* dst[3] = {q.data_ptr<out_t>(), k.data_ptr<out_t>(), v.data_ptr<out_t>()};
        at::parallel_for(0, B * S, kGrain, [&](int64_t begin, int64_t end) {
          for (int64_t bs = begin; bs < end; ++bs) {
            const int64_t b = bs / S, t = bs % S;
            const float* ct = cp ? cp + t * D : nullptr;
            const float* st = sp ? sp + t * D : nullptr;
            for (int64_t head = 0; head < NH; ++head) {
              const HeadSlot slot = Slot(head, H, KV, b, t, S, D);
              const bool rotate = slot.part < 2;
              RotateRow<in_t, out_t>(xp + (bs * NH + head) * D, rotate ? ct : nullptr, rotate ? st : nullptr,
                                     dst[slot.part] + slot.offset, D);
            }
          }
        });
      });
    });
    ctx->save_for_backward({c, s});
    ctx->saved_data["shape"] = c10::IValue(std::vector<int64_t>{B, S, NH, D, H, KV});
    ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& c = saved[0];
    const at::Tensor& s = saved[1];
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t B = shape[0], S = shape[1], NH = shape[2], D = shape[3], H = shape[4], KV = shape[5];
    const auto in_dtype = static_cast<c10::ScalarType>(ctx->saved_data["dtype"].toInt());
    at::Tensor g[3];
    for (int i = 0; i < 3; ++i) g[i] = grads[i].defined() ? grads[i].contiguous() : at::Tensor();
    const auto out_dtype = (g[0].defined() ? g[0] : g[1].defined() ? g[1] : g[2]).scalar_type();
    at::Tensor dx = at::empty({B, S, NH, D}, c10::TensorOptions().dtype(in_dtype));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in_dtype, "splitHeadsBackward", [&] {
      using in_t = scalar_t;
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, out_dtype, "splitHeadsBackwardOut", [&] {
        using out_t = scalar_t;
        const float* cp = c.defined() ? c.data_ptr<float>() : nullptr;
        const float* sp = s.defined() ? s.data_ptr<float>() : nullptr;
        const out_t* src[3];
        for (int i = 0; i < 3; ++i) src[i] = g[i].defined() ? g[i].data_ptr<out_t>() : nullptr;
        in_t* dp = dx.data_ptr<in_t>();
        at::parallel_for(0, B * S, kGrain, [&](int64_t begin, int64_t end) {
          for (int64_t bs = begin; bs < end; ++bs) {
            const int64_t b = bs / S, t = bs % S;
            for (int64_t head = 0; head < NH; ++head) {
              const HeadSlot slot = Slot(head, H, KV, b, t, S, D);
              in_t* o = dp + (bs * NH + head) * D;
              if (!src[slot.part]) {
                std::fill(o, o + D, in_t(0));
                continue;
              }
              const bool rotate = slot.part < 2 && cp;
              RotateRowBackward<in_t, out_t>(src[slot.part] + slot.offset, rotate ? cp + t * D : nullptr,
                                             rotate ? sp + t * D : nullptr, o, D);
            }
          }
        });
      });
    });
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};


// ---------------------------------------------------------------- attention

// Row-major C = alpha·op(A)·op(B) on the calling thread (float: oneDNN; double: plain loops, for
// the float64 gradient checks).
template <typename T>
void Gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
          T* c, int64_t ldc);

template <>
void Gemm<float>(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc) {
  RowMajorSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc);
}

template <>
void Gemm<double>(char ta, char tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += (ta == 'N' ? a[i * lda + p] : a[p * lda + i]) * (tb == 'N' ? b[p * ldb + j] : b[j * ldb + p]);
      c[i * ldc + j] = alpha * sum;
    }
  }
}

template <typename T>
TRM_SIMD void SoftmaxRow(T* row, int64_t n) {
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

// dP → dScores in place: p · (dP − Σ dP·p).
template <typename T>
TRM_SIMD void SoftmaxBackwardRow(const T* p, T* dp, int64_t n) {
  T dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < n; ++j) dot += dp[j] * p[j];
  for (int64_t j = 0; j < n; ++j) dp[j] = p[j] * (dp[j] - dot);
}

// n values from one float type to another, rounding as Round does.
template <typename From, typename To>
TRM_SIMD void Convert(const From* from, To* to, int64_t n) {
  for (int64_t i = 0; i < n; ++i) to[i] = Round<To>(static_cast<acc<From>>(from[i]));
}

struct Attention : torch::autograd::Function<Attention> {
  // q, k, v [B, H, S, D] (float32 or float64) → out [B, S, H, D] in out_dtype (the model's dtype:
  // rounded here, no separate cast); saves the probabilities [B, H, S, S].
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
                            double scale, c10::ScalarType out_dtype) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
    const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3);
    at::Tensor out = at::empty({B, S, H, D}, q.options().dtype(out_dtype));
    at::Tensor probs = at::empty({B, H, S, S}, q.options());
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "attention", [&] {
      using in_t = scalar_t;
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, out_dtype, "attentionOut", [&] {
        using out_t = scalar_t;
        const in_t *qp = q.data_ptr<in_t>(), *kp = k.data_ptr<in_t>(), *vp = v.data_ptr<in_t>();
        in_t* pp = probs.data_ptr<in_t>();
        out_t* op = out.data_ptr<out_t>();
        at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
          std::vector<in_t> o(std::is_same<in_t, out_t>::value ? 0 : S * D);
          for (int64_t bh = begin; bh < end; ++bh) {
            const int64_t b = bh / H, h = bh % H;
            in_t* p = pp + bh * S * S;
            Gemm<in_t>('N', 'T', S, S, D, static_cast<in_t>(scale), qp + bh * S * D, D, kp + bh * S * D, D, p, S);
            for (int64_t t = 0; t < S; ++t) SoftmaxRow(p + t * S, S);
            out_t* dst = op + (b * S * H + h) * D;  // row t at dst + t·H·D
            if (std::is_same<in_t, out_t>::value) {  // (the casts below only run when the types are one)
              Gemm<in_t>('N', 'N', S, D, S, in_t(1), p, S, vp + bh * S * D, D, reinterpret_cast<in_t*>(dst), H * D);
            } else {
              Gemm<in_t>('N', 'N', S, D, S, in_t(1), p, S, vp + bh * S * D, D, o.data(), D);
              for (int64_t t = 0; t < S; ++t) Convert(o.data() + t * D, dst + t * H * D, D);
            }
          }
        });
      });
    });
    ctx->save_for_backward({q, k, v, probs});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  // dV = Pᵀ·dO; dP = dO·vᵀ; dS = P·(dP − Σ dP·P); dQ = dS·k·scale; dK = dSᵀ·q·scale.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const double scale = ctx->saved_data["scale"].toDouble();
    const at::Tensor dout = grads[0].contiguous();
    const int64_t B = q.size(0), H = q.size(1), S = q.size(2), D = q.size(3);
    at::Tensor dq = at::empty_like(q), dk = at::empty_like(k), dv = at::empty_like(v);
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "attentionBackward", [&] {
      using in_t = scalar_t;
      AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, dout.scalar_type(), "attentionBackwardOut", [&] {
        using out_t = scalar_t;
        const in_t *qp = q.data_ptr<in_t>(), *kp = k.data_ptr<in_t>(), *vp = v.data_ptr<in_t>();
        const in_t* pp = probs.data_ptr<in_t>();
        const out_t* gp = dout.data_ptr<out_t>();
        in_t *dqp = dq.data_ptr<in_t>(), *dkp = dk.data_ptr<in_t>(), *dvp = dv.data_ptr<in_t>();
        const in_t s = static_cast<in_t>(scale);
        at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
          std::vector<in_t> ds(S * S);
          std::vector<in_t> g(std::is_same<in_t, out_t>::value ? 0 : S * D);
          for (int64_t bh = begin; bh < end; ++bh) {
            const int64_t b = bh / H, h = bh % H;
            const in_t* p = pp + bh * S * S;
            const in_t* go;
            int64_t ldg;
            if (std::is_same<in_t, out_t>::value) {
              go = reinterpret_cast<const in_t*>(gp) + (b * S * H + h) * D;
              ldg = H * D;
            } else {
              for (int64_t t = 0; t < S; ++t) Convert(gp + (b * S * H + h) * D + t * H * D, g.data() + t * D, D);
              go = g.data();
              ldg = D;
            }
            Gemm<in_t>('T', 'N', S, D, S, in_t(1), p, S, go, ldg, dvp + bh * S * D, D);
            Gemm<in_t>('N', 'T', S, S, D, in_t(1), go, ldg, vp + bh * S * D, D, ds.data(), S);
            for (int64_t t = 0; t < S; ++t) SoftmaxBackwardRow(p + t * S, ds.data() + t * S, S);
            Gemm<in_t>('N', 'N', S, D, S, s, ds.data(), S, kp + bh * S * D, D, dqp + bh * S * D, D);
            Gemm<in_t>('T', 'N', S, D, S, s, ds.data(), S, qp + bh * S * D, D, dkp + bh * S * D, D);
          }
        });
      });
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor()};
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

Napi::Value FusedSplitHeads(const Napi::CallbackInfo& info) {
  const at::Tensor& qkv = TensorArg(info, 0);
  const int64_t H = IntArg(info, 1, "splitHeads num_heads");
  const int64_t KV = IntArg(info, 2, "splitHeads num_key_value_heads");
  at::Tensor cos = OptionalTensorArg(info, 3);
  at::Tensor sin = OptionalTensorArg(info, 4);
  const c10::ScalarType out = ParseDtype(info[5].As<Napi::String>().Utf8Value());
  CheckFloating(qkv, "splitHeads", "qkv");
  if (qkv.dim() != 4 || H < 1 || KV < 1 || qkv.size(2) != H + 2 * KV) {
    throw std::invalid_argument("splitHeads: expected qkv [B, S, " + std::to_string(H + 2 * KV) + ", D], got " + Describe(qkv));
  }
  if (cos.defined() != sin.defined() ||
      (cos.defined() && (cos.dim() != 2 || cos.size(0) < qkv.size(1) || cos.size(1) != qkv.size(3) || sin.sizes() != cos.sizes()))) {
    throw std::invalid_argument("splitHeads: expected cos and sin [>= S, D] for qkv " + Describe(qkv));
  }
  if (out != at::kFloat && out != at::kDouble && out != at::kBFloat16) {
    throw std::invalid_argument("splitHeads: output dtype must be float32, float64 or bfloat16");
  }
  auto opt = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  variable_list r = SplitHeads::apply(qkv, H, KV, opt(cos), opt(sin), out);
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; ++i) a.Set(i, NewTensor(env, r[i]));
  return a;
}

Napi::Value FusedAttention(const Napi::CallbackInfo& info) {
  const at::Tensor& q = TensorArg(info, 0);
  const at::Tensor& k = TensorArg(info, 1);
  const at::Tensor& v = TensorArg(info, 2);
  const double scale = NumberArg(info, 3, "attention scale");
  const c10::ScalarType out = ParseDtype(info[4].As<Napi::String>().Utf8Value());
  if (out != at::kFloat && out != at::kDouble && out != at::kBFloat16) {
    throw std::invalid_argument("attention: output dtype must be float32, float64 or bfloat16");
  }
  for (const at::Tensor* t : {&q, &k, &v}) {
    if ((t->scalar_type() != at::kFloat && t->scalar_type() != at::kDouble) || !t->device().is_cpu() || t->dim() != 4 ||
        t->sizes() != q.sizes() || t->scalar_type() != q.scalar_type()) {
      throw std::invalid_argument("attention: expected q, k, v of one shape [B, heads, S, D], float32 or float64 on the CPU, got " +
                                  Describe(q) + ", " + Describe(k) + ", " + Describe(v));
    }
  }
  return NewTensor(info.Env(), Attention::apply(q, k, v, scale, out));
}

Napi::Value FusedKernelsSupported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), SimdSupported()); }

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "fusedKernelsSupported", FusedKernelsSupported);
  TRM_EXPORT(exports, "fusedRmsNorm", FusedRmsNorm);
  TRM_EXPORT(exports, "fusedSwiGLU", FusedSwiGLU);
  TRM_EXPORT(exports, "fusedSplitHeads", FusedSplitHeads);
  TRM_EXPORT(exports, "fusedAttention", FusedAttention);
}

}  // namespace trm
