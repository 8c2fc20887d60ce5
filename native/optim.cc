// Fused optimizer kernels: AdamATan2 over every parameter in one native call — a hand-written
// loop over raw CPU memory (float32 / bfloat16, fp32 math) and ATen ops for other devices/dtypes.
#include "common.h"
#include "parallel.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace trm {

namespace {

// The scalars of one step, in the precision the math runs in. Python computes them in double
// and ATen casts them to the tensor's compute type; so do we.
struct AdamScalars {
  double lr, beta1, beta2, weight_decay;
  int64_t step;
  double decay() const { return 1.0 - lr * weight_decay; }
  double bias1() const { return 1.0 - std::pow(beta1, static_cast<double>(step)); }
  double bias2_sqrt() const { return std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step))); }
};

struct AdamConstF {
  float decay, lr, one_minus_beta1, beta2, one_minus_beta2, bias1, bias2_sqrt;
  explicit AdamConstF(const AdamScalars& s)
      : decay(static_cast<float>(s.decay())),
        lr(static_cast<float>(s.lr)),
        one_minus_beta1(static_cast<float>(1.0 - s.beta1)),
        beta2(static_cast<float>(s.beta2)),
        one_minus_beta2(static_cast<float>(1.0 - s.beta2)),
        bias1(static_cast<float>(s.bias1())),
        bias2_sqrt(static_cast<float>(s.bias2_sqrt())) {}
};

// No contraction of a*b+c into FMA behind our back: each product rounds where the unfused ops
// round it; the two FMAs that ATen's AVX2 kernels do use (lerp, addcmul) are written out below.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

// Storage types: float32 as is, bfloat16 as its 16 bits (round to nearest even, NaN kept NaN).
struct F32 {
  using T = float;
  static inline float Load(float x) { return x; }
  static inline float Store(float x) { return x; }
};
struct BF16 {
  using T = uint16_t;
  static inline float Load(uint16_t x) {
    const uint32_t bits = static_cast<uint32_t>(x) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static inline uint16_t Store(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if (std::isnan(f)) return 0x7FC0;
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  }
};

// atan2 by polynomial, the same sequence of float operations as the AVX2 version below, so an
// element gets the same bits whichever path it takes. Reduce to a = min/max in [0, 1], then to
// |t| <= tan(pi/8) with atan(a) = pi/4 + atan((a-1)/(a+1)), an odd minimax polynomial there,
// then unfold the octant. Within a few float ulps of std::atan2 (libm's is scalar and was most of
// the step's time).
constexpr float kTanPi8 = 0.41421356f, kPi4 = 0.78539816f, kPi2 = 1.57079633f, kPi = 3.14159265f;
constexpr float kA0 = 0.0805374449538f, kA1 = 0.138776856032f, kA2 = 0.199777106478f, kA3 = 0.333329491539f;

inline float Atan2(float y, float x) {
  if (std::isnan(x) || std::isnan(y)) return x + y;
  const float ax = std::fabs(x), ay = std::fabs(y);
  const bool steep = ay > ax;
  const float hi = steep ? ay : ax;
  const float lo = steep ? ax : ay;
  const float a = hi > 0.0f ? lo / hi : 0.0f;
  const bool upper = a > kTanPi8;
  const float t = upper ? (a - 1.0f) / (a + 1.0f) : a;
  const float z = t * t;
  const float q = ((kA0 * z - kA1) * z + kA2) * z - kA3;
  const float poly = t + (t * z) * q;
  float r = upper ? kPi4 + poly : poly;
  if (steep) r = kPi2 - r;
  if (x < 0.0f) r = kPi - r;
  return std::copysign(r, y);
}

// One contiguous span of one parameter: P param, G grad, S state (exp_avg / exp_avg_sq) storage.
// The operation order and roundings follow the unfused ops of the reference on LibTorch's AVX2
// kernels (p.mul_, m.lerp_, v.mul_(β2).addcmul_, p.sub_), all in fp32, each value rounded once
// when stored: m = fma(w, g − m, m) (or fma(w − 1, g − m, g) for w ≥ 0.5, as ATen's lerp; the
// official CUDA kernel's lerp is the same fma), v = fma((1 − β2)·g, g, β2·v) as ATen's addcmul.
template <typename P, typename G, typename S>
inline void AdamScalarLoop(typename P::T* p, const typename G::T* g, typename S::T* m, typename S::T* v,
                           int64_t begin, int64_t end, const AdamConstF& k) {
  const float w = k.one_minus_beta1;
  const bool small_w = std::fabs(w) < 0.5f;
  for (int64_t i = begin; i < end; ++i) {
    const float grad = G::Load(g[i]);
    const float param = P::Load(p[i]) * k.decay;
    const float m0 = S::Load(m[i]);
    const float exp_avg = small_w ? std::fma(w, grad - m0, m0) : std::fma(w - 1.0f, grad - m0, grad);
    const float exp_avg_sq = std::fma(k.one_minus_beta2 * grad, grad, S::Load(v[i]) * k.beta2);
    const float update = Atan2(exp_avg / k.bias1, std::sqrt(exp_avg_sq) / k.bias2_sqrt);
    p[i] = P::Store(param - k.lr * update);
    m[i] = S::Store(exp_avg);
    v[i] = S::Store(exp_avg_sq);
  }
}

template <typename P, typename G, typename S>
void AdamSpan(void* p, const void* g, void* m, void* v, int64_t begin, int64_t end, const AdamConstF& c) {
  AdamScalarLoop<P, G, S>(static_cast<typename P::T*>(p), static_cast<const typename G::T*>(g),
                          static_cast<typename S::T*>(m), static_cast<typename S::T*>(v), begin, end, c);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same math 8 lanes at a time with AVX2 + FMA (chosen at run time).
#define TRM_AVX2_KERNEL 1
#define TRM_AVX2 __attribute__((target("avx2,fma")))

TRM_AVX2 inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
TRM_AVX2 inline __m256 Load8(const uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
TRM_AVX2 inline void Store8(float* p, __m256 x) { _mm256_storeu_ps(p, x); }
TRM_AVX2 inline void Store8(uint16_t* p, __m256 x) {
  const __m256i bits = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), lsb), 16);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7FC0), _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
  // 32 -> 16 bits: pack within each 128-bit lane, then gather the two useful quadwords.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}

