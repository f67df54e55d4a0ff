//===- Train.cpp - quilt-tune train: fit the learned cost model -----------===//
//
// This file implements `quilt-tune train`: it analyzes every sample of a
// dataset with the cost model's own feature code, fits XGBoost trees to
// log(measured / analytical) and writes a model file with the schema
// version, feature list, calibration and fingerprint of this machine.
//
//===----------------------------------------------------------------------===//

#include "Tune.h"

#include "mlir/IR/MLIRContext.h"
#include "quilt/CostModel/LearnedModel.h"
#include "quilt/Runtime/JitRunner.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace cl = llvm::cl;
using namespace mlir;
using namespace mlir::quilt::cost;

namespace quilt::tune {

cl::SubCommand &getTrainCommand() {
  static cl::SubCommand command("train", "Fit the learned cost model");
  return command;
}

static cl::opt<std::string> modelOut("o", cl::desc("Model file to write"),
                                     cl::Required, cl::sub(getTrainCommand()));
static cl::opt<std::string> predictionsOut(
    "predictions",
    cl::desc("Also write the trained model's predicted time (us) of every "
             "sample, one per line"),
    cl::sub(getTrainCommand()));

/// Shared by train and eval: one model per dataset slice.
llvm::Expected<ModelFile> fitModel(const std::vector<AnalyzedSample> &samples,
                                   const TargetDescription &target,
                                   bool irTokens, const TrainOptions &options) {
  std::vector<float> rows, labels;
  buildTrainingSet(samples, target, irTokens, rows, labels);
  ModelFile file;
  file.featureNames = getFeatureNames(irTokens);
  file.irTokens = irTokens;
  file.target = target;
  auto booster = trainBooster(rows, file.featureNames.size(), labels, options);
  if (!booster)
    return booster.takeError();
  file.booster = std::move(*booster);
  file.training =
      llvm::json::Object{{"samples", int64_t(samples.size())},
                         {"rounds", int64_t(options.rounds)},
                         {"max_depth", int64_t(options.maxDepth)},
                         {"eta", options.learningRate},
                         {"subsample", options.subsample},
                         {"colsample", options.columnSample},
                         {"min_child_weight", options.minChildWeight},
                         {"objective", options.objective},
                         {"label", "log(measured / analytical)"}};
  return file;
}

int runTrain() {
  auto samples = readDataset(dataPath);
  if (!samples)
    return fail(llvm::toString(samples.takeError()));
  TargetDescription target = loadTarget(targetPath, dataPath);
  // The model is for the machine its calibration measured (so a model can
  // be retrained from a committed dataset on any machine); a hand-written
  // calibration or the uncalibrated guess names no machine, and the model
  // is then for this one.
  if (target.source != kCalibratedSource) {
    TargetDescription host = getHostIdentity();
    target.cpuName = host.cpuName;
    target.features = host.features;
  }
  auto context = makeContext();
  auto analyzed = analyzeSamples(*context, *samples, target);
  if (!analyzed)
    return fail(llvm::toString(analyzed.takeError()));
  auto file = fitModel(*analyzed, target, !noIRTokens, getTrainOptions());
  if (!file)
    return fail(llvm::toString(file.takeError()));
  file->training["dataset"] = dataPath.getValue();
  if (llvm::Error e = writeModelFile(modelOut, *file))
    return fail(llvm::toString(std::move(e)));
  llvm::outs() << "quilt-tune train: " << analyzed->size() << " samples, "
               << file->featureNames.size() << " features, " << rounds
               << " rounds -> " << modelOut << "\n";
  if (!predictionsOut.empty()) {
    auto model = LearnedModel::create(std::move(*file));
    if (!model)
      return fail(llvm::toString(model.takeError()));
    std::error_code ec;
    llvm::raw_fd_ostream os(predictionsOut, ec);
    if (ec)
      return fail("cannot write " + predictionsOut + ": " + ec.message());
    for (const AnalyzedSample &a : *analyzed)
      os << llvm::format("%.6g\n", (*model)->predictSeconds(a.work) * 1e6);
  }
  return 0;
}

} // namespace quilt::tune
