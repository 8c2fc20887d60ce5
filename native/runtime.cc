// Process-wide runtime knobs: threads, seeding and RNG state, versions and what the build has
// (CUDA, NCCL).
#include "common.h"
#include "gemm.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/empty.h>
#include <torch/csrc/api/include/torch/version.h>

#include <dlfcn.h>

#include <cstdlib>

namespace trm {

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = IntArg(info, 0, "setNumThreads count");
  if (n < 1) throw std::invalid_argument("setNumThreads: expected a positive count, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  // OpenBLAS (pthread build) keeps its own pool, and its thread count changes matmul rounding;
  // it follows unless OPENBLAS_NUM_THREADS chose its count.
  using SetBlasThreads = void (*)(int);
  auto blas = reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (blas && !std::getenv("OPENBLAS_NUM_THREADS")) {
    blas(static_cast<int>(n));
  }
  return info.Env().Undefined();
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

static Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  double seed = NumberArg(info, 0, "manualSeed seed");
  if (seed < 0 || seed != static_cast<double>(static_cast<uint64_t>(seed))) {
    throw std::invalid_argument("manualSeed: expected a non-negative integer");
  }
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

// The default CPU generator's state as a uint8 tensor, and back (for exact resume).
static Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return NewTensor(info.Env(), at::Tensor(gen.get_state()));
}

static Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  const at::Tensor& state = TensorArg(info, 0);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return info.Env().Undefined();
}

static Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("torchVersion", TORCH_VERSION);
  out.Set("cuda", at::hasCUDA());
  out.Set("cudaDeviceCount", at::hasCUDA() ? static_cast<double>(at::detail::getCUDAHooks().getNumGPUs()) : 0.0);
#ifdef USE_C10D_NCCL
  out.Set("nccl", true);
#else
  out.Set("nccl", false);
#endif
  out.Set("parallelInfo", at::get_parallel_info());
  out.Set("float32Gemm", Float32GemmBackend());
  out.Set("float32GemmCalls", static_cast<double>(Float32GemmCalls()));
  return out;
}

void InitRuntime(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "setNumThreads", SetNumThreads);
  TRM_EXPORT(exports, "getNumThreads", GetNumThreads);
  TRM_EXPORT(exports, "manualSeed", ManualSeed);
  TRM_EXPORT(exports, "getRngState", GetRngState);
  TRM_EXPORT(exports, "setRngState", SetRngState);
  TRM_EXPORT(exports, "buildInfo", BuildInfo);
}

}  // namespace trm
