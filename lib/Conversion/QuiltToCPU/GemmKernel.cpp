//===- GemmKernel.cpp - The blocked, vectorized GEMM generator --*- C++ -*-===//
//
// Loop nest (BLIS-like, with the weight already in panels):
//
//   parallel      column block (one per thread)
//     for         1024 columns                    K block of B stays in L2
//       for       K block of 256 words            B micro-panel in L1
//         for     row block of 16 register tiles  A block stays in L2
//           for   32-column panel
//             for register tile of up to 12 rows  accumulators in zmm
//
// The microkernel keeps rows x 2 accumulators of 16 lanes in registers and,
// per 32-bit word of K, loads the panel's two B vectors once and broadcasts
// one A word per row. With 16 registers (AVX2) the tiles are narrow
// instead: up to 6 rows x 1 vector of 16 lanes (12 ymm), each half of the
// panel in turn. Its epilogue adds the partial sums of earlier K blocks
// and, after the last one, dequantizes and adds the bias; masked loads and
// stores handle a ragged N.
//
//===----------------------------------------------------------------------===//

#include "GemmKernel.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;

namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kVectors = CPUWeightLayout::kPanelWidth / kLanes;
// Up to this many rows a B micro-panel is streamed whole (see emitGemm).
constexpr int64_t kFewRows = 48;
constexpr int64_t kBlockWords = 256; // K block: a 32 KiB B micro-panel
constexpr int64_t kRowBlockTiles = 16;
constexpr int64_t kL2Panels = 32; // 1024 columns: a 1 MiB K block of B
// Register files with room for fewer panel-wide rows use narrow tiles.
constexpr int64_t kNarrowBelowRows = 6;

struct TileEmitter {
  OpBuilder &b;
  Location loc;
  const GemmConfig &config;
  const GemmOperands &ops;
  func::FuncOp vnni; // the vpdpbusd stand-in, for I8Dot
  /// One K block: every tile's epilogue is the last one.
  bool singleKBlock = false;
  /// When set, A is read from this copy of rows [aRow0, ...) and K words
  /// [aWord0, ...) instead of `ops.a`.
  Value aBlock, aRow0, aWord0;
  /// 16-lane vectors of a tile row: kVectors (the whole panel), or 1 for
  /// narrow tiles whose first column in the panel is `tileCol`.
  int64_t vectors = kVectors;
  Value tileCol;
  /// Vector accumulators the register file holds (see accumulate).
  int64_t accumulatorBudget = 24;

