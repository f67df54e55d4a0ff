//===- Features.h - What the cost models see of an op -----------*- C++ -*-===//
//
// The work an op does in a weight format (FLOPs, bytes per operand, compute
// precision), which the analytical model turns into a roofline time, and the
// feature vector the learned model reads: shapes, work, format parameters,
// fused ops, threads, target figures, the analytical estimate, and hashed
// tokens of the op's printed IR.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_FEATURES_H
#define QUILT_COSTMODEL_FEATURES_H

#include "quilt/CostModel/CostModel.h"
#include "quilt/CostModel/TargetDescription.h"

#include <string>
#include <vector>

namespace mlir::quilt::cost {

/// The arithmetic unit a kernel runs on.
enum class ComputeKind { F32, BF16, Int8 };

/// The work of one op (or the ops of one quilt.fused block) in one format.
struct OpWork {
  /// 0 linear, 1 matmul, 2 unary element-wise, 3 binary element-wise,
  /// 4 softmax, 5 rmsnorm, 6 layernorm; a fused block takes its main op's.
  unsigned kind = 0;
  bool fused = false;
  int64_t m = 1, k = 1, n = 1, batch = 1;
  /// 2 * M * N * K of the dense product (x batch).
  double denseFlops = 0;
  /// What the format leaves to compute: sparsity keeps a fraction,
  /// structures replace the product by smaller ones.
  double flops = 0;
  double weightBytes = 0, activationBytes = 0, outputBytes = 0;
  /// Element-wise work: elements x approximate operations per element.
  double elementwiseOps = 0;
  ComputeKind compute = ComputeKind::F32;
  PackedType format; // null without a weight
  unsigned weightBits = 32, activationBits = 32;
  bool hasBias = false;
  unsigned fusedGelu = 0, fusedSilu = 0, fusedRelu = 0, fusedOther = 0;
  unsigned threads = 1;
  /// The printed op, with the weight type replaced by the queried format.
  std::string ir;
  double totalBytes() const {
    return weightBytes + activationBytes + outputBytes;
  }
};

/// The work of `query`; fails for ops without a cost (dynamic shapes,
/// unknown ops).
FailureOr<OpWork> analyzeOp(const CostQuery &query);

/// FNV-1a of `text`: stable across runs and platforms, unlike std::hash.
uint32_t getStableHash(llvm::StringRef text);

/// Buckets of the hashed IR-token feature group.
constexpr unsigned kNumIRTokenBuckets = 32;

/// Feature names in vector order; the IR-token group last when included.
std::vector<std::string> getFeatureNames(bool irTokens);

/// The feature vector of `work` on `target`, with the analytical estimate
/// `analyticalSeconds` among the features.
std::vector<float> extractFeatures(const OpWork &work,
                                   const TargetDescription &target,
                                   double analyticalSeconds, bool irTokens);

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_FEATURES_H
