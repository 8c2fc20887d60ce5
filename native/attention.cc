// Fused attention, an autograd function with a hand-written backward: softmax(q·kᵀ·scale)·v read
// straight from the qkv projection [B, S, H + 2·KV, D], RoPE applied to q and k as they load (no
// rotate-half concatenations, no q, k, v tensors), one (batch, key/value head) per thread, output
// written straight into the [B, S, H, D] layout o_proj reads. The per-head products are small
// (97×97×32 for Sudoku) and run on the calling thread, over blocks padded to whole vectors: as
// register tiles (as fast as a oneDNN call per product, and the softmax and RoPE loops then run
// whole vectors too), or on AMX tiles (amx.h) where both operands hold bfloat16 values. Math in
// float (double for double inputs); the output rounds once.
// SPEC §11: this build's bmm loops over matrices, and TorchScript does not fuse on the CPU.
#pragma GCC optimize("O3", "no-trapping-math", "no-math-errno")

#include "amx.h"
#include "common.h"
#include "parallel.h"
#include "simd.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

namespace trm {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

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

// ---------------------------------------------------------------- register-tiled products

// C[R × NV·L] = alpha·op(A)·B, plus C when accumulating: one tile of R rows, NV vectors of L
// values each (W bytes), held in registers across the whole K loop. op(A)'s row r, column k is
// a[r·lda + k], or a[k·lda + r] when transposed; B's row k starts at b + k·ldb.
template <typename T, int W, int R, int NV, bool kTransA>
__attribute__((always_inline)) inline void Tile(int64_t K, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                                                int64_t ldc, bool accumulate) {
  using V = Vec<T, W>;
  constexpr int64_t L = kLanes<T, W>;
  V sum[R][NV] = {};
  for (int64_t k = 0; k < K; ++k) {
    V row[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) row[v] = Load<V>(b + k * ldb + v * L);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T x = kTransA ? a[k * lda + r] : a[r * lda + k];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) sum[r][v] += x * row[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      T* out = c + r * ldc + v * L;
      Store(out, accumulate ? Load<V>(out) + alpha * sum[r][v] : alpha * sum[r][v]);
    }
  }
}

// The columns [n, n + NV·L) of C, all rows: tiles of R rows, then single rows.
template <typename T, int W, int R, int NV, bool kTransA>
__attribute__((always_inline)) inline void Panel(int64_t n, int64_t M, int64_t K, T alpha, const T* a, int64_t lda,
                                                 const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  auto rows = [&](int64_t m) { return kTransA ? a + m : a + m * lda; };
  int64_t m = 0;
  for (; m + R <= M; m += R) Tile<T, W, R, NV, kTransA>(K, alpha, rows(m), lda, b + n, ldb, c + m * ldc + n, ldc, accumulate);
  for (; m < M; ++m) Tile<T, W, 1, NV, kTransA>(K, alpha, rows(m), lda, b + n, ldb, c + m * ldc + n, ldc, accumulate);
}

// SmallGemm with AVX-512: tiles of up to 16 accumulators in the 32 registers of 64 bytes.
template <typename T, bool kTransA>
TRM_AVX512 void SmallGemmWide(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
                              T* c, int64_t ldc, bool accumulate) {
  constexpr int64_t L = kLanes<T, 64>;
  for (int64_t n = 0; n < N;) {
    switch (std::min<int64_t>(4, (N - n) / L)) {
      case 4: Panel<T, 64, 4, 4, kTransA>(n, M, K, alpha, a, lda, b, ldb, c, ldc, accumulate); n += 4 * L; break;
      case 3: Panel<T, 64, 5, 3, kTransA>(n, M, K, alpha, a, lda, b, ldb, c, ldc, accumulate); n += 3 * L; break;
      case 2: Panel<T, 64, 8, 2, kTransA>(n, M, K, alpha, a, lda, b, ldb, c, ldc, accumulate); n += 2 * L; break;
      default: Panel<T, 64, 8, 1, kTransA>(n, M, K, alpha, a, lda, b, ldb, c, ldc, accumulate); n += L; break;
    }
  }
}

