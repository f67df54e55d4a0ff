//===- LearnedModel.h - Gradient-boosted trees over op features -*- C++ -*-===//
//
// The learned cost model: XGBoost trees predicting the log of the measured
// time over the analytical estimate, from the features of Features.h. Its
// file (models/*.json) carries a schema version, the feature list, the
// target fingerprint and calibration, and the trees.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_LEARNEDMODEL_H
#define QUILT_COSTMODEL_LEARNEDMODEL_H

#include "quilt/CostModel/AnalyticalModel.h"
#include "quilt/CostModel/Booster.h"

#include <memory>

namespace mlir::quilt::cost {

/// Bumped whenever features or file layout change; older files are refused.
constexpr int64_t kModelSchemaVersion = 1;

/// A model file's contents.
struct ModelFile {
  int64_t schemaVersion = kModelSchemaVersion;
  std::vector<std::string> featureNames;
  bool irTokens = true;
  TargetDescription target;
  /// The trees as XGBoost's JSON model.
  std::string booster;
  /// Free-form facts about the training run (dataset, samples, rounds).
  llvm::json::Object training;
};

llvm::Expected<ModelFile> readModelFile(llvm::StringRef path);
llvm::Error writeModelFile(llvm::StringRef path, const ModelFile &file);

class LearnedModel : public CostModel {
public:
  /// Loads the trees of `file`; fails with XGBoost's message.
  static llvm::Expected<std::unique_ptr<LearnedModel>> create(ModelFile file);
  StringRef getName() const override { return "learned"; }
  FailureOr<CostEstimate> estimate(const CostQuery &query) const override;
  /// Predicted seconds of an analyzed op (what estimate() computes).
  double predictSeconds(const OpWork &work) const;
  /// Raw predictions (log of time over analytical) of feature rows.
  std::vector<float> predictRows(llvm::ArrayRef<float> rows) const;
  const ModelFile &getFile() const { return file; }

private:
  LearnedModel(ModelFile file, std::unique_ptr<Booster> booster)
      : file(std::move(file)), booster(std::move(booster)) {}
  ModelFile file;
  std::unique_ptr<Booster> booster;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_LEARNEDMODEL_H
