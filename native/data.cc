// Memory-mapped files as tensors (a dataset's .npy arrays without a copy, so a multi-GB dataset
// costs address space, not RSS, SPEC §11), and batches gathered from them off the main thread.
#include "common.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/full.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace trm {

// mmapFile(path, byteOffset, dtype, shape): a tensor over the file's bytes from byteOffset on.
// Private copy-on-write mapping: an in-place op on it never writes the file (and a read-only
// mapping would segfault on one).
static Napi::Value MmapFile(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "mmapFile path");
  int64_t offset = IntArg(info, 1, "mmapFile byte offset");
  c10::ScalarType dtype = ParseDtype(StringArg(info, 2, "mmapFile dtype"));
  std::vector<int64_t> shape = IntListArg(info, 3, "mmapFile shape");
  int64_t numel = Numel(shape, "mmapFile shape");
  if (offset < 0 || offset % static_cast<int64_t>(c10::elementSize(dtype)) != 0) {
    throw std::invalid_argument("mmapFile: byte offset " + std::to_string(offset) + " is not aligned to " + DtypeName(dtype));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot stat '" + path + "': " + std::strerror(err));
  }
  size_t bytes = static_cast<size_t>(numel) * c10::elementSize(dtype);
  if (static_cast<size_t>(st.st_size) < offset + bytes) {
    ::close(fd);
    throw std::runtime_error("'" + path + "' is truncated: " + std::to_string(offset + bytes) + " bytes needed, " +
                             std::to_string(st.st_size) + " present");
  }
  size_t length = offset + bytes;
  void* base = length ? ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : nullptr;
  int err = errno;
  ::close(fd);  // the mapping stays valid without the descriptor
  if (base == MAP_FAILED) throw std::runtime_error("cannot map '" + path + "': " + std::strerror(err));
  // Batches gather scattered rows: without this the kernel reads ahead ~64 KiB around each row
  // and RSS grows with every batch.
  if (base) ::madvise(base, length, MADV_RANDOM);
  if (!base) return NewTensor(info.Env(), at::empty(shape, at::TensorOptions().dtype(dtype)));
  at::Tensor t = at::from_blob(
      static_cast<uint8_t*>(base) + offset, shape, [base, length](void*) { ::munmap(base, length); },
      at::TensorOptions().dtype(dtype));
  return NewTensor(info.Env(), std::move(t));
}

// One output of gatherRows: the rows `index` of `source` in a fresh tensor of `rows` rows (those
// past the index hold `fill`), converted to the call's dtype; in the gathered rows, values equal to
// replace_from become replace_to.
struct RowGather {
  at::Tensor source;  // [N, ...]; the worker's reference keeps a mapping alive if JS closes it meanwhile
  std::vector<int64_t> index;
  int64_t rows = 0;
  int64_t fill = 0;
  bool replace = false;
  int64_t replace_from = 0, replace_to = 0;
};

static int64_t IntField(const Napi::Object& o, const char* key, const char* what) {
  Napi::Value v = o.Get(key);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  if (d != static_cast<double>(static_cast<int64_t>(d))) {
    throw std::invalid_argument(std::string("gatherRows: expected an integer for ") + what);
  }
  return static_cast<int64_t>(d);
}

// On the JS thread: everything the worker needs, copied out of JS values.
static RowGather ParseGather(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) throw std::invalid_argument("gatherRows: expected { source, index, rows, fill, replace? } objects");
  Napi::Object o = v.As<Napi::Object>();
  RowGather g;
  g.source = GetState(env).tensors.Get(IntField(o, "source", "source (a tensor handle)"));
  if (g.source.dim() < 1) throw std::invalid_argument("gatherRows: cannot gather rows of a 0-d tensor");
  Napi::Value index = o.Get("index");
  if (!index.IsTypedArray() || index.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw std::invalid_argument("gatherRows: expected an Int32Array for index");
  }
  Napi::Int32Array a = index.As<Napi::Int32Array>();
  g.index.assign(a.Data(), a.Data() + a.ElementLength());
  g.rows = IntField(o, "rows", "rows");
  if (g.rows < static_cast<int64_t>(g.index.size())) {
    throw std::invalid_argument("gatherRows: " + std::to_string(g.rows) + " rows cannot hold " + std::to_string(g.index.size()) + " indices");
  }
  g.fill = IntField(o, "fill", "fill");
  Napi::Value replace = o.Get("replace");
  if (!replace.IsUndefined() && !replace.IsNull()) {
    std::vector<int64_t> r = IntList(replace, "gatherRows replace ([from, to])");
    if (r.size() != 2) throw std::invalid_argument("gatherRows: replace must be [from, to]");
    g.replace = true;
    g.replace_from = r[0];
    g.replace_to = r[1];
  }
  return g;
}

