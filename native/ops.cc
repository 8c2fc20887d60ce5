// Any ATen operator by name: schema lookup, JS values to a boxed IValue stack by the schema's
// argument types, a boxed dispatcher call (autograd included) and the results back to JS.
#include "common.h"

#include <ATen/core/ivalue.h>
#include <ATen/core/function_schema.h>

#include <sstream>

namespace trm {

using c10::TypeKind;

static Napi::Value Describe(Napi::Env env, const c10::Argument& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", a.name());
  o.Set("type", a.type()->str());
  o.Set("realType", a.real_type()->str());
  o.Set("kwargOnly", a.kwarg_only());
  o.Set("hasDefault", a.default_value().has_value());
  o.Set("mutates", a.alias_info() != nullptr && a.alias_info()->isWrite());
  return o;
}

// findOp(name, overload) -> { handle, schema, args, returns } or null when unknown.
static Napi::Value FindOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "findOp name");
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op) return env.Null();
  State& state = GetState(env);
  state.ops.push_back(*op);
  const c10::FunctionSchema& schema = op->schema();
  Napi::Array args = Napi::Array::New(env, schema.arguments().size());
  for (size_t i = 0; i < schema.arguments().size(); ++i) args.Set(i, Describe(env, schema.arguments()[i]));
  Napi::Array rets = Napi::Array::New(env, schema.returns().size());
  for (size_t i = 0; i < schema.returns().size(); ++i) rets.Set(i, Describe(env, schema.returns()[i]));
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", static_cast<double>(state.ops.size() - 1));
  std::ostringstream text;
  text << schema;
  out.Set("schema", text.str());
  out.Set("args", args);
  out.Set("returns", rets);
  return out;
}

// overloads(name) -> every overload name registered for `name` ("" is the default one).
static Napi::Value Overloads(const Napi::CallbackInfo& info) {
  std::string name = StringArg(info, 0, "overloads name");
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const c10::OperatorName& op : c10::Dispatcher::singleton().getAllOpNames()) {
    if (op.name == name) out.Set(n++, op.overload_name);
  }
  return out;
}

// allOps() -> every "namespace::name" known to the dispatcher (for suggestions on a typo).
static Napi::Value AllOps(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const c10::OperatorName& op : c10::Dispatcher::singleton().getAllOpNames()) {
    out.Set(n++, op.overload_name.empty() ? op.name : op.name + "." + op.overload_name);
  }
  return out;
}

struct Converter {
  Napi::Env env;
  const TensorTable& table;
  // Input tensors, to recognise a returned input (in-place ops) without making a new handle.
  c10::SmallVector<std::pair<const c10::TensorImpl*, int64_t>, 8> inputs;

  [[noreturn]] void Fail(const std::string& arg, const std::string& expected) {
    throw std::invalid_argument("argument '" + arg + "' must be " + expected);
  }

  at::Tensor Tensor(const Napi::Value& v, const std::string& arg) {
    if (!v.IsNumber()) Fail(arg, "a Tensor");
    int64_t id = v.As<Napi::Number>().Int64Value();
    const at::Tensor& t = table.Get(id);
    inputs.emplace_back(t.unsafeGetTensorImpl(), id);
    return t;
  }

