// The one place where JavaScript values become libtorch objects and back.
//
// A tensor handle is a plain JavaScript number: an index into a table of slots with a
// generation count (id = generation·2^22 + slot), so a stale or forged id is rejected, never
// dereferenced. dispose() frees the tensor and bumps the slot's generation. There is no native
// finalizer per tensor: Node defers N-API finalizers to the event loop, so a synchronous training
// loop would pile them up; the TypeScript side keeps a FinalizationRegistry as the safety net,
// and dispose() unregisters from it, so a tensor freed by tidy() costs the garbage collector nothing.
//
// Every entry point is registered through guarded<>, so no C++ exception ever
// crosses into V8: c10::Error, std::exception and anything else become a
// JavaScript Error (code ERR_TORCH) carrying libtorch's message without its
// C++ backtrace. Arguments are read through Args, which throws a TypeError
// naming the argument's position instead of reading a wrong type.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>
#include <torch/version.h>

#include <optional>
#include <string>
#include <vector>

// libtorch 1.13 and 2.x from one source. The differences that matter here:
//  - optionals: c10::optional was libtorch's own class up to 2.1 and has been an alias of
//    std::optional since 2.2 (pytorch commit 165f4f6, Nov 2023); the alias is deprecated
//    (C10_NODEPRECATED hides it) and due to go. sgdlab::Opt / sgdlab::kNone name whichever
//    type the ATen signatures of the libtorch in use take.
//  - C++ standard: 2.x needs C++17 at least, the headers of 2.14 (pytorch#178150) C++20;
//    scripts/libtorch-config.mjs picks -std from the version.
#define SGDLAB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace sgdlab {

#if SGDLAB_TORCH_AT_LEAST(2, 2)
template <class T>
using Opt = std::optional<T>;
inline constexpr std::nullopt_t kNone = std::nullopt;
#else
template <class T>
using Opt = c10::optional<T>;
constexpr c10::nullopt_t kNone = c10::nullopt;
#endif


Napi::Value wrap(Napi::Env env, at::Tensor tensor);
Napi::Value wrapOptional(Napi::Env env, const at::Tensor& tensor);  // undefined when not defined
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
Napi::Value wrapGenerator(Napi::Env env, at::Generator generator);
// Frees a generator's engine now; using the handle afterwards is an error that says so.
void disposeGenerator(Napi::Env env, Napi::Value handle);

// Frees the tensor behind a handle value; false when it is not a live handle (a second dispose).
bool release(Napi::Env env, const Napi::Value& id);

struct MemoryStats {
  int64_t numTensors;
  int64_t numBytes;  // distinct storages, counted once each
};
MemoryStats memoryStats();

class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info) {}

  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length(); }
  bool isNullish(size_t i) const;
  bool isTensor(size_t i) const;

  const at::Tensor& tensor(size_t i) const;
  Opt<at::Tensor> optionalTensor(size_t i) const;
  std::vector<at::Tensor> tensorList(size_t i) const;

  double number(size_t i) const;
  int64_t integer(size_t i) const;
  bool boolean(size_t i) const;
  std::string string(size_t i) const;
  at::Scalar scalar(size_t i) const;  // integral number -> int64, other number -> double, boolean -> bool
  Opt<at::Scalar> optionalScalar(size_t i) const;
  std::vector<int64_t> intList(size_t i) const;
  Opt<std::vector<int64_t>> optionalIntList(size_t i) const;

  at::ScalarType dtype(size_t i) const;
  Opt<at::ScalarType> optionalDtype(size_t i) const;
  at::Device device(size_t i) const;
  Opt<at::Device> optionalDevice(size_t i) const;
  Opt<at::Generator> generator(size_t i) const;  // nullish -> libtorch's default generator
  at::Generator requiredGenerator(size_t i) const;
  std::vector<at::Generator> generatorList(size_t i) const;  // an array of generator handles
  // A tensor-or-number operand: TypeScript passes a flag saying which, since handles are numbers too.
  bool scalarFlag(size_t i) const { return boolean(i); }

 private:
  [[noreturn]] void bad(size_t i, const char* expected) const;
  const at::Generator* generatorAt(Napi::Value v, const std::string& where) const;
  const Napi::CallbackInfo& info_;
};

Napi::Error torchError(Napi::Env env, const std::string& message);

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw torchError(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw torchError(info.Env(), e.what());
  } catch (...) {
    throw torchError(info.Env(), "unknown native error");
  }
}

// Each op file contributes its functions to the module's exports.
void registerCreation(Napi::Env env, Napi::Object exports);
void registerQueries(Napi::Env env, Napi::Object exports);
void registerViews(Napi::Env env, Napi::Object exports);
void registerMath(Napi::Env env, Napi::Object exports);
void registerNN(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerLbfgsb(Napi::Env env, Napi::Object exports);  // L-BFGS-B 3.0 by reverse communication (lbfgsb.cc)

#define SGDLAB_EXPORT(exports, env, name, fn) \
  (exports).Set(name, Napi::Function::New((env), ::sgdlab::guarded<fn>, name))

}  // namespace sgdlab
