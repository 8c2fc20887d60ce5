// Any ATen operator by name: schema lookup, JS values to a boxed IValue stack by the schema's
// argument types, a boxed dispatcher call (autograd included) and the results back to JS.
#include "common.h"
#include "ivalue.h"

#include <ATen/core/function_schema.h>

#include <sstream>

namespace trm {

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
