//===- AnalyticalModel.h - Roofline time from a target ----------*- C++ -*-===//
//
// The analytical cost model: the slower of compute at the measured peak of
// the op's precision and traffic at the bandwidth of the memory level its
// working set fits in, plus element-wise work and a call overhead.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_COSTMODEL_ANALYTICALMODEL_H
#define QUILT_COSTMODEL_ANALYTICALMODEL_H

#include "quilt/CostModel/Features.h"

namespace mlir::quilt::cost {

/// Roofline seconds of `work` on `target`.
/// The two sides of the roofline: arithmetic at the calibrated peak rate,
/// and traffic at the bandwidth of the level the working set fits in
/// (`level` indexes TargetDescription::levels).
struct RooflineTerms {
  double computeSeconds = 0, memorySeconds = 0;
  unsigned level = 0;
};
RooflineTerms getRooflineTerms(const OpWork &work,
                               const TargetDescription &target);

double estimateRooflineSeconds(const OpWork &work,
                               const TargetDescription &target);

class AnalyticalModel : public CostModel {
public:
  explicit AnalyticalModel(TargetDescription target)
      : target(std::move(target)) {}
  StringRef getName() const override { return "analytical"; }
  FailureOr<CostEstimate> estimate(const CostQuery &query) const override;
  const TargetDescription &getTarget() const { return target; }

private:
  TargetDescription target;
};

} // namespace mlir::quilt::cost

#endif // QUILT_COSTMODEL_ANALYTICALMODEL_H
