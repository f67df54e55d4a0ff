//===- FusionGroup.cpp - Legality and outlining of fusion groups -*- C++
//-*-===//
//
// This file implements FusionGroup.h.
//
//===----------------------------------------------------------------------===//

#include "FusionGroup.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::fusion;

Operation *fusion::getSingleUser(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  return *value.getUsers().begin();
}

bool fusion::hasUsersOnlyIn(Operation *op, const FusionGroup &group) {
  return llvm::all_of(op->getUsers(),
                      [&](Operation *user) { return group.contains(user); });
}

namespace {
/// Members in block order.
SmallVector<Operation *> ordered(const llvm::SetVector<Operation *> &ops) {
  SmallVector<Operation *> sorted(ops.begin(), ops.end());
  llvm::sort(sorted,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return sorted;
}
} // namespace

bool fusion::isLegal(const FusionGroup &group, std::string *why) {
  auto refuse = [&](const Twine &reason) {
    if (why)
      *why = reason.str();
    return false;
  };
  if (group.members.empty())
    return refuse("empty group");
  Block *block = group.members.front()->getBlock();
  for (Operation *op : group.members)
    if (op->getBlock() != block)
      return refuse("members in different blocks");
  for (Operation *op : group.recomputed)
    if (op->getBlock() != block)
      return refuse("recomputed op in another block");
  Operation *last = ordered(group.members).back();
  for (Operation *op : group.members) {
    for (Operation *user : op->getUsers()) {
      if (group.contains(user))
        continue;
      Operation *at = block->findAncestorOpInBlock(*user);
      // A use before the block's position would see the value before it is
      // computed: either a plain ordering conflict or a cycle through
      // outside ops.
      if (!at || !last->isBeforeInBlock(at))
        return refuse("a result is used before the block's position");
    }
  }
  // Outside operands of the members dominate them, hence the block's
  // position; recomputed ops are clones, whose operands must be available
  // there too (they are defined before the cloned op, itself before `last`).
  for (Operation *op : group.recomputed)
    if (!op->isBeforeInBlock(last))
      return refuse("recomputed op after the block's position");
  return true;
}

FusedOp fusion::buildFusedOp(OpBuilder &b, const FusionGroup &group,
                             SmallVectorImpl<Value> &results) {
  SmallVector<Operation *> members = ordered(group.members);
  SmallVector<Operation *> all = members;
  llvm::append_range(all, group.recomputed);
  llvm::sort(all,
             [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });

  // Inputs: values defined outside and read by some op of the group.
  llvm::SetVector<Value> inputs;
  for (Operation *op : all)
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def || !group.contains(def))
        inputs.insert(operand);
    }
  // Results: members' values used outside the group.
  results.clear();
  for (Operation *op : members)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(),
                       [&](Operation *user) { return !group.contains(user); }))
        results.push_back(result);

  OpBuilder::InsertionGuard guard(b);
  SmallVector<Type> resultTypes;
  for (Value result : results)
    resultTypes.push_back(result.getType());
  SmallVector<Location> locs;
  for (Operation *op : members)
    locs.push_back(op->getLoc());
  Location loc = b.getFusedLoc(locs);
  auto fused = FusedOp::create(b, loc, resultTypes, inputs.getArrayRef(),
                               b.getStringAttr(group.kind));
  Block *body = b.createBlock(&fused.getBody());
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  for (Operation *op : all)
    b.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value result : results)
    yielded.push_back(mapping.lookup(result));
  YieldOp::create(b, loc, yielded);
  return fused;
}

FusedOp fusion::outline(OpBuilder &b, const FusionGroup &group) {
  SmallVector<Operation *> members = ordered(group.members);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(members.back());
  SmallVector<Value> results;
  FusedOp fused = buildFusedOp(b, group, results);
  for (auto [result, replacement] : llvm::zip(results, fused.getResults()))
    result.replaceUsesWithIf(replacement, [&](OpOperand &use) {
      return !group.contains(use.getOwner());
    });
  for (Operation *op : llvm::reverse(members))
    op->erase();
  return fused;
}
