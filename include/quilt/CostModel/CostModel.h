//===- CostModel.h - Predicted time of quilt ops in a format ----*- C++ -*-===//
//
// The contract between the cost model (lib/CostModel) and the passes that
// consult it (quilt-estimate-cost, quilt-select-formats, quilt-fuse-blocks).
// A pass asks how long an op takes with its weight stored in a given format
// on the target the model was built for; it never sees how the answer is
// made (roofline or learned trees).
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_COSTMODEL_H
#define QUILT_COSTMODEL_COSTMODEL_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "quilt/Dialect/Quilt/QuiltTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include <memory>
#include <string>

namespace mlir::quilt::cost {

/// One question: the time of `op` (a quilt.linear, quilt.matmul, an
/// element-wise or normalization op, or a quilt.fused block) on `threads`
/// threads. `weightFormat`, when set, replaces the format of the op's weight
/// (the question quilt-select-formats asks for each candidate); when null the
/// op's own weight type is used (a dense f32 tensor means dense f32).
struct CostQuery {
  Operation *op = nullptr;
  PackedType weightFormat;
  unsigned threads = 1;
};

/// An answer. `model` names what produced it ("learned", "analytical").
struct CostEstimate {
  double seconds = 0;
  std::string model;
};

/// Predicts the time of quilt ops on one target.
class CostModel {
public:
  virtual ~CostModel();
  /// "learned" or "analytical".
  virtual StringRef getName() const = 0;
  /// Fails (without crashing) for ops the model knows nothing about, e.g. a
  /// dynamic shape.
  virtual FailureOr<CostEstimate> estimate(const CostQuery &query) const = 0;
};

/// Where a model comes from.
struct CostModelOptions {
  /// A learned model file (empty: the analytical model; "auto": the one
  /// committed under models/ for this machine type, if any).
  std::string modelPath;
  /// The calibration file quilt-tune calibrate writes (empty: the one
  /// bundled with the model, else the built-in calibration of this machine
  /// type).
  std::string targetPath;
};

/// The model `options` ask for. A missing, corrupt or mismatched learned
/// model (schema version, target fingerprint) falls back to the analytical
/// model and says why through `warn`; this never fails.
std::unique_ptr<CostModel>
createCostModel(const CostModelOptions &options,
                llvm::function_ref<void(const Twine &)> warn);

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_COSTMODEL_H
