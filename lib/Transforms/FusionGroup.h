//===- FusionGroup.h - Legality and outlining of fusion groups --*- C++ -*-===//
//
// The part of quilt-fuse-blocks that does not depend on the patterns: a
// group of ops of one block, the rules that make outlining it legal, and the
// outlining itself into a quilt.fused op.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_TRANSFORMS_FUSIONGROUP_H
#define QUILT_LIB_TRANSFORMS_FUSIONGROUP_H

#include "mlir/IR/Builders.h"
#include "quilt/Dialect/Quilt/QuiltOps.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::quilt::fusion {

/// Ops to outline together. `members` move into the block; `recomputed`
/// are cloned into it and stay where they are for their other users.
struct FusionGroup {
  StringRef kind;
  llvm::SetVector<Operation *> members;
  llvm::SetVector<Operation *> recomputed;

  bool contains(Operation *op) const {
    return members.contains(op) || recomputed.contains(op);
  }
};

/// The user of `value` when it has exactly one use, else null.
Operation *getSingleUser(Value value);

/// Whether every user of `op`'s results is in `group`.
bool hasUsersOnlyIn(Operation *op, const FusionGroup &group);

/// Whether `group` can become one quilt.fused op placed where its last
/// member is: all members in one block, every use of a member's result
/// outside the group after that position (which also excludes cycles
/// through outside ops), and recomputed ops whose operands are available
/// there. Explains a refusal in `why` when given.
bool isLegal(const FusionGroup &group, std::string *why = nullptr);

/// Builds, at `b`'s insertion point, the quilt.fused op of `group` (legal):
/// its body holds clones of the members and recomputed ops; `results` gets
/// the members' values it yields, in the order of its results. The IR
/// outside is not changed, so the op can also be built detached (no
/// insertion point) to ask a cost model about it, then erased.
FusedOp buildFusedOp(OpBuilder &b, const FusionGroup &group,
                     SmallVectorImpl<Value> &results);

/// Outlines `group` (legal) into a quilt.fused op of kind `group.kind`
/// placed before its last member, which replaces the members.
FusedOp outline(OpBuilder &b, const FusionGroup &group);

} // namespace mlir::quilt::fusion

#endif // QUILT_LIB_TRANSFORMS_FUSIONGROUP_H
