// TorchScript: compile source to functions, load/save/build script modules, call functions and
// methods with JS values (synchronously, or off the main thread as a Promise).
#include "common.h"
#include "ivalue.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/serialization/import.h>

#include <memory>
#include <unordered_map>

namespace trm {

using Kwargs = std::unordered_map<std::string, c10::IValue>;

// What a JS handle holds: the functions of compiled source, or a module (loaded or built).
struct JitObject {
  std::shared_ptr<torch::jit::CompilationUnit> unit;
  torch::jit::Module module;
  bool is_module() const { return unit == nullptr; }
};

// Marks our externals, so any other value passed as a handle is refused instead of misread.
static const napi_type_tag kJitTag = {0x74726d5f6a697421ULL, 0x5c3e91a70b44d2f1ULL};

static Napi::Value Wrap(Napi::Env env, JitObject* obj) {
  auto ext = Napi::External<JitObject>::New(env, obj, [](Napi::Env, JitObject* p) { delete p; });
  NAPI_THROW_IF_FAILED(env, napi_type_tag_object(env, ext, &kJitTag), Napi::Value());
  return ext;
}

static JitObject& Unwrap(const Napi::Value& v, bool need_module, const char* what) {
  bool tagged = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &kJitTag, &tagged);
  if (!tagged) throw std::invalid_argument(std::string(what) + ": expected a TorchScript handle");
  JitObject& obj = *v.As<Napi::External<JitObject>>().Data();
  if (need_module && !obj.is_module()) throw std::invalid_argument(std::string(what) + ": expected a script module, not compiled functions");
  return obj;
}

// TorchScript's compile messages start with a blank line.
static std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \n");
  size_t e = s.find_last_not_of(" \n");
  return b == std::string::npos ? s : s.substr(b, e - b + 1);
}

static Napi::Object DescribeSchema(Napi::Env env, const c10::FunctionSchema& s, size_t skip) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", s.name());
  o.Set("schema", c10::toString(s));
  Napi::Array args = Napi::Array::New(env);
  for (size_t i = skip; i < s.arguments().size(); ++i) {
    const c10::Argument& a = s.arguments()[i];
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", a.name());
    d.Set("type", a.type()->annotation_str());
    d.Set("hasDefault", a.default_value().has_value());
    args.Set(static_cast<uint32_t>(i - skip), d);
  }
  o.Set("args", args);
  Napi::Array rets = Napi::Array::New(env, s.returns().size());
  for (size_t i = 0; i < s.returns().size(); ++i) rets.Set(i, s.returns()[i].type()->annotation_str());
  o.Set("returns", rets);
  return o;
}

static Napi::Array DescribeFunctions(Napi::Env env, const JitObject& obj) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  if (obj.is_module()) {
    for (const torch::jit::Method& m : obj.module.get_methods()) out.Set(n++, DescribeSchema(env, m.function().getSchema(), 1));
  } else {
    for (torch::jit::Function* f : obj.unit->get_functions()) out.Set(n++, DescribeSchema(env, f->getSchema(), 0));
  }
  return out;
}

// The function or method `name` as a callable on (stack, kwargs), and its schema.
struct Callee {
  std::function<c10::IValue(std::vector<c10::IValue>, const Kwargs&)> call;
  const c10::FunctionSchema* schema;
  size_t skip;  // 1 for methods: `self` is bound
};

static Callee Find(const JitObject& obj, const std::string& name) {
  if (obj.is_module()) {
    c10::optional<torch::jit::Method> m = obj.module.find_method(name);
    if (!m) throw OpError(name, "the module has no method '" + name + "'");
    torch::jit::Method method = *m;
    return {[method](std::vector<c10::IValue> s, const Kwargs& k) { return method(std::move(s), k); },
            &m->function().getSchema(), 1};
  }
  if (!obj.unit->find_function(name)) throw OpError(name, "the compiled source has no function '" + name + "'");
  torch::jit::Function* f = &obj.unit->get_function(name);
  std::shared_ptr<torch::jit::CompilationUnit> unit = obj.unit;  // kept alive while a call runs
  return {[unit, f](std::vector<c10::IValue> s, const Kwargs& k) { return (*f)(std::move(s), k); }, &f->getSchema(), 0};
}

