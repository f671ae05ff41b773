// L-BFGS-B 3.0 (Byrd, Lu, Nocedal & Zhu 1995; Morales & Nocedal 2011), Debian's liblbfgsb: the
// Fortran routine setulb_ that scipy's fmin_l_bfgs_b also drives, exposed as a reverse-communication
// step. The solver's whole state (x, bounds, the workspace wa/iwa, task/csave/lsave/isave/dsave)
// lives here; TypeScript evaluates f and g, hands them in, and decides when to stop. No experiment
// logic: each function below is one call of setulb_ (or none), with every argument checked first.
//
// Why the checks: setulb_ trusts its caller. Wrong sizes overrun its arrays; a first call whose
// task is not 'START' reads workspace offsets that were never set; NaN bounds or a NaN f pass its
// own input check (errclb) and poison the iterates; Fortran default integers are 32-bit, so a
// workspace over 2^31 doubles would wrap its index arithmetic. So sizes, bounds, f and g are
// validated before any call, the task string is owned here (JavaScript cannot set it except through
// stop), and the solver refuses to step once it has finished.
#include "handle.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>

// gfortran's calling convention (libgfortran5, gfortran ≥ 8): every argument by reference, LOGICAL
// as a 4-byte int, the lengths of the two CHARACTER*60 arguments appended as size_t. Debian's
// L-BFGS-B 3.0 has no maxls argument: its line search gives up after 20 trials (scipy's default maxls).
#ifndef SGDLAB_NO_LBFGSB
extern "C" void setulb_(const int* n, const int* m, double* x, const double* l, const double* u, const int* nbd, double* f, double* g,
                        const double* factr, const double* pgtol, double* wa, int* iwa, char* task, const int* iprint, char* csave,
                        int* lsave, int* isave, double* dsave, size_t taskLength, size_t csaveLength);
#else
// Built without liblbfgsb (scripts/build-addon.sh on a machine that lacks it, e.g. the GPU machine of
// scripts/device-check.sh): everything else works; a solver fails at its first step with this message.
namespace {
[[noreturn]] void setulb_(const int* n, const int* m, double* x, const double* l, const double* u, const int* nbd, double* f, double* g,
                        const double* factr, const double* pgtol, double* wa, int* iwa, char* task, const int* iprint, char* csave,
                        int* lsave, int* isave, double* dsave, size_t taskLength, size_t csaveLength) {
  throw std::runtime_error("L-BFGS-B is not available: this build of sgdlab's addon was linked without liblbfgsb (Debian's liblbfgsb-dev); rebuild with it to use sharpness by L-BFGS-B");
}
}  // namespace
#endif

namespace sgdlab {
namespace {

constexpr napi_type_tag kSolverTag = {0x5347444c41424c42ULL, 0x4647534253303031ULL};
constexpr size_t kTaskLength = 60;
constexpr int64_t kFortranIntMax = std::numeric_limits<int>::max();

struct Solver {
  int n = 0;
  int m = 0;
  double factr = 0;
  double pgtol = 0;
  double f = 0;
  std::vector<double> x, l, u, g, wa;
  std::vector<int> nbd, iwa;
  char task[kTaskLength];
  char csave[kTaskLength];
  int lsave[4] = {0, 0, 0, 0};
  int isave[44] = {};
  double dsave[29] = {};
  int64_t externalBytes = 0;
  int64_t supplied = 0;  // evaluations handed in so far
  bool disposed = false;

