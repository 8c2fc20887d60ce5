// JS values to c10::IValues by a schema's (or TorchScript function's) argument types, and IValues
// back to JS: shared by ops.cc (ATen operators) and jit.cc (TorchScript functions and methods).
#pragma once

#include "common.h"

#include <ATen/core/function_schema.h>
#include <ATen/core/ivalue.h>

#include <cmath>
#include <string>

namespace trm {

using c10::TypeKind;

struct Converter {
  Napi::Env env;
  const TensorTable& table;
  // Input tensors, to recognise a returned input (in-place ops) without making a new handle.
  c10::SmallVector<std::pair<const c10::TensorImpl*, int64_t>, 8> inputs;
  // When set (jit.cc), every returned tensor gets a handle of its own, passed through this JS
  // function (id -> Tensor), so results are tagged as tensors wherever they sit in the value.
  Napi::Function wrap = Napi::Function();

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
      case TypeKind::StringType:
      case TypeKind::ListType:
      case TypeKind::TupleType:
      case TypeKind::DictType: {
        c10::impl::GenericList out(elem);
        for (uint32_t i = 0; i < n; ++i) out.push_back(Value(a[i], elem, elem, arg));
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
      case TypeKind::NoneType:
        if (!v.IsNull() && !v.IsUndefined()) Fail(arg, "null (None)");
        return c10::IValue();
      case TypeKind::TupleType: return TupleValue(v, *type->castRaw<c10::TupleType>(), arg);
      case TypeKind::DictType: return DictValue(v, *type->castRaw<c10::DictType>(), arg);
      default: Fail(arg, "a value of a supported type (" + type->annotation_str() + " is not)");
    }
  }

  // A JS array of the tuple's length, element by element.
  c10::IValue TupleValue(const Napi::Value& v, const c10::TupleType& type, const std::string& arg) {
    const auto& elems = type.elements();
    if (!v.IsArray() || v.As<Napi::Array>().Length() != elems.size()) {
      Fail(arg, "an array of " + std::to_string(elems.size()) + " (" + type.annotation_str() + ")");
    }
    Napi::Array a = v.As<Napi::Array>();
    std::vector<c10::IValue> out;
    out.reserve(elems.size());
    for (uint32_t i = 0; i < elems.size(); ++i) out.push_back(Value(a[i], elems[i], elems[i], arg));
    return c10::ivalue::Tuple::create(std::move(out));
  }

  // A plain JS object; its keys become str (or, for Dict[int, _], int) keys.
  c10::IValue DictValue(const Napi::Value& v, const c10::DictType& type, const std::string& arg) {
    TypeKind key = type.getKeyType()->kind();
    if (!v.IsObject() || v.IsArray() || v.IsFunction() || (key != TypeKind::StringType && key != TypeKind::IntType)) {
      Fail(arg, "an object (" + type.annotation_str() + ")");
    }
    Napi::Object o = v.As<Napi::Object>();
    Napi::Array names = o.GetPropertyNames();
    c10::impl::GenericDict out(type.getKeyType(), type.getValueType());
    for (uint32_t i = 0; i < names.Length(); ++i) {
      std::string name = names.Get(i).ToString().Utf8Value();
      c10::IValue k;
      if (key == TypeKind::StringType) {
        k = name;
      } else {
        size_t used = 0;
        int64_t n = 0;
        try { n = std::stoll(name, &used); } catch (const std::exception&) { used = 0; }
        if (used == 0 || used != name.size()) Fail(arg, "an object with integer keys (" + type.annotation_str() + ")");
        k = n;
      }
      out.insert_or_assign(std::move(k), Value(o.Get(name), type.getValueType(), type.getValueType(), arg + "." + name));
    }
    return out;
  }

  Napi::Value Result(const c10::IValue& v) {
    if (v.isTensor()) {
      const at::Tensor& t = v.toTensor();
      if (!t.defined()) return env.Null();
      if (!wrap.IsEmpty()) return wrap.Call({NewTensor(env, t)});
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
    if (v.isGenericDict()) {
      Napi::Object out = Napi::Object::New(env);
      for (const auto& e : v.toGenericDict()) {
        const c10::IValue& k = e.key();
        std::string name = k.isString() ? k.toStringRef() : k.isInt() ? std::to_string(k.toInt()) : "";
        if (name.empty() && !k.isString()) throw std::runtime_error(std::string("cannot return a dict with ") + k.tagKind() + " keys to JS");
        out.Set(name, Result(e.value()));
      }
      return out;
    }
    if (v.isDevice()) return Napi::String::New(env, v.toDevice().str());
    throw std::runtime_error(std::string("cannot return a value of type ") + v.tagKind() + " to JS");
  }
};

}  // namespace trm
