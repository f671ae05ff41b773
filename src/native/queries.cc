// What a tensor is (shape, dtype, device, autograd state) and its values as JavaScript data.
#include "handle.h"

#include <torch/csrc/autograd/function.h>

#include <cstring>

namespace sgdlab {
namespace {

Napi::Value shape(const Napi::CallbackInfo& info) {
  Args a(info);
  auto sizes = a.tensor(0).sizes();
  Napi::Array out = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  return out;
}
Napi::Value dtype(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Number::New(info.Env(), static_cast<int>(a.tensor(0).scalar_type()));
}
Napi::Value device(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::String::New(info.Env(), a.tensor(0).device().str());
}
Napi::Value requiresGrad(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(info.Env(), a.tensor(0).requires_grad());
}
Napi::Value isLeaf(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(info.Env(), a.tensor(0).is_leaf());
}
Napi::Value gradFnName(const Napi::CallbackInfo& info) {
  Args a(info);
  const auto& fn = a.tensor(0).grad_fn();
  if (!fn) return info.Env().Undefined();
  std::string name = fn->name();
  auto colon = name.rfind("::");
  return Napi::String::New(info.Env(), colon == std::string::npos ? name : name.substr(colon + 2));
}
Napi::Value isContiguous(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(info.Env(), a.tensor(0).is_contiguous());
}
Napi::Value isDisposed(const Napi::CallbackInfo& info) {
  Args a(info);
  return Napi::Boolean::New(info.Env(), !a.isTensor(0));
}
// dispose(id): frees the tensor; false (no error) for an id that is not live, e.g. a second dispose.
Napi::Value dispose(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), info.Length() > 0 && release(info.Env(), info[0]));
}
Napi::Value memory(const Napi::CallbackInfo& info) {
  MemoryStats stats = memoryStats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(stats.numTensors)));
  out.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(stats.numBytes)));
  return out;
}

// item(t): the single value of a one-element tensor as a JavaScript number.
Napi::Value item(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  if (t.numel() != 1) throw torchError(info.Env(), "item: a tensor with " + std::to_string(t.numel()) + " elements cannot be converted to a number");
  return Napi::Number::New(info.Env(), t.item<double>());
}

Napi::Value typedArray(Napi::Env env, napi_typedarray_type type, size_t length, Napi::ArrayBuffer buffer) {
  napi_value result;
  if (napi_create_typedarray(env, type, length, buffer, 0, &result) != napi_ok) throw Napi::Error::New(env, "could not create a TypedArray");
  return Napi::Value(env, result);
}

napi_typedarray_type arrayType(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kLong: return napi_bigint64_array;
    case at::kInt: return napi_int32_array;
    case at::kByte: case at::kBool: return napi_uint8_array;
    default: throw std::invalid_argument(std::string("no TypedArray for dtype ") + c10::toString(t));
  }
}

// data(t): a copy of the values as a TypedArray, in row-major order.
Napi::Value data(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0).detach().to(at::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  return typedArray(info.Env(), arrayType(t.scalar_type()), t.numel(), buffer);
}

// dataView(t): a TypedArray over the tensor's own memory, without a copy. Only for contiguous CPU
// tensors; the view keeps the storage alive, and writes through it change the tensor.
Napi::Value dataView(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    throw torchError(info.Env(), "dataView: only a contiguous CPU tensor can be viewed without a copy (this one is " +
                                     std::string(t.is_contiguous() ? "" : "non-contiguous ") + "on " + t.device().str() + "); use data()");
  }
  size_t bytes = t.numel() * t.element_size();
  if (bytes == 0) return typedArray(info.Env(), arrayType(t.scalar_type()), 0, Napi::ArrayBuffer::New(info.Env(), 0));
  auto* keepAlive = new at::Tensor(t.detach());
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), keepAlive->data_ptr(), bytes, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keepAlive);
  return typedArray(info.Env(), arrayType(t.scalar_type()), t.numel(), buffer);
}

}  // namespace

void registerQueries(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "shape", shape);
  SGDLAB_EXPORT(exports, env, "dtype", dtype);
  SGDLAB_EXPORT(exports, env, "device", device);
  SGDLAB_EXPORT(exports, env, "requiresGrad", requiresGrad);
  SGDLAB_EXPORT(exports, env, "isLeaf", isLeaf);
  SGDLAB_EXPORT(exports, env, "gradFnName", gradFnName);
  SGDLAB_EXPORT(exports, env, "isContiguous", isContiguous);
  SGDLAB_EXPORT(exports, env, "isDisposed", isDisposed);
  SGDLAB_EXPORT(exports, env, "dispose", dispose);
  SGDLAB_EXPORT(exports, env, "memory", memory);
  SGDLAB_EXPORT(exports, env, "item", item);
  SGDLAB_EXPORT(exports, env, "data", data);
  SGDLAB_EXPORT(exports, env, "dataView", dataView);
}

}  // namespace sgdlab