  int64_t Int(const Napi::Value& v, const c10::TypePtr& real, const std::string& arg) {
    if (v.IsString()) {
      std::string s = v.As<Napi::String>().Utf8Value();
      switch (real->kind()) {
        case TypeKind::ScalarTypeType: return static_cast<int64_t>(ParseDtype(s));
        case TypeKind::LayoutType:
          if (s == "strided") return static_cast<int64_t>(at::kStrided);
          Fail(arg, "a layout ('strided')");
        case TypeKind::MemoryFormatType:
          if (s == "contiguous") return static_cast<int64_t>(at::MemoryFormat::Contiguous);
          if (s == "preserve") return static_cast<int64_t>(at::MemoryFormat::Preserve);
          if (s == "channels_last") return static_cast<int64_t>(at::MemoryFormat::ChannelsLast);
          Fail(arg, "a memory format ('contiguous', 'preserve' or 'channels_last')");
        default: Fail(arg, "an integer");
      }
    }
    if (v.IsBigInt()) {
      bool lossless;
      return v.As<Napi::BigInt>().Int64Value(&lossless);
    }
    // Enums are named, never numbered: any number would otherwise become some dtype.
    if (real->kind() == TypeKind::ScalarTypeType) Fail(arg, "a dtype name such as 'float32'");
    if (real->kind() == TypeKind::LayoutType || real->kind() == TypeKind::MemoryFormatType) Fail(arg, "a name, not a number");
    if (!v.IsNumber()) Fail(arg, "an integer");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) Fail(arg, "an integer");
    return static_cast<int64_t>(d);
  }

  c10::IValue Scalar(const Napi::Value& v, const std::string& arg) {
    if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
    if (v.IsBigInt()) {
      bool lossless;
      return v.As<Napi::BigInt>().Int64Value(&lossless);
    }
    if (!v.IsNumber()) Fail(arg, "a number");
    double d = v.As<Napi::Number>().DoubleValue();
    // Integral values stay integral so integer tensors keep their dtype (as Python ints do).
    if (std::abs(d) < 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d))) {
      return static_cast<int64_t>(d);
    }
    return d;
  }

  c10::IValue List(const Napi::Value& v, const c10::ListType& type, const c10::ListType& real,
                   const std::string& arg) {
    const c10::TypePtr& elem = type.getElementType();
    TypeKind kind = elem->kind();
    if (!v.IsArray()) {
      // An int[] argument also takes a single int, as in Python (sum(x, 1)).
      if ((kind == TypeKind::IntType || kind == TypeKind::SymIntType) && v.IsNumber()) {
        return std::vector<int64_t>{Int(v, elem, arg)};
      }
      Fail(arg, "an array");
    }
    Napi::Array a = v.As<Napi::Array>();
    uint32_t n = a.Length();
    switch (kind) {
      case TypeKind::IntType:
      case TypeKind::SymIntType: {
        std::vector<int64_t> out(n);
        for (uint32_t i = 0; i < n; ++i) out[i] = Int(a[i], real.getElementType(), arg);
        return out;
      }
      case TypeKind::FloatType: {
        std::vector<double> out(n);
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = a[i];
          if (!e.IsNumber()) Fail(arg, "an array of numbers");
          out[i] = e.As<Napi::Number>().DoubleValue();
        }
        return out;
      }
      case TypeKind::BoolType: {
        c10::List<bool> out;
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = a[i];
          if (!e.IsBoolean()) Fail(arg, "an array of booleans");
          out.push_back(e.As<Napi::Boolean>().Value());
        }
        return out;
      }
      case TypeKind::TensorType: {
        std::vector<at::Tensor> out;
        out.reserve(n);
        for (uint32_t i = 0; i < n; ++i) out.push_back(Tensor(a[i], arg));
        return out;
      }
      case TypeKind::OptionalType: {
        if (elem->castRaw<c10::OptionalType>()->getElementType()->kind() != TypeKind::TensorType) break;
        c10::List<c10::optional<at::Tensor>> out;
        for (uint32_t i = 0; i < n; ++i) {
          Napi::Value e = a[i];
          if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
          else out.push_back(Tensor(e, arg));
        }
        return out;
      }
      default: break;
    }
    Fail(arg, "a supported list (" + type.annotation_str() + " is not)");
  }

  c10::IValue Value(const Napi::Value& v, const c10::TypePtr& type, const c10::TypePtr& real,
                    const std::string& arg) {
    switch (type->kind()) {
      case TypeKind::OptionalType: {
        if (v.IsNull() || v.IsUndefined()) return c10::IValue();
        const c10::TypePtr& r = real->kind() == TypeKind::OptionalType
                                    ? real->castRaw<c10::OptionalType>()->getElementType()
                                    : real;
        return Value(v, type->castRaw<c10::OptionalType>()->getElementType(), r, arg);
      }
      case TypeKind::TensorType: return Tensor(v, arg);
      case TypeKind::IntType:
      case TypeKind::SymIntType: return Int(v, real, arg);
      case TypeKind::FloatType:
        if (!v.IsNumber()) Fail(arg, "a number");
        return v.As<Napi::Number>().DoubleValue();
      case TypeKind::BoolType:
        if (!v.IsBoolean()) Fail(arg, "a boolean");
        return v.As<Napi::Boolean>().Value();
      case TypeKind::NumberType: return Scalar(v, arg);
      case TypeKind::StringType:
        if (!v.IsString()) Fail(arg, "a string");
        return v.As<Napi::String>().Utf8Value();
      case TypeKind::DeviceObjType:
        if (!v.IsString()) Fail(arg, "a device such as 'cpu' or 'cuda:0'");
        return c10::Device(v.As<Napi::String>().Utf8Value());
      case TypeKind::ListType: {
        const c10::TypePtr& r = real->kind() == TypeKind::ListType ? real : type;
        return List(v, *type->castRaw<c10::ListType>(), *r->castRaw<c10::ListType>(), arg);
      }
      default: Fail(arg, "a value of a supported type (" + type->annotation_str() + " is not)");
    }
  }

  Napi::Value Result(const c10::IValue& v) {
    if (v.isTensor()) {
      const at::Tensor& t = v.toTensor();
      if (!t.defined()) return env.Null();
      for (const auto& in : inputs)  // in-place and out= ops return their input: no new handle
        if (in.first == t.unsafeGetTensorImpl()) return Napi::Number::New(env, static_cast<double>(in.second));
      return NewTensor(env, t);
    }
    if (v.isNone()) return env.Null();
    if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
    if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
    if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
    if (v.isString()) return Napi::String::New(env, v.toStringRef());
    if (v.isTensorList()) {
      auto list = v.toTensorList();
      Napi::Array out = Napi::Array::New(env, list.size());
      for (size_t i = 0; i < list.size(); ++i) out.Set(i, Result(c10::IValue(list.get(i))));
      return out;
    }
    if (v.isList()) {
      auto list = v.toListRef();
      Napi::Array out = Napi::Array::New(env, list.size());
      for (size_t i = 0; i < list.size(); ++i) out.Set(i, Result(list[i]));
      return out;
    }
    if (v.isTuple()) {
      const auto& elems = v.toTupleRef().elements();
      Napi::Array out = Napi::Array::New(env, elems.size());
      for (size_t i = 0; i < elems.size(); ++i) out.Set(i, Result(elems[i]));
      return out;
    }
    if (v.isDevice()) return Napi::String::New(env, v.toDevice().str());
    throw std::runtime_error(std::string("cannot return a value of type ") + v.tagKind() + " to JS");
  }
};