// Row-major C[M × N] = alpha·op(A)·B (+ C when accumulating) on the calling thread, for the small
// blocks of one head; N is a multiple of 16 floats or 8 doubles (the blocks are padded). Without
// AVX-512, tiles of 4 × 2 vectors of 32 bytes (8 of AVX2's 16 registers accumulate).
template <typename T, bool kTransA>
TRM_SIMD void SmallGemm(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                        int64_t ldc, bool accumulate) {
  if (WideSimd()) return SmallGemmWide<T, kTransA>(M, N, K, alpha, a, lda, b, ldb, c, ldc, accumulate);
  constexpr int64_t L = kLanes<T, 32>;
  for (int64_t n = 0; n < N; n += 2 * L) Panel<T, 32, 4, 2, kTransA>(n, M, K, alpha, a, lda, b, ldb, c, ldc, accumulate);
}

// n ↑ to a multiple of the vector length.
template <typename T>
int64_t Padded(int64_t n) {
  return (n + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
}

// ---------------------------------------------------------------- softmax

// Each of `rows` rows (ld apart) of n scores → exp(score − row max), and inv[row] = 1 / Σ exp:
// the caller scales by inv where it is cheapest. Float rows run as explicit AVX-512 vectors where
// the CPU has them (rows have room for whole vectors: ld ≥ n padded; the tail is masked and what
// lies past n left as it was), otherwise as loops GCC vectorizes: AVX2 has no mask registers, and
// selects on 64-byte vectors compile to scalar code there.
TRM_AVX512 void ExpRowsWide(float* p, int64_t rows, int64_t n, int64_t ld, float* inv) {
  using V = Vec<float>;
  constexpr int64_t L = kLanes<float>;
  const int64_t whole = n / L * L;
  const VecBits<float> tail = LaneIndex() < static_cast<int32_t>(n - whole);
  const V lowest = V{} - std::numeric_limits<float>::infinity();
  // Two passes, the row maxima first (into inv), so no row waits on its own reductions.
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = p + i * ld;
    V vmax = lowest;
    for (int64_t j = 0; j < whole; j += L) vmax = Max(vmax, Load<V>(row + j));
    if (whole < n) vmax = Max(vmax, tail ? Load<V>(row + whole) : lowest);
    inv[i] = MaxLanes(vmax);
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* row = p + i * ld;
    const V max = V{} + inv[i];
    V sum{};
    for (int64_t j = 0; j < whole; j += L) {
      const V e = Exp(Load<V>(row + j) - max);
      Store(row + j, e);
      sum += e;
    }
    if (whole < n) {
      const V old = Load<V>(row + whole);
      const V e = tail ? Exp(old - max) : V{};
      Store(row + whole, tail ? e : old);
      sum += e;
    }
    inv[i] = 1.0f / SumLanes(sum);
  }
}

template <typename T>
TRM_SIMD void ExpRows(T* p, int64_t rows, int64_t n, int64_t ld, T* inv) {
  if constexpr (std::is_same_v<T, float>) {
    if (WideSimd()) return ExpRowsWide(p, rows, n, ld, inv);
  }
  for (int64_t i = 0; i < rows; ++i) {
    T* row = p + i * ld;
    T max = row[0];
#pragma omp simd reduction(max : max)
    for (int64_t j = 1; j < n; ++j) max = row[j] > max ? row[j] : max;
    T sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; ++j) {
      row[j] = Exp(row[j] - max);
      sum += row[j];
    }
    inv[i] = T(1) / sum;
  }
}

// Each of `rows` rows (ld apart) of n values times scale[row].
template <typename T>
TRM_SIMD void ScaleRows(T* p, int64_t rows, int64_t n, int64_t ld, const T* scale) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < n; ++j) p[i * ld + j] *= scale[i];
  }
}

// dP → dScores in place, row by row: p · (dP − Σ dP·p).
template <typename T>
TRM_SIMD void SoftmaxBackwardRows(const T* p, T* dp, int64_t rows, int64_t n, int64_t ld) {
  for (int64_t i = 0; i < rows * ld; i += ld) {
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; ++j) dot += dp[i + j] * p[i + j];
    for (int64_t j = 0; j < n; ++j) dp[i + j] = p[i + j] * (dp[i + j] - dot);
  }
}

