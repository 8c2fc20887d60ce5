// Small float matrix products on AMX tiles (amx.cc), for the attention's per-head products in
// bfloat16 models.
#pragma once

#include "simd.h"

#include <cstdint>

namespace trm {

// Whether AmxGemm can run: the CPU has AMX-BF16 and AVX-512, the kernel grants this process the
// tile state, and TRM_NO_AMX is unset (=1 takes the register-tiled paths instead, to test them).
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