// (handle, name, args[], kwargs|undefined) to a stack by the schema's types; trailing undefined = default.
static void ConvertArgs(const Napi::CallbackInfo& info, Converter& conv, const Callee& c, std::vector<c10::IValue>& stack, Kwargs& kwargs) {
  const auto& params = c.schema->arguments();
  const std::string& fn = c.schema->name();
  if (!info[2].IsArray()) throw OpError(fn, "arguments must be an array");
  Napi::Array args = info[2].As<Napi::Array>();
  uint32_t given = args.Length();
  while (given > 0 && args.Get(given - 1).IsUndefined()) --given;
  if (given + c.skip > params.size()) {
    throw OpError(fn, "takes " + std::to_string(params.size() - c.skip) + " arguments but " + std::to_string(given) +
                          " were given (schema: " + c10::toString(*c.schema) + ")");
  }
  try {
    for (uint32_t i = 0; i < given; ++i) {
      const c10::Argument& a = params[i + c.skip];
      stack.push_back(conv.Value(args.Get(i), a.type(), a.type(), a.name()));
    }
    if (info[3].IsObject()) {
      Napi::Object kw = info[3].As<Napi::Object>();
      Napi::Array names = kw.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); ++i) {
        std::string name = names.Get(i).ToString().Utf8Value();
        auto it = std::find_if(params.begin() + c.skip, params.end(), [&](const c10::Argument& a) { return a.name() == name; });
        if (it == params.end()) throw std::invalid_argument("unexpected keyword argument '" + name + "'");
        kwargs[name] = conv.Value(kw.Get(name), it->type(), it->type(), name);
      }
    }
  } catch (const c10::Error& e) {
    throw OpError(fn, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw OpError(fn, e.what());
  }
}

// What call and callAsync share: (handle, name, args[], kwargs|undefined) as a callee and its stack.
struct PreparedCall {
  Callee callee;
  std::vector<c10::IValue> stack;
  Kwargs kwargs;
};

static PreparedCall PrepareCall(const Napi::CallbackInfo& info, Converter& conv, const std::string& what) {
  const JitObject& obj = Unwrap(info[0], false, what.c_str());
  PreparedCall p{Find(obj, StringArg(info, 1, (what + " name").c_str())), {}, {}};
  ConvertArgs(info, conv, p.callee, p.stack, p.kwargs);
  return p;
}

static Converter MakeConverter(Napi::Env env, const Napi::Value& wrap) {
  if (!wrap.IsFunction()) throw std::invalid_argument("expected a tensor factory function");
  Converter conv{env, GetState(env).tensors, {}};
  conv.wrap = wrap.As<Napi::Function>();
  return conv;
}

