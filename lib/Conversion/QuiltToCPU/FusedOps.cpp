//===- FusedOps.cpp - quilt.fused blocks as one CPU kernel ------*- C++ -*-===//
//
// Compiles a quilt.fused block into one kernel function. The body is
// scheduled in order into steps:
//
// - a linear, with the chain of element-wise ops that consume its result one
//   after the other (bias add, gelu, silu, relu, residual add, the gated
//   MLP's silu(gate) * up): the chain is applied to the accumulator tile in
//   registers by the GEMM epilogue and only its last value is stored.
//   Linears that read the same input with compatible microkernels share one
//   prepared input (int8-quantized or bf16-rounded once for Q, K and V);
// - a normalization (prologue), emitted on the block's input;
// - a run of element-wise ops: one loop nest over the elements, which keeps
//   every intermediate in registers and stores only the values used later.
//
// Attention blocks have a kernel of their own (FusedAttention.cpp). A block
// with another op, a weight without a native CPU layout or activations the
// kernels do not quantize themselves is compiled as its body instead
// (canLowerFused is false).
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "LinearOps.h"
#include "NativeLinear.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kLanes = 16;

bool isF32Tensor(Type type, bool requireStatic) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32() &&
         (!requireStatic || tensor.hasStaticShape());
}

/// One step of the block's kernel.
struct Step {
  enum Kind { Linear, Pair, Norm, Elementwise } kind;
  /// Linear: the linear then its register chain; Pair: the two linears then
  /// the chain that combines them; Norm: the op; Elementwise: the run, in
  /// order.
  SmallVector<Operation *> ops;
};

/// Whether `linear` is one the kernels compute natively inside a block.
bool isNativeLinear(LinearOp linear, Block &body, const CPUTarget &target) {
  auto isArg = [&](Value v) {
    return isa<BlockArgument>(v) && v.getParentBlock() == &body;
  };
  auto packed = dyn_cast<PackedType>(linear.getWeight().getType());
  auto layout = packed ? CPUWeightLayout::get(packed) : std::nullopt;
  if (!layout || !isArg(linear.getWeight()) ||
      (linear.getBias() &&
       (!isArg(linear.getBias()) ||
        !isF32Tensor(linear.getBias().getType(), /*requireStatic=*/false))) ||
      !isF32Tensor(linear.getInput().getType(), false) ||
      !isF32Tensor(linear.getResult().getType(), false))
    return false;
  return !linear.getActAttr() ||
         chooseKernel(*layout, linear.getActAttr(), target).actHandled;
}

/// The element-wise ops that consume `value` one after the other, each the
/// single user of the previous result, whose other operands are `ready`.
/// Returns the user where the chain stops (null: none or not single).
Operation *followChain(Value value, const DenseSet<Value> &ready,
                       SmallVectorImpl<Operation *> &chain) {
  Type type = value.getType();
  while (value.hasOneUse()) {
    Operation *user = *value.getUsers().begin();
    if (!isa<ElementwiseOpInterface>(user) ||
        user->getResult(0).getType() != type)
      return user;
    if (!llvm::all_of(user->getOperands(), [&](Value operand) {
          return operand == value || ready.contains(operand);
        }))
      return user;
    chain.push_back(user);
    value = user->getResult(0);
  }
  return nullptr;
}

