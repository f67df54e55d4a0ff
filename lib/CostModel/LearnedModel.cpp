//===- LearnedModel.cpp - The learned cost model -------------------------===//
//
// The learned cost model's trees predict log(measured / analytical), so
// they learn how this machine's kernels deviate from the roofline rather
// than the time itself, which scales to shapes outside the training set.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/LearnedModel.h"

#include <cmath>

using namespace llvm;

namespace mlir::quilt::cost {

Expected<std::unique_ptr<LearnedModel>> LearnedModel::create(ModelFile file) {
  if (file.featureNames != getFeatureNames(file.irTokens))
    return createStringError(inconvertibleErrorCode(),
                             "the model's feature list differs from this "
                             "build's features");
  auto booster = Booster::load(file.booster);
  if (!booster)
    return booster.takeError();
  return std::unique_ptr<LearnedModel>(
      new LearnedModel(std::move(file), std::move(*booster)));
}

std::vector<float> LearnedModel::predictRows(ArrayRef<float> rows) const {
  return booster->predict(rows, file.featureNames.size());
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
