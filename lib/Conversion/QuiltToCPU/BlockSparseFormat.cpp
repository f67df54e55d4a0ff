//===- BlockSparseFormat.cpp - Block-sparse weights on CPU ------*- C++ -*-===//
//
// A `sparsity<block<R x C>, density = d>` weight keeps the R x C blocks of
// largest norm (quilt_ref_prune_blocks). The CPU layout is BSR by block
// columns (NB = N / C of them, KB = K / R block rows), in one byte buffer
// whose size depends on the data:
//
//   ptr     i32[NB + 1]        blocks kept in block columns < j (CSR style)
//   scales  f32[N]             int8 only: per column (tensor: replicated)
//   sums    i32[N]             int8 only: column sums of the codes
//   values  [total][Rw][C]     the kept blocks, block column by block
//                              column, each as Rw words of C lanes (f32;
//                              bf16 pairs, int8 quads along K, like the
//                              dense panels: Rw = ceil(R / kStep), the last
//                              word zero-padded)
//   rows    i32[total]         the block row of each kept block
//
// (each section 64-byte aligned). A block is stored iff it has a non-zero
// after pruning; a kept all-zero block would add nothing.
//
// The linear keeps a register tile of up to 28 rows of x by the C columns
// of one block column (C / 16 vectors per row) and accumulates over the
// block column's kept blocks: per block, Rw words of W are loaded once
// (one vector per 16 columns, widened in registers) and each row's x
// element is broadcast, so K jumps from block to block; the rows of x of
// the block two ahead are prefetched. The epilogue scales (int8), adds the
// bias and stores the tile once. x is first copied into [KB][M][R] order,
// so that a tile's rows of one block are contiguous (rows of x are K floats
// apart, which maps them all to the same L1 sets). Threads take contiguous
// ranges of block columns holding about the same number of kept blocks.
//
// W8A8 (int8 weights, `act <i8, channel|tensor>`, blocks of whole quads of
// rows): x is quantized per row (or tensor) to u8 words as the reference
// rounds it (prepareI8Activations), the block's quads go through vpdpbusd,
// and the epilogue removes the +128 shift with the column sums.
//
//===----------------------------------------------------------------------===//

#include "CompressedFormat.h"
#include "GroupedGemm.h"
#include "KernelUtils.h"
#include "PatternUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {

constexpr int64_t kLanes = 16;

int64_t alignTo64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

struct BlockSparseLayout {
  CPUWeightEncoding encoding;
  int64_t k, n;         // K, N
  int64_t r, c;         // block rows and columns
  int64_t kb, nb;       // block rows and block columns of W
  int64_t kStep;        // K elements per 32-bit word
  int64_t words;        // words per block column of a block: ceil(R/kStep)
  int64_t blockBytes;   // words * C * 4
  int64_t scalesOffset; // int8 only
  int64_t sumsOffset;   // int8 only
  int64_t valuesOffset;
  bool perTensorScale = false;

  static std::optional<BlockSparseLayout> get(PackedType type) {
    SparsityAttr sparsity = type.getSparsity();
    if (sparsity.getKind() != SparsityKind::Block ||
        !type.getStructure().isDense())
      return std::nullopt;
    auto dense = CPUWeightLayout::forPrecision(type.getPrecision(), 1, 1);
    if (!dense)
      return std::nullopt;
    BlockSparseLayout layout;
    layout.encoding = dense->encoding;
    layout.perTensorScale = dense->perTensorScale;
    layout.k = type.getRows();
    layout.n = type.getCols();
    layout.r = sparsity.getBlockRows();
    layout.c = sparsity.getBlockCols();
    // Whole 16-lane vectors per block row, at most 4 (the register tile).
    if (layout.r <= 0 || layout.c <= 0 || layout.c % kLanes ||
        layout.c > 4 * kLanes || layout.k % layout.r || layout.n % layout.c)
      return std::nullopt;
    layout.kb = layout.k / layout.r;
    layout.nb = layout.n / layout.c;
    layout.kStep = dense->kStep;
    layout.words = (layout.r + layout.kStep - 1) / layout.kStep;
    layout.blockBytes = layout.words * layout.c * 4;
    int64_t ptrBytes = alignTo64((layout.nb + 1) * 4);
    layout.scalesOffset = ptrBytes;
    layout.sumsOffset = ptrBytes;
    layout.valuesOffset = ptrBytes;
    if (layout.encoding == CPUWeightEncoding::I8Quads) {
      layout.sumsOffset = ptrBytes + alignTo64(layout.n * 4);
      layout.valuesOffset = layout.sumsOffset + alignTo64(layout.n * 4);
    }
    return layout;
  }

  int64_t vectors() const { return c / kLanes; }
  /// Rows of the register tile: about 24 accumulators.
  int64_t maxTileRows() const {
    // 28 x 1 f32 accumulators leave 4 zmm for the W vector and the
    // broadcasts (26-row tiles at M = 128, measured best against 16 and
    // 24); widened bf16 and int8 words take 2 and 4.
    return (encoding == CPUWeightEncoding::F32 ? 28 : 24) / vectors();
  }
};

