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
  // Only this machine type's: another machine's calibration misleads more
  // than a guess from this one's features (int8 4x faster with VNNI, 2.5x
  // slower without).
  std::string path = getDefaultTargetPath();
  if (!path.empty()) {
    auto target = readTargetDescription(path);
    if (target)
      return *target;
    warn("cost model: " + toString(target.takeError()));
  }
  return getUncalibratedHost();
}

/// The model file `options` name: "auto" stands for the learned model
/// committed for this machine type ("" when there is none).
static std::string resolveModelPath(const CostModelOptions &options,
                                    function_ref<void(const Twine &)> warn) {
  if (options.modelPath != "auto")
    return options.modelPath;
  std::string dir = getMachineModelDir();
  std::string path = dir + "/cost-model-cpu.json";
  if (!dir.empty() && sys::fs::exists(path))
    return path;
  warn("cost model: no learned model committed for this machine type ('" +
       getHostIdentity().getFingerprint() + "'); using the analytical model");
  return "";
}

std::unique_ptr<CostModel>
createCostModel(const CostModelOptions &options,
                function_ref<void(const Twine &)> warn) {
  if (std::string modelPath = resolveModelPath(options, warn);
      !modelPath.empty()) {
    Expected<ModelFile> file = readModelFile(modelPath);
    std::string problem;
    if (!file) {
      problem = toString(file.takeError());
    } else {
      std::string host = getHostIdentity().getFingerprint();
      if (file->target.getFingerprint() != host) {
        problem = modelPath + ": target fingerprint '" +
                  file->target.getFingerprint() + "' does not match this " +
                  "machine's '" + host + "'";
      } else {
        TargetDescription target = loadTarget(options, &file->target, warn);
        file->target = std::move(target);
        auto model = LearnedModel::create(std::move(*file));
        if (model)
          return std::move(*model);
        problem = modelPath + ": " + toString(model.takeError());
      }
    }
    warn("cost model: " + problem + "; falling back to the analytical model");
  }
  return std::make_unique<AnalyticalModel>(loadTarget(options, nullptr, warn));
}

} // namespace mlir::quilt::cost
