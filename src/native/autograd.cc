// Reverse-mode autograd: backward, grad (with create_graph for double backward, hence exact
// Hessian-vector products), gradient accessors and the thread's grad mode.
#include "handle.h"

#include <torch/csrc/autograd/autograd.h>

namespace sgdlab {
namespace {

#define ENV info.Env()

Opt<bool> optionalBool(const Args& a, size_t i) {
  if (a.isNullish(i)) return kNone;
  return a.boolean(i);
}

// backward(t, gradient|null, retainGraph|null, createGraph)
Napi::Value backward(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  std::vector<at::Tensor> grads;
  if (!a.isNullish(1)) grads.push_back(a.tensor(1));
  torch::autograd::backward({t}, grads, optionalBool(a, 2), a.boolean(3));
  return ENV.Undefined();
}

// grad(outputs[], inputs[], gradOutputs[]|null, retainGraph|null, createGraph, allowUnused) -> (tensor|undefined)[]
Napi::Value grad(const Napi::CallbackInfo& info) {
  Args a(info);
  auto outputs = a.tensorList(0);
  auto inputs = a.tensorList(1);
  std::vector<at::Tensor> gradOutputs;
  if (!a.isNullish(2)) gradOutputs = a.tensorList(2);
  auto result = torch::autograd::grad(outputs, inputs, gradOutputs, optionalBool(a, 3), a.boolean(4), a.boolean(5));
  return wrapList(ENV, result);
}

Napi::Value getGrad(const Napi::CallbackInfo& info) { Args a(info); return wrapOptional(ENV, a.tensor(0).grad()); }
// setGrad(t, g|null)
Napi::Value setGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  if (a.isNullish(1)) t.mutable_grad().reset();
  else t.mutable_grad() = a.tensor(1);
  return ENV.Undefined();
}
Napi::Value setRequiresGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.set_requires_grad(a.boolean(1));
  return ENV.Undefined();
}
Napi::Value retainGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  a.tensor(0).retain_grad();
  return ENV.Undefined();
}
Napi::Value isGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(ENV, at::GradMode::is_enabled()); }
Napi::Value setGradEnabled(const Napi::CallbackInfo& info) {
  Args a(info);
  at::GradMode::set_enabled(a.boolean(0));
  return ENV.Undefined();
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "backward", backward);
  SGDLAB_EXPORT(exports, env, "grad", grad);
  SGDLAB_EXPORT(exports, env, "getGrad", getGrad);
  SGDLAB_EXPORT(exports, env, "setGrad", setGrad);
  SGDLAB_EXPORT(exports, env, "setRequiresGrad", setRequiresGrad);
  SGDLAB_EXPORT(exports, env, "retainGrad", retainGrad);
  SGDLAB_EXPORT(exports, env, "isGradEnabled", isGradEnabled);
  SGDLAB_EXPORT(exports, env, "setGradEnabled", setGradEnabled);
}

}  // namespace sgdlab
