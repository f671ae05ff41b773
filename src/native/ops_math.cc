// Elementwise arithmetic (with broadcasting and scalars), reductions, linear algebra,
// in-place updates for optimizers, and sums over lists of tensors (whole parameter vectors).
#include "handle.h"

namespace sgdlab {
namespace {

#define ENV info.Env()

// Binary ops whose second operand is a tensor or a JavaScript number: name(a, b, bIsScalar).
// Tensor handles are numbers too, so the caller says which one b is.
#define BINARY(name, call)                                       \
  Napi::Value name(const Napi::CallbackInfo& info) {             \
    Args a(info);                                                \
    const at::Tensor& x = a.tensor(0);                           \
    if (!a.scalarFlag(2)) {                                      \
      const at::Tensor& y = a.tensor(1);                         \
      return wrap(ENV, call);                                    \
    }                                                            \
    at::Scalar y = a.scalar(1);                                  \
    return wrap(ENV, call);                                      \
  }

BINARY(mul, at::mul(x, y))
BINARY(div, at::div(x, y))
BINARY(pow, at::pow(x, y))
BINARY(remainder, at::remainder(x, y))
BINARY(eq, at::eq(x, y))
BINARY(ne, at::ne(x, y))
BINARY(lt, at::lt(x, y))
BINARY(le, at::le(x, y))
BINARY(gt, at::gt(x, y))
BINARY(ge, at::ge(x, y))

// add(a, b, alpha, bIsScalar) = a + alpha * b; sub(a, b, alpha, bIsScalar) = a - alpha * b
Napi::Value add(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Scalar alpha = a.isNullish(2) ? at::Scalar(1) : a.scalar(2);
  if (!a.scalarFlag(3)) return wrap(ENV, at::add(a.tensor(0), a.tensor(1), alpha));
  return wrap(ENV, at::add(a.tensor(0), a.scalar(1), alpha));
}
Napi::Value sub(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Scalar alpha = a.isNullish(2) ? at::Scalar(1) : a.scalar(2);
  if (!a.scalarFlag(3)) return wrap(ENV, at::sub(a.tensor(0), a.tensor(1), alpha));
  return wrap(ENV, at::sub(a.tensor(0), a.scalar(1), alpha));
}
// rsub(t, s) = s - t
Napi::Value rsub(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::rsub(a.tensor(0), a.scalar(1))); }
Napi::Value maximum(const Napi::CallbackInfo& info) {
  Args a(info);
  if (!a.scalarFlag(2)) return wrap(ENV, at::maximum(a.tensor(0), a.tensor(1)));
  return wrap(ENV, at::clamp_min(a.tensor(0), a.scalar(1)));
}
Napi::Value minimum(const Napi::CallbackInfo& info) {
  Args a(info);
  if (!a.scalarFlag(2)) return wrap(ENV, at::minimum(a.tensor(0), a.tensor(1)));
  return wrap(ENV, at::clamp_max(a.tensor(0), a.scalar(1)));
}

#define UNARY(name, fn) \
  Napi::Value name(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, fn(a.tensor(0))); }

UNARY(neg, at::neg)
UNARY(exp, at::exp)
UNARY(log, at::log)
UNARY(log1p, at::log1p)
UNARY(expm1, at::expm1)
UNARY(sqrt, at::sqrt)
UNARY(rsqrt, at::rsqrt)
UNARY(abs, at::abs)
UNARY(sign, at::sign)
UNARY(square, at::square)
UNARY(reciprocal, at::reciprocal)
UNARY(sin, at::sin)
UNARY(cos, at::cos)
UNARY(floor, at::floor)
UNARY(ceil, at::ceil)
UNARY(round, at::round)
UNARY(erf, at::erf)
UNARY(isnan, at::isnan)
UNARY(isfinite, at::isfinite)
UNARY(logicalNot, at::logical_not)