/// For a linear of a gated MLP (up or gate), its partner: a later linear of
/// the same input and weight type whose chain meets this one's in one
/// binary element-wise op (`mul(silu(gate), up)`), when both fit one paired
/// GEMM. Appends the partner, both chains and the meeting op to `ops`.
LinearOp matchPair(LinearOp first, Block &body, const DenseSet<Value> &ready,
                   const CPUTarget &target, SmallVectorImpl<Operation *> &ops) {
  auto layout =
      CPUWeightLayout::get(cast<PackedType>(first.getWeight().getType()));
  int64_t m = first.getResult().getType().getDimSize(0);
  if (first.getActAttr() || ShapedType::isDynamic(m) ||
      !canPairGemm({GemmKind::F32, *layout, m, 1, getMaxTileRows(target)}))
    return {};
  for (Operation *next = first->getNextNode(); next;
       next = next->getNextNode()) {
    auto second = dyn_cast<LinearOp>(next);
    if (!second || second.getInput() != first.getInput() ||
        second.getWeight().getType() != first.getWeight().getType() ||
        second.getActAttr() || !isNativeLinear(second, body, target))
      continue;
    SmallVector<Operation *> chain1, chain2;
    Operation *meet1 = followChain(first.getResult(), ready, chain1);
    Operation *meet2 = followChain(second.getResult(), ready, chain2);
    Value end1 =
        chain1.empty() ? Value(first.getResult()) : chain1.back()->getResult(0);
    Value end2 = chain2.empty() ? Value(second.getResult())
                                : chain2.back()->getResult(0);
    if (!meet1 || meet1 != meet2 || !isa<ElementwiseOpInterface>(meet1) ||
        meet1->getNumOperands() != 2 || end1 == end2 ||
        !llvm::is_contained(meet1->getOperands(), end1) ||
        !llvm::is_contained(meet1->getOperands(), end2))
      continue;
    ops.push_back(second);
    llvm::append_range(ops, chain1);
    llvm::append_range(ops, chain2);
    ops.push_back(meet1);
    return second;
  }
  return {};
}

/// The steps of `op`'s kernel, or failure when the block has an op the
/// kernel does not handle.
FailureOr<SmallVector<Step>> schedule(FusedOp op, const CPUTarget &target) {
  Block &body = op.getBody().front();
  DenseSet<Value> ready(body.getArguments().begin(), body.getArguments().end());
  DenseSet<Operation *> done;
  SmallVector<Step> steps;
  for (Operation &inner : body.without_terminator()) {
    Operation *o = &inner;
    if (done.contains(o))
      continue;
    if (auto linear = dyn_cast<LinearOp>(o)) {
      if (!isNativeLinear(linear, body, target) ||
          !ready.contains(linear.getInput()))
        return failure();
      Step step{Step::Linear, {o}};
      Value value = linear.getResult();
      if (matchPair(linear, body, ready, target, step.ops)) {
        step.kind = Step::Pair;
        value = step.ops.back()->getResult(0);
      }
      // The chain: single users whose other operands are already computed.
      SmallVector<Operation *> chain;
      followChain(value, ready, chain);
      llvm::append_range(step.ops, chain);
      for (Operation *member : step.ops)
        done.insert(member);
      ready.insert(step.ops.back()->getResult(0));
      steps.push_back(std::move(step));
      continue;
    }
    if (isa<RMSNormOp, LayerNormOp>(o)) {
      if (!canEmitNormalization(o) ||
          !llvm::all_of(o->getOperands(),
                        [&](Value v) { return ready.contains(v); }))
        return failure();
      ready.insert(o->getResult(0));
      steps.push_back({Step::Norm, {o}});
      continue;
    }
    if (isa<ElementwiseOpInterface>(o)) {
      if (!isF32Tensor(o->getResult(0).getType(), /*requireStatic=*/true))
        return failure();
      // Joins the run before it when that run has the same shape.
      if (steps.empty() || steps.back().kind != Step::Elementwise ||
          steps.back().ops.front()->getResult(0).getType() !=
              o->getResult(0).getType())
        steps.push_back({Step::Elementwise, {}});
      steps.back().ops.push_back(o);
      ready.insert(o->getResult(0));
      continue;
    }
    return failure();
  }
  return steps;
}

/// Emits the kernel body of a scheduled block.
struct FusedEmitter {
  FusedEmitter(OpBuilder &b, Location loc, const CPUTarget &target,
               unsigned threads)
      : b(b), loc(loc), target(target), threads(threads) {}