// On the worker: the same ops, in the same order, as index_select / full / copy_ / masked_fill_
// called one by one from JS, so the bytes agree.
static at::Tensor Gather(const RowGather& g, c10::ScalarType dtype) {
  const int64_t n = static_cast<int64_t>(g.index.size());
  for (int64_t i : g.index) {
    if (i < 0 || i >= g.source.size(0)) throw std::out_of_range("row " + std::to_string(i) + " is out of range for " + Describe(g.source));
  }
  at::Tensor idx = at::from_blob(const_cast<int64_t*>(g.index.data()), {n}, at::TensorOptions().dtype(at::kLong));
  at::Tensor picked = g.source.index_select(0, idx);  // [n, ...]
  at::Tensor out;
  if (n == g.rows) {
    out = picked.to(dtype);
  } else {
    std::vector<int64_t> shape = g.source.sizes().vec();
    shape[0] = g.rows;
    out = at::full(shape, g.fill, at::TensorOptions().dtype(dtype));  // [rows, ...]
    if (n > 0) out.narrow(0, 0, n).copy_(picked);
  }
  if (g.replace && n > 0) {
    at::Tensor head = out.narrow(0, 0, n);
    head.masked_fill_(head.eq(g.replace_from), g.replace_to);
  }
  return out;
}

// Gathers on the libuv pool while JS (and its ATen ops) run on; the results become handles, and
// errors TorchErrors, back on the JS thread. No JS value is touched in Execute.
class GatherWorker : public Napi::AsyncWorker {
 public:
  GatherWorker(Napi::Env env, std::vector<RowGather> gathers, c10::ScalarType dtype)
      : Napi::AsyncWorker(env, "trm.gatherRows"), deferred_(Napi::Promise::Deferred::New(env)), gathers_(std::move(gathers)), dtype_(dtype) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    auto t0 = std::chrono::steady_clock::now();
    try {
      // Grad mode is thread-local; plain (not inference) tensors, so a step may save them for backward.
      at::NoGradGuard no_grad;
      for (const RowGather& g : gathers_) out_.push_back(Gather(g, dtype_));
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      Napi::Array tensors = Napi::Array::New(env, out_.size());
      for (size_t k = 0; k < out_.size(); ++k) tensors.Set(static_cast<uint32_t>(k), NewTensor(env, std::move(out_[k])));
      out_.clear();
      ReportExternalMemory(env);
      Napi::Object result = Napi::Object::New(env);
      result.Set("tensors", tensors);
      result.Set("seconds", seconds_);
      deferred_.Resolve(result);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(TorchErrorValue(env, "gatherRows", e.what()));
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(TorchErrorValue(Env(), "gatherRows", e.Message()));
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<RowGather> gathers_;
  c10::ScalarType dtype_;
  std::vector<at::Tensor> out_;
  double seconds_ = 0;
};

// gatherRows([{ source, index: Int32Array, rows, fill, replace?: [from, to] }], dtype)
//   -> Promise<{ tensors: handles, seconds: time the worker spent }>
static Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw std::invalid_argument("gatherRows: expected an array of gathers");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<RowGather> gathers;
  for (uint32_t k = 0; k < list.Length(); ++k) gathers.push_back(ParseGather(env, list.Get(k)));
  c10::ScalarType dtype = ParseDtype(StringArg(info, 1, "gatherRows dtype"));
  auto* worker = new GatherWorker(env, std::move(gathers), dtype);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void InitData(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "mmapFile", MmapFile);
  TRM_EXPORT(exports, "gatherRows", GatherRows);
}

}  // namespace trm
