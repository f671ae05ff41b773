#include "handle.h"

#include <cmath>
#include <limits>
#include <unordered_set>

namespace sgdlab {
namespace {

constexpr napi_type_tag kGeneratorTag = {0x5347444c41424745ULL, 0x4e45524154303031ULL};
constexpr uint64_t kSlotBits = 22;
constexpr uint64_t kMaxSlots = 1ULL << kSlotBits;
constexpr uint64_t kMaxGeneration = 1ULL << 31;  // keeps ids below 2^53, exact as doubles

struct Slot {
  at::Tensor tensor;          // undefined when free
  uint32_t generation = 0;
  int64_t externalBytes = 0;  // bytes announced to V8 for this slot
};

// The table of live tensors. Only the JavaScript thread touches it.
struct Table {
  std::vector<Slot> slots;
  std::vector<uint32_t> free;
  int64_t live = 0;
};
Table& table() {
  static Table t;
  return t;
}

int64_t storageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// The slot a JavaScript value names, or nullptr if it is not a live handle.
Slot* lookup(const Napi::Value& v) {
  if (!v.IsNumber()) return nullptr;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || std::floor(d) != d) return nullptr;
  uint64_t id = static_cast<uint64_t>(d);
  uint64_t index = id & (kMaxSlots - 1);
  uint64_t generation = id >> kSlotBits;
  Table& t = table();
  if (index >= t.slots.size()) return nullptr;
  Slot& slot = t.slots[index];
  if (slot.generation != generation || !slot.tensor.defined()) return nullptr;
  return &slot;
}

void tag(Napi::Env env, napi_value value, const napi_type_tag* typeTag) {
  napi_status status = napi_type_tag_object(env, value, typeTag);
  if (status != napi_ok) throw Napi::Error::New(env, "sgdlab: could not tag a native handle");
}

bool hasTag(Napi::Env env, napi_value value, const napi_type_tag* typeTag) {
  bool result = false;
  if (napi_check_object_type_tag(env, value, typeTag, &result) != napi_ok) return false;
  return result;
}

}  // namespace

Napi::Error torchError(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_TORCH"));
  return error;
}

bool release(Napi::Env env, const Napi::Value& id) {
  Slot* slot = lookup(id);
  if (slot == nullptr) return false;
  Table& t = table();
  slot->tensor.reset();
  if (slot->externalBytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -slot->externalBytes);
  slot->externalBytes = 0;
  slot->generation = static_cast<uint32_t>((slot->generation + 1) % kMaxGeneration);
  t.free.push_back(static_cast<uint32_t>(slot - t.slots.data()));
  t.live--;
  return true;
}

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Undefined();
  Table& t = table();
  uint32_t index;
  if (!t.free.empty()) {
    index = t.free.back();
    t.free.pop_back();
  } else {
    if (t.slots.size() >= kMaxSlots) throw std::runtime_error("too many live tensors (4,194,304); dispose tensors or use tidy()");
    index = static_cast<uint32_t>(t.slots.size());
    t.slots.emplace_back();
  }
  Slot& slot = t.slots[index];
  slot.tensor = std::move(tensor);
  // Announce only storages this handle is the sole owner of, so views do not count twice.
  if (slot.tensor.has_storage() && slot.tensor.storage().use_count() == 1) {
    slot.externalBytes = storageBytes(slot.tensor);
    if (slot.externalBytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, slot.externalBytes);
  }
  t.live++;
  double id = static_cast<double>((static_cast<uint64_t>(slot.generation) << kSlotBits) | index);
  return Napi::Number::New(env, id);
}

Napi::Value wrapOptional(Napi::Env env, const at::Tensor& tensor) {
  return tensor.defined() ? wrap(env, tensor) : env.Undefined();
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array array = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) array.Set(static_cast<uint32_t>(i), wrapOptional(env, tensors[i]));
  return array;
}

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator) {
  auto* owned = new at::Generator(std::move(generator));
  auto external = Napi::External<at::Generator>::New(env, owned, [](Napi::Env, at::Generator* g) { delete g; });
  tag(env, external, &kGeneratorTag);
  return external;
}

void disposeGenerator(Napi::Env env, Napi::Value handle) {
  if (!handle.IsExternal() || !hasTag(env, handle, &kGeneratorTag)) throw Napi::TypeError::New(env, "argument 0 is not a generator handle");
  // Releases the engine now (a CPU engine's state is about 5 kB, which V8 does not see); the empty holder
  // goes when the handle is collected. A Monte Carlo measurement makes hundreds of thousands of these.
  *handle.As<Napi::External<at::Generator>>().Data() = at::Generator();
}

MemoryStats memoryStats() {
  std::unordered_set<const void*> storages;
  int64_t bytes = 0;
  for (const Slot& slot : table().slots) {
    const at::Tensor& t = slot.tensor;
    if (!t.defined() || !t.has_storage()) continue;
    if (storages.insert(t.storage().unsafeGetStorageImpl()).second) bytes += storageBytes(t);
  }
  return {table().live, bytes};
}