  bool widens() const {
    return config.kind == GemmKind::F32 &&
           config.weight.encoding != CPUWeightEncoding::F32;
  }
  /// A words consumed per K word: the F32 kernel reads kStep floats.
  int64_t subSteps() const {
    return config.kind == GemmKind::F32 ? config.weight.kStep : 1;
  }
  VectorType accType() const {
    Type element = config.kind == GemmKind::I8Dot ? (Type)b.getI32Type()
                                                  : (Type)b.getF32Type();
    return VectorType::get({kLanes}, element);
  }
  Value splat(VectorType type, Attribute value) {
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, value));
  }
  Value splatI32(int64_t value) {
    auto type = VectorType::get({kLanes}, b.getI32Type());
    return splat(type, b.getI32IntegerAttr(value));
  }

  /// B vectors per row of the register tile: two weights when paired.
  int64_t rowVectors() const { return ops.b2 ? 2 * vectors : vectors; }

  /// Column of vector `v` of the tile within its panel.
  Value panelColumn(int64_t v) {
    Value col = indexConst(b, loc, v * kLanes);
    return tileCol ? arith::AddIOp::create(b, loc, tileCol, col).getResult()
                   : col;
  }

  /// The B words of K word `kw` of `panel`: the tile's vectors, the second
  /// weight's after the first's.
  SmallVector<Value> loadB(Value panel, Value kw) {
    SmallVector<Value> words;
    for (Value source : {ops.b, ops.b2}) {
      if (!source)
        continue;
      auto bType = cast<MemRefType>(source.getType());
      auto loadType = VectorType::get({kLanes}, bType.getElementType());
      for (int64_t v = 0; v < vectors; ++v)
        words.push_back(vector::LoadOp::create(
            b, loc, loadType, source, ValueRange{panel, kw, panelColumn(v)}));
    }
    return words;
  }

  /// Sub-step `s` of a B word vector as the dot product's operand. Widened
  /// per sub-step, just before its use, so that only one sub-step's vectors
  /// are live beside the accumulators.
  Value subStepOf(Value word, int64_t s) {
    if (!widens())
      return retype(word);
    // Widen in registers: bf16 is the top half of an f32; an int8 is
    // sign-extended out of its byte with two shifts.
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    if (config.weight.encoding == CPUWeightEncoding::BF16Pairs) {
      Value bits =
          s == 0 ? arith::ShLIOp::create(b, loc, word, splatI32(16)).getResult()
                 : arith::AndIOp::create(b, loc, word, splatI32(0xFFFF0000))
                       .getResult();
      return vector::BitCastOp::create(b, loc, f32Vec, bits);
    }
    Value bits = word;
    if (s != 3)
      bits = arith::ShLIOp::create(b, loc, word, splatI32(24 - 8 * s));
    bits = arith::ShRSIOp::create(b, loc, bits, splatI32(24));
    return arith::SIToFPOp::create(b, loc, f32Vec, bits);
  }

  /// A B or broadcast-A word vector in the operand type of the dot product.
  Value retype(Value words) {
    switch (config.kind) {
    case GemmKind::F32:
      return words;
    case GemmKind::BF16Dot:
      return vector::BitCastOp::create(
          b, loc, VectorType::get({2 * kLanes}, b.getBF16Type()), words);
    case GemmKind::I8Dot:
      return vector::BitCastOp::create(
          b, loc, VectorType::get({4 * kLanes}, b.getI8Type()), words);
    }
    llvm_unreachable("unknown GEMM kind");
  }

  /// Row `row`'s A operand for sub-step `s` of K word `kw`, broadcast.
  Value loadA(Value row, Value kw, int64_t s) {
    Value source = ops.a;
    if (aBlock) {
      // Coordinates inside the copied block.
      source = aBlock;
      row = arith::SubIOp::create(b, loc, row, aRow0);
      kw = arith::SubIOp::create(b, loc, kw, aWord0);
    }
    Value col = kw;
    if (subSteps() > 1) {
      col = arith::MulIOp::create(b, loc, kw, indexConst(b, loc, subSteps()));
      col = arith::AddIOp::create(b, loc, col, indexConst(b, loc, s));
    }
    Value scalar = memref::LoadOp::create(b, loc, source, ValueRange{row, col});
    auto type = VectorType::get({kLanes}, scalar.getType());
    return retype(vector::BroadcastOp::create(b, loc, type, scalar));
  }

  Value multiplyAdd(Value acc, Value a, Value bv) {
    switch (config.kind) {
    case GemmKind::F32:
      return vector::FMAOp::create(b, loc, a, bv, acc);
    case GemmKind::BF16Dot:
      return x86vector::DotBF16Op::create(b, loc, accType(), acc, a, bv);
    case GemmKind::I8Dot:
      // u8 (activations, shifted by +128) x s8 (weights), 4 per lane.
      return func::CallOp::create(b, loc, vnni, ValueRange{acc, a, bv})
          .getResult(0);
    }
    llvm_unreachable("unknown GEMM kind");
  }

  /// Accumulators after K words [kw0, kw1), `sets` independent copies
  /// (summed at the end) to hide the FMA latency when rows are few, as many
  /// as the register file holds beside the operands.
  SmallVector<Value> accumulate(Value row0, int64_t rows, Value panel,
                                Value kw0, Value kw1) {
    int64_t perSet = rows * rowVectors();
    int64_t sets = std::clamp<int64_t>(accumulatorBudget / perSet, 1,
                                       rows == 1   ? 4
                                       : rows == 2 ? 2
                                                   : 1);
    Value zero = config.kind == GemmKind::I8Dot
                     ? splatI32(0)
                     : splat(accType(), b.getF32FloatAttr(0));
    // Set u reads K word kw + u * stride: with a stride of a quarter of the
    // K range, the sets stream four parts of the panel at once (more misses
    // in flight for the memory-bound M = 1 case).
    Value stride;
    auto body = [&](int64_t unroll) {
      return [&, unroll](OpBuilder &, Location, Value kw, ValueRange accs) {
        SmallVector<Value> next(accs);
        for (int64_t u = 0; u < unroll; ++u) {
          Value k = kw;
          if (u > 0)
            k = arith::AddIOp::create(
                b, loc, kw,
                arith::MulIOp::create(b, loc, stride, indexConst(b, loc, u)));
          SmallVector<Value> words = loadB(panel, k);
          for (int64_t s = 0; s < subSteps(); ++s) {
            SmallVector<Value> bv;
            for (Value word : words)
              bv.push_back(subStepOf(word, s));
            for (int64_t i = 0; i < rows; ++i) {
              Value row =
                  arith::AddIOp::create(b, loc, row0, indexConst(b, loc, i));
              Value a = loadA(row, k, s);
              for (int64_t v = 0; v < rowVectors(); ++v) {
                Value &acc = next[u * perSet + i * rowVectors() + v];
                acc = multiplyAdd(acc, a, bv[v]);
              }
            }
          }
        }
        scf::YieldOp::create(b, loc, next);
      };
    };
    auto loop = [&](Value lb, Value ub, int64_t unroll, ValueRange init) {
      OpBuilder::InsertionGuard guard(b);
      auto forOp = scf::ForOp::create(
          b, loc, lb, ub, indexConst(b, loc, 1), init,
          [&](OpBuilder &nb, Location nl, Value iv, ValueRange accs) {
            body(unroll)(nb, nl, iv, accs);
          });
      return SmallVector<Value>(forOp.getResults());
    };
    SmallVector<Value> init(perSet * sets, zero);
    if (sets == 1)
      return loop(kw0, kw1, 1, init);
    Value span = arith::SubIOp::create(b, loc, kw1, kw0);
    Value setsValue = indexConst(b, loc, sets);
    stride = arith::DivUIOp::create(b, loc, span, setsValue);
    Value mainEnd = arith::AddIOp::create(
        b, loc, kw0, arith::MulIOp::create(b, loc, stride, setsValue));
    SmallVector<Value> partial =
        loop(kw0, arith::AddIOp::create(b, loc, kw0, stride), sets, init);
    SmallVector<Value> acc(partial.begin(), partial.begin() + perSet);
    for (int64_t u = 1; u < sets; ++u)
      for (int64_t j = 0; j < perSet; ++j)
        acc[j] =
            config.kind == GemmKind::I8Dot
                ? arith::AddIOp::create(b, loc, acc[j], partial[u * perSet + j])
                      .getResult()
                : arith::AddFOp::create(b, loc, acc[j], partial[u * perSet + j])
                      .getResult();
    return loop(mainEnd, kw1, 1, acc);
  }

  /// `body(v, col, mask)` for each 16-column vector v of `panel`: its
  /// first column and the mask of the columns below N.
  void forEachColumnVector(Value panel,
                           function_ref<void(int64_t, Value, Value)> body) {
    Value n = indexConst(b, loc, config.weight.cols);
    Value panelCol = arith::MulIOp::create(
        b, loc, panel, indexConst(b, loc, CPUWeightLayout::kPanelWidth));
    for (int64_t v = 0; v < vectors; ++v) {
      Value col = arith::AddIOp::create(b, loc, panelCol, panelColumn(v));
      body(v, col, tailMask(b, loc, col, n, kLanes));
    }
  }

  /// Adds the tile to C; after the last K block also dequantizes and adds
  /// the bias.
  void epilogue(Value row0, int64_t rows, Value panel, ArrayRef<Value> acc,
                Value isLast) {
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    Value zero = splat(f32Vec, b.getF32FloatAttr(0));
    forEachColumnVector(panel, [&](int64_t v, Value col, Value mask) {
      // Per-column factors, loaded once for all rows of the tile.
      Value colScale, colShift, bias;
      if (ops.colScale)
        colScale = vector::LoadOp::create(b, loc, f32Vec, ops.colScale, col);
      if (config.kind == GemmKind::I8Dot) {
        Value sums = vector::LoadOp::create(
            b, loc, VectorType::get({kLanes}, b.getI32Type()), ops.colSum, col);
        Value sumsF = arith::SIToFPOp::create(b, loc, f32Vec, sums);
        colShift = arith::MulFOp::create(b, loc, sumsF,
                                         splat(f32Vec, b.getF32FloatAttr(128)));
      }
      if (ops.bias)
        bias = vector::MaskedLoadOp::create(b, loc, f32Vec, ops.bias,
                                            ValueRange{col}, mask, zero);
      for (int64_t i = 0; i < rows; ++i) {
        Value row = arith::AddIOp::create(b, loc, row0, indexConst(b, loc, i));
        Value value = acc[i * vectors + v];
        if (config.kind == GemmKind::I8Dot)
          value = arith::SIToFPOp::create(b, loc, f32Vec, value);
        Value old = vector::MaskedLoadOp::create(
            b, loc, f32Vec, ops.c, ValueRange{row, col}, mask, zero);
        value = arith::AddFOp::create(b, loc, value, old);
        auto finish = [&](Value final) {
          if (config.kind == GemmKind::I8Dot) {
            // (sum (qa + 128) qw - 128 sum qw) * scale_a * scale_w
            Value rowScale =
                memref::LoadOp::create(b, loc, ops.rowScale, ValueRange{row});
            Value scale = arith::MulFOp::create(
                b, loc, vector::BroadcastOp::create(b, loc, f32Vec, rowScale),
                colScale);
            final = arith::SubFOp::create(b, loc, final, colShift);
            final = arith::MulFOp::create(b, loc, final, scale);
          } else if (colScale) {
            final = arith::MulFOp::create(b, loc, final, colScale);
          }
          if (bias)
            final = arith::AddFOp::create(b, loc, final, bias);
          if (ops.epilogue)
            final = ops.epilogue(b, loc, final, row, col, mask);
          return final;
        };
        if (ops.epilogue && !singleKBlock) {
          // Fused element-wise ops are too costly to compute and discard on
          // every K block, unlike a select of the cheap dequantization.
          value = scf::IfOp::create(
                      b, loc, isLast,
                      [&](OpBuilder &, Location) {
                        scf::YieldOp::create(b, loc, finish(value));
                      },
                      [&](OpBuilder &, Location) {
                        scf::YieldOp::create(b, loc, value);
                      })
                      .getResult(0);
        } else if (Value final = finish(value); final != value) {
          value = arith::SelectOp::create(b, loc, isLast, final, value);
        }
        vector::MaskedStoreOp::create(b, loc, ops.c, ValueRange{row, col}, mask,
                                      value);
      }
    });
  }

  /// The paired epilogue (one K block, C not read): both products are
  /// scaled and biased, combined, and only the combination is stored.
  void pairEpilogue(Value row0, int64_t rows, Value panel,
                    ArrayRef<Value> acc) {
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    Value zero = splat(f32Vec, b.getF32FloatAttr(0));
    forEachColumnVector(panel, [&](int64_t v, Value col, Value mask) {
      auto perColumn = [&](Value scales, Value bias) {
        std::pair<Value, Value> factors;
        if (scales)
          factors.first = vector::LoadOp::create(b, loc, f32Vec, scales, col);
        if (bias)
          factors.second = vector::MaskedLoadOp::create(
              b, loc, f32Vec, bias, ValueRange{col}, mask, zero);
        return factors;
      };
      auto first = perColumn(ops.colScale, ops.bias);
      auto second = perColumn(ops.colScale2, ops.bias2);
      auto finish = [&](Value value, std::pair<Value, Value> factors) {
        if (factors.first)
          value = arith::MulFOp::create(b, loc, value, factors.first);
        if (factors.second)
          value = arith::AddFOp::create(b, loc, value, factors.second);
        return value;
      };
      for (int64_t i = 0; i < rows; ++i) {
        Value row = arith::AddIOp::create(b, loc, row0, indexConst(b, loc, i));
        Value x = finish(acc[i * rowVectors() + v], first);
        Value y = finish(acc[i * rowVectors() + vectors + v], second);
        vector::MaskedStoreOp::create(
            b, loc, ops.c, ValueRange{row, col}, mask,
            ops.pairEpilogue(b, loc, x, y, row, col, mask));
      }
    });
  }

  /// Starts loading the C tile the epilogue will read, so that its cache
  /// misses overlap the K loop instead of stalling after it.
  void prefetchC(Value row0, int64_t rows, Value panel) {
    Value lastCol = indexConst(b, loc, config.weight.cols - 1);
    Value col = arith::MulIOp::create(
        b, loc, panel, indexConst(b, loc, CPUWeightLayout::kPanelWidth));
    for (int64_t v = 0; v < vectors; ++v) {
      Value c = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, col, panelColumn(v)), lastCol);
      for (int64_t i = 0; i < rows; ++i) {
        Value row = arith::AddIOp::create(b, loc, row0, indexConst(b, loc, i));
        memref::PrefetchOp::create(b, loc, ops.c, ValueRange{row, c},
                                   /*isWrite=*/true, /*localityHint=*/3,
                                   /*isDataCache=*/true);
      }
    }
  }

  void tile(Value row0, int64_t rows, Value panel, Value kw0, Value kw1,
            Value isLast) {
    if (vectors < kVectors) {
      // Narrow tiles: the panel's columns one tile width at a time.
      forLoop(b, loc, indexConst(b, loc, 0),
              indexConst(b, loc, CPUWeightLayout::kPanelWidth),
              vectors * kLanes, [&](OpBuilder &, Location, Value col) {
                tileCol = col;
                tileColumns(row0, rows, panel, kw0, kw1, isLast);
              });
      tileCol = {};
      return;
    }
    tileColumns(row0, rows, panel, kw0, kw1, isLast);
  }

  void tileColumns(Value row0, int64_t rows, Value panel, Value kw0, Value kw1,
                   Value isLast) {
    prefetchC(row0, rows, panel);
    SmallVector<Value> acc = accumulate(row0, rows, panel, kw0, kw1);
    if (ops.b2)
      pairEpilogue(row0, rows, panel, acc);
    else
      epilogue(row0, rows, panel, acc, isLast);
  }
};

} // namespace