// ---------------------------------------------------------------- heads

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
constexpr int64_t kRowsAhead = 20;

// LoadHead and StoreHeadGrad below as explicit AVX-512 vectors, for float and bfloat16 heads of a
// multiple of 32 values (each half of a row whole vectors): the loops GCC vectorizes spent more
// on each 32-value row's setup than on its arithmetic.
template <typename in_t>
TRM_AVX512 void LoadHeadWide(const Heads& x, const in_t* qkv, int64_t b, int64_t head, const float* cos, const float* sin,
                             float* out, int64_t ld) {
  using V = Vec<float>;
  constexpr int64_t L = kLanes<float>;
  const int64_t D = x.D, h = D / 2;
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(qkv + x.Row(b, t + kRowsAhead, head));
    const in_t* row = qkv + x.Row(b, t, head);
    float* o = out + t * ld;
    if (!cos) {
      for (int64_t d = 0; d < D; d += L) Store(o + d, LoadFloats(row + d));
      continue;
    }
    const float *c = cos + t * D, *s = sin + t * D;
    for (int64_t d = 0; d < h; d += L) {
      const V x1 = LoadFloats(row + d), x2 = LoadFloats(row + h + d);
      Store(o + d, RoundTo(row, x1 * Load<V>(c + d) + -x2 * Load<V>(s + d)));
      Store(o + h + d, RoundTo(row, x2 * Load<V>(c + h + d) + x1 * Load<V>(s + h + d)));
    }
  }
}

template <typename in_t>
TRM_AVX512 void StoreHeadGradWide(const Heads& x, const float* grad, int64_t ld, int64_t b, int64_t head, const float* cos,
                                  const float* sin, in_t* dqkv) {
  using V = Vec<float>;
  constexpr int64_t L = kLanes<float>;
  const int64_t D = x.D, h = D / 2;
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(dqkv + x.Row(b, t + kRowsAhead, head), /*rw=*/1);
    in_t* row = dqkv + x.Row(b, t, head);
    const float* g = grad + t * ld;
    if (!cos) {
      for (int64_t d = 0; d < D; d += L) StoreRounded(row + d, Load<V>(g + d));
      continue;
    }
    const float *c = cos + t * D, *s = sin + t * D;
    for (int64_t d = 0; d < h; d += L) {
      const V g1 = Load<V>(g + d), g2 = Load<V>(g + h + d);
      StoreRounded(row + d, g1 * Load<V>(c + d) + g2 * Load<V>(s + h + d));
      StoreRounded(row + h + d, g2 * Load<V>(c + h + d) + -g1 * Load<V>(s + d));
    }
  }
}

template <typename in_t, typename T>
constexpr bool kWideHeads = std::is_same_v<T, float> && (std::is_same_v<in_t, float> || std::is_same_v<in_t, c10::BFloat16>);
bool WideHeads(const Heads& x) { return WideSimd() && x.D % (2 * kLanes<float>) == 0; }

// Head `head` of batch b as S rows of D values (ld apart) in the compute type, RoPE applied when
// `cos` is given.
template <typename in_t, typename T>
TRM_SIMD void LoadHead(const Heads& x, const in_t* qkv, int64_t b, int64_t head, const float* cos, const float* sin, T* out,
                       int64_t ld) {
  if constexpr (kWideHeads<in_t, T>) {
    if (WideHeads(x)) return LoadHeadWide(x, qkv, b, head, cos, sin, out, ld);
  }
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(qkv + x.Row(b, t + kRowsAhead, head));
    RotateRow<in_t, T>(qkv + x.Row(b, t, head), cos ? cos + t * x.D : nullptr, sin ? sin + t * x.D : nullptr, out + t * ld, x.D);
  }
}