// clamp(t, min|null, max|null)
Napi::Value clamp(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, at::clamp(a.tensor(0), a.optionalScalar(1), a.optionalScalar(2)));
}
// where(condition, a, b, aIsScalar, bIsScalar)
Napi::Value where(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& c = a.tensor(0);
  bool tx = !a.scalarFlag(3), ty = !a.scalarFlag(4);
  if (tx && ty) return wrap(ENV, at::where(c, a.tensor(1), a.tensor(2)));
  if (tx) return wrap(ENV, at::where(c, a.tensor(1), a.scalar(2)));
  if (ty) return wrap(ENV, at::where(c, a.scalar(1), a.tensor(2)));
  return wrap(ENV, at::where(c, a.scalar(1), a.scalar(2)));
}

// ---- reductions: dims = null reduces over every dimension ----

// sum(t, dims|null, keepdim, dtype|null)
Napi::Value sum(const Napi::CallbackInfo& info) {
  Args a(info);
  auto dims = a.optionalIntList(1);
  if (!dims) return wrap(ENV, at::sum(a.tensor(0), a.optionalDtype(3)));
  return wrap(ENV, at::sum(a.tensor(0), *dims, a.boolean(2), a.optionalDtype(3)));
}
Napi::Value mean(const Napi::CallbackInfo& info) {
  Args a(info);
  auto dims = a.optionalIntList(1);
  if (!dims) return wrap(ENV, at::mean(a.tensor(0)));
  return wrap(ENV, at::mean(a.tensor(0), *dims, a.boolean(2)));
}
Napi::Value prod(const Napi::CallbackInfo& info) {
  Args a(info);
  if (a.isNullish(1)) return wrap(ENV, at::prod(a.tensor(0)));
  return wrap(ENV, at::prod(a.tensor(0), a.integer(1), a.boolean(2)));
}
// The correction argument of var/std: int? in 1.13, Scalar? since 2.0 (native_functions.yaml, var.correction).
#if SGDLAB_TORCH_AT_LEAST(2, 0)
Opt<at::Scalar> correction(const Args& a, size_t i) { return Opt<at::Scalar>(at::Scalar(a.integer(i))); }
#else
Opt<int64_t> correction(const Args& a, size_t i) { return Opt<int64_t>(a.integer(i)); }
#endif
// var(t, dims|null, correction, keepdim); std likewise. correction 1 is Bessel's (unbiased).
Napi::Value var(const Napi::CallbackInfo& info) {
  Args a(info);
  auto dims = a.optionalIntList(1);
  at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
  return wrap(ENV, at::var(a.tensor(0), dimRef, correction(a, 2), a.boolean(3)));
}
Napi::Value stdDev(const Napi::CallbackInfo& info) {
  Args a(info);
  auto dims = a.optionalIntList(1);
  at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
  return wrap(ENV, at::std(a.tensor(0), dimRef, correction(a, 2), a.boolean(3)));
}
Napi::Value maxAll(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::max(a.tensor(0))); }
Napi::Value minAll(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::min(a.tensor(0))); }
// maxDim(t, dim, keepdim) -> [values, indices]
Napi::Value maxDim(const Napi::CallbackInfo& info) {
  Args a(info);
  auto r = at::max(a.tensor(0), a.integer(1), a.boolean(2));
  return wrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value minDim(const Napi::CallbackInfo& info) {
  Args a(info);
  auto r = at::min(a.tensor(0), a.integer(1), a.boolean(2));
  return wrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
// argmax(t, dim|null, keepdim)
Napi::Value argmax(const Napi::CallbackInfo& info) {
  Args a(info);
  Opt<int64_t> dim = a.isNullish(1) ? kNone : Opt<int64_t>(a.integer(1));
  return wrap(ENV, at::argmax(a.tensor(0), dim, a.boolean(2)));
}
Napi::Value argmin(const Napi::CallbackInfo& info) {
  Args a(info);
  Opt<int64_t> dim = a.isNullish(1) ? kNone : Opt<int64_t>(a.integer(1));
  return wrap(ENV, at::argmin(a.tensor(0), dim, a.boolean(2)));
}
// norm(t, p, dims|null, keepdim): the vector p-norm (p may be Infinity).
Napi::Value norm(const Napi::CallbackInfo& info) {
  Args a(info);
  auto dims = a.optionalIntList(2);
  at::OptionalIntArrayRef dimRef = dims ? at::OptionalIntArrayRef(*dims) : at::OptionalIntArrayRef();
  return wrap(ENV, at::linalg_vector_norm(a.tensor(0), at::Scalar(a.number(1)), dimRef, a.boolean(3)));
}
// logsumexp(t, dims, keepdim)
Napi::Value logsumexp(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::logsumexp(a.tensor(0), a.intList(1), a.boolean(2))); }
Napi::Value cumsum(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::cumsum(a.tensor(0), a.integer(1))); }