  std::string taskText() const {
    std::string s(task, kTaskLength);
    size_t end = s.find_last_not_of(' ');
    return end == std::string::npos ? std::string() : s.substr(0, end + 1);
  }
  void setTask(const std::string& text) {
    std::memset(task, ' ', kTaskLength);
    std::memcpy(task, text.data(), std::min(text.size(), kTaskLength));
  }
  bool startsWith(const char* prefix) const { return std::strncmp(task, prefix, std::strlen(prefix)) == 0; }
  void call() {
    const int iprint = -1;  // never print (the library writes to unit 6 otherwise)
    setulb_(&n, &m, x.data(), l.data(), u.data(), nbd.data(), &f, g.data(), &factr, &pgtol, wa.data(), iwa.data(), task, &iprint, csave,
            lsave, isave, dsave, kTaskLength, kTaskLength);
  }
  void release(Napi::Env env) {
    if (disposed) return;
    disposed = true;
    std::vector<double>().swap(x);
    std::vector<double>().swap(l);
    std::vector<double>().swap(u);
    std::vector<double>().swap(g);
    std::vector<double>().swap(wa);
    std::vector<int>().swap(nbd);
    std::vector<int>().swap(iwa);
    if (externalBytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes);
    externalBytes = 0;
  }
};

// Numbers as JavaScript prints them (NaN, Infinity), since the messages reach JavaScript users.
std::string describe(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

Napi::Float64Array float64Array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), std::string("L-BFGS-B: '") + name + "' must be a Float64Array");
  }
  return v.As<Napi::Float64Array>();
}

double finiteNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("L-BFGS-B: '") + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

Solver& solverOf(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  bool ours = false;
  if (v.IsExternal() && napi_check_object_type_tag(info.Env(), v, &kSolverTag, &ours) == napi_ok && ours) {
    Solver* s = v.As<Napi::External<Solver>>().Data();
    if (s->disposed) throw Napi::Error::New(info.Env(), "L-BFGS-B: this solver was disposed");
    return *s;
  }
  throw Napi::TypeError::New(info.Env(), "L-BFGS-B: argument 1 must be a solver from lbfgsbCreate");
}