// compile(source) -> { handle, functions }
static Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = StringArg(info, 0, "jit.compile source");
  auto unit = std::make_shared<torch::jit::CompilationUnit>();
  try {
    unit->define(c10::nullopt, source, torch::jit::nativeResolver(), nullptr);
  } catch (const c10::Error& e) {
    throw OpError("jit.compile", Trimmed(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw OpError("jit.compile", Trimmed(e.what()));
  }
  auto* obj = new JitObject{unit, {}};
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", Wrap(env, obj));
  out.Set("functions", DescribeFunctions(env, *obj));
  return out;
}

// functions(handle) -> the functions (or methods, `self` left out) with their schemas.
static Napi::Value Functions(const Napi::CallbackInfo& info) {
  return DescribeFunctions(info.Env(), Unwrap(info[0], false, "jit.functions"));
}

// call(handle, name, args[], kwargs|undefined, wrap) -> the result, tensors through wrap(id).
static Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Converter conv = MakeConverter(env, info[4]);
  PreparedCall p = PrepareCall(info, conv, "jit.call");
  c10::IValue result;
  try {
    result = p.callee.call(std::move(p.stack), p.kwargs);
  } catch (const c10::Error& e) {
    throw OpError(p.callee.schema->name(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw OpError(p.callee.schema->name(), e.what());
  }
  Napi::Value out = conv.Result(result);
  ReportExternalMemory(env);
  return out;
}

// A promise settled on the JS thread: results become handles there, errors TorchErrors.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::string op) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), op_(std::move(op)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Settle(Napi::Env env) = 0;

  void Execute() override {
    try {
      Run();
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(Settle(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      Reject(e.what());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    Reject(e.Message());
  }

 private:
  void Reject(const std::string& message) {
    Napi::Env env = Env();
    State& s = GetState(env);
    if (s.torch_error.IsEmpty()) {
      deferred_.Reject(Napi::Error::New(env, op_ + ": " + message).Value());
    } else {
      deferred_.Reject(s.torch_error.New({Napi::String::New(env, message), Napi::String::New(env, op_)}));
    }
  }
  Napi::Promise::Deferred deferred_;
  std::string op_;
};

// Runs a function or method on the worker pool, in the caller's grad / inference mode (both are
// thread-local); the arguments were converted on the JS thread, the result converts back there.
class CallWorker : public PromiseWorker {
 public:
  CallWorker(Napi::Env env, Callee c, std::vector<c10::IValue> stack, Kwargs kwargs, Napi::Function wrap)
      : PromiseWorker(env, c.schema->name()), callee_(std::move(c)), stack_(std::move(stack)), kwargs_(std::move(kwargs)),
        wrap_(Napi::Persistent(wrap)), grad_(at::GradMode::is_enabled()), inference_(c10::InferenceMode::is_enabled()) {}

 protected:
  void Run() override {
    c10::InferenceMode inference(inference_);  // sets grad mode too: restore the caller's after it
    c10::AutoGradMode grad(grad_);
    result_ = callee_.call(std::move(stack_), kwargs_);
  }
  Napi::Value Settle(Napi::Env env) override {
    Converter conv{env, GetState(env).tensors, {}};
    conv.wrap = wrap_.Value();
    Napi::Value out = conv.Result(result_);
    result_ = c10::IValue();
    ReportExternalMemory(env);
    return out;
  }

 private:
  Callee callee_;
  std::vector<c10::IValue> stack_;
  Kwargs kwargs_;
  Napi::FunctionReference wrap_;
  bool grad_, inference_;
  c10::IValue result_;
};

// callAsync(handle, name, args[], kwargs|undefined, wrap) -> Promise of the result.
static Napi::Value CallAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Converter conv = MakeConverter(env, info[4]);
  PreparedCall p = PrepareCall(info, conv, "jit.callAsync");
  auto* worker = new CallWorker(env, std::move(p.callee), std::move(p.stack), std::move(p.kwargs), info[4].As<Napi::Function>());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

static c10::optional<c10::Device> DeviceArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined() || info[i].IsNull()) return c10::nullopt;
  return c10::Device(StringArg(info, i, "device"));
}

static torch::jit::Module LoadModule(const std::string& path, c10::optional<c10::Device> device) {
  try {
    return torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    throw OpError("jit.load", "cannot load '" + path + "': " + e.what_without_backtrace());
  }
}

// load(path, device?) -> module handle.
static Napi::Value Load(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "jit.load path");
  return Wrap(info.Env(), new JitObject{nullptr, LoadModule(path, DeviceArg(info, 1))});
}

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, c10::optional<c10::Device> device)
      : PromiseWorker(env, "jit.load"), path_(std::move(path)), device_(device) {}

 protected:
  void Run() override { module_ = LoadModule(path_, device_); }
  Napi::Value Settle(Napi::Env env) override { return Wrap(env, new JitObject{nullptr, std::move(module_)}); }

 private:
  std::string path_;
  c10::optional<c10::Device> device_;
  torch::jit::Module module_;
};

