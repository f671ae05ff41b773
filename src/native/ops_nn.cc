// Neural-network functions: layers, activations, losses. Same kernels as torch.nn.functional.
#include "handle.h"

namespace sgdlab {
namespace {

#define ENV info.Env()

int64_t reduction(const Args& a, size_t i) {
  int64_t r = a.integer(i);  // 0 none, 1 mean, 2 sum (at::Reduction)
  if (r < 0 || r > 2) throw std::invalid_argument("reduction code must be 0 (none), 1 (mean) or 2 (sum), got " + std::to_string(r));
  return r;
}

// linear(x, weight, bias|null) = x Wᵀ + b
Napi::Value linear(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::linear(a.tensor(0), a.tensor(1), a.optionalTensor(2))); }
// conv2d(x, weight, bias|null, stride[2], padding[2], dilation[2], groups)
Napi::Value conv2d(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::conv2d(a.tensor(0), a.tensor(1), a.optionalTensor(2), a.intList(3), a.intList(4), a.intList(5), a.integer(6)));
}
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value maxPool2d(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::max_pool2d(a.tensor(0), a.intList(1), a.intList(2), a.intList(3), a.intList(4), a.boolean(5)));
}
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
Napi::Value avgPool2d(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::avg_pool2d(a.tensor(0), a.intList(1), a.intList(2), a.intList(3), a.boolean(4), a.boolean(5)));
}
// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps)
// In training mode the running statistics are updated in place, as in PyTorch.
Napi::Value batchNorm(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::batch_norm(a.tensor(0), a.optionalTensor(1), a.optionalTensor(2), a.optionalTensor(3), a.optionalTensor(4),
                                  a.boolean(5), a.number(6), a.number(7), /*cudnn_enabled=*/true));
}
// dropout(x, p, training, generator|null): inverted dropout with a mask drawn from the given generator,
// so that runs are reproducible from their seed (at::dropout draws from the global generator).
Napi::Value dropout(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& x = a.tensor(0);
  double p = a.number(1);
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!a.boolean(2) || p == 0.0) return wrap(ENV, x.alias());
  if (p == 1.0) return wrap(ENV, x * 0);
  at::Tensor mask = at::empty_like(x, x.options().device(at::kCPU).requires_grad(false));
  mask.bernoulli_(1.0 - p, a.generator(3));
  mask.div_(1.0 - p);
  return wrap(ENV, x * mask.to(x.device()));
}
Napi::Value relu(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::relu(a.tensor(0))); }
Napi::Value tanh(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::tanh(a.tensor(0))); }
Napi::Value sigmoid(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::sigmoid(a.tensor(0))); }
// gelu(x, approximate: 'none' | 'tanh')
Napi::Value gelu(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::gelu(a.tensor(0), a.string(1))); }
// softplus(x, beta, threshold)
Napi::Value softplus(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::softplus(a.tensor(0), a.scalar(1), a.scalar(2))); }
Napi::Value leakyRelu(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::leaky_relu(a.tensor(0), a.scalar(1))); }
Napi::Value softmax(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::softmax(a.tensor(0), a.integer(1))); }
Napi::Value logSoftmax(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::log_softmax(a.tensor(0), a.integer(1))); }
// crossEntropy(logits, target, weight|null, reduction, ignoreIndex, labelSmoothing)
Napi::Value crossEntropy(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optionalTensor(2), reduction(a, 3), a.integer(4), a.number(5)));
}
// nllLoss(logProbs, target, weight|null, reduction, ignoreIndex)
Napi::Value nllLoss(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::nll_loss_nd(a.tensor(0), a.tensor(1), a.optionalTensor(2), reduction(a, 3), a.integer(4)));
}
// mseLoss(input, target, reduction)
Napi::Value mseLoss(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::mse_loss(a.tensor(0), a.tensor(1), reduction(a, 2))); }
// binaryCrossEntropyWithLogits(logits, target, reduction)
Napi::Value binaryCrossEntropyWithLogits(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), kNone, kNone, reduction(a, 2)));
}
// unfold(x, kernel[2], dilation[2], padding[2], stride[2]): im2col, as torch.nn.functional.unfold
Napi::Value unfold(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::im2col(a.tensor(0), a.intList(1), a.intList(2), a.intList(3), a.intList(4)));
}
// affineGrid(theta [N, 2, 3], size [N, C, H, W], alignCorners): the sampling grid [N, H, W, 2] of
// an affine map of normalized coordinates, as torch.nn.functional.affine_grid.
Napi::Value affineGrid(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::affine_grid_generator(a.tensor(0), a.intList(1), a.boolean(2)));
}
// gridSample(x [N, C, H, W], grid [N, H', W', 2], mode, paddingMode, alignCorners), as
// torch.nn.functional.grid_sample. mode: 0 bilinear, 1 nearest, 2 bicubic; padding: 0 zeros, 1 border, 2 reflection.
Napi::Value gridSample(const Napi::CallbackInfo& info) {
  Args a(info);
  int64_t mode = a.integer(2), padding = a.integer(3);
  if (mode < 0 || mode > 2) throw std::invalid_argument("gridSample: mode code must be 0 (bilinear), 1 (nearest) or 2 (bicubic), got " + std::to_string(mode));
  if (padding < 0 || padding > 2) throw std::invalid_argument("gridSample: padding code must be 0 (zeros), 1 (border) or 2 (reflection), got " + std::to_string(padding));
  return wrap(ENV, at::grid_sampler(a.tensor(0), a.tensor(1), mode, padding, a.boolean(4)));
}
// oneHot(indices, numClasses)
Napi::Value oneHot(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::one_hot(a.tensor(0), a.integer(1))); }

}  // namespace

void registerNN(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "linear", linear);
  SGDLAB_EXPORT(exports, env, "conv2d", conv2d);
  SGDLAB_EXPORT(exports, env, "maxPool2d", maxPool2d);
  SGDLAB_EXPORT(exports, env, "avgPool2d", avgPool2d);
  SGDLAB_EXPORT(exports, env, "batchNorm", batchNorm);
  SGDLAB_EXPORT(exports, env, "dropout", dropout);
  SGDLAB_EXPORT(exports, env, "relu", relu);
  SGDLAB_EXPORT(exports, env, "tanh", tanh);
  SGDLAB_EXPORT(exports, env, "sigmoid", sigmoid);
  SGDLAB_EXPORT(exports, env, "gelu", gelu);
  SGDLAB_EXPORT(exports, env, "softplus", softplus);
  SGDLAB_EXPORT(exports, env, "leakyRelu", leakyRelu);
  SGDLAB_EXPORT(exports, env, "softmax", softmax);
  SGDLAB_EXPORT(exports, env, "logSoftmax", logSoftmax);
  SGDLAB_EXPORT(exports, env, "crossEntropy", crossEntropy);
  SGDLAB_EXPORT(exports, env, "nllLoss", nllLoss);
  SGDLAB_EXPORT(exports, env, "mseLoss", mseLoss);
  SGDLAB_EXPORT(exports, env, "binaryCrossEntropyWithLogits", binaryCrossEntropyWithLogits);
  SGDLAB_EXPORT(exports, env, "oneHot", oneHot);
  SGDLAB_EXPORT(exports, env, "unfold", unfold);
  SGDLAB_EXPORT(exports, env, "affineGrid", affineGrid);
  SGDLAB_EXPORT(exports, env, "gridSample", gridSample);
}

}  // namespace sgdlab
