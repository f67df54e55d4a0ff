//===- LearnedModel.cpp - Gradient-boosted trees through XGBoost ----------===//
//
// This file implements training and inference of the learned cost model
// with XGBoost's C API. The trees predict log(measured / analytical), so
// they learn how this machine's kernels deviate from the roofline rather
// than the time itself, which scales to shapes outside the training set.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/LearnedModel.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"

#include <xgboost/c_api.h>

#include <cmath>

using namespace llvm;

namespace mlir::quilt::cost {

static Error xgbError(const Twine &what) {
  return createStringError(inconvertibleErrorCode(),
                           what + ": " + XGBGetLastError());
}

/// XGBoost prints its own warnings unless told not to.
static void silenceXGBoost() {
  static bool once = [] {
    XGBSetGlobalConfig(R"({"verbosity": 0})");
    return true;
  }();
  (void)once;
}

Expected<std::string> trainBooster(ArrayRef<float> rows, unsigned numFeatures,
                                   ArrayRef<float> labels,
                                   const TrainOptions &options) {
  silenceXGBoost();
  if (labels.empty() || rows.size() != labels.size() * numFeatures)
    return createStringError(inconvertibleErrorCode(),
                             "training set is empty or ragged");
  DMatrixHandle dtrain = nullptr;
  if (XGDMatrixCreateFromMat(rows.data(), labels.size(), numFeatures, NAN,
                             &dtrain))
    return xgbError("XGDMatrixCreateFromMat");
  auto freeMatrix = make_scope_exit([&] { XGDMatrixFree(dtrain); });
  if (XGDMatrixSetFloatInfo(dtrain, "label", labels.data(), labels.size()))
    return xgbError("XGDMatrixSetFloatInfo");
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(&dtrain, 1, &booster))
    return xgbError("XGBoosterCreate");
  auto freeBooster = make_scope_exit([&] { XGBoosterFree(booster); });
  std::pair<std::string, std::string> params[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "exact"},
      {"max_depth", std::to_string(options.maxDepth)},
      {"eta", formatv("{0}", options.learningRate).str()},
      {"subsample", formatv("{0}", options.subsample).str()},
      {"min_child_weight", "1"},
      {"lambda", "1"},
      {"nthread", std::to_string(options.threads)},
      {"seed", "0"},
  };
  for (auto &[name, value] : params)
    if (XGBoosterSetParam(booster, name.c_str(), value.c_str()))
      return xgbError("XGBoosterSetParam " + name);
  for (unsigned i = 0; i < options.rounds; ++i)
    if (XGBoosterUpdateOneIter(booster, int(i), dtrain))
      return xgbError("XGBoosterUpdateOneIter");
  bst_ulong length = 0;
  const char *data = nullptr;
  if (XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &length,
                                 &data))
    return xgbError("XGBoosterSaveModelToBuffer");
  return std::string(data, length);
}

LearnedModel::~LearnedModel() { XGBoosterFree(booster); }

Expected<std::unique_ptr<LearnedModel>> LearnedModel::create(ModelFile file) {
  silenceXGBoost();
  if (file.featureNames != getFeatureNames(file.irTokens))
    return createStringError(inconvertibleErrorCode(),
                             "the model's feature list differs from this "
                             "build's features");
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster))
    return xgbError("XGBoosterCreate");
  if (XGBoosterLoadModelFromBuffer(booster, file.booster.data(),
                                   file.booster.size())) {
    Error e = xgbError("cannot load the trees");
    XGBoosterFree(booster);
    return std::move(e);
  }
  return std::unique_ptr<LearnedModel>(
      new LearnedModel(std::move(file), booster));
}

std::vector<float> LearnedModel::predictRows(ArrayRef<float> rows) const {
  size_t numFeatures = file.featureNames.size();
  size_t numRows = numFeatures ? rows.size() / numFeatures : 0;
  std::vector<float> out(numRows, 0.f);
  if (!numRows)
    return out;
  std::lock_guard<std::mutex> lock(mutex);
  DMatrixHandle matrix = nullptr;
  if (XGDMatrixCreateFromMat(rows.data(), numRows, numFeatures, NAN, &matrix))
    return out;
  bst_ulong length = 0;
  const float *result = nullptr;
  if (!XGBoosterPredict(booster, matrix, 0, 0, 0, &length, &result))
    std::copy(result, result + std::min<size_t>(length, numRows), out.begin());
  XGDMatrixFree(matrix);
  return out;
}

double LearnedModel::predictSeconds(const OpWork &work) const {
  double analytical = estimateRooflineSeconds(work, file.target);
  std::vector<float> row =
      extractFeatures(work, file.target, analytical, file.irTokens);
  return analytical * std::exp(double(predictRows(row)[0]));
}

FailureOr<CostEstimate> LearnedModel::estimate(const CostQuery &query) const {
  FailureOr<OpWork> work = analyzeOp(query);
  if (failed(work))
    return failure();
  return CostEstimate{predictSeconds(*work), "learned"};
}

} // namespace mlir::quilt::cost