// lbfgsbCreate(x0, lower, upper, m, factr, pgtol) → solver. ±Infinity bounds leave a side unbounded.
Napi::Value create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float64Array x0 = float64Array(info, 0, "x0");
  Napi::Float64Array lower = float64Array(info, 1, "lower");
  Napi::Float64Array upper = float64Array(info, 2, "upper");
  double m = finiteNumber(info, 3, "m");
  double factr = finiteNumber(info, 4, "factr");
  double pgtol = finiteNumber(info, 5, "pgtol");
  const int64_t n = static_cast<int64_t>(x0.ElementLength());
  if (n < 1) throw Napi::RangeError::New(env, "L-BFGS-B: x0 is empty (the problem needs at least one variable)");
  if (static_cast<int64_t>(lower.ElementLength()) != n || static_cast<int64_t>(upper.ElementLength()) != n) {
    throw Napi::RangeError::New(env, "L-BFGS-B: x0 has " + std::to_string(n) + " entries but lower has " + std::to_string(lower.ElementLength()) +
                                         " and upper " + std::to_string(upper.ElementLength()) + " (one bound of each kind per variable)");
  }
  if (!(m >= 1 && m <= 1000 && std::floor(m) == m)) throw Napi::RangeError::New(env, "L-BFGS-B: m (correction pairs kept) must be an integer in 1..1000, got " + describe(m));
  if (!(factr >= 0 && std::isfinite(factr))) throw Napi::RangeError::New(env, "L-BFGS-B: factr must be a finite number ≥ 0, got " + describe(factr));
  if (!(pgtol >= 0 && std::isfinite(pgtol))) throw Napi::RangeError::New(env, "L-BFGS-B: pgtol must be a finite number ≥ 0, got " + describe(pgtol));
  const int64_t mi = static_cast<int64_t>(m);
  // setulb's workspace, (2m + 5)·n + 11m² + 8m doubles, is indexed with 32-bit Fortran integers.
  const int64_t workspace = (2 * mi + 5) * n + 11 * mi * mi + 8 * mi;
  if (workspace > kFortranIntMax || 3 * n > kFortranIntMax) {
    throw Napi::RangeError::New(env, "L-BFGS-B: n = " + std::to_string(n) + " with m = " + std::to_string(mi) + " needs a workspace of " + std::to_string(workspace) +
                                         " doubles, beyond the 2^31 − 1 that the Fortran code can index; use a smaller m or a subspace");
  }
  auto s = std::make_unique<Solver>();
  s->n = static_cast<int>(n);
  s->m = static_cast<int>(mi);
  s->factr = factr;
  s->pgtol = pgtol;
  s->x.assign(x0.Data(), x0.Data() + n);
  s->l.assign(n, 0.0);
  s->u.assign(n, 0.0);
  s->nbd.assign(n, 0);
  const double* lowerData = lower.Data();
  const double* upperData = upper.Data();
  for (int64_t i = 0; i < n; ++i) {
    const double lo = lowerData[i], hi = upperData[i], xi = s->x[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (std::isnan(lo) || std::isnan(hi)) throw Napi::RangeError::New(env, "L-BFGS-B: bound " + at + " is NaN (lower " + describe(lo) + ", upper " + describe(hi) + ")");
    if (lo == std::numeric_limits<double>::infinity() || hi == -std::numeric_limits<double>::infinity() || lo > hi) {
      throw Napi::RangeError::New(env, "L-BFGS-B: no feasible point: lower" + at + " = " + describe(lo) + " > upper" + at + " = " + describe(hi));
    }
    if (!std::isfinite(xi)) throw Napi::RangeError::New(env, "L-BFGS-B: x0" + at + " is " + describe(xi) + " (the start must be finite)");
    const bool hasLower = std::isfinite(lo), hasUpper = std::isfinite(hi);
    s->l[i] = hasLower ? lo : 0.0;
    s->u[i] = hasUpper ? hi : 0.0;
    s->nbd[i] = hasLower ? (hasUpper ? 2 : 1) : (hasUpper ? 3 : 0);
  }
  try {
    s->g.assign(n, 0.0);
    s->wa.assign(static_cast<size_t>(workspace), 0.0);
    s->iwa.assign(static_cast<size_t>(3 * n), 0);
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "L-BFGS-B: could not allocate the workspace of " + std::to_string(workspace * 8 / 1000000) + " MB for n = " + std::to_string(n) + ", m = " + std::to_string(mi));
  }
  s->setTask("START");
  std::memset(s->csave, ' ', kTaskLength);
  s->externalBytes = static_cast<int64_t>((5 * n + workspace) * sizeof(double) + 4 * n * sizeof(int));
  Napi::MemoryManagement::AdjustExternalMemory(env, s->externalBytes);
  Solver* raw = s.release();
  auto external = Napi::External<Solver>::New(env, raw, [](Napi::Env e, Solver* p) {
    p->release(e);
    delete p;
  });
  if (napi_type_tag_object(env, external, &kSolverTag) != napi_ok) throw Napi::Error::New(env, "L-BFGS-B: could not tag the solver handle");
  return external;
}

// lbfgsbStep(solver, f, g) → the task after one call of setulb. f and g are the objective and its
// gradient at the current x when the last task asked for them (FG_START, FG_LNSRCH); before the first
// call and after NEW_X they are ignored (pass null).
Napi::Value step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Solver& s = solverOf(info);
  if (s.startsWith("FG")) {
    double f = finiteNumber(info, 1, "f");
    Napi::Float64Array g = float64Array(info, 2, "g");
    if (!std::isfinite(f)) throw Napi::RangeError::New(env, "L-BFGS-B: the objective is " + describe(f) +  " at evaluation " + std::to_string(s.supplied + 1) + " (" + s.taskText() + "); L-BFGS-B needs finite values");
    if (static_cast<int64_t>(g.ElementLength()) != s.n) throw Napi::RangeError::New(env, "L-BFGS-B: the gradient has " + std::to_string(g.ElementLength()) + " entries, expected " + std::to_string(s.n));
    const double* gData = g.Data();
    for (int i = 0; i < s.n; ++i) {
      if (!std::isfinite(gData[i])) throw Napi::RangeError::New(env, "L-BFGS-B: gradient[" + std::to_string(i) + "] is " + describe(gData[i]) +  " at evaluation " + std::to_string(s.supplied + 1) + "; L-BFGS-B needs finite values");
    }
    s.f = f;
    std::memcpy(s.g.data(), g.Data(), sizeof(double) * s.n);
    s.supplied++;
  } else if (!s.startsWith("START") && !s.startsWith("NEW_X")) {
    throw Napi::Error::New(env, "L-BFGS-B: the solver has finished (" + s.taskText() + "); create a new one to solve again");
  }
  s.call();
  return Napi::String::New(env, s.taskText());
}

