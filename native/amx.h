// AMX tiles (amx.cc): Intel's eight tile registers of 16 rows × 64 bytes and the unit that adds
// products of bfloat16 pairs into float tiles, 16 × 16 × 32 per instruction. What the kernels on
// them share, and small float matrix products for the attention's per-head products.
#pragma once

#include "simd.h"

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
// Functions using the tiles (only called where AmxSupported()).
#define TRM_AMX __attribute__((target("arch=x86-64-v4,amx-tile,amx-bf16")))
#else
#define TRM_AMX
#endif

namespace trm {

// The tile registers' shapes, for _tile_loadconfig: all eight 16 rows × 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// Whether the tile kernels (AmxGemm, mlp.cc) can run: the CPU has AMX-BF16 and AVX-512, the kernel
// grants this process the tile state, and TRM_NO_AMX is unset (=1 takes the paths without tiles
// instead, to test them).
bool AmxSupported();

// C[M × N] = alpha·A·B, row-major floats (rows lda, ldb, ldc apart) whose
// values are all bfloat16 values (they are packed by truncation), N a multiple of 16, on the
// calling thread. The tile unit multiplies bfloat16 pairs exactly and adds in float, so C is the
// float product up to summation order. Holds the packed operands between calls: one per thread.
class AmxGemm {
 public:
  void operator()(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float* c, int64_t ldc);

 private:
  AlignedVector<uint16_t> a_, b_;  // A [M ↑ 16][K ↑ 32]; B as pairs of rows [K ↑ 32 / 2][2·N]
};

}  // namespace trm