  OpBuilder &b;
  Location loc;
  const CPUTarget &target;
  unsigned threads;
  /// Memref of each computed body value (block arguments on demand).
  DenseMap<Value, Value> buffers;
  /// Kernel arguments by body argument.
  DenseMap<Value, Value> args;
  /// Prepared inputs of the linears, for sharing.
  struct Prepared {
    Value x;
    CPUWeightLayout layout;
    KernelChoice choice;
    PreparedInput input;
  };
  SmallVector<Prepared> prepared;

  Value tensorOf(Value v) {
    if (auto it = args.find(v); it != args.end())
      return it->second;
    return toTensor(b, loc, bufferOf(v));
  }
  Value bufferOf(Value v) {
    auto it = buffers.find(v);
    if (it != buffers.end())
      return it->second;
    Value buffer = toBuffer(b, loc, args.lookup(v));
    buffers[v] = buffer;
    return buffer;
  }
  VectorType vec() { return VectorType::get({kLanes}, b.getF32Type()); }
  Value zeros() {
    return arith::ConstantOp::create(
        b, loc, vec(), DenseElementsAttr::get(vec(), b.getF32FloatAttr(0)));
  }

  /// Evaluates a register chain from the lanes already known (the
  /// linears' results); other operands are M x N buffers read at the tile's
  /// coordinates. Returns the last op's value.
  using ChainFn =
      std::function<Value(OpBuilder &, Location, DenseMap<Value, Value> &,
                          Value row, Value col, Value mask)>;
  ChainFn makeChain(ArrayRef<Operation *> chain) {
    DenseMap<Value, Value> others;
    for (Operation *op : chain)
      for (Value operand : op->getOperands())
        if (buffers.count(operand) || args.count(operand))
          others[operand] = bufferOf(operand);
    SmallVector<Operation *> ops(chain);
    return
        [ops, others](OpBuilder &b, Location loc, DenseMap<Value, Value> &lanes,
                      Value row, Value col, Value mask) {
          auto vecType = VectorType::get({kLanes}, b.getF32Type());
          for (Operation *op : ops) {
            SmallVector<Value> operands;
            for (Value operand : op->getOperands()) {
              if (Value known = lanes.lookup(operand)) {
                operands.push_back(known);
                continue;
              }
              Value zero = arith::ConstantOp::create(
                  b, loc, vecType,
                  DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
              operands.push_back(vector::MaskedLoadOp::create(
                  b, loc, vecType, others.lookup(operand), ValueRange{row, col},
                  mask, zero));
            }
            lanes[op->getResult(0)] =
                cast<ElementwiseOpInterface>(op).buildElementFunction(b, loc,
                                                                      operands);
          }
          return lanes.lookup(ops.back()->getResult(0));
        };
  }

  /// Two linears of one input in one pass; only their combination is
  /// stored (the gated MLP's up and gate projections).
  void emitPair(const Step &step) {
    auto first = cast<LinearOp>(step.ops[0]);
    auto second = cast<LinearOp>(step.ops[1]);
    auto layout =
        *CPUWeightLayout::get(cast<PackedType>(first.getWeight().getType()));
    GemmConfig config{GemmKind::F32, layout,
                      first.getResult().getType().getDimSize(0), threads,
                      getMaxTileRows(target)};
    PreparedInput input = prepareLinearInput(b, loc, config, KernelChoice(),
                                             bufferOf(first.getInput()));
    auto biasOf = [&](LinearOp linear) {
      return linear.getBias() ? bufferOf(linear.getBias()) : Value();
    };
    ChainFn evaluate = makeChain(ArrayRef(step.ops).drop_front(2));
    Value r1 = first.getResult(), r2 = second.getResult();
    Value c = emitNativePairGemm(
        b, loc, config, input, bufferOf(first.getWeight()), biasOf(first),
        bufferOf(second.getWeight()), biasOf(second),
        [evaluate, r1, r2](OpBuilder &b, Location loc, Value x, Value y,
                           Value row, Value col, Value mask) {
          DenseMap<Value, Value> lanes;
          lanes[r1] = x;
          lanes[r2] = y;
          return evaluate(b, loc, lanes, row, col, mask);
        });
    buffers[step.ops.back()->getResult(0)] = c;
  }

  void emitLinear(const Step &step) {
    auto linear = cast<LinearOp>(step.ops.front());
    auto layout =
        *CPUWeightLayout::get(cast<PackedType>(linear.getWeight().getType()));
    KernelChoice choice = chooseKernel(layout, linear.getActAttr(), target);
    int64_t m = linear.getResult().getType().getDimSize(0);
    std::optional<int64_t> staticM;
    if (!ShapedType::isDynamic(m))
      staticM = m;
    GemmConfig config{choice.kind, layout, staticM, threads,
                      getMaxTileRows(target)};
    Value x = bufferOf(linear.getInput());
    const PreparedInput *input = nullptr;
    for (const Prepared &p : prepared)
      if (p.x == linear.getInput() &&
          canShareInput(p.layout, p.choice, layout, choice))
        input = &p.input;
    if (!input) {
      prepared.push_back({linear.getInput(), layout, choice,
                          prepareLinearInput(b, loc, config, choice, x)});
      input = &prepared.back().input;
    }
    Value bias = linear.getBias() ? bufferOf(linear.getBias()) : Value();
    GemmEpilogueFn epilogue;
    ArrayRef<Operation *> chain = ArrayRef(step.ops).drop_front();
    if (!chain.empty()) {
      ChainFn evaluate = makeChain(chain);
      Value result = linear.getResult();
      epilogue = [evaluate, result](OpBuilder &b, Location loc, Value value,
                                    Value row, Value col, Value mask) {
        DenseMap<Value, Value> lanes;
        lanes[result] = value;
        return evaluate(b, loc, lanes, row, col, mask);
      };
    }
    Value c =
        emitNativeGemm(b, loc, config, *input, bufferOf(linear.getWeight()),
                       /*byteOffset=*/0, bias, std::move(epilogue));
    buffers[step.ops.back()->getResult(0)] = c;
  }

  void emitNorm(const Step &step) {
    Operation *op = step.ops.front();
    SmallVector<Value> operands;
    for (Value operand : op->getOperands())
      operands.push_back(tensorOf(operand));
    Value result = emitNormalization(b, loc, op, operands);
    buffers[op->getResult(0)] = toBuffer(b, loc, result);
  }

  /// One loop for the run, storing only the values used after it.
  void emitElementwise(const Step &step) {
    auto type =
        cast<RankedTensorType>(step.ops.front()->getResult(0).getType());
    int64_t n = type.getNumElements();
    DenseSet<Value> inRun;
    for (Operation *op : step.ops)
      inRun.insert(op->getResult(0));
    SmallVector<std::pair<Value, Value>> loads, stores;
    for (Operation *op : step.ops)
      for (Value operand : op->getOperands())
        if (!inRun.contains(operand) &&
            !llvm::is_contained(llvm::make_first_range(loads), operand))
          loads.push_back({operand, flattenBuffer(b, loc, bufferOf(operand))});
    auto outType = MemRefType::get(type.getShape(), b.getF32Type());
    auto inStep = [&](Operation *user) {
      return llvm::is_contained(step.ops, user);
    };
    for (Operation *op : step.ops)
      if (!llvm::all_of(op->getUsers(), inStep)) {
        Value out = memref::AllocOp::create(b, loc, outType, ValueRange{},
                                            b.getI64IntegerAttr(64));
        buffers[op->getResult(0)] = out;
        stores.push_back({op->getResult(0), flattenBuffer(b, loc, out)});
      }
    Value size = indexConst(b, loc, n);
    Value zero = zeros();
    forLoop(b, loc, indexConst(b, loc, 0), size, kLanes,
            [&](OpBuilder &, Location, Value i) {
              Value mask = tailMask(b, loc, i, size, kLanes);
              DenseMap<Value, Value> lanes;
              for (auto [value, flat] : loads)
                lanes[value] = vector::MaskedLoadOp::create(
                    b, loc, vec(), flat, ValueRange{i}, mask, zero);
              for (Operation *op : step.ops) {
                SmallVector<Value> operands;
                for (Value operand : op->getOperands())
                  operands.push_back(lanes.lookup(operand));
                lanes[op->getResult(0)] =
                    cast<ElementwiseOpInterface>(op).buildElementFunction(
                        b, loc, operands);
              }
              for (auto [value, flat] : stores)
                vector::MaskedStoreOp::create(b, loc, flat, ValueRange{i}, mask,
                                              lanes.lookup(value));
            });
  }
};

struct LowerFused : OpConversionPattern<FusedOp> {
  LowerFused(const TypeConverter &converter, MLIRContext *ctx,
             const CPUTarget &target, unsigned threads)
      : OpConversionPattern(converter, ctx, /*benefit=*/10), target(target),
        threads(threads) {}