/// Index arithmetic shorthands.
struct Ix {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return indexConst(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, c(y)); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) { return y == 1 ? x : mul(x, c(y)); }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, c(y));
  }
  Value align64(Value x) { return mul(div(add(x, 63), 64), 64); }
  Value toIndex(Value i32) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
  }
  Value toI32(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
  }
};

/// The byte buffer `bytes` (memref<? x i8>) as a 1-d memref of `element`.
Value viewElements(OpBuilder &b, Location loc, Value bytes, Type element) {
  int64_t width = element.getIntOrFloatBitWidth() / 8;
  Value size = memref::DimOp::create(b, loc, bytes, 0);
  if (width != 1)
    size = arith::DivUIOp::create(b, loc, size, indexConst(b, loc, width));
  return viewAs(b, loc, bytes, 0,
                MemRefType::get({ShapedType::kDynamic}, element), size);
}

class BlockSparseFormat final : public CompressedFormat {
public:
  StringRef getName() const override { return "blocksparse"; }

  bool supports(PackedType type) const override {
    return BlockSparseLayout::get(type).has_value();
  }

  /// int8 activations (per row or per tensor) with int8 weights whose
  /// blocks hold whole quads of rows run on vpdpbusd.
  bool handlesAct(PackedType type, PrecisionAttr act,
                  const CPUTarget &target) const override {
    auto layout = BlockSparseLayout::get(type);
    return layout && layout->encoding == CPUWeightEncoding::I8Quads &&
           layout->r % 4 == 0 && target.hasVNNI &&
           act.getElementType().isSignlessInteger(8) && !act.getZeroPoint() &&
           (act.getGranularity() == Granularity::Channel ||
            act.getGranularity() == Granularity::Tensor);
  }

  Value buildPack(OpBuilder &b, Location loc, PackedType type,
                  Value weight) const override;
  Value buildUnpack(OpBuilder &b, Location loc, PackedType type,
                    Value bytes) const override;
  Value buildLinear(OpBuilder &b, Location loc, const CompressedLinear &linear,
                    Value x, Value bytes, Value bias) const override;
};

//===----------------------------------------------------------------------===//
// Packing and decoding
//===----------------------------------------------------------------------===//

/// Whether block (kb, j) of `w` has a non-zero.
Value blockHasNonZero(OpBuilder &b, Location loc, Value w, Value kb, Value j,
                      const BlockSparseLayout &layout) {
  Ix ix{b, loc};
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value none = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value row0 = ix.mul(kb, layout.r), col0 = ix.mul(j, layout.c);
  auto rows = scf::ForOp::create(
      b, loc, ix.c(0), ix.c(layout.r), ix.c(1), ValueRange{none},
      [&](OpBuilder &, Location, Value i, ValueRange rowAcc) {
        auto cols = scf::ForOp::create(
            b, loc, ix.c(0), ix.c(layout.c), ix.c(1), rowAcc,
            [&](OpBuilder &, Location, Value o, ValueRange acc) {
              Value v = memref::LoadOp::create(
                  b, loc, w, ValueRange{ix.add(row0, i), ix.add(col0, o)});
              Value nz = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::UNE, v, zero);
              scf::YieldOp::create(
                  b, loc, arith::OrIOp::create(b, loc, acc[0], nz).getResult());
            });
        scf::YieldOp::create(b, loc, cols.getResults());
      });
  return rows.getResult(0);
}

/// Per-column (or, per tensor, global) int8 scales absmax / 127 of `w`,
/// as the reference computes them, into `scales` (memref<N x f32>).
void computeScales(OpBuilder &b, Location loc, Value w, Value scales,
                   const BlockSparseLayout &layout) {
  Ix ix{b, loc};
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{scales});
  forLoop(
      b, loc, ix.c(0), ix.c(layout.k), 1,
      [&](OpBuilder &, Location, Value row) {
        forLoop(
            b, loc, ix.c(0), ix.c(layout.n), 1,
            [&](OpBuilder &, Location, Value col) {
              Value v = memref::LoadOp::create(b, loc, w, ValueRange{row, col});
              Value max = memref::LoadOp::create(b, loc, scales, col);
              max = arith::MaximumFOp::create(b, loc, max,
                                              math::AbsFOp::create(b, loc, v));
              memref::StoreOp::create(b, loc, max, scales, col);
            });
      });
  Value global;
  if (layout.perTensorScale) {
    auto loop = scf::ForOp::create(
        b, loc, ix.c(0), ix.c(layout.n), ix.c(1), ValueRange{zero},
        [&](OpBuilder &, Location, Value col, ValueRange acc) {
          Value max = memref::LoadOp::create(b, loc, scales, col);
          scf::YieldOp::create(
              b, loc,
              arith::MaximumFOp::create(b, loc, acc[0], max).getResult());
        });
    global = loop.getResult(0);
  }
  Value qmax = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(127));
  forLoop(b, loc, ix.c(0), ix.c(layout.n), 1,
          [&](OpBuilder &, Location, Value col) {
            Value max =
                global
                    ? global
                    : memref::LoadOp::create(b, loc, scales, col).getResult();
            memref::StoreOp::create(
                b, loc, arith::DivFOp::create(b, loc, max, qmax), scales, col);
          });
}

