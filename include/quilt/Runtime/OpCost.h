//===- OpCost.h - FLOPs and bytes of an entry's compute ops -----*- C++ -*-===//
//
// The work an entry does, counted from its quilt ops, for the GFLOP/s and
// GB/s figures of quilt-run and bench/.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_RUNTIME_OPCOST_H
#define QUILT_RUNTIME_OPCOST_H

#include "mlir/IR/Operation.h"
#include "quilt/Dialect/Quilt/QuiltTypes.h"

namespace mlir::quilt::runtime {

/// FLOPs and bytes of the quilt.linear and quilt.matmul ops in an entry
/// (nested ones included, e.g. in quilt.fused):
/// - flops: 2 * M * N * K per op (batch dimensions multiply M);
/// - bytes: every operand read once plus the result written once, tensors
///   at their element size, weights at their stored size
///   (getStoredWeightBytes). Intermediate values are counted like entry
///   inputs, so for fused ops this is an upper bound of the traffic.
/// Elementwise and normalization ops are not counted.
struct EntryCost {
  double flops = 0;
  double bytes = 0;
  /// Linear and matmul ops counted; 0 means the figures are not available.
  unsigned numOps = 0;
};

/// The cost of `entry` (a function); numOps is 0 when it has no linear or
/// matmul op or one of them has a dynamic shape.
EntryCost estimateEntryCost(Operation *entry);

/// Bytes a stored weight takes: its stored values (K x N, or fewer for
/// sparsity, block-diagonal, Monarch (K + N) * B and low-rank (K + N) * r
/// elements) at the precision's bit width (f32 4, bf16/f16 2, fp8/i8 1, i4
/// 0.5 bytes), plus one f32 scale per tensor, output channel or group (and as
/// many f32 zero points with `zero_point`). Sparse index metadata is not
/// counted.
double getStoredWeightBytes(PackedType type);

} // namespace mlir::quilt::runtime

#endif // QUILT_RUNTIME_OPCOST_H
