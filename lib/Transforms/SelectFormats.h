//===- SelectFormats.h - Internals of quilt-select-formats ------*- C++ -*-===//
//
// Shared by the pass (SelectFormats.cpp), the error measurement
// (FormatErrors.cpp) and the allocation across layers
// (FormatAllocation.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_TRANSFORMS_SELECTFORMATS_H
#define QUILT_LIB_TRANSFORMS_SELECTFORMATS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "quilt/Runtime/JitRunner.h"

#include <string>
#include <vector>

namespace mlir::quilt::select {

/// One way to store a layer's weight.
struct Candidate {
  std::string name;
  /// Null: the dense f32 weight, left as it is.
  PackedType format;
  /// Null: f32 activations.
  PrecisionAttr act;
  /// Factors to store in `format` (K x r and r x N) instead of the layer's
  /// weight (a low-rank candidate fitted to calibration activations), for
  /// quilt.pack_factors; null: quilt.pack of the layer's weight.
  DenseElementsAttr left, right;
  /// Measured error, predicted seconds, stored bytes.
  double error = 0;
  /// `error` is known (the fit's, or "never chosen"): no kernel run needed.
  /// The low-rank kernels' f32 rounding is orders below the rank's error.
  bool errorKnown = false;
  /// Why the candidate is never chosen and its error not measured
  /// (infinite), as `explain` shows it: "no gain" (no cheaper than dense
  /// f32), "few rows" (a rank above the calibration rows it would be fitted
  /// to); empty: a real candidate.
  StringRef skipped;
  double seconds = 0;
  double bytes = 0;
};

/// A quilt.linear with a constant dense f32 weight and its candidates.
struct Layer {
  /// Mutable: op handles are values, and ArrayRef<Layer> is read-only.
  mutable LinearOp op;
  /// The constant f32 weight (dense, or dense_resource from
  /// quilt-load-weights).
  ElementsAttr weight;
  std::vector<Candidate> candidates;
  /// Columns the output errors were measured on, when a sample of the
  /// layer's (see measureOutputErrors); 0: all of them.
  int64_t sampledColumns = 0;
};

/// ||actual - reference||_F / ||reference||_F (0 when both are zero).
double relativeError(const runtime::HostArray &actual,
                     const runtime::HostArray &reference);

/// Fills every candidate's `error` with the weight-space proxy
/// ||W - unpack(pack(W))||_F / ||W||_F.
LogicalResult measureWeightErrors(MutableArrayRef<Layer> layers,
                                  std::string &error);

/// Runs `func` with its dense weights on `input` (its first argument) and
/// returns the input activations of each layer's linear, then the function's
/// first result.
FailureOr<std::vector<runtime::HostArray>>
captureActivations(func::FuncOp func, ArrayRef<Layer> layers,
                   const runtime::HostArray &input, std::string &error);

/// Provides each layer's recorded input (or fails with a message in the
/// string).
using CaptureFn =
    llvm::function_ref<FailureOr<ArrayRef<runtime::HostArray>>(std::string &)>;

/// Fills the `error` of every candidate not `errorKnown` with the relative
/// output error of its layer on its recorded input, which `capture` gives
/// (called while the measurement kernels compile on another thread).
LogicalResult measureOutputErrors(MutableArrayRef<Layer> layers,
                                  CaptureFn capture, std::string &error);

/// Stores `weight` as `candidate` for `op` (inserting before it): a
/// quilt.pack to its format (quilt.pack_factors of its factors, if it has
/// them) and its activation precision on the linear.
void applyCandidate(OpBuilder &b, LinearOp op, Value weight,
                    const Candidate &candidate);

/// The end-to-end check of a choice: the first result of `func` on the
/// calibration input with layer i stored as candidate `choice[i]`, and per
/// layer the bytes of its chosen format where the CPU backend stores it in
/// a byte layout (packed once for the check, then kept for the program;
/// none for dense f32 and formats without one).
struct CheckedChoice {
  runtime::HostArray output;
  std::vector<std::optional<runtime::HostArray>> packed;
};

/// Runs the end-to-end check of `choice` on `input`.
FailureOr<CheckedChoice> runWithChoice(func::FuncOp func,
                                       ArrayRef<Layer> layers,
                                       ArrayRef<unsigned> choice,
                                       const runtime::HostArray &input,
                                       std::string &error);

/// A rank-r weight fitted to a layer's outputs, W_r = left * right (K x r
/// and r x N), and its relative output error ||X W - X W_r||_F / ||X W||_F
/// on the calibration rows it was not fitted to (the odd rows of X; the
/// even ones fit it).
struct LowRankFit {
  /// Row-major K x r and r x N factors.
  std::vector<float> left, right;
  double error;
};

/// W_r = (W V_r) V_r^T for each r of `ranks`, V_r the top r right singular
/// vectors of X W (X: `activations`, the layer's input on calibration data;
/// W: `weight`, K x N f32): the rank-r weights that keep the layer's output
/// where inputs like X put it (CalibratedLowRank.cpp). Touches no MLIR
/// context, so it may run on a thread of its own.
std::vector<LowRankFit>
fitLowRankToOutputs(const runtime::HostArray &weight,
                    const runtime::HostArray &activations,
                    ArrayRef<int64_t> ranks);

/// The candidate index per layer minimizing the summed `cost(candidate)`
/// while the root-sum-square of the errors stays within `budget` (exact
/// dynamic programming with squared errors rounded up to budget^2 /
/// resolution). Candidate 0 of every layer must be the error-free dense f32
/// one, so a choice always exists.
std::vector<unsigned>
allocateFormats(ArrayRef<Layer> layers, double budget,
                llvm::function_ref<double(const Candidate &)> cost,
                unsigned resolution = 1000);

} // namespace mlir::quilt::select

#endif // QUILT_LIB_TRANSFORMS_SELECTFORMATS_H