Value BlockSparseFormat::buildPack(OpBuilder &b, Location loc, PackedType type,
                                   Value weight) const {
  BlockSparseLayout layout = *BlockSparseLayout::get(type);
  Ix ix{b, loc};
  // The reference's pruning, so exactly the blocks it keeps are stored.
  Value pruned = reference::applySparsity(b, loc, weight, type.getSparsity());
  Value w = toBuffer(b, loc, pruned);

  // Pass 1: which blocks are kept, and the block column pointers.
  auto flagsType = MemRefType::get({layout.kb, layout.nb}, b.getI8Type());
  Value kept = memref::AllocOp::create(b, loc, flagsType);
  auto ptrType = MemRefType::get({layout.nb + 1}, b.getIndexType());
  Value ptr = memref::AllocOp::create(b, loc, ptrType);
  auto countLoop = scf::ForOp::create(
      b, loc, ix.c(0), ix.c(layout.nb), ix.c(1), ValueRange{ix.c(0)},
      [&](OpBuilder &, Location, Value j, ValueRange total) {
        memref::StoreOp::create(b, loc, total[0], ptr, j);
        auto column = scf::ForOp::create(
            b, loc, ix.c(0), ix.c(layout.kb), ix.c(1), total,
            [&](OpBuilder &, Location, Value kb, ValueRange count) {
              Value nz = blockHasNonZero(b, loc, w, kb, j, layout);
              memref::StoreOp::create(
                  b, loc, arith::ExtUIOp::create(b, loc, b.getI8Type(), nz),
                  kept, ValueRange{kb, j});
              Value inc = arith::SelectOp::create(b, loc, nz, ix.c(1), ix.c(0));
              scf::YieldOp::create(b, loc, ix.add(count[0], inc));
            });
        scf::YieldOp::create(b, loc, column.getResults());
      });
  Value total = countLoop.getResult(0);
  memref::StoreOp::create(b, loc, total, ptr, ix.c(layout.nb));

  // The buffer: its size and the rows section depend on `total`.
  Value rowsOffset =
      ix.add(ix.mul(total, layout.blockBytes), layout.valuesOffset);
  Value size = ix.add(rowsOffset, ix.align64(ix.mul(total, 4)));
  Value bytes = allocBytes(b, loc, size);
  Value i32s = viewElements(b, loc, bytes, b.getI32Type());
  Value f32s = viewElements(b, loc, bytes, b.getF32Type());
  forLoop(b, loc, ix.c(0), ix.c(layout.nb + 1), 1,
          [&](OpBuilder &, Location, Value j) {
            Value p = memref::LoadOp::create(b, loc, ptr, j);
            memref::StoreOp::create(b, loc, ix.toI32(p), i32s, j);
          });
  Value scales;
  if (layout.encoding == CPUWeightEncoding::I8Quads) {
    scales = memref::AllocOp::create(
        b, loc, MemRefType::get({layout.n}, b.getF32Type()));
    computeScales(b, loc, w, scales, layout);
    forLoop(b, loc, ix.c(0), ix.c(layout.n), 1,
            [&](OpBuilder &, Location, Value col) {
              Value s = memref::LoadOp::create(b, loc, scales, col);
              memref::StoreOp::create(b, loc, s, f32s,
                                      ix.add(col, layout.scalesOffset / 4));
              // Column sums of the codes, for int8 activations shifted to u8.
              memref::StoreOp::create(
                  b, loc,
                  arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)),
                  i32s, ix.add(col, layout.sumsOffset / 4));
            });
  }

  // Pass 2: the kept blocks' values and block rows.
  Type element = layout.encoding == CPUWeightEncoding::F32 ? b.getF32Type()
                 : layout.encoding == CPUWeightEncoding::BF16Pairs
                     ? (Type)b.getBF16Type()
                     : (Type)b.getI8Type();
  Value values = viewElements(b, loc, bytes, element);
  int64_t elemBytes = element.getIntOrFloatBitWidth() / 8;
  Value rowsWord0 = ix.div(rowsOffset, 4);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value lo = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(-128));
  Value hi = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(127));
  auto storeBlock = [&](Value pos, Value kb, Value j) {
    // values[pos][word][lane][sub] = w[kb R + word kStep + sub, j C + lane]
    Value base = ix.add(ix.mul(pos, layout.blockBytes / elemBytes),
                        layout.valuesOffset / elemBytes);
    forLoop(
        b, loc, ix.c(0), ix.c(layout.words), 1,
        [&](OpBuilder &, Location, Value word) {
          forLoop(
              b, loc, ix.c(0), ix.c(layout.c), 1,
              [&](OpBuilder &, Location, Value lane) {
                forLoop(
                    b, loc, ix.c(0), ix.c(layout.kStep), 1,
                    [&](OpBuilder &, Location, Value sub) {
                      Value i = ix.add(ix.mul(word, layout.kStep), sub);
                      Value valid = arith::CmpIOp::create(
                          b, loc, arith::CmpIPredicate::ult, i, ix.c(layout.r));
                      Value row = ix.add(ix.mul(kb, layout.r),
                                         arith::MinUIOp::create(
                                             b, loc, i, ix.c(layout.r - 1)));
                      Value col = ix.add(ix.mul(j, layout.c), lane);
                      Value v = memref::LoadOp::create(b, loc, w,
                                                       ValueRange{row, col});
                      v = arith::SelectOp::create(b, loc, valid, v, zero);
                      Value at = ix.add(
                          base,
                          ix.add(ix.mul(ix.add(ix.mul(word, layout.c), lane),
                                        layout.kStep),
                                 sub));
                      Value stored;
                      switch (layout.encoding) {
                      case CPUWeightEncoding::F32:
                        stored = v;
                        break;
                      case CPUWeightEncoding::BF16Pairs:
                        stored =
                            arith::TruncFOp::create(b, loc, b.getBF16Type(), v);
                        break;
                      case CPUWeightEncoding::I8Quads: {
                        // As emitWeightPacking and the reference: nearest even,
                        // clamped.
                        Value scale =
                            memref::LoadOp::create(b, loc, scales, col);
                        Value q = arith::DivFOp::create(b, loc, v, scale);
                        q = math::RoundEvenOp::create(b, loc, q);
                        q = arith::MaximumFOp::create(b, loc, q, lo);
                        q = arith::MinimumFOp::create(b, loc, q, hi);
                        Value isZero = arith::CmpFOp::create(
                            b, loc, arith::CmpFPredicate::OEQ, scale, zero);
                        q = arith::SelectOp::create(b, loc, isZero, zero, q);
                        Value qi =
                            arith::FPToSIOp::create(b, loc, b.getI32Type(), q);
                        Value sumAt = ix.add(col, layout.sumsOffset / 4);
                        Value sum = memref::LoadOp::create(b, loc, i32s, sumAt);
                        memref::StoreOp::create(
                            b, loc, arith::AddIOp::create(b, loc, sum, qi),
                            i32s, sumAt);
                        stored =
                            arith::TruncIOp::create(b, loc, b.getI8Type(), qi);
                        break;
                      }
                      }
                      memref::StoreOp::create(b, loc, stored, values, at);
                    });
              });
        });
    memref::StoreOp::create(b, loc, ix.toI32(kb), i32s, ix.add(rowsWord0, pos));
  };
  forLoop(b, loc, ix.c(0), ix.c(layout.nb), 1,
          [&](OpBuilder &, Location, Value j) {
            Value start = memref::LoadOp::create(b, loc, ptr, j);
            scf::ForOp::create(
                b, loc, ix.c(0), ix.c(layout.kb), ix.c(1), ValueRange{start},
                [&](OpBuilder &, Location, Value kb, ValueRange pos) {
                  Value flag =
                      memref::LoadOp::create(b, loc, kept, ValueRange{kb, j});
                  Value isKept =
                      arith::TruncIOp::create(b, loc, b.getI1Type(), flag);
                  auto ifOp = scf::IfOp::create(
                      b, loc, isKept,
                      [&](OpBuilder &, Location) {
                        storeBlock(pos[0], kb, j);
                        scf::YieldOp::create(b, loc, ix.add(pos[0], 1));
                      },
                      [&](OpBuilder &, Location) {
                        scf::YieldOp::create(b, loc, pos[0]);
                      });
                  scf::YieldOp::create(b, loc, ifOp.getResults());
                });
          });
  return toTensor(b, loc, bytes);
}