TRM_AVX2 inline __m256 Atan2x8(__m256 y, __m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x), ay = _mm256_andnot_ps(sign, y);
  const __m256 steep = _mm256_cmp_ps(ay, ax, _CMP_GT_OQ);
  const __m256 hi = _mm256_blendv_ps(ax, ay, steep);
  const __m256 lo = _mm256_blendv_ps(ay, ax, steep);
  const __m256 a = _mm256_and_ps(_mm256_div_ps(lo, hi), _mm256_cmp_ps(hi, zero, _CMP_GT_OQ));
  const __m256 upper = _mm256_cmp_ps(a, _mm256_set1_ps(kTanPi8), _CMP_GT_OQ);
  const __m256 t = _mm256_blendv_ps(a, _mm256_div_ps(_mm256_sub_ps(a, one), _mm256_add_ps(a, one)), upper);
  const __m256 z = _mm256_mul_ps(t, t);
  __m256 q = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(kA0), z), _mm256_set1_ps(kA1));
  q = _mm256_add_ps(_mm256_mul_ps(q, z), _mm256_set1_ps(kA2));
  q = _mm256_sub_ps(_mm256_mul_ps(q, z), _mm256_set1_ps(kA3));
  const __m256 poly = _mm256_add_ps(t, _mm256_mul_ps(_mm256_mul_ps(t, z), q));
  __m256 r = _mm256_blendv_ps(poly, _mm256_add_ps(_mm256_set1_ps(kPi4), poly), upper);
  r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(kPi2), r), steep);
  r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_set1_ps(kPi), r), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
  r = _mm256_or_ps(_mm256_andnot_ps(sign, r), _mm256_and_ps(sign, y));
  return _mm256_blendv_ps(r, _mm256_add_ps(x, y), _mm256_cmp_ps(x, y, _CMP_UNORD_Q));
}

