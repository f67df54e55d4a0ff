//===- Booster.h - Gradient-boosted trees through XGBoost --------*- C++
//-*-===//
//
// Training and prediction of XGBoost trees, shared by the learned cost
// model (times of CPU kernels) and the register model (registers of NVPTX
// kernels). libxgboost is loaded on first use; without it both report why.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_BOOSTER_H
#define QUILT_COSTMODEL_BOOSTER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mlir::quilt::cost {

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

/// XGBoost trees loaded from their JSON model, for prediction (thread-safe).
class Booster {
public:
  ~Booster();
  /// Fails with XGBoost's message (or why libxgboost is unusable).
  static llvm::Expected<std::unique_ptr<Booster>> load(llvm::StringRef json);
  /// One prediction per row of `rows` (row-major, `numFeatures` each);
  /// zeros if XGBoost fails.
  std::vector<float> predict(llvm::ArrayRef<float> rows,
                             size_t numFeatures) const;

private:
  explicit Booster(void *handle) : handle(handle) {}
  void *handle; // BoosterHandle
  mutable std::mutex mutex;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_BOOSTER_H
