// Module entry: runtime controls (threads, devices, version) and registration of every op file.
#include "handle.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/cuda.h>
#include <dlfcn.h>
#include <malloc.h>
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

// torch::cuda (the C++ frontend's torch/cuda.h, in libtorch_cpu) rather than ATen's CUDA hooks: the
// hooks interface changed across 2.x (deviceCount() beside getNumGPUs()), torch::cuda::device_count()
// has kept its meaning since 1.x (its return type went from size_t to c10::DeviceIndex); 0 without CUDA.
Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}
// cudaSynchronize(): waits for every kernel queued on the current CUDA device (for timing); no-op without CUDA.
Napi::Value cudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}
Napi::Value version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }
Napi::Value config(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), at::show_config()); }

// Training allocates and frees the same large activations every step. With glibc's defaults,
// freed blocks above the dynamic mmap threshold go back to the OS and are faulted in again on
// the next step: a CNN step at batch 256 took ~600k page faults per few hundred steps and ~15%
// longer. Keep them in the heap instead (the CPU analogue of PyTorch's CUDA caching allocator).
// SGDLAB_MALLOC_DEFAULTS=1 keeps glibc's behaviour.
void keepFreedMemory() {
  if (std::getenv("SGDLAB_MALLOC_DEFAULTS") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  keepFreedMemory();
  // One intra-op thread per process unless told otherwise: a study runs trials in parallel processes.
  const char* threads = std::getenv("SGDLAB_NUM_THREADS");
  int n = threads ? std::atoi(threads) : 1;
  if (n < 1) n = 1;
  at::set_num_threads(n);
  setBlasThreads(n);

  SGDLAB_EXPORT(exports, env, "setNumThreads", setNumThreads);
  SGDLAB_EXPORT(exports, env, "getNumThreads", getNumThreads);
  SGDLAB_EXPORT(exports, env, "cudaDeviceCount", cudaDeviceCount);
  SGDLAB_EXPORT(exports, env, "cudaSynchronize", cudaSynchronize);
  SGDLAB_EXPORT(exports, env, "version", version);
  SGDLAB_EXPORT(exports, env, "config", config);
  registerCreation(env, exports);
  registerQueries(env, exports);
  registerViews(env, exports);
  registerMath(env, exports);
  registerNN(env, exports);
  registerAutograd(env, exports);
  registerLbfgsb(env, exports);
  return exports;
}

}  // namespace sgdlab

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return sgdlab::init(env, exports); }
NODE_API_MODULE(sgdlab_torch, Init)