template <typename P, typename G, typename S>
TRM_AVX2 void AdamSpanAvx2(void* p_, const void* g_, void* m_, void* v_, int64_t begin, int64_t end,
                           const AdamConstF& k) {
  auto* p = static_cast<typename P::T*>(p_);
  auto* g = static_cast<const typename G::T*>(g_);
  auto* m = static_cast<typename S::T*>(m_);
  auto* v = static_cast<typename S::T*>(v_);
  const __m256 decay = _mm256_set1_ps(k.decay), lr = _mm256_set1_ps(k.lr), w = _mm256_set1_ps(k.one_minus_beta1);
  const __m256 w_minus_one = _mm256_set1_ps(k.one_minus_beta1 - 1.0f);
  const __m256 beta2 = _mm256_set1_ps(k.beta2), one_minus_beta2 = _mm256_set1_ps(k.one_minus_beta2);
  const __m256 bias1 = _mm256_set1_ps(k.bias1), bias2_sqrt = _mm256_set1_ps(k.bias2_sqrt);
  const bool small_w = std::fabs(k.one_minus_beta1) < 0.5f;
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 grad = Load8(g + i);
    const __m256 param = _mm256_mul_ps(Load8(p + i), decay);
    const __m256 m0 = Load8(m + i);
    const __m256 diff = _mm256_sub_ps(grad, m0);
    const __m256 exp_avg = small_w ? _mm256_fmadd_ps(w, diff, m0) : _mm256_fmadd_ps(w_minus_one, diff, grad);
    const __m256 exp_avg_sq =
        _mm256_fmadd_ps(_mm256_mul_ps(one_minus_beta2, grad), grad, _mm256_mul_ps(Load8(v + i), beta2));
    const __m256 update = Atan2x8(_mm256_div_ps(exp_avg, bias1), _mm256_div_ps(_mm256_sqrt_ps(exp_avg_sq), bias2_sqrt));
    Store8(p + i, _mm256_sub_ps(param, _mm256_mul_ps(lr, update)));
    Store8(m + i, exp_avg);
    Store8(v + i, exp_avg_sq);
  }
  AdamScalarLoop<P, G, S>(p, g, m, v, i, end, k);
}
#endif

#pragma GCC pop_options

using SpanFn = void (*)(void*, const void*, void*, void*, int64_t, int64_t, const AdamConstF&);

bool Supported(c10::ScalarType t) { return t == at::kFloat || t == at::kBFloat16; }

bool UseAvx2() {
#ifdef TRM_AVX2_KERNEL
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

template <typename P, typename G, typename S>
SpanFn Pick() {
#ifdef TRM_AVX2_KERNEL
  if (UseAvx2()) return &AdamSpanAvx2<P, G, S>;
#endif
  return &AdamSpan<P, G, S>;
}

template <typename P, typename G>
SpanFn PickState(c10::ScalarType s) {
  return s == at::kFloat ? Pick<P, G, F32>() : Pick<P, G, BF16>();
}

template <typename P>
SpanFn PickGrad(c10::ScalarType g, c10::ScalarType s) {
  return g == at::kFloat ? PickState<P, F32>(s) : PickState<P, BF16>(s);
}

SpanFn PickKernel(c10::ScalarType p, c10::ScalarType g, c10::ScalarType s) {
  return p == at::kFloat ? PickGrad<F32>(g, s) : PickGrad<BF16>(g, s);
}

// The same math with ATen ops: CUDA tensors (under a device guard) and float64/float16 on CPU.
// Computes in float (double for float64 parameters) and writes back once, like the CPU kernel.
void AdamAten(const at::Tensor& p, const at::Tensor& g, const at::Tensor& m, const at::Tensor& v, const AdamScalars& s) {
  c10::OptionalDeviceGuard device_guard(p.device());
  const auto math = p.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor pf = p.to(math), gf = g.to(math), mf = m.to(math), vf = v.to(math);
  pf.mul_(s.decay());
  mf.lerp_(gf, 1.0 - s.beta1);
  vf.mul_(s.beta2).addcmul_(gf, gf, 1.0 - s.beta2);
  at::Tensor update = mf.div(s.bias1()).atan2(vf.sqrt().div(s.bias2_sqrt()));
  pf.sub_(update, s.lr);
  if (!pf.is_same(p)) p.copy_(pf);
  if (!mf.is_same(m)) m.copy_(mf);
  if (!vf.is_same(v)) v.copy_(vf);
}

std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsArray()) throw std::invalid_argument(std::string("adamAtan2: expected ") + what + " to be an array of tensor handles");
  Napi::Array a = info[i].As<Napi::Array>();
  const TensorTable& table = GetState(info.Env()).tensors;
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a[k];
    if (!e.IsNumber()) {
      throw std::invalid_argument(std::string("adamAtan2: ") + what + "[" + std::to_string(k) + "] is not a tensor handle");
    }
    out.push_back(table.Get(e.As<Napi::Number>().Int64Value()));
  }
  return out;
}

