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

#include "BlockSparseLayout.h"
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
using namespace mlir::quilt::cpu::blocksparse;

namespace {

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

} // namespace

Value BlockSparseFormat::buildLinear(OpBuilder &b, Location loc,
                                     const CompressedLinear &linear, Value x,
                                     Value bytes, Value bias) const {
  return blocksparse::emitLinear(b, loc, linear, x, bytes, bias);
}

const CompressedFormat &cpu::getBlockSparseFormat() {
  static const BlockSparseFormat format;
  return format;
}