Value BlockSparseFormat::buildUnpack(OpBuilder &b, Location loc,
                                     PackedType type, Value bytes) const {
  BlockSparseLayout layout = *BlockSparseLayout::get(type);
  Ix ix{b, loc};
  Value buffer = toBuffer(b, loc, bytes);
  Value i32s = viewElements(b, loc, buffer, b.getI32Type());
  Value f32s = viewElements(b, loc, buffer, b.getF32Type());
  auto denseType = MemRefType::get({layout.k, layout.n}, b.getF32Type());
  Value dense = memref::AllocOp::create(b, loc, denseType, ValueRange{},
                                        b.getI64IntegerAttr(64));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{dense});

  Type element = layout.encoding == CPUWeightEncoding::F32 ? b.getF32Type()
                 : layout.encoding == CPUWeightEncoding::BF16Pairs
                     ? (Type)b.getBF16Type()
                     : (Type)b.getI8Type();
  Value values = viewElements(b, loc, buffer, element);
  int64_t elemBytes = element.getIntOrFloatBitWidth() / 8;
  Value total = ix.toIndex(
      memref::LoadOp::create(b, loc, i32s, ix.c(layout.nb)).getResult());
  Value rowsWord0 =
      ix.div(ix.add(ix.mul(total, layout.blockBytes), layout.valuesOffset), 4);
  forLoop(
      b, loc, ix.c(0), ix.c(layout.nb), 1, [&](OpBuilder &, Location, Value j) {
        Value start = ix.toIndex(memref::LoadOp::create(b, loc, i32s, j));
        Value end =
            ix.toIndex(memref::LoadOp::create(b, loc, i32s, ix.add(j, 1)));
        forLoop(b, loc, start, end, 1, [&](OpBuilder &, Location, Value pos) {
          Value kb = ix.toIndex(
              memref::LoadOp::create(b, loc, i32s, ix.add(rowsWord0, pos)));
          Value base = ix.add(ix.mul(pos, layout.blockBytes / elemBytes),
                              layout.valuesOffset / elemBytes);
          forLoop(
              b, loc, ix.c(0), ix.c(layout.r), 1,
              [&](OpBuilder &, Location, Value i) {
                forLoop(
                    b, loc, ix.c(0), ix.c(layout.c), 1,
                    [&](OpBuilder &, Location, Value lane) {
                      // Row i of the block is sub-step i % kStep of word i /
                      // kStep.
                      Value word = ix.div(i, layout.kStep);
                      Value sub =
                          arith::RemUIOp::create(b, loc, i, ix.c(layout.kStep));
                      Value at = ix.add(
                          base,
                          ix.add(ix.mul(ix.add(ix.mul(word, layout.c), lane),
                                        layout.kStep),
                                 sub));
                      Value stored = memref::LoadOp::create(b, loc, values, at);
                      Value col = ix.add(ix.mul(j, layout.c), lane);
                      Value v;
                      switch (layout.encoding) {
                      case CPUWeightEncoding::F32:
                        v = stored;
                        break;
                      case CPUWeightEncoding::BF16Pairs:
                        v = arith::ExtFOp::create(b, loc, b.getF32Type(),
                                                  stored);
                        break;
                      case CPUWeightEncoding::I8Quads: {
                        Value q = arith::SIToFPOp::create(
                            b, loc, b.getF32Type(), stored);
                        Value scale = memref::LoadOp::create(
                            b, loc, f32s, ix.add(col, layout.scalesOffset / 4));
                        v = arith::MulFOp::create(b, loc, q, scale);
                        break;
                      }
                      }
                      Value row = ix.add(ix.mul(kb, layout.r), i);
                      memref::StoreOp::create(b, loc, v, dense,
                                              ValueRange{row, col});
                    });
              });
        });
      });
  return toTensor(b, loc, dense);
}