// loadAsync(path, device?) -> Promise of a module handle (read and deserialized off the main thread).
static Napi::Value LoadAsync(const Napi::CallbackInfo& info) {
  auto* worker = new LoadWorker(info.Env(), StringArg(info, 0, "jit.loadAsync path"), DeviceArg(info, 1));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// namedTensors(handle, "parameters" | "buffers", recurse, wrap) -> [[name, Tensor], ...]
static Napi::Value NamedTensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const torch::jit::Module& m = Unwrap(info[0], true, "jit.namedTensors").module;
  std::string kind = StringArg(info, 1, "jit.namedTensors kind");
  bool recurse = BoolArg(info, 2, "jit.namedTensors recurse");
  Converter conv = MakeConverter(env, info[3]);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  auto add = [&](const std::string& name, const at::Tensor& t) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, name);
    pair.Set(1u, conv.Result(t));
    out.Set(n++, pair);
  };
  if (kind == "parameters") {
    for (const auto& p : m.named_parameters(recurse)) add(p.name, p.value);
  } else if (kind == "buffers") {
    for (const auto& b : m.named_buffers(recurse)) add(b.name, b.value);
  } else {
    throw std::invalid_argument("jit.namedTensors: kind must be 'parameters' or 'buffers'");
  }
  return out;
}

// train(handle, on?) -> whether the module is (now) in training mode; on undefined only reads it.
static Napi::Value Train(const Napi::CallbackInfo& info) {
  torch::jit::Module& m = Unwrap(info[0], true, "jit.train").module;
  if (!info[1].IsUndefined()) m.train(BoolArg(info, 1, "jit.train on"));
  return Napi::Boolean::New(info.Env(), m.is_training());
}

// to(handle, dtype|null, device|null): as nn.Module.to, the dtype casts floating-point tensors
// only (LibTorch's Module::to casts every one); each keeps its identity (set_data).
static Napi::Value To(const Napi::CallbackInfo& info) {
  torch::jit::Module& m = Unwrap(info[0], true, "jit.to").module;
  c10::optional<c10::Device> device = DeviceArg(info, 2);
  c10::optional<c10::ScalarType> dtype;
  if (!info[1].IsUndefined() && !info[1].IsNull()) dtype = ParseDtype(StringArg(info, 1, "jit.to dtype"));
  at::NoGradGuard no_grad;
  auto move = [&](const at::Tensor& t) {
    c10::ScalarType to = dtype && at::isFloatingType(t.scalar_type()) ? *dtype : t.scalar_type();
    at::Tensor moved = t.to(device.value_or(t.device()), to);
    if (!moved.is_same(t)) const_cast<at::Tensor&>(t).set_data(moved);
  };
  for (const auto& p : m.named_parameters(true)) move(p.value);
  for (const auto& b : m.named_buffers(true)) move(b.value);
  return info.Env().Undefined();
}

// save(handle, path)
static Napi::Value Save(const Napi::CallbackInfo& info) {
  const torch::jit::Module& m = Unwrap(info[0], true, "jit.save").module;
  m.save(StringArg(info, 1, "jit.save path"));
  return info.Env().Undefined();
}

// attr(handle, name, wrap) -> the attribute's value (undefined when the module has none).
static Napi::Value Attr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const torch::jit::Module& m = Unwrap(info[0], true, "jit.attr").module;
  std::string name = StringArg(info, 1, "jit.attr name");
  if (!m.hasattr(name)) return env.Undefined();
  c10::IValue v = m.attr(name);
  if (v.isModule() || v.isObject()) return env.Undefined();
  return MakeConverter(env, info[2]).Result(v);
}

