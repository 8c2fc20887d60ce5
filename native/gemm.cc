// Float32 GEMM routing. Debian's LibTorch computes float32 matrix products (mm, addmm, bmm,
// linear and their backward) by calling the Fortran BLAS symbol `sgemm_`, which Debian resolves
// to OpenBLAS: its own thread pool contends with ATen's OpenMP pool on every call, and on this
// class of CPU its kernels ran at half the speed of oneDNN's (which LibTorch already links, and
// which runs on the same OpenMP pool). This addon defines `sgemm_` itself: LibTorch is loaded as
// the addon's dependency, so its calls bind here first, and are forwarded to `dnnl_sgemm`.
// TRM_GEMM=blas, or a LibTorch without oneDNN, forwards them to the next `sgemm_` (the system BLAS).
#include "gemm.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace {

using FortranSgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                              const int*, const float*, const int*, const float*, float*, const int*);
// oneDNN's C API (row-major): dnnl_status_t dnnl_sgemm(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc).
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);

struct Route {
  DnnlSgemm dnnl = nullptr;
  FortranSgemm blas = nullptr;
};

const Route& GetRoute() {
  static const Route route = [] {
    Route r;
    r.blas = reinterpret_cast<FortranSgemm>(dlsym(RTLD_NEXT, "sgemm_"));
    const char* choice = std::getenv("TRM_GEMM");
    if (choice && std::strcmp(choice, "blas") == 0 && r.blas) return r;
    if (void* lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_NOLOAD)) {
      r.dnnl = reinterpret_cast<DnnlSgemm>(dlsym(lib, "dnnl_sgemm"));
    }
    return r;
  }();
  return route;
}

std::atomic<uint64_t> calls{0};

}  // namespace

extern "C" __attribute__((visibility("default"))) void sgemm_(const char* transa, const char* transb, const int* m,
                                                              const int* n, const int* k, const float* alpha,
                                                              const float* a, const int* lda, const float* b,
                                                              const int* ldb, const float* beta, float* c,
                                                              const int* ldc) {
  const Route& route = GetRoute();
  calls.fetch_add(1, std::memory_order_relaxed);
  // Column-major C = op(A)·op(B) is row-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands.
  if (route.dnnl && route.dnnl(*transb, *transa, *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc) == 0) return;
  if (route.blas) return route.blas(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  std::abort();  // unreachable: LibTorch links a BLAS providing sgemm_
}

namespace trm {

const char* Float32GemmBackend() { return GetRoute().dnnl ? "onednn" : "blas"; }

uint64_t Float32GemmCalls() { return calls.load(std::memory_order_relaxed); }

}  // namespace trm
