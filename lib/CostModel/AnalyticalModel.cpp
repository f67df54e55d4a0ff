//===- AnalyticalModel.cpp - Roofline time from a target ------------------===//
//
// This file implements the analytical cost model: a roofline over the
// calibrated peak rate of the op's arithmetic and the bandwidth of the
// memory level its working set fits in.
//
//===----------------------------------------------------------------------===//

#include "quilt/CostModel/AnalyticalModel.h"

#include <algorithm>

namespace mlir::quilt::cost {

/// A call into a JIT-compiled entry (argument descriptors, allocation of
/// the result) costs about this much even for tiny ops.
static constexpr double kCallOverheadSeconds = 2e-6;

double estimateRooflineSeconds(const OpWork &w, const TargetDescription &t) {
  double peak = t.peakF32;
  if (w.compute == ComputeKind::Int8)
    peak = t.peakInt8;
  else if (w.compute == ComputeKind::BF16)
    peak = t.peakBF16;
  double threads = double(std::min<unsigned>(w.threads, t.cores));
  double compute =
      w.flops / (peak * threads) + w.elementwiseOps / (t.peakF32 / 2 * threads);
  // The working set decides the level; private levels (L1, L2) scale with
  // the threads, shared ones (L3, DRAM) do not.
  double bytes = w.totalBytes();
  const MemoryLevel *level = &t.levels.back();
  unsigned index = 0;
  for (const MemoryLevel &l : t.levels) {
    if (bytes <= l.bytes) {
      level = &l;
      break;
    }
    ++index;
  }
  double bandwidth = level->bytesPerSecond * (index < 2 ? threads : 1.0);
  double memory = bytes / bandwidth;
  return std::max(compute, memory) + kCallOverheadSeconds;
}

FailureOr<CostEstimate>
AnalyticalModel::estimate(const CostQuery &query) const {
  FailureOr<OpWork> work = analyzeOp(query);
  if (failed(work))
    return failure();
  return CostEstimate{estimateRooflineSeconds(*work, target), "analytical"};
}

} // namespace mlir::quilt::cost
