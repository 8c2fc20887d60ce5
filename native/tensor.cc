// Tensor handles: creation from JS memory, copying back to JS, metadata, disposal and the
// live-tensor accounting behind torch.memory().
#include "common.h"

#include <ATen/ops/from_blob.h>
#include <ATen/ops/empty.h>

#include <unordered_set>

namespace trm {

// fromBuffer(typedArray, dtype, shape): a tensor over the typed array's memory, no copy. The
// tensor keeps the ArrayBuffer alive; its reference is dropped on the JS thread once the tensor dies.
static Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DrainPendingUnrefs(env);
  if (!info[0].IsTypedArray()) throw std::invalid_argument("fromBuffer: expected a TypedArray or Buffer");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  c10::ScalarType dtype = ParseDtype(StringArg(info, 1, "fromBuffer dtype"));
  std::vector<int64_t> shape = IntListArg(info, 2, "fromBuffer shape");
  int64_t numel = Numel(shape, "fromBuffer shape");
  size_t bytes = static_cast<size_t>(numel) * c10::elementSize(dtype);
  if (bytes != array.ByteLength()) {
    throw std::invalid_argument("fromBuffer: shape needs " + std::to_string(bytes) +
                                " bytes of " + DtypeName(dtype) + " but the array holds " +
                                std::to_string(array.ByteLength()));
  }
  Napi::ArrayBuffer buffer = array.ArrayBuffer();
  uint8_t* data = static_cast<uint8_t*>(buffer.Data()) + array.ByteOffset();
  auto options = at::TensorOptions().dtype(dtype);
  if (bytes == 0 || reinterpret_cast<uintptr_t>(data) % c10::elementSize(dtype) != 0) {
    // Nothing to share, or misaligned for the dtype (a Buffer slice): copy instead.
    at::Tensor t = at::empty(shape, options);
    if (bytes) std::memcpy(t.data_ptr(), data, bytes);
    return NewTensor(env, std::move(t));
  }
  napi_ref ref;
  napi_create_reference(env, buffer, 1, &ref);
  State* state = &GetState(env);
  at::Tensor t = at::from_blob(
      data, shape,
      [state, ref](void*) {
        std::lock_guard<std::mutex> lock(state->pending_mutex);
        state->pending_unrefs.push_back(ref);
        state->has_pending.store(true, std::memory_order_release);
      },
      options);
  return NewTensor(env, std::move(t));
}

// toArrayBuffer(t): a copy of the tensor's elements (C order) as a new ArrayBuffer.
static Napi::Value ToArrayBuffer(const Napi::CallbackInfo& info) {
  at::Tensor t = TensorArg(info, 0);
  if (!t.device().is_cpu()) t = t.cpu();
  t = t.contiguous();
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes) std::memcpy(out.Data(), t.data_ptr(), bytes);
  return out;
}

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DrainPendingUnrefs(env);
  GetState(env).tensors.Release(IntArg(info, 0, "dispose handle"));
  ReportExternalMemory(env);
  return env.Undefined();
}

static Napi::Value Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = TensorArg(info, 0);
  Napi::Array out = Napi::Array::New(info.Env(), t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) out.Set(static_cast<uint32_t>(d), Napi::Number::New(info.Env(), t.size(d)));
  return out;
}

static Napi::Value Strides(const Napi::CallbackInfo& info) {
  const at::Tensor& t = TensorArg(info, 0);
  Napi::Array out = Napi::Array::New(info.Env(), t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) out.Set(static_cast<uint32_t>(d), Napi::Number::New(info.Env(), t.stride(d)));
  return out;
}

static Napi::Value Dim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), TensorArg(info, 0).dim()); }
static Napi::Value Numel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), TensorArg(info, 0).numel()); }
static Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(TensorArg(info, 0).scalar_type()));
}
static Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TensorArg(info, 0).device().str());
}
static Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_contiguous());
}
static Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  const at::Tensor& a = TensorArg(info, 0);
  const at::Tensor& b = TensorArg(info, 1);
  return Napi::Boolean::New(info.Env(), a.has_storage() && b.has_storage() && a.storage().is_alias_of(b.storage()));
}

// memory(): live handles and the bytes of the distinct storages they hold.
static Napi::Value Memory(const Napi::CallbackInfo& info) {
  const TensorTable& table = GetState(info.Env()).tensors;
  std::unordered_set<const void*> seen;
  int64_t bytes = 0;
  for (const at::Tensor& t : table.Slots()) {
    if (!t.defined() || !t.has_storage()) continue;
    if (seen.insert(t.storage().unsafeGetStorageImpl()).second) bytes += t.storage().nbytes();
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), table.Live()));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(bytes)));
  return out;
}

void InitTensor(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "fromBuffer", FromBuffer);
  TRM_EXPORT(exports, "toArrayBuffer", ToArrayBuffer);
  TRM_EXPORT(exports, "dispose", Dispose);
  TRM_EXPORT(exports, "shape", Shape);
  TRM_EXPORT(exports, "strides", Strides);
  TRM_EXPORT(exports, "dim", Dim);
  TRM_EXPORT(exports, "numel", Numel);
  TRM_EXPORT(exports, "dtype", Dtype);
  TRM_EXPORT(exports, "device", Device);
  TRM_EXPORT(exports, "isContiguous", IsContiguous);
  TRM_EXPORT(exports, "sameStorage", SameStorage);
  TRM_EXPORT(exports, "memory", Memory);
}

}  // namespace trm