//===----------------------------------------------------------------------===//
// The linear
//===----------------------------------------------------------------------===//

/// The vpdpbusd stand-in (see quilt-inline-intrinsic-calls), as GemmKernel
/// declares it: one declaration per module, whoever creates it first.
func::FuncOp getVNNI(OpBuilder &b) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  StringRef name = "quilt_x86_vpdpbusd_512";
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto acc = VectorType::get({kLanes}, b.getI32Type());
  auto bytes = VectorType::get({4 * kLanes}, b.getI8Type());
  auto type = FunctionType::get(b.getContext(), {acc, bytes, bytes}, acc);
  auto func = func::FuncOp::create(b, module.getLoc(), name, type);
  func.setPrivate();
  func->setAttr(kIntrinsicAttrName,
                b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"));
  return func;
}

struct SparseEmitter {
  OpBuilder &b;
  Location loc;
  const BlockSparseLayout &layout;
  Value a; // memref<? x f32>: A(m, kb, i) = a[kb strideKB + m strideM + i]
  Value strideKB; // index
  int64_t strideM;
  Value words;  // the weight bytes as 32-bit words (f32 or i32)
  Value floats; // the same as f32 (scales)
  Value i32s;   // the same as i32 (pointers, block rows)
  Value rowsWord0;
  Value y, bias;
  /// int8 activations on vpdpbusd: x quantized per row to u8 (+128) words,
  /// memref<M x W x i32> with block kb's words at [kb * words, ...), and the
  /// row scales, memref<M x f32>.
  bool i8Dot = false;
  Value aWords, rowScales;
  func::FuncOp vnni;
  /// Blocks ahead whose A rows are prefetched (measured best against 0, 1,
  /// 3 and 4 at 128 x 4096 x 4096: 26% faster than none).
  int64_t prefetchDistance = 2;

  Value zeroVec() {
    auto type = VectorType::get({kLanes}, b.getF32Type());
    return arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
  }