// The transpose of LoadHead: S rows of a gradient (ld apart) into head `head` of dqkv.
template <typename in_t, typename T>
TRM_SIMD void StoreHeadGrad(const Heads& x, const T* grad, int64_t ld, int64_t b, int64_t head, const float* cos,
                            const float* sin, in_t* dqkv) {
  if constexpr (kWideHeads<in_t, T>) {
    if (WideHeads(x)) return StoreHeadGradWide(x, grad, ld, b, head, cos, sin, dqkv);
  }
  for (int64_t t = 0; t < x.S; ++t) {
    if (t + kRowsAhead < x.S) __builtin_prefetch(dqkv + x.Row(b, t + kRowsAhead, head), /*rw=*/1);
    RotateRowBackward<in_t, T>(grad + t * ld, cos ? cos + t * x.D : nullptr, sin ? sin + t * x.D : nullptr, dqkv + x.Row(b, t, head), x.D);
  }
}

// rows × n values from one float type to another (row strides ld_from, ld_to), each row times
// scale[row] when given, rounding as Round does.
template <typename From, typename To>
TRM_SIMD void Convert(const From* from, int64_t ld_from, To* to, int64_t ld_to, int64_t rows, int64_t n, const From* scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const acc<From> s = scale ? scale[r] : From(1);
    for (int64_t i = 0; i < n; ++i) to[r * ld_to + i] = Round<To>(static_cast<acc<From>>(from[r * ld_from + i]) * s);
  }
}

// rows × n → n × rows (ld_to apart).
template <typename T>
void Transpose(const T* from, int64_t ld_from, T* to, int64_t ld_to, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) to[i * ld_to + r] = from[r * ld_from + i];
  }
}

// One thread's blocks, rows padded to whole vectors (Sp keys, Dp head dims) and the padding zero,
// so the products run whole tiles: q, k, v [S, Dp] and kᵀ, vᵀ [D, Sp].
template <typename T>
struct HeadBlocks {
  int64_t S, D, Sp, Dp;
  AlignedVector<T> q, k, v, kt, vt;
  std::unique_ptr<AmxGemm> amx;  // for bfloat16 heads where the CPU has AMX
  HeadBlocks(int64_t S_, int64_t D_, bool transposed_v, bool bf16_heads)
      : S(S_), D(D_), Sp(Padded<T>(S_)), Dp(Padded<T>(D_)), q(S * Dp), k(S * Dp), v(S * Dp), kt(D * Sp), vt(transposed_v ? D * Sp : 0) {
    if (bf16_heads && std::is_same_v<T, float> && AmxSupported()) amx = std::make_unique<AmxGemm>();
  }
  AlignedVector<T> Rows() const { return AlignedVector<T>(S * Dp); }  // another [S, Dp] block
  // C = alpha·A·B, B one of these blocks (bfloat16 values in a bfloat16 model): on AMX tiles where
  // there are and A holds bfloat16 values too (a_bf16), register tiles otherwise. (A float A would
  // take three bfloat16 parts to stay exact; packing them cost more than the float product.)
  void Multiply(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t lda, bool a_bf16, const T* b, int64_t ldb, T* c,
                int64_t ldc) {
    if constexpr (std::is_same_v<T, float>) {
      if (amx && a_bf16) return (*amx)(M, N, K, alpha, a, lda, b, ldb, c, ldc);
    }
    SmallGemm<T, false>(M, N, K, alpha, a, lda, b, ldb, c, ldc, false);
  }
  // Key/value head g of batch b: k with RoPE and kᵀ, v, and vᵀ where kept.
  template <typename in_t>
  void LoadKeysValues(const Heads& x, const in_t* qkv, int64_t b, int64_t g, const float* cos, const float* sin) {
    LoadHead(x, qkv, b, x.H + g, cos, sin, k.data(), Dp);
    Transpose(k.data(), Dp, kt.data(), Sp, S, D);
    LoadHead<in_t, T>(x, qkv, b, x.H + x.KV + g, nullptr, nullptr, v.data(), Dp);
    if (!vt.empty()) Transpose(v.data(), Dp, vt.data(), Sp, S, D);
  }
};

// ---------------------------------------------------------------- forward and backward

// The probabilities of query head `q` against the loaded key block: p [S, Sp] ← exp(q·kᵀ·scale −
// row max), inv[row] = 1 / Σ exp (the padding columns come out zero). Deterministic, so the
// backward recomputes exactly the forward's.
template <typename T>
void Scores(HeadBlocks<T>& blk, const T* q, T scale, T* p, T* inv) {
  blk.Multiply(blk.S, blk.Sp, blk.D, scale, q, blk.Dp, /*a_bf16=*/true, blk.kt.data(), blk.Sp, p, blk.Sp);
  ExpRows(p, blk.S, blk.S, blk.Sp, inv);
}