// ---- Args ----

void Args::bad(size_t i, const char* expected) const {
  std::string got = "missing";
  if (i < info_.Length()) {
    napi_valuetype type = info_[i].Type();
    static const char* names[] = {"undefined", "null", "boolean", "number", "string", "symbol", "object", "function", "external", "bigint"};
    got = (type >= 0 && type <= napi_bigint) ? names[type] : "unknown";
  }
  throw Napi::TypeError::New(info_.Env(), "argument " + std::to_string(i) + ": expected " + expected + ", got " + got);
}

bool Args::isNullish(size_t i) const { return i >= info_.Length() || info_[i].IsUndefined() || info_[i].IsNull(); }

bool Args::isTensor(size_t i) const { return i < info_.Length() && lookup(info_[i]) != nullptr; }

const at::Tensor& Args::tensor(size_t i) const {
  Slot* slot = i < info_.Length() ? lookup(info_[i]) : nullptr;
  if (slot == nullptr) {
    if (i < info_.Length() && info_[i].IsNumber()) throw Napi::Error::New(info_.Env(), "argument " + std::to_string(i) + ": not a live tensor (disposed, or not a handle)");
    bad(i, "a tensor handle");
  }
  return slot->tensor;
}

Opt<at::Tensor> Args::optionalTensor(size_t i) const {
  if (isNullish(i)) return kNone;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensorList(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) bad(i, "an array of tensors");
  Napi::Array array = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Slot* slot = lookup(array.Get(k));
    if (slot == nullptr) throw Napi::TypeError::New(info_.Env(), "argument " + std::to_string(i) + ": element " + std::to_string(k) + " is not a live tensor handle");
    out.push_back(slot->tensor);
  }
  return out;
}

double Args::number(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) bad(i, "a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

int64_t Args::integer(size_t i) const {
  double v = number(i);
  if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9007199254740991.0) bad(i, "an integer");
  return static_cast<int64_t>(v);
}

bool Args::boolean(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) bad(i, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) bad(i, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

at::Scalar Args::scalar(size_t i) const {
  if (i < info_.Length() && info_[i].IsBoolean()) return at::Scalar(info_[i].As<Napi::Boolean>().Value());
  double v = number(i);
  // JavaScript has one number type; integral values act as Python ints do in type promotion.
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 9007199254740991.0) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

Opt<at::Scalar> Args::optionalScalar(size_t i) const {
  if (isNullish(i)) return kNone;
  return scalar(i);
}

std::vector<int64_t> Args::intList(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) bad(i, "an array of integers");
  Napi::Array array = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) bad(i, "an array of integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) bad(i, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

Opt<std::vector<int64_t>> Args::optionalIntList(size_t i) const {
  if (isNullish(i)) return kNone;
  return intList(i);
}

at::ScalarType Args::dtype(size_t i) const {
  int64_t code = integer(i);
  switch (static_cast<at::ScalarType>(code)) {
    case at::kFloat: case at::kDouble: case at::kLong: case at::kInt: case at::kByte: case at::kBool:
      return static_cast<at::ScalarType>(code);
    default:
      bad(i, "a dtype code of float32, float64, int64, int32, uint8 or bool");
  }
}

Opt<at::ScalarType> Args::optionalDtype(size_t i) const {
  if (isNullish(i)) return kNone;
  return dtype(i);
}

at::Device Args::device(size_t i) const { return at::Device(string(i)); }

Opt<at::Device> Args::optionalDevice(size_t i) const {
  if (isNullish(i)) return kNone;
  return device(i);
}

// The generator behind a handle, or nullptr where v is not one; a disposed generator is refused by name.
const at::Generator* Args::generatorAt(Napi::Value v, const std::string& where) const {
  if (!v.IsExternal() || !hasTag(info_.Env(), v, &kGeneratorTag)) return nullptr;
  const at::Generator* g = v.As<Napi::External<at::Generator>>().Data();
  if (!g->defined()) throw Napi::Error::New(info_.Env(), where + " is a generator that was disposed");
  return g;
}

Opt<at::Generator> Args::generator(size_t i) const {
  if (isNullish(i)) return kNone;
  const at::Generator* g = generatorAt(info_[i], "argument " + std::to_string(i));
  if (g == nullptr) bad(i, "a generator handle");
  return *g;
}

at::Generator Args::requiredGenerator(size_t i) const {
  auto g = generator(i);
  if (!g) bad(i, "a generator handle");
  return *g;
}

std::vector<at::Generator> Args::generatorList(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) bad(i, "an array of generator handles");
  Napi::Array array = info_[i].As<Napi::Array>();
  std::vector<at::Generator> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    const std::string where = "argument " + std::to_string(i) + ": element " + std::to_string(k);
    const at::Generator* g = generatorAt(array.Get(k), where);
    if (g == nullptr) throw Napi::TypeError::New(info_.Env(), where + " is not a generator handle");
    out.push_back(*g);
  }
  return out;
}

}  // namespace sgdlab