  /// Rows [row0, row0 + rows) of y's block column j, from its kept blocks
  /// [lo, hi).
  void tile(int64_t rows, Value row0, Value j, Value lo, Value hi) {
    Ix ix{b, loc};
    int64_t vectors = layout.vectors();
    int64_t perSet = rows * vectors;
    // Independent sums hide the FMA latency when rows are few.
    int64_t sets = perSet >= 4 ? 1 : perSet == 1 ? 4 : 2;
    sets = std::min(sets, layout.r);
    auto wordType = cast<MemRefType>(words.getType()).getElementType();
    auto loadType = VectorType::get({kLanes}, wordType);
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    auto i32Vec = VectorType::get({kLanes}, b.getI32Type());
    auto bytesVec = VectorType::get({4 * kLanes}, b.getI8Type());
    Value zero =
        i8Dot ? arith::ConstantOp::create(
                    b, loc, i32Vec,
                    DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(0)))
                    .getResult()
              : zeroVec();
    SmallVector<Value> init(perSet * sets, zero);
    int64_t blockWords = layout.blockBytes / 4;
    Value rowOffset = ix.mul(row0, strideM);
    auto loop = scf::ForOp::create(
        b, loc, lo, hi, ix.c(1), init,
        [&](OpBuilder &, Location, Value blk, ValueRange iter) {
          SmallVector<Value> acc(iter);
          Value kb = ix.toIndex(
              memref::LoadOp::create(b, loc, i32s, ix.add(rowsWord0, blk)));
          Value aBase =
              ix.add(arith::MulIOp::create(b, loc, kb, strideKB), rowOffset);
          Value wBase =
              ix.add(ix.mul(blk, blockWords), layout.valuesOffset / 4);
          // The A rows of a later block: K jumps between blocks, which the
          // hardware prefetchers do not follow.
          if (prefetchDistance > 0) {
            Value ahead = arith::MinUIOp::create(
                b, loc, ix.add(blk, prefetchDistance),
                arith::SubIOp::create(b, loc, hi, ix.c(1)));
            Value kbAhead = ix.toIndex(
                memref::LoadOp::create(b, loc, i32s, ix.add(rowsWord0, ahead)));
            Value aAhead = ix.add(
                arith::MulIOp::create(b, loc, kbAhead, strideKB), rowOffset);
            if (i8Dot) {
              // One line per row: the block's words of that row.
              Value wordAhead = ix.mul(kbAhead, layout.words);
              for (int64_t row = 0; row < rows; ++row)
                memref::PrefetchOp::create(
                    b, loc, aWords, ValueRange{ix.add(row0, row), wordAhead},
                    /*isWrite=*/false, /*localityHint=*/3,
                    /*isDataCache=*/true);
            } else {
              // Packed rows are contiguous: one prefetch per 16 floats of
              // the tile's span; rows read in place (strideM = K): each
              // row's R floats.
              SmallVector<int64_t> offsets;
              if (strideM <= 16) {
                for (int64_t e = 0; e < (rows - 1) * strideM + layout.r;
                     e += 16)
                  offsets.push_back(e);
              } else {
                for (int64_t row = 0; row < rows; ++row)
                  for (int64_t e = 0; e < layout.r; e += 16)
                    offsets.push_back(row * strideM + e);
              }
              for (int64_t e : offsets)
                memref::PrefetchOp::create(b, loc, a,
                                           ValueRange{ix.add(aAhead, e)},
                                           /*isWrite=*/false,
                                           /*localityHint=*/3,
                                           /*isDataCache=*/true);
            }
          }
          if (i8Dot) {
            // Four rows of the block per word, on vpdpbusd.
            Value aWord0 = ix.mul(kb, layout.words);
            for (int64_t word = 0; word < layout.words; ++word) {
              SmallVector<Value> bv;
              for (int64_t v = 0; v < vectors; ++v)
                bv.push_back(vector::BitCastOp::create(
                    b, loc, bytesVec,
                    vector::LoadOp::create(
                        b, loc, loadType, words,
                        ix.add(wBase, word * layout.c + v * kLanes))));
              int64_t set = word % sets;
              for (int64_t row = 0; row < rows; ++row) {
                Value scalar = memref::LoadOp::create(
                    b, loc, aWords,
                    ValueRange{ix.add(row0, row), ix.add(aWord0, word)});
                Value av = vector::BitCastOp::create(
                    b, loc, bytesVec,
                    vector::BroadcastOp::create(b, loc, i32Vec, scalar));
                for (int64_t v = 0; v < vectors; ++v) {
                  Value &slot = acc[set * perSet + row * vectors + v];
                  slot = func::CallOp::create(b, loc, vnni,
                                              ValueRange{slot, av, bv[v]})
                             .getResult(0);
                }
              }
            }
            scf::YieldOp::create(b, loc, acc);
            return;
          }
          for (int64_t word = 0; word < layout.words; ++word) {
            SmallVector<SmallVector<Value>> bv(layout.kStep);
            for (int64_t v = 0; v < vectors; ++v) {
              Value vec = vector::LoadOp::create(
                  b, loc, loadType, words,
                  ix.add(wBase, word * layout.c + v * kLanes));
              SmallVector<Value> wide =
                  widenWords(b, loc, layout.encoding, vec);
              for (int64_t s = 0; s < layout.kStep; ++s)
                bv[s].push_back(wide[s]);
            }
            for (int64_t s = 0; s < layout.kStep; ++s) {
              int64_t i = word * layout.kStep + s;
              if (i >= layout.r)
                break; // zero padding of the last word
              int64_t set = i % sets;
              for (int64_t row = 0; row < rows; ++row) {
                Value scalar = memref::LoadOp::create(
                    b, loc, a, ix.add(aBase, row * strideM + i));
                Value av = vector::BroadcastOp::create(b, loc, f32Vec, scalar);
                for (int64_t v = 0; v < vectors; ++v) {
                  Value &slot = acc[set * perSet + row * vectors + v];
                  slot = vector::FMAOp::create(b, loc, av, bv[s][v], slot);
                }
              }
            }
          }
          scf::YieldOp::create(b, loc, acc);
        });
    SmallVector<Value> acc(loop.getResults().begin(),
                           loop.getResults().begin() + perSet);
    for (int64_t u = 1; u < sets; ++u)
      for (int64_t e = 0; e < perSet; ++e)
        acc[e] = i8Dot ? arith::AddIOp::create(b, loc, acc[e],
                                               loop.getResult(u * perSet + e))
                             .getResult()
                       : arith::AddFOp::create(b, loc, acc[e],
                                               loop.getResult(u * perSet + e))
                             .getResult();

