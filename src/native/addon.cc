// Module entry: runtime controls (threads, devices, version) and registration of every op file.
#include "handle.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <cstdlib>
#include <torch/version.h>

namespace sgdlab {
namespace {

// OpenBLAS keeps its own thread pool, which at::set_num_threads does not reach.
void setBlasThreads(int n) {
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t n = a.integer(0);
  if (n < 1 || n > 1024) throw Napi::RangeError::New(info.Env(), "setNumThreads: expected an integer in 1..1024, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  setBlasThreads(static_cast<int>(n));
  return info.Env().Undefined();
}
Napi::Value getNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? static_cast<double>(at::detail::getCUDAHooks().getNumGPUs()) : 0.0);
}
Napi::Value version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }
Napi::Value config(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), at::show_config()); }

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  // One intra-op thread per process unless told otherwise: a study runs trials in parallel processes.
  const char* threads = std::getenv("SGDLAB_NUM_THREADS");
  int n = threads ? std::atoi(threads) : 1;
  if (n < 1) n = 1;
  at::set_num_threads(n);
  setBlasThreads(n);

  SGDLAB_EXPORT(exports, env, "setNumThreads", setNumThreads);
  SGDLAB_EXPORT(exports, env, "getNumThreads", getNumThreads);
  SGDLAB_EXPORT(exports, env, "cudaDeviceCount", cudaDeviceCount);
  SGDLAB_EXPORT(exports, env, "version", version);
  SGDLAB_EXPORT(exports, env, "config", config);
  registerCreation(env, exports);
  registerQueries(env, exports);
  registerViews(env, exports);
  registerMath(env, exports);
  registerNN(env, exports);
  registerAutograd(env, exports);
  return exports;
}

}  // namespace sgdlab

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return sgdlab::init(env, exports); }
NODE_API_MODULE(sgdlab_torch, Init)
