// Small float matrix products on AMX tiles: the operands are packed from float blocks into
// bfloat16 tiles on every call (the blocks are small: one head).
#pragma GCC optimize("O3")

#include "amx.h"

#if defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace trm {

#if defined(__x86_64__)

bool AmxSupported() {
  // Linux hands a process the tile state only on request.
  constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtileData = 18;
  static const bool supported = WideSimd() && !std::getenv("TRM_NO_AMX") && __builtin_cpu_supports("amx-bf16") &&
                                __builtin_cpu_supports("amx-tile") && syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtileData) == 0;
  return supported;
}

namespace {

int64_t Up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// A's row m < M as bfloat16 (the top 16 bits of each float: its values are bfloat16 already),
// columns K..Kp zero.
TRM_AMX void PackRow(const float* row, int64_t K, int64_t Kp, uint16_t* out) {
  const __m512i odd = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27, 25, 23, 21,
                                       19, 17, 15, 13, 11, 9, 7, 5, 3, 1);  // the high halves of 32 floats
  auto mask = [&](int64_t k) -> __mmask16 { return k + 16 <= K ? 0xFFFF : k < K ? (1u << (K - k)) - 1 : 0; };
  for (int64_t k = 0; k < Kp; k += 32) {
    const __m512i x0 = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask(k), row + k));
    const __m512i x1 = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask(k + 16), row + k + 16));
    _mm512_store_si512(out + k, _mm512_permutex2var_epi16(x0, odd, x1));
  }
}

// B [K × N] as the tile unit reads it: row kk of 32-bit pairs (B[2kk][n], B[2kk + 1][n]), K ↑ 32.
// The values are bfloat16 already, so truncating their float bits is exact.
TRM_AMX void PackPairs(const float* b, int64_t ldb, int64_t K, int64_t Kp, int64_t N, uint16_t* out) {
  using U = VecBits<float>;
  const float zeros[16] = {};
  for (int64_t kk = 0; kk < Kp / 2; ++kk) {
    const float* even = 2 * kk < K ? b + 2 * kk * ldb : nullptr;
    const float* odd = 2 * kk + 1 < K ? b + (2 * kk + 1) * ldb : nullptr;
    for (int64_t n = 0; n < N; n += 16) {
      const U lo = reinterpret_cast<U>(Load<Vec<float>>(even ? even + n : zeros));
      const U hi = reinterpret_cast<U>(Load<Vec<float>>(odd ? odd + n : zeros));
      const U pair = (hi & int32_t(0xFFFF0000)) | ((lo >> 16) & 0xFFFF);
      Store(out + kk * 2 * N + 2 * n, pair);
    }
  }
}

// One block of RM × RN tiles of C (tiles 0–3; A's row blocks in 4–5, B's column blocks in 6–7),
// over all of K, into c (rows ldc floats apart).
template <int RM, int RN>
TRM_AMX void Block(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, int64_t k_blocks, float* c, int64_t ldc) {
  const int64_t sa = lda * 2, sb = ldb * 2, sc = ldc * 4;  // bytes
  float* c1 = c + 16 * ldc;
  _tile_zero(0);
  if (RN > 1) _tile_zero(1);
  if (RM > 1) _tile_zero(2);
  if (RM > 1 && RN > 1) _tile_zero(3);
  for (int64_t kb = 0; kb < k_blocks; ++kb) {
    const uint16_t* bk = b + kb * 16 * ldb;
    _tile_loadd(6, bk, sb);
    if (RN > 1) _tile_loadd(7, bk + 32, sb);
    _tile_loadd(4, a + kb * 32, sa);
    if (RM > 1) _tile_loadd(5, a + kb * 32 + 16 * lda, sa);
    _tile_dpbf16ps(0, 4, 6);
    if (RN > 1) _tile_dpbf16ps(1, 4, 7);
    if (RM > 1) _tile_dpbf16ps(2, 5, 6);
    if (RM > 1 && RN > 1) _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c, sc);
  if (RN > 1) _tile_stored(1, c + 16, sc);
  if (RM > 1) _tile_stored(2, c1, sc);
  if (RM > 1 && RN > 1) _tile_stored(3, c1 + 16, sc);
}

}  // namespace

TRM_AMX void AmxGemm::operator()(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda, const float* b,
                                 int64_t ldb, float* c, int64_t ldc) {
  if (N % 16 != 0) throw std::logic_error("AmxGemm: N must be a multiple of 16");
  const int64_t Mp = Up(M, 16), Kp = Up(K, 32);
  a_.resize(Mp * Kp);
  uint16_t* pa = a_.data();
  for (int64_t m = 0; m < M; ++m) PackRow(a + m * lda, K, Kp, pa + m * Kp);
  std::fill(pa + M * Kp, pa + Mp * Kp, 0);  // rows M..Mp
  b_.resize(Kp * N);
  uint16_t* pb = b_.data();
  PackPairs(b, ldb, K, Kp, N, pb);

  const TileConfig config;
  _tile_loadconfig(&config);
  alignas(64) float scratch[32 * 32];
  for (int64_t m = 0; m < Mp; m += 32) {
    const int RM = Mp - m >= 32 ? 2 : 1;
    for (int64_t n = 0; n < N; n += 32) {
      const int RN = N - n >= 32 ? 2 : 1;
      // Whole rows with alpha = 1 go straight to C; the rest (and M's last rows) through scratch.
      const bool direct = alpha == 1 && m + 16 * RM <= M;
      float* out = direct ? c + m * ldc + n : scratch;
      const int64_t ldo = direct ? ldc : 32;
      const uint16_t *am = pa + m * Kp, *bn = pb + 2 * n;
      if (RM == 2 && RN == 2) Block<2, 2>(am, Kp, bn, 2 * N, Kp / 32, out, ldo);
      if (RM == 2 && RN == 1) Block<2, 1>(am, Kp, bn, 2 * N, Kp / 32, out, ldo);
      if (RM == 1 && RN == 2) Block<1, 2>(am, Kp, bn, 2 * N, Kp / 32, out, ldo);
      if (RM == 1 && RN == 1) Block<1, 1>(am, Kp, bn, 2 * N, Kp / 32, out, ldo);
      if (direct) continue;
      using V = Vec<float>;
      const int64_t rows = std::min<int64_t>(16 * RM, M - m);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < 16 * RN; j += 16) {
          Store(c + (m + r) * ldc + n + j, alpha * Load<V>(scratch + r * 32 + j));
        }
      }
    }
  }
  _tile_release();
}

#else

bool AmxSupported() { return false; }

void AmxGemm::operator()(int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float*, int64_t) {
  throw std::logic_error("AmxGemm: no AMX on this CPU");
}

#endif

}  // namespace trm
