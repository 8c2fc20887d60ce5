// What the fused kernels (kernels.cc, attention.cc) share: the per-CPU clones of their loops, a
// vectorizable exp and bfloat16 rounding, and GCC vectors for the register tiles and AVX-512 loops.
#pragma once

#include <ATen/OpMathType.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

// The vector helpers below are always inlined into the clone that calls them, so the ABI GCC warns
// about (how a 64-byte vector is passed without AVX-512) is never used.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace trm {

template <typename scalar_t>
using acc = at::opmath_type<scalar_t>;

// The loops are compiled for AVX-512 (16 floats per instruction) and for AVX2 + FMA (8), and the
// loader picks the clone the CPU runs (an ifunc); the kernels are only used where the CPU has at
// least AVX2 + FMA (the SSE2 baseline ran them slower than scalar code).
#if defined(__x86_64__)
#define TRM_SIMD __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define TRM_AVX512 __attribute__((target("arch=x86-64-v4")))  // only called where WideSimd()
inline bool SimdSupported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
// 32 vector registers of 64 bytes; TRM_NO_AVX512=1 takes the AVX2 paths instead (to test them).
inline bool WideSimd() {
  static const bool wide = __builtin_cpu_supports("avx512f") && !std::getenv("TRM_NO_AVX512");
  return wide;
}
#else
#define TRM_SIMD
#define TRM_AVX512
inline bool SimdSupported() { return true; }
inline bool WideSimd() { return false; }
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
inline double Exp(double x) { return __builtin_exp(x); }

// Vectors whose data starts on a cache line: a register or tile row then never straddles two
// (AMX tile loads and stores took twice as long that way).
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};
template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

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

// W bytes of T as one GCC vector: 64 (16 floats) fills an AVX-512 register, 32 an AVX2 one. 64-byte
// vectors on AVX2 compile to shuffles through the stack, so each clone uses its own width.
template <typename T, int W>
struct VecTypes;
#define TRM_VEC_TYPES(T, W, BITS)                      \
  template <>                                          \
  struct VecTypes<T, W> {                              \
    typedef T type __attribute__((vector_size(W)));    \
    typedef BITS bits __attribute__((vector_size(W))); \
  };
TRM_VEC_TYPES(float, 64, int32_t)
TRM_VEC_TYPES(double, 64, int64_t)
TRM_VEC_TYPES(float, 32, int32_t)
TRM_VEC_TYPES(double, 32, int64_t)
#undef TRM_VEC_TYPES
template <typename T, int W = 64>
using Vec = typename VecTypes<T, W>::type;
template <typename T, int W = 64>
using VecBits = typename VecTypes<T, W>::bits;  // what comparisons give: 0 or -1 per lane
template <typename T, int W = 64>
constexpr int64_t kLanes = W / sizeof(T);

// From and to any T-aligned address.
template <typename V, typename T>
__attribute__((always_inline)) inline V Load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V, typename T>
__attribute__((always_inline)) inline void Store(T* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// Lane i holds i.
__attribute__((always_inline)) inline VecBits<float> LaneIndex() {
  return VecBits<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
}

// Exp above on a whole vector, written out so no vectorizer has to find it: rounding by the
// 1.5·2²³ shift, and 2^n added straight into the exponent bits (the clamp keeps results normal).
__attribute__((always_inline)) inline Vec<float> Exp(Vec<float> x) {
  using V = Vec<float>;
  using I = VecBits<float>;
  x = x < -87.0f ? V{} - 87.0f : x;
  x = x > 88.0f ? V{} + 88.0f : x;
  constexpr float kShift = 12582912.0f;  // 1.5·2²³: adding it leaves round(t) in the low mantissa bits
  const V shifted = x * 1.44269504088896341f + kShift;
  const V n = shifted - kShift;
  const V r = x - n * 0.693359375f + n * 2.12194440e-4f;
  V p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V y = p * r * r + r + 1.0f;
  const I exponent = (reinterpret_cast<I>(shifted) - 0x4B400000) << 23;  // n << 23
  return reinterpret_cast<V>(reinterpret_cast<I>(y) + exponent);
}

__attribute__((always_inline)) inline Vec<float> Max(Vec<float> a, Vec<float> b) { return a > b ? a : b; }

// The largest and the sum of a vector's lanes, halving the vector four times.
template <typename Op>
__attribute__((always_inline)) inline float ReduceLanes(Vec<float> v, Op op) {
  using I = VecBits<float>;
  v = op(v, __builtin_shuffle(v, I{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7}));
  v = op(v, __builtin_shuffle(v, I{4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11}));
  v = op(v, __builtin_shuffle(v, I{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13}));
  v = op(v, __builtin_shuffle(v, I{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14}));
  return v[0];
}
__attribute__((always_inline)) inline float MaxLanes(Vec<float> v) { return ReduceLanes(v, Max); }
__attribute__((always_inline)) inline float SumLanes(Vec<float> v) {
  return ReduceLanes(v, [](Vec<float> a, Vec<float> b) { return a + b; });
}

// 16 floats or bfloat16 values as a float vector, and back, rounding as Round does (AVX-512 only).
__attribute__((always_inline)) inline Vec<float> LoadFloats(const float* p) { return Load<Vec<float>>(p); }
__attribute__((always_inline)) inline Vec<float> LoadFloats(const c10::BFloat16* p) {
  typedef uint16_t Halves __attribute__((vector_size(32)));
  return reinterpret_cast<Vec<float>>(__builtin_convertvector(Load<Halves>(p), VecBits<float>) << 16);
}
// Each lane rounded to bfloat16 as Round does, in its high 16 bits (the low ones left over):
// callers take the high halves where they lie instead of shifting them down and back up (the
// MLP's silu epilogue, ~55 instructions a vector, ran 6% faster without those shifts).
__attribute__((always_inline)) inline VecBits<float> BFloat16High(Vec<float> v) {
  typedef uint32_t Words __attribute__((vector_size(64)));
  const Words bits = reinterpret_cast<Words>(v);
  return reinterpret_cast<VecBits<float>>(v != v ? Words{} + 0x7FC00000u : bits + 0x7FFFu + ((bits >> 16) & 1u));
}
__attribute__((always_inline)) inline void StoreRounded(float* p, Vec<float> v) { Store(p, v); }
__attribute__((always_inline)) inline void StoreRounded(c10::BFloat16* p, Vec<float> v) {
  typedef uint16_t Halves __attribute__((vector_size(64)));
  const Halves h = reinterpret_cast<Halves>(BFloat16High(v));
  Store(p, __builtin_shufflevector(h, h, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
}
// v rounded to the precision of T (given by a pointer's type), as a float vector.
__attribute__((always_inline)) inline Vec<float> RoundTo(const float*, Vec<float> v) { return v; }
__attribute__((always_inline)) inline Vec<float> RoundTo(const c10::BFloat16*, Vec<float> v) {
  return reinterpret_cast<Vec<float>>(BFloat16High(v) & int32_t(0xFFFF0000u));
}

}  // namespace trm
