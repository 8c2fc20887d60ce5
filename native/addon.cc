// The addon's entry: per-environment state, the tensor handle table, the JS error bridge and the
// argument helpers every other native file uses.
#include "common.h"

#include <sstream>

namespace trm {

int32_t TensorTable::Add(at::Tensor t) {
  int64_t bytes = 0;
  // Charge V8 for storages this handle created (sole owner), not for views of existing ones.
  if (t.defined() && t.has_storage() && t.storage().use_count() == 1) {
    bytes = static_cast<int64_t>(t.storage().nbytes());
  }
  external_delta_ += bytes;
  ++live_;
  if (!free_.empty()) {
    int32_t id = free_.back();
    free_.pop_back();
    slots_[id] = std::move(t);
    counted_[id] = bytes;
    return id;
  }
  slots_.push_back(std::move(t));
  counted_.push_back(bytes);
  return static_cast<int32_t>(slots_.size() - 1);
}

const at::Tensor& TensorTable::Get(int64_t id) const {
  if (id < 0 || id >= static_cast<int64_t>(slots_.size()) || !slots_[id].defined()) {
    throw std::runtime_error(id == -1 ? "tensor used after dispose()"
                                      : "invalid tensor handle " + std::to_string(id));
  }
  return slots_[id];
}

void TensorTable::Release(int64_t id) {
  Get(id);
  slots_[id] = at::Tensor();
  external_delta_ -= counted_[id];
  counted_[id] = 0;
  free_.push_back(static_cast<int32_t>(id));
  --live_;
}

State& GetState(Napi::Env env) { return *env.GetInstanceData<State>(); }

void DrainPendingUnrefs(Napi::Env env) {
  State& s = GetState(env);
  if (!s.has_pending.load(std::memory_order_acquire)) return;
  std::vector<napi_ref> refs;
  {
    s.has_pending = false;
    std::lock_guard<std::mutex> lock(s.pending_mutex);
    refs.swap(s.pending_unrefs);
  }
  for (napi_ref r : refs) napi_delete_reference(env, r);
}

void ReportExternalMemory(Napi::Env env) {
  // Batched: one V8 call per few MB of change keeps the per-op cost low.
  int64_t delta = GetState(env).tensors.TakeExternalDelta(4 << 20);
  if (delta == 0) return;
  int64_t ignored;
  napi_adjust_external_memory(env, delta, &ignored);
}

Napi::Value TorchErrorValue(Napi::Env env, const std::string& op, const std::string& message) {
  State& s = GetState(env);
  if (s.torch_error.IsEmpty()) return Napi::Error::New(env, op.empty() ? message : op + ": " + message).Value();
  return s.torch_error.New({Napi::String::New(env, message), Napi::String::New(env, op)});
}

void ThrowTorchError(Napi::Env env, const std::string& op, const std::string& message) {
  napi_throw(env, TorchErrorValue(env, op, message));
}

Napi::Value NewTensor(Napi::Env env, at::Tensor t) {
  return Napi::Number::New(env, GetState(env).tensors.Add(std::move(t)));
}

static void Expect(bool ok, const char* what, const char* expected) {
  if (!ok) throw std::invalid_argument(std::string(what) + ": expected " + expected);
}

const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i) {
  Expect(info[i].IsNumber(), "tensor argument", "a tensor handle");
  return GetState(info.Env()).tensors.Get(info[i].As<Napi::Number>().Int64Value());
}

at::Tensor OptionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsNull() || info[i].IsUndefined() ? at::Tensor() : TensorArg(info, i);
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Expect(info[i].IsNumber(), what, "an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Expect(info[i].IsNumber(), what, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Expect(info[i].IsBoolean(), what, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Expect(info[i].IsString(), what, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> IntList(const Napi::Value& v, const char* what) {
  Expect(v.IsArray(), what, "an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a[k];
    Expect(e.IsNumber(), what, "an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    Expect(d == static_cast<double>(static_cast<int64_t>(d)), what, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

int64_t Numel(const std::vector<int64_t>& shape, const char* what) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument(std::string(what) + ": negative dimension " + std::to_string(d));
    numel *= d;
  }
  return numel;
}

std::vector<int64_t> IntListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return IntList(info[i], what);
}

static const struct {
  const char* name;
  c10::ScalarType type;
} kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"bfloat16", at::kBFloat16},
    {"float16", at::kHalf},  {"int64", at::kLong},     {"int32", at::kInt},
    {"int16", at::kShort},   {"int8", at::kChar},      {"uint8", at::kByte},
    {"bool", at::kBool},     {"complex64", at::kComplexFloat},
};

c10::ScalarType ParseDtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  throw std::invalid_argument("unknown dtype '" + name +
                              "' (expected float32, float64, bfloat16, float16, int64, int32, "
                              "int16, int8, uint8 or bool)");
}

const char* DtypeName(c10::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return d.name;
  return c10::toString(t);
}

std::string Describe(const at::Tensor& t) {
  if (!t.defined()) return "None";
  std::ostringstream s;
  s << "Tensor[";
  for (int64_t d = 0; d < t.dim(); ++d) s << (d ? ", " : "") << t.size(d);
  s << "] " << DtypeName(t.scalar_type());
  if (!t.device().is_cpu()) s << " " << t.device();
  return s.str();
}

static Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Expect(info[0].IsFunction(), "setErrorClass", "a constructor");
  GetState(info.Env()).torch_error = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallAllocator();
  env.SetInstanceData<State>(new State());
  TRM_EXPORT(exports, "setErrorClass", SetErrorClass);
  InitTensor(env, exports);
  InitOps(env, exports);
  InitAutograd(env, exports);
  InitRuntime(env, exports);
  InitData(env, exports);
  InitOptim(env, exports);
  InitJit(env, exports);
  InitDistributed(env, exports);
  InitKernels(env, exports);
  InitAttention(env, exports);
  InitMlp(env, exports);
  return exports;
}

}  // namespace trm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return trm::Init(env, exports); }

NODE_API_MODULE(trm_native, InitAddon)
