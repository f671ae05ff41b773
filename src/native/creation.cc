// Tensor creation: from JavaScript buffers, constant fills, ranges, and seeded random draws.
// Random tensors are drawn on the CPU from an explicit at::Generator and then moved, so a
// seed gives the same numbers whatever the target device.
#include "handle.h"

#include <ATen/CPUGeneratorImpl.h>  // at::CPUGeneratorImpl, getDefaultCPUGenerator: not reliably pulled in by ATen.h in 2.x

#include <cstring>
#include <mutex>

namespace sgdlab {
namespace {

at::TensorOptions optionsAt(const Args& a, size_t dtypeIndex, size_t deviceIndex) {
  auto options = at::TensorOptions().dtype(a.dtype(dtypeIndex));
  if (!a.isNullish(deviceIndex)) options = options.device(a.device(deviceIndex));
  return options;
}

at::Tensor toDevice(at::Tensor t, const Args& a, size_t deviceIndex) {
  if (a.isNullish(deviceIndex)) return t;
  at::Device device = a.device(deviceIndex);
  return device.is_cpu() ? t : t.to(device);
}

// fromBuffer(typedArray, shape, dtype, device): copies the bytes.
Napi::Value fromBuffer(const Napi::CallbackInfo& info) {
  Args a(info);
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "argument 0: expected a TypedArray");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = a.intList(1);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(a.dtype(2)));
  size_t bytes = t.numel() * t.element_size();
  if (array.ByteLength() != bytes) {
    throw Napi::RangeError::New(info.Env(), "fromBuffer: the buffer holds " + std::to_string(array.ByteLength()) + " bytes but shape " +
                                                c10::str(t.sizes()) + " of " + std::string(c10::toString(t.scalar_type())) + " needs " + std::to_string(bytes));
  }
  if (bytes > 0) {
    const uint8_t* source = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    std::memcpy(t.data_ptr(), source, bytes);
  }
  return wrap(info.Env(), toDevice(t, a, 3));
}

Napi::Value empty(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::empty(a.intList(0), optionsAt(a, 1, 2)));
}
Napi::Value zeros(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::zeros(a.intList(0), optionsAt(a, 1, 2)));
}
Napi::Value ones(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::ones(a.intList(0), optionsAt(a, 1, 2)));
}
// full(shape, value, dtype, device)
Napi::Value full(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::full(a.intList(0), a.scalar(1), optionsAt(a, 2, 3)));
}
// arange(start, end, step, dtype, device)
Napi::Value arange(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::arange(a.scalar(0), a.scalar(1), a.scalar(2), optionsAt(a, 3, 4)));
}
// linspace(start, end, steps, dtype, device)
Napi::Value linspace(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::linspace(a.scalar(0), a.scalar(1), a.integer(2), optionsAt(a, 3, 4)));
}
// eye(n, m, dtype, device)
Napi::Value eye(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), at::eye(a.integer(0), a.integer(1), optionsAt(a, 2, 3)));
}
// rand(shape, generator, dtype, device)
Napi::Value rand(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), toDevice(at::rand(a.intList(0), a.generator(1), at::TensorOptions().dtype(a.dtype(2))), a, 3));
}
Napi::Value randn(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), toDevice(at::randn(a.intList(0), a.generator(1), at::TensorOptions().dtype(a.dtype(2))), a, 3));
}
// randint(low, high, shape, generator, dtype, device)
Napi::Value randint(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = at::randint(a.integer(0), a.integer(1), a.intList(2), a.generator(3), at::TensorOptions().dtype(a.dtype(4)));
  return wrap(info.Env(), toDevice(t, a, 5));
}
// randperm(n, generator, dtype, device)
Napi::Value randperm(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(info.Env(), toDevice(at::randperm(a.integer(0), a.generator(1), at::TensorOptions().dtype(a.dtype(2))), a, 3));
}
// randintRows(generators, low, high, count) -> int64 [K, count]: row k is randint(low, high, [count], generators[k]),
// the draws K separate calls would make (at::randint is empty(size).random_(low, high, generator)), in one call:
// a Monte Carlo over many sequences draws one batch per sequence per step, and K calls cost more than the draws.
Napi::Value randintRows(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Generator> generators = a.generatorList(0);
  int64_t low = a.integer(1), high = a.integer(2), count = a.integer(3);
  if (low >= high || count < 0) throw Napi::RangeError::New(info.Env(), "randintRows: needs low < high and count >= 0, got " + std::to_string(low) + ", " + std::to_string(high) + ", " + std::to_string(count));
  at::Tensor out = at::empty({static_cast<int64_t>(generators.size()), count}, at::TensorOptions().dtype(at::kLong));
  for (size_t k = 0; k < generators.size(); ++k) out.select(0, static_cast<int64_t>(k)).random_(low, high, generators[k]);
  return wrap(info.Env(), out);
}
// randpermRows(generators, n, count) -> int64 [K, count]: row k is randperm(n, generators[k])[0:count], in one call.
Napi::Value randpermRows(const Napi::CallbackInfo& info) {
  Args a(info);
  std::vector<at::Generator> generators = a.generatorList(0);
  int64_t n = a.integer(1), count = a.integer(2);
  if (n < 0 || count < 0 || count > n) throw Napi::RangeError::New(info.Env(), "randpermRows: needs 0 <= count <= n, got n " + std::to_string(n) + ", count " + std::to_string(count));
  at::Tensor out = at::empty({static_cast<int64_t>(generators.size()), count}, at::TensorOptions().dtype(at::kLong));
  at::Tensor permutation = at::empty({n}, at::TensorOptions().dtype(at::kLong));
  for (size_t k = 0; k < generators.size(); ++k) {
    at::randperm_out(permutation, n, generators[k]);
    out.select(0, static_cast<int64_t>(k)).copy_(permutation.narrow(0, 0, count));
  }
  return wrap(info.Env(), out);
}
// In-place draws used by initializers: uniform_(t, low, high, generator), normal_(t, mean, std, generator), bernoulli_(t, p, generator)
Napi::Value uniform_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.uniform_(a.number(1), a.number(2), a.generator(3));
  return info.Env().Undefined();
}
Napi::Value normal_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.normal_(a.number(1), a.number(2), a.generator(3));
  return info.Env().Undefined();
}
Napi::Value bernoulli_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.bernoulli_(a.number(1), a.generator(2));
  return info.Env().Undefined();
}