// buildModule(className, parameters [[name, id]], buffers [[name, id]], attributes {name: value},
// source) -> a module with those tensors (detached) and attributes whose methods `source` defines.
static Napi::Value BuildModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const TensorTable& table = GetState(env).tensors;
  torch::jit::Module m{c10::QualifiedName(StringArg(info, 0, "jit.buildModule className"))};
  auto each = [&](size_t i, const char* what, auto&& fn) {
    if (!info[i].IsArray()) throw std::invalid_argument(std::string("jit.buildModule ") + what + ": expected [[name, tensor], ...]");
    Napi::Array list = info[i].As<Napi::Array>();
    for (uint32_t k = 0; k < list.Length(); ++k) {
      Napi::Value e = list.Get(k);
      if (!e.IsArray() || e.As<Napi::Array>().Length() != 2) throw std::invalid_argument(std::string("jit.buildModule ") + what + ": expected [[name, tensor], ...]");
      Napi::Array pair = e.As<Napi::Array>();
      Napi::Value id = pair.Get(1u);
      if (!pair.Get(0u).IsString() || !id.IsNumber()) throw std::invalid_argument(std::string("jit.buildModule ") + what + ": expected [[name, tensor], ...]");
      fn(pair.Get(0u).As<Napi::String>().Utf8Value(), table.Get(id.As<Napi::Number>().Int64Value()));
    }
  };
  each(1, "parameters", [&](const std::string& name, const at::Tensor& t) {
    m.register_parameter(name, t.detach().requires_grad_(t.requires_grad()), false);
  });
  each(2, "buffers", [&](const std::string& name, const at::Tensor& t) { m.register_buffer(name, t.detach()); });
  if (info[3].IsObject()) {
    Napi::Object attrs = info[3].As<Napi::Object>();
    Napi::Array names = attrs.GetPropertyNames();
    for (uint32_t k = 0; k < names.Length(); ++k) {
      std::string name = names.Get(k).ToString().Utf8Value();
      Napi::Value v = attrs.Get(name);
      if (v.IsBoolean()) {
        m.register_attribute(name, c10::BoolType::get(), v.As<Napi::Boolean>().Value());
      } else if (v.IsString()) {
        m.register_attribute(name, c10::StringType::get(), v.As<Napi::String>().Utf8Value());
      } else if (v.IsNumber()) {
        double d = v.As<Napi::Number>().DoubleValue();
        if (std::abs(d) < 9007199254740992.0 && d == std::floor(d)) m.register_attribute(name, c10::IntType::get(), static_cast<int64_t>(d));
        else m.register_attribute(name, c10::FloatType::get(), d);
      } else {
        throw std::invalid_argument("jit.buildModule attribute '" + name + "': expected a number, boolean or string");
      }
    }
  }
  try {
    m.define(StringArg(info, 4, "jit.buildModule source"));
  } catch (const c10::Error& e) {
    throw OpError("jit.buildModule", Trimmed(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw OpError("jit.buildModule", Trimmed(e.what()));
  }
  m.eval();
  return Wrap(env, new JitObject{nullptr, m});
}

void InitJit(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "jitCompile", Compile);
  TRM_EXPORT(exports, "jitFunctions", Functions);
  TRM_EXPORT(exports, "jitCall", Call);
  TRM_EXPORT(exports, "jitCallAsync", CallAsync);
  TRM_EXPORT(exports, "jitLoad", Load);
  TRM_EXPORT(exports, "jitLoadAsync", LoadAsync);
  TRM_EXPORT(exports, "jitNamedTensors", NamedTensors);
  TRM_EXPORT(exports, "jitTrain", Train);
  TRM_EXPORT(exports, "jitTo", To);
  TRM_EXPORT(exports, "jitSave", Save);
  TRM_EXPORT(exports, "jitAttr", Attr);
  TRM_EXPORT(exports, "jitBuildModule", BuildModule);
}

}  // namespace trm