  LogicalResult
  matchAndRewrite(FusedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<SmallVector<Step>> steps = schedule(op, target);
    if (failed(steps))
      return rewriter.notifyMatchFailure(op, "not one CPU kernel");
    Block &body = op.getBody().front();
    auto yield = op.getYield();
    return replaceWithFusedKernel(
        op, adaptor.getInputs(), *getTypeConverter(), rewriter,
        [&](OpBuilder &kb, Location kl, ValueRange args) -> SmallVector<Value> {
          FusedEmitter e(kb, kl, target, threads);
          for (auto [arg, value] : llvm::zip(body.getArguments(), args))
            e.args[arg] = value;
          for (const Step &step : *steps) {
            switch (step.kind) {
            case Step::Linear:
              e.emitLinear(step);
              break;
            case Step::Pair:
              e.emitPair(step);
              break;
            case Step::Norm:
              e.emitNorm(step);
              break;
            case Step::Elementwise:
              e.emitElementwise(step);
              break;
            }
          }
          SmallVector<Value> results;
          for (Value value : yield.getValues())
            results.push_back(e.tensorOf(value));
          return results;
        });
  }

  CPUTarget target;
  unsigned threads;
};
} // namespace

LogicalResult cpu::replaceWithFusedKernel(
    FusedOp op, ValueRange inputs, const TypeConverter &converter,
    ConversionPatternRewriter &rewriter,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Type> resultTypes;
  if (failed(converter.convertTypes(op.getResultTypes(), resultTypes)))
    return failure();
  auto type =
      FunctionType::get(op.getContext(), inputs.getTypes(), resultTypes);
  // One kernel per block: its code depends on the whole body.
  auto module = op->getParentOfType<ModuleOp>();
  std::string base =
      ("quilt_cpu_fused_" + (op.getKind() ? *op.getKind() : "block")).str();
  std::replace(base.begin(), base.end(), '-', '_');
  std::string name = base;
  for (int i = 1; module.lookupSymbol(name); ++i)
    name = base + "_" + std::to_string(i);
  func::FuncOp kernel = getOrCreateKernel(rewriter, module, name, type, body);
  rewriter.replaceOp(
      op,
      func::CallOp::create(rewriter, op.getLoc(), kernel, inputs).getResults());
  return success();
}

bool cpu::canLowerFused(FusedOp op, const CPUTarget &target) {
  return canLowerFusedAttention(op) || succeeded(schedule(op, target));
}

void cpu::populateFusedPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns,
                                const CPUTarget &target, unsigned threads) {
  patterns.add<LowerFused>(converter, patterns.getContext(), target, threads);
  populateFusedAttentionPatterns(converter, patterns);
}
