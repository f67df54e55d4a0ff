//===- BlockSparseLinear.cpp - Block-sparse linears on CPU ------*- C++ -*-===//
//
// The linear of block-sparse weights: the loop nest and register tiles that
// BlockSparseFormat.cpp's header comment describes.
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

} // namespace

Value blocksparse::emitLinear(OpBuilder &b, Location loc,
                              const CompressedLinear &linear, Value x,
                              Value bytes, Value bias) {
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
  SparseEmitter emitter{b,
                        loc,
                        layout,
                        a,
                        strideKB,
                        strideM,
                        words,
                        floats,
                        i32s,
                        rowsWord0,
                        y,
                        bias ? toBuffer(b, loc, bias) : Value(),
                        /*i8Dot=*/false,
                        /*aWords=*/{},
                        /*rowScales=*/{},
                        /*vnni=*/{}};
  if (i8Dot) {
    emitter.i8Dot = true;
    emitter.aWords = aWords;
    emitter.rowScales = rowScales;
    emitter.vnni = getVNNIStandIn(b);
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
