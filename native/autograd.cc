// Autograd from JS: backward, .grad, requires_grad, retain_grad, the graph node's name, and the
// grad-mode / inference-mode switches behind noGrad, enableGrad and inferenceMode.
#include "common.h"

#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/function.h>

#include <memory>

namespace trm {

static c10::optional<at::Tensor> OptionalTensor(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  return TensorArg(info, i);
}

// backward(t, gradient?, retainGraph?, createGraph?)
static Napi::Value Backward(const Napi::CallbackInfo& info) {
  const at::Tensor& t = TensorArg(info, 0);
  c10::optional<at::Tensor> gradient = OptionalTensor(info, 1);
  bool retain = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  bool create = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  if (!t.requires_grad()) {
    throw std::invalid_argument("backward: the tensor does not require grad and has no grad_fn");
  }
  if (!gradient && t.numel() != 1) {
    throw std::invalid_argument("backward: a gradient is needed for a non-scalar tensor of shape " + Describe(t));
  }
  t.backward(gradient.value_or(at::Tensor()), retain, create);
  ReportExternalMemory(info.Env());
  return info.Env().Undefined();
}

static Napi::Value Grad(const Napi::CallbackInfo& info) {
  const at::Tensor& g = TensorArg(info, 0).grad();
  if (!g.defined()) return info.Env().Null();
  return NewTensor(info.Env(), g);
}

static Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = TensorArg(info, 0);
  c10::optional<at::Tensor> g = OptionalTensor(info, 1);
  t.mutable_grad() = g.value_or(at::Tensor());
  return info.Env().Undefined();
}

static Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).requires_grad());
}

static Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = TensorArg(info, 0);
  t.requires_grad_(BoolArg(info, 1, "requiresGrad_ flag"));
  return info.Env().Undefined();
}

static Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_leaf());
}

static Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  TensorArg(info, 0).retain_grad();
  return info.Env().Undefined();
}

static Napi::Value GradFn(const Napi::CallbackInfo& info) {
  const auto& fn = TensorArg(info, 0).grad_fn();
  if (!fn) return info.Env().Null();
  std::string name = fn->name();
  // "torch::autograd::AddBackward0" -> "AddBackward0", as Python prints it.
  size_t colon = name.rfind("::");
  return Napi::String::New(info.Env(), colon == std::string::npos ? name : name.substr(colon + 2));
}

static Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

static Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  c10::GradMode::set_enabled(BoolArg(info, 0, "setGradEnabled flag"));
  return info.Env().Undefined();
}

// Inference mode is an RAII guard in C++; JS enters and leaves it around a synchronous callback.
static std::vector<std::unique_ptr<c10::InferenceMode>>& InferenceGuards() {
  static thread_local std::vector<std::unique_ptr<c10::InferenceMode>> guards;
  return guards;
}

static Napi::Value EnterInferenceMode(const Napi::CallbackInfo& info) {
  InferenceGuards().push_back(std::make_unique<c10::InferenceMode>(BoolArg(info, 0, "inferenceMode flag")));
  return info.Env().Undefined();
}

static Napi::Value ExitInferenceMode(const Napi::CallbackInfo& info) {
  if (InferenceGuards().empty()) throw std::logic_error("exitInferenceMode without enterInferenceMode");
  InferenceGuards().pop_back();
  return info.Env().Undefined();
}

static Napi::Value IsInferenceModeEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::InferenceMode::is_enabled());
}

void InitAutograd(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "backward", Backward);
  TRM_EXPORT(exports, "grad", Grad);
  TRM_EXPORT(exports, "setGrad", SetGrad);
  TRM_EXPORT(exports, "requiresGrad", RequiresGrad);
  TRM_EXPORT(exports, "setRequiresGrad", SetRequiresGrad);
  TRM_EXPORT(exports, "isLeaf", IsLeaf);
  TRM_EXPORT(exports, "retainGrad", RetainGrad);
  TRM_EXPORT(exports, "gradFn", GradFn);
  TRM_EXPORT(exports, "isGradEnabled", IsGradEnabled);
  TRM_EXPORT(exports, "setGradEnabled", SetGradEnabled);
  TRM_EXPORT(exports, "enterInferenceMode", EnterInferenceMode);
  TRM_EXPORT(exports, "exitInferenceMode", ExitInferenceMode);
  TRM_EXPORT(exports, "isInferenceModeEnabled", IsInferenceModeEnabled);
}

}  // namespace trm