// ---- generators ----

Napi::Value generator(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t seed = a.integer(0);
  if (seed < 0) throw Napi::RangeError::New(info.Env(), "generator: the seed must be a non-negative integer, got " + std::to_string(seed));
  return wrapGenerator(info.Env(), at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed)));
}
// disposeGenerator(g): frees the engine now rather than when V8 collects the handle.
Napi::Value disposeGenerator(const Napi::CallbackInfo& info) {
  sgdlab::disposeGenerator(info.Env(), info[0]);
  return info.Env().Undefined();
}
// generatorState(g) -> uint8 tensor; setGeneratorState(g, state)
Napi::Value generatorState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator g = a.requiredGenerator(0);
  std::lock_guard<std::mutex> lock(g.mutex());
  return wrap(info.Env(), g.get_state());
}
Napi::Value setGeneratorState(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Generator g = a.requiredGenerator(0);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(a.tensor(1));
  return info.Env().Undefined();
}
// manualSeed(seed): seeds libtorch's default CPU generator (used when no generator is given).
Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t seed = a.integer(0);
  if (seed < 0) throw Napi::RangeError::New(info.Env(), "manualSeed: the seed must be a non-negative integer, got " + std::to_string(seed));
  auto g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_current_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

}  // namespace

void registerCreation(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "fromBuffer", fromBuffer);
  SGDLAB_EXPORT(exports, env, "empty", empty);
  SGDLAB_EXPORT(exports, env, "zeros", zeros);
  SGDLAB_EXPORT(exports, env, "ones", ones);
  SGDLAB_EXPORT(exports, env, "full", full);
  SGDLAB_EXPORT(exports, env, "arange", arange);
  SGDLAB_EXPORT(exports, env, "linspace", linspace);
  SGDLAB_EXPORT(exports, env, "eye", eye);
  SGDLAB_EXPORT(exports, env, "rand", rand);
  SGDLAB_EXPORT(exports, env, "randn", randn);
  SGDLAB_EXPORT(exports, env, "randint", randint);
  SGDLAB_EXPORT(exports, env, "randperm", randperm);
  SGDLAB_EXPORT(exports, env, "randintRows", randintRows);
  SGDLAB_EXPORT(exports, env, "randpermRows", randpermRows);
  SGDLAB_EXPORT(exports, env, "uniform_", uniform_);
  SGDLAB_EXPORT(exports, env, "normal_", normal_);
  SGDLAB_EXPORT(exports, env, "bernoulli_", bernoulli_);
  SGDLAB_EXPORT(exports, env, "generator", generator);
  SGDLAB_EXPORT(exports, env, "disposeGenerator", disposeGenerator);
  SGDLAB_EXPORT(exports, env, "generatorState", generatorState);
  SGDLAB_EXPORT(exports, env, "setGeneratorState", setGeneratorState);
  SGDLAB_EXPORT(exports, env, "manualSeed", manualSeed);
}

}  // namespace sgdlab