// ---- linear algebra ----

Napi::Value matmul(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::matmul(a.tensor(0), a.tensor(1))); }
Napi::Value mm(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::mm(a.tensor(0), a.tensor(1))); }
Napi::Value bmm(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::bmm(a.tensor(0), a.tensor(1))); }
Napi::Value dot(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::dot(a.tensor(0), a.tensor(1))); }
Napi::Value outer(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::outer(a.tensor(0), a.tensor(1))); }
// eigh(t) -> [eigenvalues ascending, eigenvectors as columns]
Napi::Value eigh(const Napi::CallbackInfo& info) {
  Args a(info);
  auto r = at::linalg_eigh(a.tensor(0));
  return wrapList(ENV, {std::get<0>(r), std::get<1>(r)});
}
Napi::Value pinv(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::linalg_pinv(a.tensor(0))); }
Napi::Value solve(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::linalg_solve(a.tensor(0), a.tensor(1))); }

// ---- in place: return nothing; the TypeScript side returns the receiver ----

// name(t, other, otherIsScalar)
#define INPLACE_BINARY(name, method)                                 \
  Napi::Value name(const Napi::CallbackInfo& info) {                 \
    Args a(info);                                                    \
    at::Tensor t = a.tensor(0);                                      \
    if (!a.scalarFlag(2)) t.method(a.tensor(1));                     \
    else t.method(a.scalar(1));                                      \
    return ENV.Undefined();                                          \
  }

INPLACE_BINARY(mul_, mul_)
INPLACE_BINARY(div_, div_)

// add_(t, other, alpha, otherIsScalar): t += alpha * other
Napi::Value add_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  at::Scalar alpha = a.isNullish(2) ? at::Scalar(1) : a.scalar(2);
  if (!a.scalarFlag(3)) t.add_(a.tensor(1), alpha);
  else t.add_(a.scalar(1), alpha);
  return ENV.Undefined();
}
Napi::Value sub_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  at::Scalar alpha = a.isNullish(2) ? at::Scalar(1) : a.scalar(2);
  if (!a.scalarFlag(3)) t.sub_(a.tensor(1), alpha);
  else t.sub_(a.scalar(1), alpha);
  return ENV.Undefined();
}
// addcmul_(t, a, b, value): t += value * a * b;  addcdiv_: t += value * a / b
Napi::Value addcmul_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.addcmul_(a.tensor(1), a.tensor(2), a.scalar(3));
  return ENV.Undefined();
}
Napi::Value addcdiv_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.addcdiv_(a.tensor(1), a.tensor(2), a.scalar(3));
  return ENV.Undefined();
}
Napi::Value copy_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.copy_(a.tensor(1));
  return ENV.Undefined();
}
Napi::Value zero_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.zero_();
  return ENV.Undefined();
}
Napi::Value fill_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.fill_(a.scalar(1));
  return ENV.Undefined();
}
Napi::Value clamp_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.clamp_(a.optionalScalar(1), a.optionalScalar(2));
  return ENV.Undefined();
}
Napi::Value sqrt_(const Napi::CallbackInfo& info) {
  Args a(info);
  at::Tensor t = a.tensor(0);
  t.sqrt_();
  return ENV.Undefined();
}

// ---- lists of tensors: one parameter vector split across tensors ----