    // Epilogue: scale, bias, one store per vector.
    Value col0 = ix.mul(j, layout.c);
    for (int64_t v = 0; v < vectors; ++v) {
      Value col = ix.add(col0, v * kLanes);
      Value scale, biasVec, colShift;
      if (layout.encoding == CPUWeightEncoding::I8Quads)
        scale = vector::LoadOp::create(b, loc, f32Vec, floats,
                                       ix.add(col, layout.scalesOffset / 4));
      if (i8Dot) {
        // (sum (qa + 128) qw - 128 sum qw) * scale_a * scale_w
        Value sums = vector::LoadOp::create(b, loc, i32Vec, i32s,
                                            ix.add(col, layout.sumsOffset / 4));
        Value c128 = arith::ConstantOp::create(
            b, loc, f32Vec,
            DenseElementsAttr::get(f32Vec, b.getF32FloatAttr(128)));
        colShift = arith::MulFOp::create(
            b, loc, arith::SIToFPOp::create(b, loc, f32Vec, sums), c128);
      }
      if (bias)
        biasVec = vector::LoadOp::create(b, loc, f32Vec, bias, col);
      for (int64_t row = 0; row < rows; ++row) {
        Value value = acc[row * vectors + v];
        Value factor = scale;
        if (i8Dot) {
          value = arith::SIToFPOp::create(b, loc, f32Vec, value);
          value = arith::SubFOp::create(b, loc, value, colShift);
          Value rowScale = memref::LoadOp::create(
              b, loc, rowScales, ValueRange{ix.add(row0, row)});
          factor = arith::MulFOp::create(
              b, loc, vector::BroadcastOp::create(b, loc, f32Vec, rowScale),
              scale);
        }
        if (factor)
          value = arith::MulFOp::create(b, loc, value, factor);
        if (biasVec)
          value = arith::AddFOp::create(b, loc, value, biasVec);
        vector::StoreOp::create(b, loc, value, y,
                                ValueRange{ix.add(row0, row), col});
      }
    }
  }
};

