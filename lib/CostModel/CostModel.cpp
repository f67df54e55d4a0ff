//===- CostModel.cpp - Choosing and loading a cost model ------------------===//
//
// This file implements createCostModel: the learned model when its file
// loads and matches this machine, else the analytical model, with the
// reason in a warning.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/CostModel.h"

#include "quilt/CostModel/LearnedModel.h"
#include "llvm/Support/FileSystem.h"

using namespace llvm;

namespace mlir::quilt::cost {

CostModel::~CostModel() = default;

/// The calibration to use: the explicit file, else the model's (when it
/// loaded), else the committed one for this machine type, else a guess.
static TargetDescription loadTarget(const CostModelOptions &options,
                                    const TargetDescription *fromModel,
                                    function_ref<void(const Twine &)> warn) {
  if (!options.targetPath.empty()) {
    auto target = readTargetDescription(options.targetPath);
    if (target)
      return *target;
    warn("cost model: " + toString(target.takeError()) +
         "; using the default calibration");
  }
  if (fromModel)
    return *fromModel;
  std::string path = getDefaultTargetPath();
  if (sys::fs::exists(path)) {
    auto target = readTargetDescription(path);
    // Another machine's calibration misleads more than a guess from this
    // one's features (int8 4x faster with VNNI, 2.5x slower without).
    if (target &&
        target->getFingerprint() == getHostIdentity().getFingerprint())
      return *target;
    if (!target)
      warn("cost model: " + toString(target.takeError()));
  }
  return getUncalibratedHost();
}

std::unique_ptr<CostModel>
createCostModel(const CostModelOptions &options,
                function_ref<void(const Twine &)> warn) {
  if (!options.modelPath.empty()) {
    Expected<ModelFile> file = readModelFile(options.modelPath);
    std::string problem;
    if (!file) {
      problem = toString(file.takeError());
    } else {
      std::string host = getHostIdentity().getFingerprint();
      if (file->target.getFingerprint() != host) {
        problem = options.modelPath + ": target fingerprint '" +
                  file->target.getFingerprint() + "' does not match this " +
                  "machine's '" + host + "'";
      } else {
        TargetDescription target = loadTarget(options, &file->target, warn);
        file->target = std::move(target);
        auto model = LearnedModel::create(std::move(*file));
        if (model)
          return std::move(*model);
        problem = options.modelPath + ": " + toString(model.takeError());
      }
    }
    warn("cost model: " + problem + "; falling back to the analytical model");
  }
  return std::make_unique<AnalyticalModel>(loadTarget(options, nullptr, warn));
}

} // namespace mlir::quilt::cost
