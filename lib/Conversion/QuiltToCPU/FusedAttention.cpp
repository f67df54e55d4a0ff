//===- FusedAttention.cpp - Short-sequence attention as one kernel -*- C++ -*-//
//
// Compiles a quilt.fused block of kind "attention" (matmul(q, k^T), an
// element-wise chain on the scores such as a scale or a mask, softmax on the
// last axis, matmul(p, v)) into one kernel that never builds the score
// matrix:
//
// - with enough queries, K is transposed once per batch into a scratch K^T
//   (D x Sk), so scores are vectorized over keys by broadcast FMAs instead
//   of one horizontal reduction per (query, key); with few (decoding), the
//   transpose would cost as much as the scores, which are dot products;
// - each task takes a tile of query rows of one batch: their score rows
//   (Sk <= attention-max-seq floats each, in L1), the chain and the softmax
//   applied in place a vector at a time, then P V accumulated in registers
//   over the keys and scaled by 1 / sum once.
//
// Only what the softmax and P V need stays in memory: a few score rows per
// task, never Sq x Sk per batch.
//
//===----------------------------------------------------------------------===//

#include "KernelUtils.h"
#include "LinearOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "quilt/Dialect/Quilt/QuiltInterfaces.h"

#include <limits>

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {
constexpr int64_t kLanes = 16;
/// Query rows per register tile: each K^T and V vector load feeds this many
/// FMAs.
constexpr int64_t kTileRows = 4;
/// From this many queries per batch on, K is transposed once so that scores
/// vectorize over keys; below, one dot product per (query, key) is cheaper.
constexpr int64_t kTransposeMinQueries = 16;

/// The ops of an attention block, in order.
struct AttentionOps {
  MatmulOp scores;
  SmallVector<Operation *> chain;
  SoftmaxOp softmax;
  MatmulOp values;
};

bool isStaticF32(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() && tensor.getElementType().isF32();
}

/// The block's ops when it is exactly score product, chain, softmax and
/// value product on static f32 tensors (the chain and softmax have the
/// scores' type), each the only user of the one before; other operands of
/// the chain must be block arguments.
std::optional<AttentionOps> matchAttention(FusedOp op) {
  Block &body = op.getBody().front();
  auto isArg = [&](Value v) {
    return isa<BlockArgument>(v) && v.getParentBlock() == &body;
  };
  auto ops = body.without_terminator();
  if (ops.empty())
    return std::nullopt;
  AttentionOps a;
  a.scores = dyn_cast<MatmulOp>(*ops.begin());
  if (!a.scores || !a.scores.getTransposeB() || !isArg(a.scores.getLhs()) ||
      !isArg(a.scores.getRhs()))
    return std::nullopt;
  Value value = a.scores.getResult();
  for (Operation &inner : llvm::drop_begin(ops)) {
    Operation *o = &inner;
    if (!value.hasOneUse() || *value.getUsers().begin() != o)
      return std::nullopt;
    if (auto softmax = dyn_cast<SoftmaxOp>(o)) {
      if (a.softmax)
        return std::nullopt;
      a.softmax = softmax;
    } else if (auto matmul = dyn_cast<MatmulOp>(o)) {
      if (!a.softmax || a.values || matmul.getTransposeB() ||
          matmul.getLhs() != value || !isArg(matmul.getRhs()))
        return std::nullopt;
      a.values = matmul;
    } else if (isa<ElementwiseOpInterface>(o) && !a.softmax) {
      if (!llvm::all_of(o->getOperands(), [&](Value operand) {
            return operand == value || isArg(operand);
          }))
        return std::nullopt;
      a.chain.push_back(o);
    } else {
      return std::nullopt;
    }
    value = o->getResult(0);
  }
  auto yield = op.getYield();
  if (!a.values || yield.getValues().size() != 1 ||
      yield.getValues()[0] != a.values.getResult())
    return std::nullopt;
  auto scoresType = a.softmax.getResult().getType();
  if (a.softmax.getNormalizedAxis() != scoresType.getRank() - 1)
    return std::nullopt;
  for (Value v : {a.scores.getLhs(), a.scores.getRhs(), a.scores.getResult(),
                  a.values.getRhs(), a.values.getResult()})
    if (!isStaticF32(v.getType()))
      return std::nullopt;
  return a;
}

/// A static buffer seen as batch x rows x cols (leading dims folded, or a
/// batch of one added).
Value as3D(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t rank = type.getRank();
  ArrayRef<int64_t> shape = type.getShape();
  if (rank == 3)
    return buffer;
  if (rank == 2)
    return memref::ExpandShapeOp::create(
        b, loc, MemRefType::get({1, shape[0], shape[1]}, type.getElementType()),
        buffer, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  ReassociationIndices batch;
  int64_t batchSize = 1;
  for (int64_t d = 0; d < rank - 2; ++d) {
    batch.push_back(d);
    batchSize *= shape[d];
  }
  return memref::CollapseShapeOp::create(
      b, loc,
      MemRefType::get({batchSize, shape[rank - 2], shape[rank - 1]},
                      type.getElementType()),
      buffer, ArrayRef<ReassociationIndices>{batch, {rank - 2}, {rank - 1}});
}

/// Emits the kernel body; sizes are those of the 3-d views.
struct AttentionEmitter {
  AttentionEmitter(OpBuilder &b, Location loc, AttentionOps ops, Value q,
                   Value k, Value v)
      : b(b), loc(loc), ops(std::move(ops)), q(q), v(v) {
    auto qType = cast<MemRefType>(q.getType());
    batch = qType.getDimSize(0);
    sq = qType.getDimSize(1);
    d = qType.getDimSize(2);
    sk = cast<MemRefType>(k.getType()).getDimSize(1);
    dv = cast<MemRefType>(v.getType()).getDimSize(2);
  }

  OpBuilder &b;
  Location loc;
  AttentionOps ops;
  int64_t batch, sq, sk, d, dv;
  /// 3-d views: queries, K^T scratch, values, output.
  Value q, kt, v, out;
  /// 3-d views of the chain's other operands (score-shaped block args).
  DenseMap<Value, Value> others;

  VectorType vec() { return VectorType::get({kLanes}, b.getF32Type()); }
  Value splat(float value) {
    return arith::ConstantOp::create(
        b, loc, vec(), DenseElementsAttr::get(vec(), b.getF32FloatAttr(value)));
  }
  Value broadcast(Value scalar) {
    return vector::BroadcastOp::create(b, loc, vec(), scalar);
  }
  Value idx(int64_t value) { return indexConst(b, loc, value); }
  Value add(Value x, int64_t y) {
    return arith::AddIOp::create(b, loc, x, idx(y));
  }

  /// scf.for carrying vectors: `body(iv, carried)` returns the next ones.
  SmallVector<Value>
  loop(Value lb, Value ub, int64_t step, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, idx(step), init,
        [&](OpBuilder &, Location, Value iv, ValueRange carried) {
          scf::YieldOp::create(b, loc, body(iv, carried));
        });
    return SmallVector<Value>(forOp.getResults());
  }

  /// A vector of `buffer` at `indices`: a plain load when the lanes are
  /// all in bounds (`inBounds`), else masked.
  Value load(Value buffer, ValueRange indices, Value mask, bool inBounds) {
    if (inBounds)
      return vector::LoadOp::create(b, loc, vec(), buffer, indices);
    return vector::MaskedLoadOp::create(b, loc, vec(), buffer, indices, mask,
                                        splat(0));
  }

  /// K^T[bt] = K[bt]^T: Sk x D per batch, against Sq x Sk x D FMAs that
  /// then run on whole vectors. The padding columns past Sk are zeroed, so
  /// K^T rows load whole.
  void transposeKeys(Value k, Value bt) {
    emitTranspose(b, loc, k, bt, kt, bt, sk, d);
    int64_t skPad = llvm::alignTo(sk, kLanes);
    if (skPad == sk)
      return;
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    forLoop(b, loc, idx(0), idx(d), 1, [&](OpBuilder &, Location, Value c) {
      forLoop(b, loc, idx(sk), idx(skPad), 1,
              [&](OpBuilder &, Location, Value j) {
                memref::StoreOp::create(b, loc, zero, kt, ValueRange{bt, c, j});
              });
    });
  }

  /// Raw scores of the rows from K^T: for 16 keys at a time, broadcast FMAs
  /// over the features.
  void scoresFromTransposed(Value bt, ArrayRef<Value> rowIndex, Value scores) {
    int64_t rows = rowIndex.size();
    forLoop(b, loc, idx(0), idx(sk), kLanes,
            [&](OpBuilder &, Location, Value j0) {
              SmallVector<Value> acc =
                  loop(idx(0), idx(d), 1, SmallVector<Value>(rows, splat(0)),
                       [&](Value c, ValueRange carried) {
                         Value keys = vector::LoadOp::create(
                             b, loc, vec(), kt, ValueRange{bt, c, j0});
                         SmallVector<Value> next;
                         for (int64_t r = 0; r < rows; ++r) {
                           Value x = memref::LoadOp::create(
                               b, loc, q, ValueRange{bt, rowIndex[r], c});
                           next.push_back(vector::FMAOp::create(
                               b, loc, broadcast(x), keys, carried[r]));
                         }
                         return next;
                       });
              for (int64_t r = 0; r < rows; ++r)
                vector::StoreOp::create(b, loc, acc[r], scores,
                                        ValueRange{idx(r), j0});
            });
  }

  /// Raw scores of the rows as dot products with each key row (few queries:
  /// a transpose would cost as much as the scores).
  void scoresFromDots(Value k, Value bt, ArrayRef<Value> rowIndex,
                      Value scores) {
    int64_t rows = rowIndex.size();
    bool whole = d % kLanes == 0;
    forLoop(b, loc, idx(0), idx(sk), 1, [&](OpBuilder &, Location, Value j) {
      SmallVector<Value> acc =
          loop(idx(0), idx(d), kLanes, SmallVector<Value>(rows, splat(0)),
               [&](Value c, ValueRange carried) {
                 Value mask =
                     whole ? Value() : tailMask(b, loc, c, idx(d), kLanes);
                 Value key = load(k, {bt, j, c}, mask, whole);
                 SmallVector<Value> next;
                 for (int64_t r = 0; r < rows; ++r)
                   next.push_back(vector::FMAOp::create(
                       b, loc, load(q, {bt, rowIndex[r], c}, mask, whole), key,
                       carried[r]));
                 return next;
               });
      for (int64_t r = 0; r < rows; ++r)
        memref::StoreOp::create(b, loc,
                                vector::ReductionOp::create(
                                    b, loc, vector::CombiningKind::ADD, acc[r]),
                                scores, ValueRange{idx(r), j});
    });
  }

  /// Row `r` of `scores` (query `row`): the chain applied, lanes past Sk set
  /// to -inf, the softmax in place. Returns 1 / sum, broadcast.
  Value softmaxRow(Value bt, Value row, int64_t r, Value scores) {
    float inf = std::numeric_limits<float>::infinity();
    Value skPad = idx(llvm::alignTo(sk, kLanes));
    Value maxVec = loop(
        idx(0), skPad, kLanes, splat(-inf), [&](Value j0, ValueRange carried) {
          Value mask = tailMask(b, loc, j0, idx(sk), kLanes);
          DenseMap<Value, Value> lanes;
          lanes[ops.scores.getResult()] = vector::LoadOp::create(
              b, loc, vec(), scores, ValueRange{idx(r), j0});
          for (Operation *op : ops.chain) {
            SmallVector<Value> operands;
            for (Value operand : op->getOperands())
              operands.push_back(lanes.count(operand)
                                     ? lanes.lookup(operand)
                                     : load(others.lookup(operand),
                                            {bt, row, j0}, mask, false));
            lanes[op->getResult(0)] =
                cast<ElementwiseOpInterface>(op).buildElementFunction(b, loc,
                                                                      operands);
          }
          Value s = arith::SelectOp::create(
              b, loc, mask, lanes.lookup(ops.softmax.getInput()), splat(-inf));
          vector::StoreOp::create(b, loc, s, scores, ValueRange{idx(r), j0});
          return SmallVector<Value>{
              arith::MaximumFOp::create(b, loc, carried[0], s)};
        })[0];
    Value max = broadcast(vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXIMUMF, maxVec));
    Value sumVec = loop(
        idx(0), skPad, kLanes, splat(0), [&](Value j0, ValueRange carried) {
          Value s = vector::LoadOp::create(b, loc, vec(), scores,
                                           ValueRange{idx(r), j0});
          // exp(-inf) is 0: padding adds nothing.
          Value e = math::ExpOp::create(b, loc,
                                        arith::SubFOp::create(b, loc, s, max));
          vector::StoreOp::create(b, loc, e, scores, ValueRange{idx(r), j0});
          return SmallVector<Value>{
              arith::AddFOp::create(b, loc, carried[0], e)};
        })[0];
    Value sum =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sumVec);
    return broadcast(arith::DivFOp::create(
        b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1)), sum));
  }

  /// Rows [r0, r0 + rows) of batch `bt`, with `scores` (kTileRows x
  /// skPad) as their score rows; `k` is K, used when there is no K^T.
  void tile(Value k, Value bt, Value r0, int64_t rows, Value scores) {
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(add(r0, r));
    if (kt)
      scoresFromTransposed(bt, rowIndex, scores);
    else
      scoresFromDots(k, bt, rowIndex, scores);
    SmallVector<Value> inverse;
    for (int64_t r = 0; r < rows; ++r)
      inverse.push_back(softmaxRow(bt, rowIndex[r], r, scores));
    // P V: the rows' accumulators over all keys, one column chunk at a time.
    bool whole = dv % kLanes == 0;
    forLoop(
        b, loc, idx(0), idx(dv), kLanes, [&](OpBuilder &, Location, Value c0) {
          Value mask = whole ? Value() : tailMask(b, loc, c0, idx(dv), kLanes);
          SmallVector<Value> acc =
              loop(idx(0), idx(sk), 1, SmallVector<Value>(rows, splat(0)),
                   [&](Value j, ValueRange carried) {
                     Value values = load(v, {bt, j, c0}, mask, whole);
                     SmallVector<Value> next;
                     for (int64_t r = 0; r < rows; ++r) {
                       Value p = memref::LoadOp::create(b, loc, scores,
                                                        ValueRange{idx(r), j});
                       next.push_back(vector::FMAOp::create(
                           b, loc, broadcast(p), values, carried[r]));
                     }
                     return next;
                   });
          for (int64_t r = 0; r < rows; ++r) {
            Value o = arith::MulFOp::create(b, loc, acc[r], inverse[r]);
            SmallVector<Value> at{bt, rowIndex[r], c0};
            if (whole)
              vector::StoreOp::create(b, loc, o, out, at);
            else
              vector::MaskedStoreOp::create(b, loc, out, at, mask, o);
          }
        });
  }
};

