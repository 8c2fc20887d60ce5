// Shared by every native file: the per-environment state (tensor handle table, cached operators,
// the JS error class) and the one guard through which C++ errors become JS TorchErrors.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/ivalue.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace trm {

// Tensors cross into JS as integer handles into this table, not as wrapped objects: creating a
// plain JS object around a number is far cheaper than an ObjectWrap (SPEC §11).
class TensorTable {
 public:
  int32_t Add(at::Tensor t);
  const at::Tensor& Get(int64_t id) const;  // throws on a bad or disposed handle
  void Release(int64_t id);
  int64_t Live() const { return live_; }
  const std::vector<at::Tensor>& Slots() const { return slots_; }
  // Storage bytes created (or, negative, freed) since the last report to V8, once it exceeds
  // `threshold` either way; 0 until then.
  int64_t TakeExternalDelta(int64_t threshold) {
    if (external_delta_ > -threshold && external_delta_ < threshold) return 0;
    int64_t d = external_delta_;
    external_delta_ = 0;
    return d;
  }

 private:
  std::vector<at::Tensor> slots_;
  std::vector<int64_t> counted_;  // storage bytes charged to V8 by each slot
  std::vector<int32_t> free_;
  int64_t live_ = 0;
  int64_t external_delta_ = 0;
};

// Per-environment state, so worker threads each get their own table.
struct State {
  TensorTable tensors;
  std::vector<c10::IValue> stack;  // the boxed-call stack, reused by ops.cc
  std::vector<c10::OperatorHandle> ops;
  Napi::FunctionReference torch_error;
  // ArrayBuffer references whose tensors died (possibly on another thread); released on the JS thread.
  std::mutex pending_mutex;
  std::vector<napi_ref> pending_unrefs;
  std::atomic<bool> has_pending{false};
  // Handles die first: their deleters may still queue references above.
  ~State() { tensors = TensorTable(); }
};

State& GetState(Napi::Env env);
void DrainPendingUnrefs(Napi::Env env);
void ReportExternalMemory(Napi::Env env);

// An error that already names the operation it came from.
struct OpError : std::runtime_error {
  std::string op;
  OpError(std::string op_name, const std::string& message)
      : std::runtime_error(message), op(std::move(op_name)) {}
};

// Throws a TorchError(message, op) into JS.
void ThrowTorchError(Napi::Env env, const std::string& op, const std::string& message);
// The same error as a value, for a promise rejected on the JS thread after work on another thread.
Napi::Value TorchErrorValue(Napi::Env env, const std::string& op, const std::string& message);

// Every exported function runs inside this guard: nothing thrown in C++ reaches Node as an abort.
// The export's name (the function's data) names the operation unless the error names its own.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* name = static_cast<const char*>(info.Data());
  try {
    return F(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const OpError& e) {
    ThrowTorchError(env, e.op, e.what());
  } catch (const c10::Error& e) {
    ThrowTorchError(env, name, e.what_without_backtrace());
  } catch (const std::exception& e) {
    ThrowTorchError(env, name, e.what());
  }
  return env.Undefined();
}

// Argument helpers: each names what was wrong.
const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i);
at::Tensor OptionalTensorArg(const Napi::CallbackInfo& info, size_t i);  // undefined for null or undefined
int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* what);
double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what);
bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::vector<int64_t> IntListArg(const Napi::CallbackInfo& info, size_t i, const char* what);
std::vector<int64_t> IntList(const Napi::Value& v, const char* what);
int64_t Numel(const std::vector<int64_t>& shape, const char* what);  // throws on a negative dimension
Napi::Value NewTensor(Napi::Env env, at::Tensor t);

// Names used in messages and parsed from JS ("float32", "bfloat16", ...).
c10::ScalarType ParseDtype(const std::string& name);
const char* DtypeName(c10::ScalarType t);
std::string Describe(const at::Tensor& t);  // "Tensor[2, 3] float32"

#define TRM_EXPORT(exports, name, fn) \
  exports.Set(name, Napi::Function::New<::trm::Guarded<fn>>(exports.Env(), name, const_cast<char*>(name)))

// Each concept registers its functions here (one per native file).
void InitTensor(Napi::Env env, Napi::Object exports);
void InitOps(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitRuntime(Napi::Env env, Napi::Object exports);
void InitData(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitJit(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);
void InitAttention(Napi::Env env, Napi::Object exports);
void InitKernels(Napi::Env env, Napi::Object exports);
void InitMlp(Napi::Env env, Napi::Object exports);
void InstallAllocator();

}  // namespace trm