// softmax(q·kᵀ·scale)·v straight from the qkv projection [B, S, H + 2·KV, D] (contiguous): RoPE
// (float32 tables cos, sin, or undefined) is applied to q and k as each thread loads its (batch,
// key/value head) block. Out [B, S, H, D] in out_dtype, rounded once, computed as (exp·v)·(1/Σ exp).
// Nothing else is kept: the backward recomputes each head's probabilities from qkv, which took no
// more time than writing [B, H, S, S] floats here and reading them back there, and no memory.
at::Tensor AttentionForward(const at::Tensor& qkv, int64_t H, int64_t KV, const at::Tensor& cos, const at::Tensor& sin,
                            double scale, c10::ScalarType out_dtype) {
  const Heads x{qkv.size(0), qkv.size(1), H, KV, qkv.size(3)};
  at::Tensor out = at::empty({x.B, x.S, x.H, x.D}, qkv.options().dtype(out_dtype));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, qkv.scalar_type(), "attention", [&] {
    using in_t = scalar_t;
    using T = acc<in_t>;
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, out_dtype, "attentionOut", [&] {
      using out_t = scalar_t;
      const in_t* xp = qkv.data_ptr<in_t>();
      const float* cp = cos.defined() ? cos.data_ptr<float>() : nullptr;
      const float* sp = sin.defined() ? sin.data_ptr<float>() : nullptr;
      out_t* op = out.data_ptr<out_t>();
      ParallelClaims(x.B * x.KV, [&](auto next) {
        HeadBlocks<T> blk(x.S, x.D, /*transposed_v=*/false, std::is_same_v<in_t, c10::BFloat16>);
        const int64_t S = blk.S, D = blk.D, Sp = blk.Sp, Dp = blk.Dp;
        AlignedVector<T> o = blk.Rows(), inv(S), p(S * Sp);
        for (int64_t bg; next(bg);) {
          const int64_t b = bg / x.KV, g = bg % x.KV;
          blk.LoadKeysValues(x, xp, b, g, cp, sp);
          for (int64_t h = g * x.Group(); h < (g + 1) * x.Group(); ++h) {
            LoadHead(x, xp, b, h, cp, sp, blk.q.data(), Dp);
            Scores(blk, blk.q.data(), static_cast<T>(scale), p.data(), inv.data());
            blk.Multiply(S, Dp, S, T(1), p.data(), Sp, /*a_bf16=*/false, blk.v.data(), Dp, o.data(), Dp);
            Convert(o.data(), Dp, op + (b * S * x.H + h) * D, x.H * D, S, D, inv.data());  // into rows of [B, S, H, D]
          }
        }
      });
    });
  });
  return out;
}

