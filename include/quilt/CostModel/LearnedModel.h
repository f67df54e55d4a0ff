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

#include <memory>
#include <mutex>

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

/// Hyper-parameters of training.
struct TrainOptions {
  unsigned rounds = 300;
  unsigned maxDepth = 4;
  double learningRate = 0.1;
  double subsample = 1.0;
  /// Fraction of the features each tree sees.
  double columnSample = 1.0;
  double minChildWeight = 3.0;
  /// XGBoost's objective on the log-ratio label.
  std::string objective = "reg:squarederror";
  unsigned threads = 1; // 1 keeps training bit-reproducible
};

/// Fits trees to `rows` (row-major, `numFeatures` each) and `labels`;
/// returns the XGBoost JSON model.
llvm::Expected<std::string> trainBooster(llvm::ArrayRef<float> rows,
                                         unsigned numFeatures,
                                         llvm::ArrayRef<float> labels,
                                         const TrainOptions &options);

class LearnedModel : public CostModel {
public:
  ~LearnedModel() override;
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
  LearnedModel(ModelFile file, void *booster)
      : file(std::move(file)), booster(booster) {}
  ModelFile file;
  void *booster; // BoosterHandle
  mutable std::mutex mutex;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_LEARNEDMODEL_H