void checkSameLength(const std::vector<at::Tensor>& x, const std::vector<at::Tensor>& y, const char* op) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(std::string(op) + ": the lists differ in length (" + std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
  }
}

// listDot(xs, ys) = Σ_i <x_i, y_i> as a 0-dim tensor (differentiable)
Napi::Value listDot(const Napi::CallbackInfo& info) {
  Args a(info);
  auto xs = a.tensorList(0), ys = a.tensorList(1);
  checkSameLength(xs, ys, "listDot");
  if (xs.empty()) throw std::invalid_argument("listDot: the lists are empty");
  at::Tensor total = at::sum(at::mul(xs[0], ys[0]));
  for (size_t i = 1; i < xs.size(); ++i) total = total + at::sum(at::mul(xs[i], ys[i]));
  return wrap(ENV, total);
}
// listNorm(xs, p): the p-norm of the concatenation of all entries (differentiable)
Napi::Value listNorm(const Napi::CallbackInfo& info) {
  Args a(info);
  auto xs = a.tensorList(0);
  if (xs.empty()) throw std::invalid_argument("listNorm: the list is empty");
  at::Scalar p(a.number(1));
  std::vector<at::Tensor> norms;
  norms.reserve(xs.size());
  for (const auto& x : xs) norms.push_back(at::linalg_vector_norm(x, p));
  return wrap(ENV, at::linalg_vector_norm(at::stack(norms), p));
}
// listAdd_(xs, ys, alpha): x_i += alpha * y_i
Napi::Value listAdd_(const Napi::CallbackInfo& info) {
  Args a(info);
  auto xs = a.tensorList(0), ys = a.tensorList(1);
  checkSameLength(xs, ys, "listAdd_");
  at::Scalar alpha = a.scalar(2);
  for (size_t i = 0; i < xs.size(); ++i) xs[i].add_(ys[i], alpha);
  return ENV.Undefined();
}
// listMul_(xs, s): x_i *= s
Napi::Value listMul_(const Napi::CallbackInfo& info) {
  Args a(info);
  auto xs = a.tensorList(0);
  at::Scalar s = a.scalar(1);
  for (auto& x : xs) x.mul_(s);
  return ENV.Undefined();
}
// listCopy_(xs, ys): x_i <- y_i
Napi::Value listCopy_(const Napi::CallbackInfo& info) {
  Args a(info);
  auto xs = a.tensorList(0), ys = a.tensorList(1);
  checkSameLength(xs, ys, "listCopy_");
  for (size_t i = 0; i < xs.size(); ++i) xs[i].copy_(ys[i]);
  return ENV.Undefined();
}

}  // namespace

