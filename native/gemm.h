// Which library runs LibTorch's float32 matrix products (see gemm.cc).
#pragma once

#include <cstdint>

namespace trm {

// "onednn" or "blas"; decided at the first GEMM (TRM_GEMM=blas keeps the system BLAS).
const char* Float32GemmBackend();
// GEMMs routed so far (shows the routing is in effect).
uint64_t Float32GemmCalls();

// Row-major C = alpha·op(A)·op(B) + beta·C (trans 'N' or 'T'), on the same route as LibTorch's.
// Inside an OpenMP parallel region oneDNN runs it on the calling thread.
void RowMajorSgemm(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace trm