struct LowerFusedAttention : OpConversionPattern<FusedOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FusedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<AttentionOps> ops = matchAttention(op);
    if (!ops)
      return rewriter.notifyMatchFailure(op, "not an attention block");
    Block &body = op.getBody().front();
    return replaceWithFusedKernel(
        op, adaptor.getInputs(), *getTypeConverter(), rewriter,
        [&](OpBuilder &b, Location loc, ValueRange args) -> SmallVector<Value> {
          DenseMap<Value, Value> buffers;
          for (auto [arg, value] : llvm::zip(body.getArguments(), args))
            buffers[arg] = as3D(b, loc, toBuffer(b, loc, value));
          Value q = buffers.lookup(ops->scores.getLhs());
          Value k = buffers.lookup(ops->scores.getRhs());
          AttentionEmitter e(b, loc, *ops, q, k,
                             buffers.lookup(ops->values.getRhs()));
          for (Operation *chainOp : ops->chain)
            for (Value operand : chainOp->getOperands())
              if (buffers.count(operand))
                e.others[operand] = buffers.lookup(operand);

          auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
          IntegerAttr align = b.getI64IntegerAttr(64);
          Value result = memref::AllocOp::create(
              b, loc, MemRefType::get(resultType.getShape(), b.getF32Type()),
              ValueRange{}, align);
          e.out = as3D(b, loc, result);
          int64_t skPad = llvm::alignTo(e.sk, kLanes);
          Value c0 = e.idx(0), c1 = e.idx(1);
          if (e.sq >= kTransposeMinQueries) {
            e.kt = memref::AllocOp::create(
                b, loc, MemRefType::get({e.batch, e.d, skPad}, b.getF32Type()),
                ValueRange{}, align);
            scf::ParallelOp::create(b, loc, ValueRange{c0},
                                    ValueRange{e.idx(e.batch)}, ValueRange{c1},
                                    [&](OpBuilder &, Location, ValueRange ivs) {
                                      e.transposeKeys(k, ivs[0]);
                                    });
          }

          // Tasks: (batch, tile of kTileRows query rows); a last partial
          // tile runs its rows one by one.
          int64_t fullTiles = e.sq / kTileRows;
          int64_t tiles = fullTiles + (e.sq % kTileRows ? 1 : 0);
          auto scoresType = MemRefType::get({kTileRows, skPad}, b.getF32Type());
          scf::ParallelOp::create(
              b, loc, ValueRange{c0, c0},
              ValueRange{e.idx(e.batch), e.idx(tiles)}, ValueRange{c1, c1},
              [&](OpBuilder &, Location, ValueRange ivs) {
                Value bt = ivs[0];
                Value r0 =
                    arith::MulIOp::create(b, loc, ivs[1], e.idx(kTileRows));
                Value scores = memref::AllocOp::create(b, loc, scoresType,
                                                       ValueRange{}, align);
                Value isFull =
                    arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                          ivs[1], e.idx(fullTiles));
                scf::IfOp::create(
                    b, loc, isFull,
                    [&](OpBuilder &, Location) {
                      e.tile(k, bt, r0, kTileRows, scores);
                      scf::YieldOp::create(b, loc);
                    },
                    [&](OpBuilder &, Location) {
                      forLoop(b, loc, r0, e.idx(e.sq), 1,
                              [&](OpBuilder &, Location, Value r) {
                                e.tile(k, bt, r, 1, scores);
                              });
                      scf::YieldOp::create(b, loc);
                    });
              });
          return SmallVector<Value>{toTensor(b, loc, result)};
        });
  }
};
} // namespace

bool cpu::canLowerFusedAttention(FusedOp op) {
  return matchAttention(op).has_value();
}

void cpu::populateFusedAttentionPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<LowerFusedAttention>(converter, patterns.getContext(),
                                    /*benefit=*/11);
}