void registerMath(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "add", add);
  SGDLAB_EXPORT(exports, env, "sub", sub);
  SGDLAB_EXPORT(exports, env, "rsub", rsub);
  SGDLAB_EXPORT(exports, env, "mul", mul);
  SGDLAB_EXPORT(exports, env, "div", div);
  SGDLAB_EXPORT(exports, env, "pow", pow);
  SGDLAB_EXPORT(exports, env, "remainder", remainder);
  SGDLAB_EXPORT(exports, env, "maximum", maximum);
  SGDLAB_EXPORT(exports, env, "minimum", minimum);
  SGDLAB_EXPORT(exports, env, "eq", eq);
  SGDLAB_EXPORT(exports, env, "ne", ne);
  SGDLAB_EXPORT(exports, env, "lt", lt);
  SGDLAB_EXPORT(exports, env, "le", le);
  SGDLAB_EXPORT(exports, env, "gt", gt);
  SGDLAB_EXPORT(exports, env, "ge", ge);
  SGDLAB_EXPORT(exports, env, "neg", neg);
  SGDLAB_EXPORT(exports, env, "exp", exp);
  SGDLAB_EXPORT(exports, env, "log", log);
  SGDLAB_EXPORT(exports, env, "log1p", log1p);
  SGDLAB_EXPORT(exports, env, "expm1", expm1);
  SGDLAB_EXPORT(exports, env, "sqrt", sqrt);
  SGDLAB_EXPORT(exports, env, "rsqrt", rsqrt);
  SGDLAB_EXPORT(exports, env, "abs", abs);
  SGDLAB_EXPORT(exports, env, "sign", sign);
  SGDLAB_EXPORT(exports, env, "square", square);
  SGDLAB_EXPORT(exports, env, "reciprocal", reciprocal);
  SGDLAB_EXPORT(exports, env, "sin", sin);
  SGDLAB_EXPORT(exports, env, "cos", cos);
  SGDLAB_EXPORT(exports, env, "floor", floor);
  SGDLAB_EXPORT(exports, env, "ceil", ceil);
  SGDLAB_EXPORT(exports, env, "round", round);
  SGDLAB_EXPORT(exports, env, "erf", erf);
  SGDLAB_EXPORT(exports, env, "isnan", isnan);
  SGDLAB_EXPORT(exports, env, "isfinite", isfinite);
  SGDLAB_EXPORT(exports, env, "logicalNot", logicalNot);
  SGDLAB_EXPORT(exports, env, "clamp", clamp);
  SGDLAB_EXPORT(exports, env, "where", where);
  SGDLAB_EXPORT(exports, env, "sum", sum);
  SGDLAB_EXPORT(exports, env, "mean", mean);
  SGDLAB_EXPORT(exports, env, "prod", prod);
  SGDLAB_EXPORT(exports, env, "var", var);
  SGDLAB_EXPORT(exports, env, "std", stdDev);
  SGDLAB_EXPORT(exports, env, "maxAll", maxAll);
  SGDLAB_EXPORT(exports, env, "minAll", minAll);
  SGDLAB_EXPORT(exports, env, "maxDim", maxDim);
  SGDLAB_EXPORT(exports, env, "minDim", minDim);
  SGDLAB_EXPORT(exports, env, "argmax", argmax);
  SGDLAB_EXPORT(exports, env, "argmin", argmin);
  SGDLAB_EXPORT(exports, env, "norm", norm);
  SGDLAB_EXPORT(exports, env, "logsumexp", logsumexp);
  SGDLAB_EXPORT(exports, env, "cumsum", cumsum);
  SGDLAB_EXPORT(exports, env, "matmul", matmul);
  SGDLAB_EXPORT(exports, env, "mm", mm);
  SGDLAB_EXPORT(exports, env, "bmm", bmm);
  SGDLAB_EXPORT(exports, env, "dot", dot);
  SGDLAB_EXPORT(exports, env, "outer", outer);
  SGDLAB_EXPORT(exports, env, "eigh", eigh);
  SGDLAB_EXPORT(exports, env, "pinv", pinv);
  SGDLAB_EXPORT(exports, env, "solve", solve);
  SGDLAB_EXPORT(exports, env, "add_", add_);
  SGDLAB_EXPORT(exports, env, "sub_", sub_);
  SGDLAB_EXPORT(exports, env, "mul_", mul_);
  SGDLAB_EXPORT(exports, env, "div_", div_);
  SGDLAB_EXPORT(exports, env, "addcmul_", addcmul_);
  SGDLAB_EXPORT(exports, env, "addcdiv_", addcdiv_);
  SGDLAB_EXPORT(exports, env, "copy_", copy_);
  SGDLAB_EXPORT(exports, env, "zero_", zero_);
  SGDLAB_EXPORT(exports, env, "fill_", fill_);
  SGDLAB_EXPORT(exports, env, "clamp_", clamp_);
  SGDLAB_EXPORT(exports, env, "sqrt_", sqrt_);
  SGDLAB_EXPORT(exports, env, "listDot", listDot);
  SGDLAB_EXPORT(exports, env, "listNorm", listNorm);
  SGDLAB_EXPORT(exports, env, "listAdd_", listAdd_);
  SGDLAB_EXPORT(exports, env, "listMul_", listMul_);
  SGDLAB_EXPORT(exports, env, "listCopy_", listCopy_);
}

}  // namespace sgdlab
