//===- Booster.cpp - Gradient-boosted trees through XGBoost ---------------===//
//
// Training and prediction with XGBoost's C API, loaded with dlopen.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/Booster.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <dlfcn.h>

using namespace llvm;

namespace mlir::quilt::cost {

namespace {
/// XGBoost's C API, loaded on first use with dlopen(RTLD_LOCAL): linking it
/// would bring its OpenMP runtime (libgomp) into every tool, whose
/// omp_* symbols then shadow libomp's for the JIT-compiled kernels; and a
/// machine without libxgboost still gets the analytical model.
#define QUILT_XGBOOST_FUNCTIONS(X)                                             \
  X(XGBGetLastError)                                                           \
  X(XGBSetGlobalConfig)                                                        \
  X(XGDMatrixCreateFromMat)                                                    \
  X(XGDMatrixSetFloatInfo)                                                     \
  X(XGDMatrixFree)                                                             \
  X(XGBoosterCreate)                                                           \
  X(XGBoosterFree)                                                             \
  X(XGBoosterSetParam)                                                         \
  X(XGBoosterUpdateOneIter)                                                    \
  X(XGBoosterPredict)                                                          \
  X(XGBoosterSaveModelToBuffer)                                                \
  X(XGBoosterLoadModelFromBuffer)
struct XGBoostApi {
#define QUILT_DECLARE(name) decltype(&::name) name = nullptr;
  QUILT_XGBOOST_FUNCTIONS(QUILT_DECLARE)
#undef QUILT_DECLARE
  /// Why the library is unusable; empty when it loaded.
  std::string error;
};

const XGBoostApi &getXGBoost() {
  static const XGBoostApi api = [] {
    XGBoostApi a;
    void *handle = nullptr;
    for (const char *name : {"libxgboost.so.0", "libxgboost.so"})
      if ((handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
        break;
    if (!handle) {
      a.error = std::string("cannot load libxgboost.so: ") + dlerror();
      return a;
    }
#define QUILT_LOAD(name)                                                       \
  a.name = reinterpret_cast<decltype(a.name)>(dlsym(handle, #name));           \
  if (!a.name) {                                                               \
    a.error = "libxgboost.so lacks " #name;                                    \
    return a;                                                                  \
  }
    QUILT_XGBOOST_FUNCTIONS(QUILT_LOAD)
#undef QUILT_LOAD
    // XGBoost prints its own warnings unless told not to.
    a.XGBSetGlobalConfig(R"({"verbosity": 0})");
    return a;
  }();
  return api;
}
} // namespace

/// XGBoost's message, first line only (it appends a stack trace).
static Error xgbError(const Twine &what) {
  StringRef message = getXGBoost().XGBGetLastError();
  return createStringError(inconvertibleErrorCode(),
                           what + ": " + message.split('\n').first);
}

static Error checkXGBoost() {
  if (getXGBoost().error.empty())
    return Error::success();
  return createStringError(inconvertibleErrorCode(), getXGBoost().error);
}

Expected<std::string> trainBooster(ArrayRef<float> rows, unsigned numFeatures,
                                   ArrayRef<float> labels,
                                   const TrainOptions &options) {
  if (Error e = checkXGBoost())
    return std::move(e);
  const XGBoostApi &x = getXGBoost();
  if (labels.empty() || rows.size() != labels.size() * numFeatures)
    return createStringError(inconvertibleErrorCode(),
                             "training set is empty or ragged");
  DMatrixHandle dtrain = nullptr;
  if (x.XGDMatrixCreateFromMat(rows.data(), labels.size(), numFeatures, NAN,
                               &dtrain))
    return xgbError("XGDMatrixCreateFromMat");
  scope_exit freeMatrix([&] { x.XGDMatrixFree(dtrain); });
  if (x.XGDMatrixSetFloatInfo(dtrain, "label", labels.data(), labels.size()))
    return xgbError("XGDMatrixSetFloatInfo");
  BoosterHandle booster = nullptr;
  if (x.XGBoosterCreate(&dtrain, 1, &booster))
    return xgbError("XGBoosterCreate");
  scope_exit freeBooster([&] { x.XGBoosterFree(booster); });
  std::pair<std::string, std::string> params[] = {
      {"objective", options.objective},
      {"tree_method", "exact"},
      {"max_depth", std::to_string(options.maxDepth)},
      {"eta", formatv("{0}", options.learningRate).str()},
      {"subsample", formatv("{0}", options.subsample).str()},
      {"colsample_bytree", formatv("{0}", options.columnSample).str()},
      {"min_child_weight", formatv("{0}", options.minChildWeight).str()},
      {"lambda", "1"},
      {"nthread", std::to_string(options.threads)},
      {"seed", "0"},
  };
  for (auto &[name, value] : params)
    if (x.XGBoosterSetParam(booster, name.c_str(), value.c_str()))
      return xgbError("XGBoosterSetParam " + name);
  for (unsigned i = 0; i < options.rounds; ++i)
    if (x.XGBoosterUpdateOneIter(booster, int(i), dtrain))
      return xgbError("XGBoosterUpdateOneIter");
  bst_ulong length = 0;
  const char *data = nullptr;
  if (x.XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &length,
                                   &data))
    return xgbError("XGBoosterSaveModelToBuffer");
  return std::string(data, length);
}

Booster::~Booster() { getXGBoost().XGBoosterFree(handle); }

Expected<std::unique_ptr<Booster>> Booster::load(StringRef json) {
  if (Error e = checkXGBoost())
    return std::move(e);
  const XGBoostApi &x = getXGBoost();
  BoosterHandle handle = nullptr;
  if (x.XGBoosterCreate(nullptr, 0, &handle))
    return xgbError("XGBoosterCreate");
  if (x.XGBoosterLoadModelFromBuffer(handle, json.data(), json.size())) {
    Error e = xgbError("cannot load the trees");
    x.XGBoosterFree(handle);
    return std::move(e);
  }
  return std::unique_ptr<Booster>(new Booster(handle));
}

std::vector<float> Booster::predict(ArrayRef<float> rows,
                                    size_t numFeatures) const {
  size_t numRows = numFeatures ? rows.size() / numFeatures : 0;
  std::vector<float> out(numRows, 0.f);
  if (!numRows)
    return out;
  std::lock_guard<std::mutex> lock(mutex);
  const XGBoostApi &x = getXGBoost();
  DMatrixHandle matrix = nullptr;
  if (x.XGDMatrixCreateFromMat(rows.data(), numRows, numFeatures, NAN, &matrix))
    return out;
  bst_ulong length = 0;
  const float *result = nullptr;
  if (!x.XGBoosterPredict(handle, matrix, 0, 0, 0, &length, &result))
    std::copy(result, result + std::min<size_t>(length, numRows), out.begin());
  x.XGDMatrixFree(matrix);
  return out;
}

} // namespace mlir::quilt::cost