// lbfgsbStop(solver, reason) → the final task 'STOP: reason'. Only at NEW_X, as scipy stops: in a line
// search x is a trial point, and setulb restores the accepted iterate only for its own 'STOP: CPU'.
Napi::Value stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Solver& s = solverOf(info);
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "L-BFGS-B: the stop reason must be a string");
  if (!s.startsWith("NEW_X")) throw Napi::Error::New(env, "L-BFGS-B: the solver can be stopped only at a new iterate (task NEW_X), not at " + s.taskText());
  s.setTask("STOP: " + info[1].As<Napi::String>().Utf8Value());
  s.call();
  return Napi::String::New(env, s.taskText());
}

// lbfgsbCopyX(solver, out): the current x into out (a Float64Array of length n).
Napi::Value copyX(const Napi::CallbackInfo& info) {
  Solver& s = solverOf(info);
  Napi::Float64Array out = float64Array(info, 1, "out");
  if (static_cast<int64_t>(out.ElementLength()) != s.n) throw Napi::RangeError::New(info.Env(), "L-BFGS-B: 'out' has " + std::to_string(out.ElementLength()) + " entries, expected " + std::to_string(s.n));
  std::memcpy(out.Data(), s.x.data(), sizeof(double) * s.n);
  return info.Env().Undefined();
}

// lbfgsbInfo(solver): what setulb reports in isave/dsave (valid after every return; see setulb's header).
Napi::Value infoOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Solver& s = solverOf(info);
  Napi::Object o = Napi::Object::New(env);
  o.Set("task", s.taskText());
  o.Set("f", s.f);
  o.Set("iteration", s.isave[29]);          // isave(30)
  o.Set("evaluations", static_cast<double>(s.supplied));  // f and g values handed in
  o.Set("bfgsUpdates", s.isave[30]);        // isave(31)
  o.Set("skippedUpdates", s.isave[25]);     // isave(26)
  o.Set("cauchyIntervals", s.isave[21]);    // isave(22)
  o.Set("freeVariables", s.isave[37]);      // isave(38)
  o.Set("activeConstraints", s.isave[38]);  // isave(39)
  o.Set("projectedGradientNorm", s.dsave[12]);  // dsave(13): ‖proj g‖_∞
  o.Set("previousF", s.dsave[1]);           // dsave(2)
  o.Set("theta", s.dsave[0]);               // dsave(1)
  o.Set("stepLength", s.dsave[13]);         // dsave(14)
  o.Set("workspaceDoubles", static_cast<double>(s.wa.size()));
  return o;
}

// lbfgsbDispose(solver): frees the workspace now (the handle's finalizer would, later); false if already freed.
Napi::Value dispose(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  bool ours = false;
  if (!v.IsExternal() || napi_check_object_type_tag(info.Env(), v, &kSolverTag, &ours) != napi_ok || !ours) {
    throw Napi::TypeError::New(info.Env(), "L-BFGS-B: argument 1 must be a solver from lbfgsbCreate");
  }
  Solver* s = v.As<Napi::External<Solver>>().Data();
  const bool was = !s->disposed;
  s->release(info.Env());
  return Napi::Boolean::New(info.Env(), was);
}

}  // namespace

void registerLbfgsb(Napi::Env env, Napi::Object exports) {
  SGDLAB_EXPORT(exports, env, "lbfgsbCreate", create);
  SGDLAB_EXPORT(exports, env, "lbfgsbStep", step);
  SGDLAB_EXPORT(exports, env, "lbfgsbStop", stop);
  SGDLAB_EXPORT(exports, env, "lbfgsbCopyX", copyX);
  SGDLAB_EXPORT(exports, env, "lbfgsbInfo", infoOf);
  SGDLAB_EXPORT(exports, env, "lbfgsbDispose", dispose);
}

}  // namespace sgdlab