int64_t cpu::getMaxTileRows(const CPUTarget &target) {
  return target.hasAVX512 ? 12 : 3;
}

bool cpu::streamsWholePanels(const GemmConfig &config) {
  return config.staticM && *config.staticM <= kFewRows;
}

/// Narrow (16-column) register tiles, for register files that hold fewer
/// than kNarrowBelowRows panel-wide rows of accumulators, when M has rows
/// to reuse a B vector across.
static bool usesNarrowTiles(const GemmConfig &config) {
  return config.maxTileRows < kNarrowBelowRows &&
         (!config.staticM || *config.staticM > 2);
}

bool cpu::canPairGemm(const GemmConfig &config) {
  // Not on small register files: paired narrow tiles hold half the rows of
  // unpaired ones and so stream each B panel twice as often, and a paired
  // row has no room for the independent accumulator sets that keep more
  // misses in flight (measured on Zen 3, gated MLP 4096 x 11008: M = 16,
  // 104 ms paired against 66 ms as two GEMMs; M = 1, 13.6 against 10.6).
  return config.kind == GemmKind::F32 && config.staticM &&
         *config.staticM <= kFewRows && config.maxTileRows >= kNarrowBelowRows;
}

void cpu::emitGemm(OpBuilder &b, Location loc, const GemmConfig &config,
                   const GemmOperands &ops) {
  assert((!ops.b2 || canPairGemm(config)) && "unsupported paired GEMM");
  const CPUWeightLayout &w = config.weight;
  int64_t panels = w.panels;
  int64_t blocks =
      std::max<int64_t>(1, std::min<int64_t>(config.colBlocks, panels));
  int64_t panelsPerBlock = (panels + blocks - 1) / blocks;
  blocks = (panels + panelsPerBlock - 1) / panelsPerBlock;

  // Few rows reuse little of a B micro-panel: stream each panel's whole K
  // (sequential, prefetcher- and TLB-friendly) instead of revisiting it.
  // Not when B is a row-major weight read in place: there each K row of a
  // panel is on another page, and K blocks across kL2Panels panels (a 4
  // KiB row segment) use each page whole while it is in the TLB
  // (16x4096x11008 on Zen 3: 116 -> 41 ms; packed panels 25-30 ms).
  bool fewRows = streamsWholePanels(config);
  bool rowMajorB = !cast<MemRefType>(ops.b.getType()).getLayout().isIdentity();
  int64_t blockWords =
      fewRows && !rowMajorB ? w.kWords : std::min(w.kWords, kBlockWords);
  // The register file holds maxTileRows panel-wide rows of accumulators.
  // When those are few (16 ymm registers: 3 rows of 4), tiles are narrow
  // instead, 16 columns and twice the rows (BLIS's 6 x 16 on AVX2): each B
  // vector then feeds more rows, and the operands fit beside the
  // accumulators without spills. One or two rows reuse nothing either way.
  int64_t budget = config.maxTileRows * kVectors;
  bool narrow = usesNarrowTiles(config);
  int64_t vectors = narrow ? 1 : kVectors;
  // Balanced register tiles when M is known (16 rows: two tiles of 8).
  // Paired weights double the accumulators per row.
  int64_t maxRows = std::max<int64_t>(1, budget / ((ops.b2 ? 2 : 1) * vectors));
  // Narrow bf16 rows widen each pair of K rows in registers, keeping the
  // raw words for the second half: 6 rows need 17 of the 16 registers. A
  // bare GEMM then spills a raw vector (cheap); with an epilogue in the
  // function, LLVM spilled accumulators in the K loop instead, a store and
  // reload on two FMA chains (Zen 3, 16x4096x11008 then silu * up: 25-26 ms
  // against 21-22 bare); 5 rows (16 = 4 x 4) fit: 22-23 ms.
  if (narrow && w.encoding == CPUWeightEncoding::BF16Pairs && ops.epilogue)
    maxRows = std::min<int64_t>(maxRows, 5);
  int64_t tileRows = maxRows;
  if (config.staticM && *config.staticM > 0) {
    int64_t tiles = (*config.staticM + maxRows - 1) / maxRows;
    tileRows = (*config.staticM + tiles - 1) / tiles;
  }
  int64_t blockRows = tileRows * kRowBlockTiles;
  // Leftover rows of a row block: one static tile when M is known, else
  // rows one at a time.
  int64_t tailRows =
      config.staticM ? (*config.staticM % blockRows) % tileRows : 1;

  TileEmitter emitter{b,  loc, config, ops,     {}, blockWords == w.kWords,
                      {}, {},  {},     vectors, {}, budget};
  if (config.kind == GemmKind::I8Dot)
    emitter.vnni = getVNNIStandIn(b);
  auto add = [&](Value x, int64_t y) -> Value {
    return arith::AddIOp::create(b, loc, x, indexConst(b, loc, y));
  };
  auto min = [&](Value x, Value y) -> Value {
    return arith::MinUIOp::create(b, loc, x, y);
  };
  Value c0 = indexConst(b, loc, 0);
  Value kWords = indexConst(b, loc, w.kWords);

  // With K blocks, each thread copies the A block it is about to reuse
  // across all panels into a small buffer whose row stride is not a
  // multiple of 4 KiB: the rows of a register tile then do not all map to
  // the same L1 sets, and the block stays in L2.
  bool packA = !fewRows;
  int64_t subSteps = config.kind == GemmKind::F32 ? w.kStep : 1;
  auto aElement = cast<MemRefType>(ops.a.getType()).getElementType();
  int64_t aCols = blockWords * subSteps + 16;
  auto aBlockType = MemRefType::get({blockRows, aCols}, aElement);
  Value aBlock;
  auto copyABlock = [&](Value block, Value r0, Value r1, Value kw0, Value kw1) {
    auto vecType = VectorType::get({16}, aElement);
    Value zero = arith::ConstantOp::create(
        b, loc, vecType,
        DenseElementsAttr::get(vecType, b.getZeroAttr(aElement)));
    Value steps = indexConst(b, loc, subSteps);
    Value c0In = arith::MulIOp::create(b, loc, kw0, steps);
    Value c1In = arith::MulIOp::create(b, loc, kw1, steps);
    forLoop(b, loc, r0, r1, 1, [&](OpBuilder &, Location, Value r) {
      Value row = arith::SubIOp::create(b, loc, r, r0);
      forLoop(b, loc, c0In, c1In, 16, [&](OpBuilder &, Location, Value c) {
        Value mask = tailMask(b, loc, c, c1In, 16);
        Value chunk = vector::MaskedLoadOp::create(
            b, loc, vecType, ops.a, ValueRange{r, c}, mask, zero);
        Value col = arith::SubIOp::create(b, loc, c, c0In);
        vector::StoreOp::create(b, loc, chunk, block, ValueRange{row, col});
      });
    });
  };

  // Row block [r0, r1) of the panels [q0, q1), K words [kw0, kw1).
  auto rowBlock = [&](Value q0, Value q1, Value kw0, Value kw1, Value isLast,
                      Value r0) {
    Value r1 = min(add(r0, blockRows), ops.m);
    Value tileRowsValue = indexConst(b, loc, tileRows);
    Value rows = arith::SubIOp::create(b, loc, r1, r0);
    Value full = arith::AddIOp::create(
        b, loc, r0,
        arith::MulIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, rows, tileRowsValue),
            tileRowsValue));
    if (aBlock) {
      copyABlock(aBlock, r0, r1, kw0, kw1);
      emitter.aBlock = aBlock;
      emitter.aRow0 = r0;
      emitter.aWord0 = kw0;
    }
    forLoop(b, loc, q0, q1, 1, [&](OpBuilder &, Location, Value p) {
      forLoop(b, loc, r0, full, tileRows, [&](OpBuilder &, Location, Value r) {
        emitter.tile(r, tileRows, p, kw0, kw1, isLast);
      });
      if (tailRows > 0)
        forLoop(b, loc, full, r1, tailRows,
                [&](OpBuilder &, Location, Value r) {
                  emitter.tile(r, tailRows, p, kw0, kw1, isLast);
                });
    });
  };

  auto columnBlock = [&](Value block) {
    if (packA)
      aBlock = memref::AllocOp::create(b, loc, aBlockType, ValueRange{},
                                       b.getI64IntegerAttr(64));
    Value p0 = arith::MulIOp::create(b, loc, block,
                                     indexConst(b, loc, panelsPerBlock));
    Value p1 = min(add(p0, panelsPerBlock), indexConst(b, loc, panels));
    // Column sub-blocks whose K block of B stays in L2.
    forLoop(b, loc, p0, p1, kL2Panels, [&](OpBuilder &, Location, Value q0) {
      Value q1 = min(add(q0, kL2Panels), p1);
      forLoop(b, loc, c0, kWords, blockWords,
              [&](OpBuilder &, Location, Value kw0) {
                Value kw1 = min(add(kw0, blockWords), kWords);
                Value isLast = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::eq, kw1, kWords);
                forLoop(b, loc, c0, ops.m, blockRows,
                        [&](OpBuilder &, Location, Value r0) {
                          rowBlock(q0, q1, kw0, kw1, isLast, r0);
                        });
              });
    });
  };
  // One block: no parallel loop, so that a single-threaded product called
  // inside another parallel loop (batched matmul) opens no nested region.
  if (blocks == 1) {
    columnBlock(c0);
    return;
  }
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{indexConst(b, loc, blocks)},
      ValueRange{indexConst(b, loc, 1)},
      [&](OpBuilder &, Location, ValueRange ivs) { columnBlock(ivs[0]); });
}
