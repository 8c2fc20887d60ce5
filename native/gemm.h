// Which library runs LibTorch's float32 matrix products (see gemm.cc).
#pragma once

#include <cstdint>

namespace trm {

// "onednn" or "blas"; decided at the first GEMM (TRM_GEMM=blas keeps the system BLAS).
const char* Float32GemmBackend();
// GEMMs routed so far (shows the routing is in effect).
uint64_t Float32GemmCalls();

}  // namespace trm