struct Attention : torch::autograd::Function<Attention> {
  // AttentionForward (same arguments, the tables optional), saving qkv and the tables.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& qkv, int64_t H, int64_t KV,
                            const c10::optional<at::Tensor>& cos_in, const c10::optional<at::Tensor>& sin_in, double scale,
                            c10::ScalarType out_dtype) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor cos = cos_in.value_or(at::Tensor()), sin = sin_in.value_or(at::Tensor());
    ctx->save_for_backward({qkv, cos, sin});
    ctx->saved_data["heads"] = c10::IValue(std::vector<int64_t>{H, KV});
    ctx->saved_data["scale"] = scale;
    return AttentionForward(qkv, H, KV, cos, sin, scale, out_dtype);
  }

  // Per (batch, key/value head), P recomputed: dV = Σ Pᵀ·dO; dP = dO·vᵀ; dS = P·(dP − Σ dP·P); dQ = dS·k·scale;
  // dK = Σ dSᵀ·q·scale (Σ over the group's query heads); RoPE's transpose on the way out.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &qkv = saved[0], &cos = saved[1], &sin = saved[2];
    const auto heads = ctx->saved_data["heads"].toIntVector();
    const double scale = ctx->saved_data["scale"].toDouble();
    const Heads x{qkv.size(0), qkv.size(1), heads[0], heads[1], qkv.size(3)};
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
        const out_t* gp = dout.data_ptr<out_t>();
        in_t* dp = dqkv.data_ptr<in_t>();
        const T s = static_cast<T>(scale);
        ParallelClaims(x.B * x.KV, [&](auto next) {
          HeadBlocks<T> blk(x.S, x.D, /*transposed_v=*/true, std::is_same_v<in_t, c10::BFloat16>);
          const int64_t S = blk.S, D = blk.D, Sp = blk.Sp, Dp = blk.Dp;
          AlignedVector<T> go = blk.Rows(), dq = blk.Rows(), dk = blk.Rows(), dv = blk.Rows(), p(S * Sp), inv(S), ds(S * Sp);
          for (int64_t bg; next(bg);) {
            const int64_t b = bg / x.KV, g = bg % x.KV;
            blk.LoadKeysValues(x, xp, b, g, cp, sp);
            for (int64_t h = g * x.Group(); h < (g + 1) * x.Group(); ++h) {
              const bool first = h == g * x.Group();  // the first query head starts dk, dv
              LoadHead(x, xp, b, h, cp, sp, blk.q.data(), Dp);
              Scores(blk, blk.q.data(), s, p.data(), inv.data());
              ScaleRows(p.data(), S, S, Sp, inv.data());
              Convert<out_t, T>(gp + (b * S * x.H + h) * D, x.H * D, go.data(), Dp, S, D, nullptr);
              SmallGemm<T, true>(S, Dp, S, T(1), p.data(), Sp, go.data(), Dp, dv.data(), Dp, !first);
              blk.Multiply(S, Sp, D, T(1), go.data(), Dp, std::is_same_v<out_t, c10::BFloat16>, blk.vt.data(), Sp, ds.data(), Sp);
              SoftmaxBackwardRows(p.data(), ds.data(), S, S, Sp);
              blk.Multiply(S, Dp, S, s, ds.data(), Sp, /*a_bf16=*/false, blk.k.data(), Dp, dq.data(), Dp);
              SmallGemm<T, true>(S, Dp, S, s, ds.data(), Sp, blk.q.data(), Dp, dk.data(), Dp, !first);
              StoreHeadGrad(x, dq.data(), Dp, b, h, cp, sp, dp);
            }
            StoreHeadGrad(x, dk.data(), Dp, b, x.H + g, cp, sp, dp);
            StoreHeadGrad<in_t, T>(x, dv.data(), Dp, b, x.H + x.KV + g, nullptr, nullptr, dp);
          }
        });
      });
    });
    return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

Napi::Value FusedAttention(const Napi::CallbackInfo& info) {
  const at::Tensor& qkv = TensorArg(info, 0);
  const int64_t H = IntArg(info, 1, "attention num_heads");
  const int64_t KV = IntArg(info, 2, "attention num_key_value_heads");
  const at::Tensor cos = OptionalTensorArg(info, 3);
  const at::Tensor sin = OptionalTensorArg(info, 4);
  const double scale = NumberArg(info, 5, "attention scale");
  const c10::ScalarType out = ParseDtype(info[6].As<Napi::String>().Utf8Value());
  if (!at::isFloatingType(qkv.scalar_type()) || !qkv.device().is_cpu()) {
    throw std::invalid_argument("attention: expected a floating-point CPU tensor for qkv, got " + Describe(qkv));
  }
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
  // Under noGrad (most of the ACT cycles) no autograd node is recorded.
  if (!torch::autograd::GradMode::is_enabled() || !x.requires_grad()) {
    return NewTensor(info.Env(), AttentionForward(x, H, KV, c, s, scale, out));
  }
  auto opt = [](const at::Tensor& t) { return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt; };
  return NewTensor(info.Env(), Attention::apply(x, H, KV, opt(c), opt(s), scale, out));
}

}  // namespace

void InitAttention(Napi::Env env, Napi::Object exports) { TRM_EXPORT(exports, "fusedAttention", FusedAttention); }

}  // namespace trm