Value BlockSparseFormat::buildLinear(OpBuilder &b, Location loc,
                                     const CompressedLinear &linear, Value x,
                                     Value bytes, Value bias) const {
  BlockSparseLayout layout = *BlockSparseLayout::get(linear.weight);
  Ix ix{b, loc};
  Value xBuffer = toBuffer(b, loc, x);
  Value buffer = toBuffer(b, loc, bytes);
  Value m = linear.staticM
                ? ix.c(*linear.staticM)
                : memref::DimOp::create(b, loc, xBuffer, 0).getResult();
  SmallVector<Value> dynSizes;
  if (!linear.staticM)
    dynSizes.push_back(m);
  auto yType = MemRefType::get(
      {linear.staticM ? *linear.staticM : ShapedType::kDynamic, layout.n},
      b.getF32Type());
  Value y =
      memref::AllocOp::create(b, loc, yType, dynSizes, b.getI64IntegerAttr(64));

  // int8 activations: x quantized per row (or tensor) to u8 words, exactly
  // as the reference rounds it; the block's words of a row are contiguous.
  bool i8Dot = bool(linear.act);
  Value aWords, rowScales;
  if (i8Dot)
    aWords = prepareI8Activations(
        b, loc, xBuffer, m,
        CPUWeightLayout::make(CPUWeightEncoding::I8Quads, layout.k, layout.n),
        linear.act.getGranularity() == Granularity::Tensor, rowScales);

  // A in [KB][M][Rp] order (Rp = words * kStep, zero-padded), except for a
  // few rows whose x rows can be read in place.
  int64_t rp = layout.words * layout.kStep;
  bool direct =
      i8Dot || (linear.staticM && *linear.staticM <= 4 && rp == layout.r);
  Value a, strideKB;
  int64_t strideM;
  if (i8Dot) {
    // Unused: the kernel reads aWords.
    strideM = 0;
    strideKB = ix.c(0);
  } else if (direct) {
    auto flat = MemRefType::get({*linear.staticM * layout.k}, b.getF32Type());
    a = memref::CollapseShapeOp::create(
        b, loc, flat, xBuffer, SmallVector<ReassociationIndices>{{0, 1}});
    strideKB = ix.c(layout.r);
    strideM = layout.k;
  } else {
    strideM = rp;
    strideKB = ix.mul(m, rp);
    Value size = ix.mul(strideKB, layout.kb);
    a = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()),
        ValueRange{size}, b.getI64IntegerAttr(64));
    auto vecType = VectorType::get({kLanes}, b.getF32Type());
    Value zero = arith::ConstantOp::create(
        b, loc, vecType, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0)));
    scf::ParallelOp::create(
        b, loc, ValueRange{ix.c(0)}, ValueRange{m}, ValueRange{ix.c(1)},
        [&](OpBuilder &, Location, ValueRange ivs) {
          Value row = ivs[0];
          forLoop(
              b, loc, ix.c(0), ix.c(layout.kb), 1,
              [&](OpBuilder &, Location, Value kb) {
                Value src = ix.mul(kb, layout.r);
                Value dst = ix.add(arith::MulIOp::create(b, loc, kb, strideKB),
                                   ix.mul(row, rp));
                for (int64_t c = 0; c < rp; c += kLanes) {
                  Value chunk;
                  if (c + kLanes <= layout.r) {
                    chunk =
                        vector::LoadOp::create(b, loc, vecType, xBuffer,
                                               ValueRange{row, ix.add(src, c)});
                  } else {
                    Value mask =
                        tailMask(b, loc, ix.c(c), ix.c(layout.r), kLanes);
                    chunk = vector::MaskedLoadOp::create(
                        b, loc, vecType, xBuffer,
                        ValueRange{row, ix.add(src, c)}, mask, zero);
                  }
                  if (c + kLanes <= rp)
                    vector::StoreOp::create(b, loc, chunk, a, ix.add(dst, c));
                  else
                    vector::MaskedStoreOp::create(
                        b, loc, a, ix.add(dst, c),
                        tailMask(b, loc, ix.c(c), ix.c(rp), kLanes), chunk);
                }
              });
        });
  }

  Value i32s = viewElements(b, loc, buffer, b.getI32Type());
  Value floats = viewElements(b, loc, buffer, b.getF32Type());
  Value words = layout.encoding == CPUWeightEncoding::F32 ? floats : i32s;
  Value total = ix.toIndex(
      memref::LoadOp::create(b, loc, i32s, ix.c(layout.nb)).getResult());
  Value rowsWord0 =
      ix.div(ix.add(ix.mul(total, layout.blockBytes), layout.valuesOffset), 4);
  SparseEmitter emitter{
      b,        loc,       layout, a,
      strideKB, strideM,   words,  floats,
      i32s,     rowsWord0, y,      bias ? toBuffer(b, loc, bias) : Value()};
  if (i8Dot) {
    emitter.i8Dot = true;
    emitter.aWords = aWords;
    emitter.rowScales = rowScales;
    emitter.vnni = getVNNI(b);
  }

  int64_t tileRows = balancedTileRows(
      linear.staticM, i8Dot ? 28 / layout.vectors() : layout.maxTileRows());
  int64_t tailRows = linear.staticM ? *linear.staticM % tileRows : 1;
  Value full = linear.staticM ? ix.c(*linear.staticM / tileRows * tileRows)
                              : ix.mul(ix.div(m, tileRows), tileRows);
  int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(linear.threads, layout.nb));
  // Block column where chunk t starts: the first whose kept blocks before it
  // reach t / chunks of the total (so chunks hold about equal work).
  auto chunkStart = [&](Value t) -> Value {
    Value target = ix.div(ix.mul(total, t), chunks);
    auto count = scf::ForOp::create(
        b, loc, ix.c(0), ix.c(layout.nb), ix.c(1), ValueRange{ix.c(0)},
        [&](OpBuilder &, Location, Value j, ValueRange acc) {
          Value p = ix.toIndex(memref::LoadOp::create(b, loc, i32s, j));
          Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              p, target);
          scf::YieldOp::create(
              b, loc,
              ix.add(acc[0],
                     arith::SelectOp::create(b, loc, below, ix.c(1), ix.c(0))));
        });
    return count.getResult(0);
  };
  scf::ParallelOp::create(
      b, loc, ValueRange{ix.c(0)}, ValueRange{ix.c(chunks)},
      ValueRange{ix.c(1)}, [&](OpBuilder &, Location, ValueRange ivs) {
        Value t = ivs[0];
        Value j0 = ix.c(0), j1 = ix.c(layout.nb);
        if (chunks > 1) {
          j0 = chunkStart(t);
          Value isLast = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                               t, ix.c(chunks - 1));
          j1 = arith::SelectOp::create(b, loc, isLast, ix.c(layout.nb),
                                       chunkStart(ix.add(t, 1)));
        }
        forLoop(b, loc, j0, j1, 1, [&](OpBuilder &, Location, Value j) {
          Value lo = ix.toIndex(memref::LoadOp::create(b, loc, i32s, j));
          Value hi =
              ix.toIndex(memref::LoadOp::create(b, loc, i32s, ix.add(j, 1)));
          forLoop(b, loc, ix.c(0), full, tileRows,
                  [&](OpBuilder &, Location, Value r) {
                    emitter.tile(tileRows, r, j, lo, hi);
                  });
          if (tailRows > 0)
            forLoop(b, loc, full, m, tailRows,
                    [&](OpBuilder &, Location, Value r) {
                      emitter.tile(tailRows, r, j, lo, hi);
                    });
        });
      });
  return toTensor(b, loc, y);
}

} // namespace

const CompressedFormat &cpu::getBlockSparseFormat() {
  static const BlockSparseFormat format;
  return format;
}