std::string At(const char* what, size_t k) { return std::string(what) + "[" + std::to_string(k) + "]"; }

void CheckSameShape(const at::Tensor& p, const at::Tensor& t, const char* what, size_t k) {
  if (!t.sizes().equals(p.sizes())) {
    throw std::invalid_argument("adamAtan2: " + At(what, k) + " is " + Describe(t) + " but params[" +
                                std::to_string(k) + "] is " + Describe(p));
  }
  if (t.device() != p.device()) {
    throw std::invalid_argument("adamAtan2: " + At(what, k) + " is on " + t.device().str() + " but params[" +
                                std::to_string(k) + "] is on " + p.device().str());
  }
}

void CheckWritableContiguous(const at::Tensor& t, const char* what, size_t k) {
  if (!t.is_contiguous()) {
    throw std::invalid_argument("adamAtan2: " + At(what, k) + " (" + Describe(t) +
                                ") must be contiguous; the kernel writes its memory in place");
  }
}

}  // namespace

// adamAtan2(params, grads, expAvgs, expAvgSqs, step, lr, beta1, beta2, weightDecay): one AdamATan2
// step over every listed parameter, in place (params and both states). Per element:
//   p *= 1 - lr·wd;  m = lerp(m, g, 1 - β1);  v = β2·v + (1 - β2)·g²;
//   p -= lr · atan2(m / (1 - β1^t), sqrt(v) / sqrt(1 - β2^t))
// States live in the parameter's dtype (as the official optimizer's zeros_like) or in float32.
static Napi::Value AdamAtan2(const Napi::CallbackInfo& info) {
  std::vector<at::Tensor> params = TensorListArg(info, 0, "params");
  std::vector<at::Tensor> grads = TensorListArg(info, 1, "grads");
  std::vector<at::Tensor> exp_avgs = TensorListArg(info, 2, "expAvgs");
  std::vector<at::Tensor> exp_avg_sqs = TensorListArg(info, 3, "expAvgSqs");
  AdamScalars s;
  s.step = IntArg(info, 4, "adamAtan2 step");
  s.lr = NumberArg(info, 5, "adamAtan2 lr");
  s.beta1 = NumberArg(info, 6, "adamAtan2 beta1");
  s.beta2 = NumberArg(info, 7, "adamAtan2 beta2");
  s.weight_decay = NumberArg(info, 8, "adamAtan2 weightDecay");

  const size_t n = params.size();
  if (grads.size() != n || exp_avgs.size() != n || exp_avg_sqs.size() != n) {
    std::ostringstream msg;
    msg << "adamAtan2: expected equal list lengths but got params " << n << ", grads " << grads.size()
        << ", expAvgs " << exp_avgs.size() << ", expAvgSqs " << exp_avg_sqs.size();
    throw std::invalid_argument(msg.str());
  }
  if (s.step < 1) throw std::invalid_argument("adamAtan2: expected step >= 1 but got " + std::to_string(s.step));
  if (!std::isfinite(s.lr) || s.lr < 0) throw std::invalid_argument("adamAtan2: expected a finite lr >= 0 but got " + std::to_string(s.lr));
  if (!(s.beta1 >= 0 && s.beta1 < 1) || !(s.beta2 >= 0 && s.beta2 < 1)) {
    throw std::invalid_argument("adamAtan2: expected betas in [0, 1) but got (" + std::to_string(s.beta1) + ", " +
                                std::to_string(s.beta2) + ")");
  }
  if (!std::isfinite(s.weight_decay) || s.weight_decay < 0) {
    throw std::invalid_argument("adamAtan2: expected weightDecay >= 0 but got " + std::to_string(s.weight_decay));
  }

  // Validate everything before writing anything: a bad entry leaves every parameter untouched.
  std::vector<size_t> fused, fallback;
  std::vector<const void*> written;
  for (size_t k = 0; k < n; ++k) {
    const at::Tensor& p = params[k];
    if (!at::isFloatingType(p.scalar_type())) {
      throw std::invalid_argument("adamAtan2: " + At("params", k) + " is " + Describe(p) + "; expected a floating dtype");
    }
    CheckSameShape(p, grads[k], "grads", k);
    CheckSameShape(p, exp_avgs[k], "expAvgs", k);
    CheckSameShape(p, exp_avg_sqs[k], "expAvgSqs", k);
    const auto st = exp_avgs[k].scalar_type();
    if (exp_avg_sqs[k].scalar_type() != st || (st != p.scalar_type() && st != at::kFloat)) {
      throw std::invalid_argument("adamAtan2: states of " + At("params", k) + " (" + Describe(p) + ") are " +
                                  DtypeName(st) + " and " + DtypeName(exp_avg_sqs[k].scalar_type()) +
                                  "; expected both in the parameter's dtype or float32");
    }
    if (!at::isFloatingType(grads[k].scalar_type())) {
      throw std::invalid_argument("adamAtan2: " + At("grads", k) + " is " + Describe(grads[k]) + "; expected a floating dtype");
    }
    if (p.numel() == 0) continue;
    const bool raw = p.device().is_cpu() && Supported(p.scalar_type()) && Supported(grads[k].scalar_type());
    if (raw) {
      CheckWritableContiguous(p, "params", k);
      CheckWritableContiguous(exp_avgs[k], "expAvgs", k);
      CheckWritableContiguous(exp_avg_sqs[k], "expAvgSqs", k);
      fused.push_back(k);
    } else {
      fallback.push_back(k);
    }
    for (const at::Tensor& t : {p, exp_avgs[k], exp_avg_sqs[k]}) written.push_back(t.data_ptr());
  }
  std::sort(written.begin(), written.end());
  if (std::adjacent_find(written.begin(), written.end()) != written.end()) {
    throw std::invalid_argument("adamAtan2: a tensor appears twice among params and states (each would be updated twice)");
  }

  c10::AutoGradMode no_grad(false);
  for (size_t k : fallback) AdamAten(params[k], grads[k], exp_avgs[k], exp_avg_sqs[k], s);
  if (fused.empty()) return info.Env().Undefined();

  // Raw writes bypass autograd's version counters; bump them so a graph that saved one of these
  // tensors fails loudly instead of using the new values.
  struct Span {
    SpanFn fn;
    void *p, *m, *v;
    const void* g;
  };
  std::vector<Span> spans;
  std::vector<at::Tensor> grad_copies;  // contiguous copies of strided grads, alive for the loop
  std::vector<int64_t> offsets{0};
  for (size_t k : fused) {
    at::Tensor g = grads[k];
    if (!g.is_contiguous()) {
      g = g.contiguous();
      grad_copies.push_back(g);
    }
    for (const at::Tensor& t : {params[k], exp_avgs[k], exp_avg_sqs[k]}) t.unsafeGetTensorImpl()->bump_version();
    spans.push_back({PickKernel(params[k].scalar_type(), g.scalar_type(), exp_avgs[k].scalar_type()),
                     params[k].data_ptr(), exp_avgs[k].data_ptr(), exp_avg_sqs[k].data_ptr(), g.data_ptr()});
    offsets.push_back(offsets.back() + params[k].numel());
  }

  // One parallel loop over the concatenation of all parameters: threads split elements, not
  // tensors, so one large embedding does not serialise the step.
  const AdamConstF c(s);
  ParallelFor(offsets.back(), 1 << 14, [&](int64_t begin, int64_t end) {
    size_t k = std::upper_bound(offsets.begin(), offsets.end(), begin) - offsets.begin() - 1;
    for (; k < spans.size() && offsets[k] < end; ++k) {
      const int64_t lo = std::max(begin, offsets[k]) - offsets[k];
      const int64_t hi = std::min(end, offsets[k + 1]) - offsets[k];
      spans[k].fn(spans[k].p, spans[k].g, spans[k].m, spans[k].v, lo, hi, c);
    }
  });
  return info.Env().Undefined();
}

void InitOptim(Napi::Env env, Napi::Object exports) { TRM_EXPORT(exports, "adamAtan2", AdamAtan2); }

}  // namespace trm
