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

RooflineTerms getRooflineTerms(const OpWork &w, const TargetDescription &t) {
  double peak = t.peakF32;
  if (w.compute == ComputeKind::Int8)
    peak = t.peakInt8;
  else if (w.compute == ComputeKind::BF16)
    peak = t.peakBF16;
  double threads = double(std::min<unsigned>(w.threads, t.cores));
  RooflineTerms terms;
  terms.computeSeconds =
      w.flops / (peak * threads) + w.elementwiseOps / (t.peakF32 / 2 * threads);
  // The working set decides the level; private levels (L1, L2) scale with
  // the threads, shared ones (L3, DRAM) do not.
  double bytes = w.totalBytes();
  terms.level = unsigned(t.levels.size() - 1);
  for (unsigned i = 0; i < t.levels.size(); ++i)
    if (bytes <= t.levels[i].bytes) {
      terms.level = i;
      break;
    }
  double bandwidth =
      t.levels[terms.level].bytesPerSecond * (terms.level < 2 ? threads : 1.0);
  terms.memorySeconds = bytes / bandwidth;
  return terms;
}

double estimateRooflineSeconds(const OpWork &w, const TargetDescription &t) {
  RooflineTerms terms = getRooflineTerms(w, t);
  // A call into a JIT-compiled entry costs this much even for tiny ops.
  return std::max(terms.computeSeconds, terms.memorySeconds) +
         t.callOverheadSeconds;
}

FailureOr<CostEstimate>
AnalyticalModel::estimate(const CostQuery &query) const {
  FailureOr<OpWork> work = analyzeOp(query);
  if (failed(work))
    return failure();
  return CostEstimate{estimateRooflineSeconds(*work, target), "analytical"};
}

} // namespace mlir::quilt::cost