// What the arguments were, for an error message: "Tensor[2, 3] float32, 1".
static std::string DescribeArgs(const Napi::CallbackInfo& info, const c10::FunctionSchema& schema,
                                const TensorTable& table) {
  std::string out;
  for (size_t i = 1; i < info.Length() && i - 1 < schema.arguments().size(); ++i) {
    const c10::Argument& a = schema.arguments()[i - 1];
    Napi::Value v = info[i];
    if (v.IsUndefined()) continue;
    // Tensor arguments arrive as handles: show their shapes, in lists too.
    bool tensorish = a.type()->str().rfind("Tensor", 0) == 0;
    auto describe = [&](const Napi::Value& e) -> std::string {
      if (!tensorish || !e.IsNumber()) return e.IsNull() ? "None" : e.ToString().Utf8Value();
      int64_t id = e.As<Napi::Number>().Int64Value();
      bool live = id >= 0 && id < static_cast<int64_t>(table.Slots().size()) && table.Slots()[id].defined();
      return live ? trm::Describe(table.Slots()[id]) : "<disposed tensor>";
    };
    std::string d;
    if (v.IsArray()) {
      Napi::Array list = v.As<Napi::Array>();
      for (uint32_t k = 0; k < list.Length(); ++k) d += (k ? ", " : "") + describe(list[k]);
      d = "[" + d + "]";
    } else {
      d = describe(v);
    }
    out += (out.empty() ? "" : ", ") + a.name() + "=" + d;
  }
  return out;
}

static std::string OpName(const c10::FunctionSchema& schema) {
  return schema.overload_name().empty() ? schema.name() : schema.name() + "." + schema.overload_name();
}

// call(handle, ...args): args in schema order (keyword-only ones included); undefined = default.
static Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State& state = GetState(env);
  int64_t handle = IntArg(info, 0, "op handle");
  if (handle < 0 || handle >= static_cast<int64_t>(state.ops.size())) throw std::invalid_argument("invalid op handle");
  const c10::OperatorHandle& op = state.ops[handle];
  const c10::FunctionSchema& schema = op.schema();
  const auto& args = schema.arguments();
  size_t given = info.Length();  // trailing undefined arguments mean "default", as if absent
  while (given > 1 && info[given - 1].IsUndefined()) --given;
  if (given - 1 > args.size()) {
    throw OpError(OpName(schema), "takes " + std::to_string(args.size()) + " arguments but " +
                                      std::to_string(given - 1) + " were given (schema: " +
                                      c10::toString(schema) + ")");
  }
  Converter conv{env, state.tensors, {}};
  // Reused between calls (its capacity), always left empty: it must not keep results alive.
  torch::jit::Stack& stack = state.stack;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const c10::Argument& a = args[i];
      Napi::Value v = i + 1 < given ? info[i + 1] : env.Undefined();
      if (v.IsUndefined()) {
        if (a.default_value()) {
          stack.push_back(*a.default_value());
          continue;
        }
        if (a.type()->kind() == TypeKind::OptionalType) {
          stack.emplace_back();
          continue;
        }
        throw std::invalid_argument("missing argument '" + a.name() + "'");
      }
      stack.push_back(conv.Value(v, a.type(), a.real_type(), a.name()));
    }
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    stack.clear();
    throw OpError(OpName(schema), std::string(e.what_without_backtrace()) + " [" + DescribeArgs(info, schema, state.tensors) + "]");
  } catch (const std::exception& e) {
    stack.clear();
    throw OpError(OpName(schema), std::string(e.what()) + " [" + DescribeArgs(info, schema, state.tensors) + "]");
  }
  Napi::Value out = env.Undefined();
  try {
    if (stack.size() == 1) {
      out = conv.Result(stack[0]);
    } else if (stack.size() > 1) {
      Napi::Array arr = Napi::Array::New(env, stack.size());
      for (size_t i = 0; i < stack.size(); ++i) arr.Set(i, conv.Result(stack[i]));
      out = arr;
    }
  } catch (...) {
    stack.clear();
    throw;
  }
  stack.clear();
  ReportExternalMemory(env);
  return out;
}

void InitOps(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "findOp", FindOp);
  TRM_EXPORT(exports, "overloads", Overloads);
  TRM_EXPORT(exports, "allOps", AllOps);
  TRM_EXPORT(exports, "call", Call);
}

}  // namespace trm
