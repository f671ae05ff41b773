// Shape changes, views, indexing and joining. Each returns new handles; views share storage.
#include "handle.h"

namespace sgdlab {
namespace {

#define ENV info.Env()

Napi::Value reshape(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).reshape(a.intList(1))); }
Napi::Value view(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).view(a.intList(1))); }
Napi::Value flatten(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).flatten(a.integer(1), a.integer(2))); }
Napi::Value transpose(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).transpose(a.integer(1), a.integer(2))); }
Napi::Value permute(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).permute(a.intList(1))); }
Napi::Value squeeze(const Napi::CallbackInfo& info) {
  Args a(info);
  return wrap(ENV, a.isNullish(1) ? a.tensor(0).squeeze() : a.tensor(0).squeeze(a.integer(1)));
}
Napi::Value unsqueeze(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).unsqueeze(a.integer(1))); }
// narrow(t, dim, start, length)
Napi::Value narrow(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).narrow(a.integer(1), a.integer(2), a.integer(3))); }
// slice(t, dim, start|null, end|null, step)
Napi::Value slice(const Napi::CallbackInfo& info) {
  Args a(info);
  Opt<int64_t> start = a.isNullish(2) ? kNone : Opt<int64_t>(a.integer(2));
  Opt<int64_t> end = a.isNullish(3) ? kNone : Opt<int64_t>(a.integer(3));
  return wrap(ENV, a.tensor(0).slice(a.integer(1), start, end, a.integer(4)));
}
// select(t, dim, index)
Napi::Value select(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).select(a.integer(1), a.integer(2))); }
Napi::Value indexSelect(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).index_select(a.integer(1), a.tensor(2))); }
Napi::Value gather(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).gather(a.integer(1), a.tensor(2))); }
// scatterAdd(t, dim, index, src)
Napi::Value scatterAdd(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).scatter_add(a.integer(1), a.tensor(2), a.tensor(3))); }
Napi::Value maskedSelect(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).masked_select(a.tensor(1))); }
Napi::Value cat(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::cat(a.tensorList(0), a.integer(1))); }
Napi::Value stack(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::stack(a.tensorList(0), a.integer(1))); }
Napi::Value chunk(const Napi::CallbackInfo& info) { Args a(info); return wrapList(ENV, a.tensor(0).chunk(a.integer(1), a.integer(2))); }
// split(t, size | sizes, dim)
Napi::Value split(const Napi::CallbackInfo& info) {
  Args a(info);
  if (info[1].IsArray()) return wrapList(ENV, a.tensor(0).split_with_sizes(a.intList(1), a.integer(2)));
  return wrapList(ENV, a.tensor(0).split(a.integer(1), a.integer(2)));
}
Napi::Value expand(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).expand(a.intList(1))); }
Napi::Value repeat(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).repeat(a.intList(1))); }
Napi::Value flip(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).flip(a.intList(1))); }
// pad(t, pads, value): constant padding, pads as in torch.nn.functional.pad (last dim first).
Napi::Value pad(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, at::constant_pad_nd(a.tensor(0), a.intList(1), a.scalar(2))); }
Napi::Value contiguous(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).contiguous()); }
Napi::Value clone(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).clone()); }
Napi::Value detach(const Napi::CallbackInfo& info) { Args a(info); return wrap(ENV, a.tensor(0).detach()); }
// to(t, dtype|null, device|null)
Napi::Value to(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  at::ScalarType dtype = a.isNullish(1) ? t.scalar_type() : a.dtype(1);
  at::Device device = a.isNullish(2) ? t.device() : a.device(2);
  return wrap(ENV, t.to(device, dtype));
}

}  // namespace

void registerViews(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "reshape", reshape);
  SGDLAB_EXPORT(exports, env, "view", view);
  SGDLAB_EXPORT(exports, env, "flatten", flatten);
  SGDLAB_EXPORT(exports, env, "transpose", transpose);
  SGDLAB_EXPORT(exports, env, "permute", permute);
  SGDLAB_EXPORT(exports, env, "squeeze", squeeze);
  SGDLAB_EXPORT(exports, env, "unsqueeze", unsqueeze);
  SGDLAB_EXPORT(exports, env, "narrow", narrow);
  SGDLAB_EXPORT(exports, env, "slice", slice);
  SGDLAB_EXPORT(exports, env, "select", select);
  SGDLAB_EXPORT(exports, env, "indexSelect", indexSelect);
  SGDLAB_EXPORT(exports, env, "gather", gather);
  SGDLAB_EXPORT(exports, env, "scatterAdd", scatterAdd);
  SGDLAB_EXPORT(exports, env, "maskedSelect", maskedSelect);
  SGDLAB_EXPORT(exports, env, "cat", cat);
  SGDLAB_EXPORT(exports, env, "stack", stack);
  SGDLAB_EXPORT(exports, env, "chunk", chunk);
  SGDLAB_EXPORT(exports, env, "split", split);
  SGDLAB_EXPORT(exports, env, "expand", expand);
  SGDLAB_EXPORT(exports, env, "repeat", repeat);
  SGDLAB_EXPORT(exports, env, "flip", flip);
  SGDLAB_EXPORT(exports, env, "pad", pad);
  SGDLAB_EXPORT(exports, env, "contiguous", contiguous);
  SGDLAB_EXPORT(exports, env, "clone", clone);
  SGDLAB_EXPORT(exports, env, "detach", detach);
  SGDLAB_EXPORT(exports, env, "to", to);
}

}  // namespace sgdlab
