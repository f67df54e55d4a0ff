//===- FuseBlocks.cpp - Group ops into quilt.fused blocks -------*- C++ -*-===//
//
// This file implements quilt-fuse-blocks: it finds the groups of each kind
// (gated MLP, attention, prologue, horizontal, epilogue, element-wise; see
// the pass description), checks them with the rules of FusionGroup.h, asks
// `shouldFuse` (the heuristic, or the cost model) whether to fuse, and
// outlines them.
//
//===----------------------------------------------------------------------===//

#include "FusionGroup.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "quilt/CostModel/CostModel.h"
#include "quilt/CostModel/Features.h"
#include "quilt/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::quilt {
#define GEN_PASS_DEF_QUILTFUSEBLOCKS
#include "quilt/Transforms/Passes.h.inc"
} // namespace mlir::quilt

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::fusion;

namespace {

bool isElementwise(Operation *op) { return isa<ElementwiseOpInterface>(op); }

struct QuiltFuseBlocksPass
    : quilt::impl::QuiltFuseBlocksBase<QuiltFuseBlocksPass> {
  using Base::Base;

  /// Ops already in a group of this run.
  DenseSet<Operation *> claimed;

  /// Not yet grouped (checked first: claimed ops may have been erased).
  bool isFree(Operation *op, Block *block) const {
    return op && !claimed.contains(op) && op->getBlock() == block;
  }

  /// The ops of type OpTy in `block`, collected before any is outlined.
  template <typename... OpTys>
  static SmallVector<Operation *> collect(Block &b) {
    SmallVector<Operation *> ops;
    for (Operation &op : b)
      if (isa<OpTys...>(op))
        ops.push_back(&op);
    return ops;
  }

  std::shared_ptr<cost::CostModel> model;
  std::vector<std::string> warnings;

  LogicalResult initialize(MLIRContext *) override {
    warnings.clear();
    model.reset();
    if (costModel.empty())
      return success();
    cost::CostModelOptions options;
    if (costModel != "analytical")
      options.modelPath = costModel;
    model = cost::createCostModel(options, [&](const Twine &message) {
      warnings.push_back(message.str());
    });
    return success();
  }

  /// The fusion decision. Without a cost model every legal group is fused:
  /// the CPU kernels of all kinds save at least one round trip of an
  /// intermediate through memory and one kernel call, and never re-read a
  /// weight (long-sequence attention, where the score matrix leaves the
  /// cache, is excluded when the group is formed, `attention-max-seq`).
  /// With one, the block is built detached and fused only when it is not
  /// predicted slower than its members apart; recomputed ops count in the
  /// block only, since apart they run anyway. An op the model cannot cost
  /// (dynamic shapes) leaves the decision to the heuristic.
  bool shouldFuse(const FusionGroup &group) {
    if (!model)
      return true;
    double apart = 0;
    for (Operation *op : group.members) {
      if (!cost::isCostedOp(op))
        continue;
      FailureOr<cost::CostEstimate> e = model->estimate({op, {}, threads});
      if (failed(e))
        return true;
      apart += e->seconds;
    }
    OpBuilder detached(group.members.front()->getContext());
    SmallVector<Value> results;
    FusedOp block = buildFusedOp(detached, group, results);
    FailureOr<cost::CostEstimate> fused = model->estimate({block, {}, threads});
    block->erase();
    if (failed(fused))
      return true;
    bool fuse = fused->seconds <= apart;
    if (remarks)
      group.members.back()->emitRemark()
          << (fuse ? "fused " : "not fused ") << group.kind << " block of "
          << group.members.size() << " ops: predicted "
          << llvm::formatv("{0:f3}", fused->seconds * 1e6).str()
          << " us as one kernel, " << llvm::formatv("{0:f3}", apart * 1e6).str()
          << " us apart (" << fused->model << " model, " << unsigned(threads)
          << " threads)";
    return fuse;
  }

  /// Tries to fuse `group`; on success its members are gone.
  bool tryFuse(FusionGroup &group) {
    if (!isLegal(group) || !shouldFuse(group))
      return false;
    for (Operation *op : group.members)
      claimed.insert(op);
    OpBuilder b(group.members.front());
    FusedOp fused = outline(b, group);
    claimed.insert(fused);
    return true;
  }

  /// Whether `op` reads a value computed from `source` (same block).
  static bool dependsOn(Operation *op, Operation *source) {
    SmallVector<Operation *> worklist = {op};
    DenseSet<Operation *> visited;
    while (!worklist.empty()) {
      Operation *current = worklist.pop_back_val();
      for (Value operand : current->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (!def || def->getBlock() != source->getBlock() ||
            def->isBeforeInBlock(source) || !visited.insert(def).second)
          continue;
        if (def == source)
          return true;
        worklist.push_back(def);
      }
    }
    return false;
  }

  /// Appends to `group` the element-wise ops that consume `value` one after
  /// the other, each the single user of the previous result.
  void addEpilogue(Value value, FusionGroup &group) {
    Block *block = group.members.front()->getBlock();
    while (Operation *user = getSingleUser(value)) {
      if (!isElementwise(user) || !isFree(user, block) || group.contains(user))
        break;
      group.members.insert(user);
      value = user->getResult(0);
    }
  }

  //===--------------------------------------------------------------------===//
  // Kinds
  //===--------------------------------------------------------------------===//

  /// mul(silu(x Wg), x Wu) [-> linear(., Wd) + epilogue].
  void fuseGatedMLP(Block &block) {
    for (Operation *op : collect<MulOp>(block)) {
      if (!isFree(op, &block))
        continue;
      auto mul = cast<MulOp>(op);
      for (int gateSide = 0; gateSide < 2; ++gateSide) {
        auto silu = mul->getOperand(gateSide).getDefiningOp<SiluOp>();
        auto up = mul->getOperand(1 - gateSide).getDefiningOp<LinearOp>();
        if (!silu || !up)
          continue;
        auto gate = silu.getInput().getDefiningOp<LinearOp>();
        if (!gate || gate == up || gate.getInput() != up.getInput())
          continue;
        if (!isFree(silu, &block) || !isFree(up, &block) ||
            !isFree(gate, &block) || !gate->hasOneUse() || !silu->hasOneUse() ||
            !up->hasOneUse())
          continue;
        FusionGroup group{"gated-mlp", {}, {}};
        group.members.insert(up);
        group.members.insert(gate);
        group.members.insert(silu);
        group.members.insert(mul);
        auto down = dyn_cast_or_null<LinearOp>(getSingleUser(mul));
        if (down && isFree(down, &block) && down.getInput() == mul) {
          group.members.insert(down);
          addEpilogue(down, group);
        }
        if (tryFuse(group))
          break;
      }
    }
  }

  /// matmul(q, k^T) [element-wise chain] -> softmax -> matmul(., v).
  void fuseAttention(Block &block) {
    for (Operation *op : collect<MatmulOp>(block)) {
      if (!isFree(op, &block) || cast<MatmulOp>(op).getTransposeB())
        continue;
      auto pv = cast<MatmulOp>(op);
      auto softmax = pv.getLhs().getDefiningOp<SoftmaxOp>();
      if (!softmax || !isFree(softmax, &block) || !softmax->hasOneUse())
        continue;
      auto scoresType = softmax.getResult().getType();
      if (!scoresType.hasStaticShape() ||
          softmax.getNormalizedAxis() != scoresType.getRank() - 1 ||
          scoresType.getShape().back() > attentionMaxSeq)
        continue;
      FusionGroup group{"attention", {}, {}};
      group.members.insert(pv);
      group.members.insert(softmax);
      // Walk the chain back from the softmax to the score product.
      Value value = softmax.getInput();
      MatmulOp qk;
      while (Operation *def = value.getDefiningOp()) {
        if (!isFree(def, &block) || !def->hasOneUse())
          break;
        if (auto matmul = dyn_cast<MatmulOp>(def)) {
          if (matmul.getTransposeB())
            qk = matmul;
          break;
        }
        // A scale or mask: the chain continues through the operand that
        // comes from the scores.
        if (!isElementwise(def))
          break;
        group.members.insert(def);
        Value next;
        for (Value operand : def->getOperands()) {
          Operation *producer = operand.getDefiningOp();
          if (producer && (isa<MatmulOp>(producer) || isElementwise(producer)))
            next = operand;
        }
        if (!next)
          break;
        value = next;
      }
      if (!qk)
        continue;
      group.members.insert(qk);
      tryFuse(group);
    }
  }

  /// A normalization whose only user is a linear's input.
  void fusePrologues(Block &block) {
    for (Operation *norm : collect<RMSNormOp, LayerNormOp>(block)) {
      if (!isFree(norm, &block))
        continue;
      SmallVector<LinearOp> linears;
      bool allLinears = !norm->use_empty();
      for (OpOperand &use : norm->getUses()) {
        auto linear = dyn_cast<LinearOp>(use.getOwner());
        if (!linear || use.getOperandNumber() != 0 || !isFree(linear, &block))
          allLinears = false;
        else
          linears.push_back(linear);
      }
      // Several users: fused into each only when recomputing it is allowed.
      if (!allLinears || (linears.size() > 1 && !recompute))
        continue;
      for (LinearOp linear : linears) {
        FusionGroup group{"prologue", {}, {}};
        if (linears.size() == 1)
          group.members.insert(norm);
        else
          group.recomputed.insert(norm);
        group.members.insert(linear);
        addEpilogue(linear, group);
        tryFuse(group);
      }
      if (linears.size() > 1 && norm->use_empty())
        norm->erase();
    }
  }

  /// Linears that read the same value with the same `act`.
  void fuseHorizontal(Block &block) {
    // Inputs are read from linears still in place: outlining erases values.
    for (Operation *first : collect<LinearOp>(block)) {
      if (!isFree(first, &block))
        continue;
      Value input = cast<LinearOp>(first).getInput();
      SmallVector<LinearOp> linears;
      for (Operation *user : input.getUsers())
        if (auto linear = dyn_cast<LinearOp>(user);
            linear && linear.getInput() == input && isFree(linear, &block))
          linears.push_back(linear);
      llvm::sort(linears,
                 [](LinearOp a, LinearOp b) { return a->isBeforeInBlock(b); });
      // Horizontal members are independent: a linear whose weight or bias
      // is computed from an earlier one is a chain, not a sibling.
      SmallVector<LinearOp> independent;
      for (LinearOp linear : linears)
        if (llvm::none_of(independent, [&](LinearOp earlier) {
              return dependsOn(linear, earlier);
            }))
          independent.push_back(linear);
      linears = std::move(independent);
      // One block per distinct `act`: members share the prepared input.
      while (linears.size() > 1) {
        PrecisionAttr act = linears.front().getActAttr();
        SmallVector<LinearOp> same, rest;
        for (LinearOp linear : linears)
          (linear.getActAttr() == act ? same : rest).push_back(linear);
        // A member feeding another one through outside ops would make a
        // cycle: drop the later members until the group is legal.
        for (; same.size() > 1; same.pop_back()) {
          FusionGroup group{"horizontal", {}, {}};
          for (LinearOp linear : same)
            group.members.insert(linear);
          for (LinearOp linear : same)
            addEpilogue(linear, group);
          if (tryFuse(group))
            break;
        }
        linears = rest;
      }
    }
  }

  /// A linear and its element-wise consumers.
  void fuseEpilogues(Block &block) {
    for (Operation *op : collect<LinearOp>(block)) {
      if (!isFree(op, &block))
        continue;
      auto linear = cast<LinearOp>(op);
      FusionGroup group{"epilogue", {}, {}};
      group.members.insert(linear);
      addEpilogue(linear, group);
      if (group.members.size() > 1)
        tryFuse(group);
    }
  }

  /// Connected element-wise ops, grown backwards from the last one.
  void fuseElementwise(Block &block) {
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      if (isElementwise(&op))
        ops.push_back(&op);
    for (Operation *root : llvm::reverse(ops)) {
      if (!isFree(root, &block))
        continue;
      FusionGroup group{"elementwise", {}, {}};
      group.members.insert(root);
      SmallVector<Operation *> worklist = {root};
      while (!worklist.empty()) {
        Operation *op = worklist.pop_back_val();
        for (Value operand : op->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (!def || !isElementwise(def) || !isFree(def, &block) ||
              group.contains(def))
            continue;
          if (hasUsersOnlyIn(def, group)) {
            group.members.insert(def);
            worklist.push_back(def);
          } else if (recompute) {
            // Its operands stay inputs: the original keeps using them.
            group.recomputed.insert(def);
          }
        }
      }
      if (group.members.size() + group.recomputed.size() > 1)
        tryFuse(group);
    }
  }

  void runOnOperation() override {
    for (const std::string &w : warnings)
      getOperation()->emitWarning(w);
    // Blocks of the ops outside any quilt.fused (existing blocks are kept).
    SmallVector<Block *> targets;
    getOperation()->walk([&](Block *block) {
      if (!block->getParentOp()->getParentOfType<FusedOp>() &&
          !isa<FusedOp>(block->getParentOp()))
        targets.push_back(block);
    });
    for (Block *block : targets) {
      if (blocks) {
        fuseGatedMLP(*block);
        fuseAttention(*block);
      }
      if (prologues)
        fusePrologues(*block);
      if (horizontal)
        fuseHorizontal(*block);
      if (epilogues)
        fuseEpilogues(*block);
      if (elementwise)
        fuseElementwise(*block);
    }
  }
};
} // namespace
