//===- Int4Gemm.cpp - The int4 loop nest and microkernels -------*- C++ -*-===//
//-*-===//
//
// The register tiles and the blocked loop nest of the int4 linear kernels;
// the design is described in Int4Kernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "Int4Plan.h"
#include "KernelUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::cpu;
using namespace mlir::quilt::cpu::int4;

namespace {

struct Int4Emitter {
  OpBuilder &b;
  Location loc;
  const Int4Linear &linear;
  const Plan &plan;
  const Operands &ops;
  func::FuncOp permute, dot;
  Value table; // f32: the value of each code
  /// The current tile's f32 totals over segments, [rows][units * 16].
  Value tileBuffer;
  /// W4A8, many rows: the u8 quads of the current K block (see
  /// expandBlock), of units from expandedU0 and octets from expandedO0.
  Value expanded, expandedU0, expandedO0;

  const Int4Layout &layout() const { return linear.layout; }
  Value idx(int64_t v) { return indexConst(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
  }
  VectorType vec(Type element, int64_t lanes = kLanes) {
    return VectorType::get({lanes}, element);
  }
  Value splat(VectorType type, Attribute value) {
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, value));
  }
  Value splatI32(int64_t value) {
    return splat(vec(b.getI32Type()), b.getI32IntegerAttr(value));
  }
  Value splatF32(double value) {
    return splat(vec(b.getF32Type()), b.getF32FloatAttr(value));
  }

  /// Octets [o0, o1) and the scale group of segment `s`.
  std::tuple<Value, Value, Value> segment(Value s) {
    int64_t go = layout().groupOctets;
    if (plan.segsPerGroup == 1) {
      Value o0 = mul(s, go);
      return {o0, add(o0, go), s};
    }
    Value spg = idx(plan.segsPerGroup);
    Value g = arith::DivUIOp::create(b, loc, s, spg);
    Value part = arith::RemUIOp::create(b, loc, s, spg);
    Value start = mul(g, go);
    Value o0 = add(start, mul(part, plan.segOctets));
    Value o1 =
        arith::MinUIOp::create(b, loc, add(o0, plan.segOctets), add(start, go));
    return {o0, o1, g};
  }

  /// Row `row`'s activation `col` (an f32, or a word of 4 s8), broadcast.
  Value broadcastA(Value row, Value col) {
    Value scalar = memref::LoadOp::create(b, loc, ops.a, ValueRange{row, col});
    Value v =
        vector::BroadcastOp::create(b, loc, vec(scalar.getType()), scalar);
    if (linear.dotI8)
      v = vector::BitCastOp::create(b, loc, vec(b.getI8Type(), 4 * kLanes), v);
    return v;
  }

  /// The R x V group sums of octets [o0, o1).
  SmallVector<Value> accumulate(Value r0, int64_t rows, Value u0, int64_t units,
                                Value s, Value o0, Value o1) {
    SmallVector<Value> init;
    for (int64_t i = 0; i < rows; ++i) {
      Value start = linear.dotI8 ? splatI32(0) : splatF32(0);
      if (ops.rowSums && !layout().zeroPoint) {
        // Symmetric codes taken as unsigned: the sums start at -8 x (the
        // row's sum over the segment), which takes the +8 of the codes off
        // (exactly for W4A8).
        Value offset = memref::LoadOp::create(b, loc, ops.rowSums,
                                              ValueRange{add(r0, i), s});
        start = vector::BroadcastOp::create(
            b, loc, cast<VectorType>(start.getType()), offset);
      }
      init.append(units, start);
    }
    auto loop = scf::ForOp::create(
        b, loc, o0, o1, idx(1), init,
        [&](OpBuilder &, Location, Value o, ValueRange accs) {
          SmallVector<Value> acc(accs);
          SmallVector<Value> rowIdx;
          for (int64_t i = 0; i < rows; ++i)
            rowIdx.push_back(add(r0, i));
          if (expanded) {
            accumulateDot(rowIdx, o, expandedQuads(u0, units, o), acc);
            scf::YieldOp::create(b, loc, acc);
            return;
          }
          // Few rows stream the codes from memory: keep more lines in
          // flight than the hardware prefetcher does for V streams.
          if (rows <= 4) {
            Value ahead = arith::MinUIOp::create(
                b, loc, add(o, kPrefetchOctets), idx(layout().octets - 1));
            for (int64_t v = 0; v < units; ++v)
              memref::PrefetchOp::create(b, loc, ops.codes,
                                         ValueRange{add(u0, v), ahead, idx(0)},
                                         /*isWrite=*/false, /*localityHint=*/3,
                                         /*isDataCache=*/true);
          }
          if (!linear.dotI8) {
            accumulateFma(rowIdx, u0, units, o, acc);
            scf::YieldOp::create(b, loc, acc);
            return;
          }
          SmallVector<Value> words;
          for (int64_t v = 0; v < units; ++v)
            words.push_back(
                vector::LoadOp::create(b, loc, vec(b.getI32Type()), ops.codes,
                                       ValueRange{add(u0, v), o, idx(0)}));
          accumulateDot(rowIdx, o, splitNibbles(words), acc);
          scf::YieldOp::create(b, loc, acc);
        });
    return SmallVector<Value>(loop.getResults());
  }

  /// The u8 quads of each code word's rows 8o..8o+3 (low nibbles) and
  /// 8o+4..8o+7 (high nibbles).
  SmallVector<std::pair<Value, Value>> splitNibbles(ArrayRef<Value> words) {
    Value low = splatI32(0x0F0F0F0F);
    SmallVector<std::pair<Value, Value>> out;
    for (Value word : words) {
      Value shifted = arith::ShRUIOp::create(b, loc, word, splatI32(4));
      out.push_back({arith::AndIOp::create(b, loc, word, low),
                     arith::AndIOp::create(b, loc, shifted, low)});
    }
    return out;
  }

  /// The same quads, from the expanded K block.
  SmallVector<std::pair<Value, Value>> expandedQuads(Value u0, int64_t units,
                                                     Value o) {
    Value bu = arith::SubIOp::create(b, loc, u0, expandedU0);
    Value bo = arith::SubIOp::create(b, loc, o, expandedO0);
    SmallVector<std::pair<Value, Value>> out;
    for (int64_t v = 0; v < units; ++v) {
      auto load = [&](int64_t half) -> Value {
        return vector::LoadOp::create(
            b, loc, vec(b.getI32Type()), expanded,
            ValueRange{add(bu, v), bo, idx(half), idx(0)});
      };
      out.push_back({load(0), load(1)});
    }
    return out;
  }

  /// Splits the code words of units [q0, q1) and octets [o0, o1) into
  /// `expanded`, [unit - q0][octet - o0][low | high][16] u8 quads, once for
  /// all row tiles of the K block.
  void expandBlock(Value q0, Value q1, Value o0, Value o1) {
    forLoop(b, loc, q0, q1, 1, [&](OpBuilder &, Location, Value u) {
      Value bu = arith::SubIOp::create(b, loc, u, q0);
      forLoop(b, loc, o0, o1, 1, [&](OpBuilder &, Location, Value o) {
        Value word = vector::LoadOp::create(
            b, loc, vec(b.getI32Type()), ops.codes, ValueRange{u, o, idx(0)});
        auto [lo, hi] = splitNibbles(word)[0];
        Value bo = arith::SubIOp::create(b, loc, o, o0);
        vector::StoreOp::create(b, loc, lo, expanded,
                                ValueRange{bu, bo, idx(0), idx(0)});
        vector::StoreOp::create(b, loc, hi, expanded,
                                ValueRange{bu, bo, idx(1), idx(0)});
      });
    });
    expandedU0 = q0;
    expandedO0 = o0;
  }

  /// Unit `u`'s code word of octet `o` loaded from byte offset `byte`, so
  /// that the low byte of each lane holds rows 8o+byte (low nibble) and
  /// 8o+4+byte (high nibble): the first needs no shift, the second one
  /// (unaligned loads are cheaper than shifts, which compete with the FMAs
  /// for the vector ports). The loads past the last word read the scales
  /// section that follows the codes.
  Value loadShiftedWord(Value u, Value o, int64_t byte) {
    Value start =
        mul(add(mul(u, layout().octets), o), Int4Layout::kUnitCols * 4);
    Value bytes = vector::LoadOp::create(b, loc, vec(b.getI8Type(), 64),
                                         ops.bytes, add(start, byte));
    return vector::BitCastOp::create(b, loc, vec(b.getI32Type()), bytes);
  }

  /// The table value of the code in the low (or `high`) nibble of each
  /// lane's low byte: vpermps reads only the low 4 bits of each lane;
  /// without it, the nibble is masked out and converted.
  Value decode(Value word, bool high) {
    if (high)
      word = arith::ShRUIOp::create(b, loc, word, splatI32(4));
    if (permute)
      return func::CallOp::create(b, loc, permute, ValueRange{table, word})
          .getResult(0);
    Value code = arith::AndIOp::create(b, loc, word, splatI32(15));
    Value value = arith::SIToFPOp::create(b, loc, vec(b.getF32Type()), code);
    if (layout().zeroPoint || ops.rowSums)
      return value;
    return arith::AddFOp::create(b, loc, value, splatF32(-8));
  }

  /// Rows 8o + byte and 8o + 4 + byte in turn, so that each loaded word
  /// lives briefly.
  void accumulateFma(ArrayRef<Value> rows, Value u0, int64_t units, Value o,
                     SmallVector<Value> &acc) {
    Value k0 = mul(o, Int4Layout::kOctetRows);
    for (int64_t byte = 0; byte < 4; ++byte) {
      SmallVector<Value> words;
      for (int64_t v = 0; v < units; ++v)
        words.push_back(loadShiftedWord(add(u0, v), o, byte));
      for (bool high : {false, true}) {
        SmallVector<Value> w;
        for (Value word : words)
          w.push_back(decode(word, high));
        for (auto [i, row] : llvm::enumerate(rows)) {
          Value a = broadcastA(row, add(k0, byte + (high ? 4 : 0)));
          for (int64_t v = 0; v < units; ++v) {
            Value &sum = acc[i * units + v];
            sum = vector::FMAOp::create(b, loc, a, w[v], sum);
          }
        }
      }
    }
  }

  void accumulateDot(ArrayRef<Value> rows, Value o,
                     ArrayRef<std::pair<Value, Value>> quads,
                     SmallVector<Value> &acc) {
    int64_t units = quads.size();
    auto bytes = vec(b.getI8Type(), 4 * kLanes);
    SmallVector<Value> lo, hi;
    for (auto [l, h] : quads) {
      lo.push_back(vector::BitCastOp::create(b, loc, bytes, l));
      hi.push_back(vector::BitCastOp::create(b, loc, bytes, h));
    }
    Value w0 = mul(o, 2);
    Value w1 = add(w0, 1);
    for (auto [i, row] : llvm::enumerate(rows)) {
      Value a0 = broadcastA(row, w0), a1 = broadcastA(row, w1);
      for (int64_t v = 0; v < units; ++v) {
        Value &sum = acc[i * units + v];
        sum = func::CallOp::create(b, loc, dot, ValueRange{sum, lo[v], a0})
                  .getResult(0);
        sum = func::CallOp::create(b, loc, dot, ValueRange{sum, hi[v], a1})
                  .getResult(0);
      }
    }
  }

  /// totals += (sums - offset) * scale of segment `s`, into the tile's
  /// buffer (contiguous, so in L1, unlike rows of C that are a multiple of
  /// 4 KiB apart).
  void flush(Value r0, int64_t rows, Value u0, int64_t units, Value s, Value g,
             ArrayRef<Value> acc) {
    VectorType f32Vec = vec(b.getF32Type());
    // Zero points: the sums are off by zp x (the row's sum over the
    // segment).
    SmallVector<Value> sums;
    if (layout().zeroPoint)
      for (int64_t i = 0; i < rows; ++i) {
        Value sum = memref::LoadOp::create(b, loc, ops.rowSums,
                                           ValueRange{add(r0, i), s});
        if (linear.dotI8)
          sum = arith::SIToFPOp::create(b, loc, b.getF32Type(), sum);
        sums.push_back(vector::BroadcastOp::create(b, loc, f32Vec, sum));
      }
    for (int64_t v = 0; v < units; ++v) {
      Value col = mul(add(u0, v), Int4Layout::kUnitCols);
      Value scale = vector::LoadOp::create(b, loc, f32Vec, ops.scales,
                                           ValueRange{g, col});
      Value negOffset;
      if (ops.zeros) {
        Value zp = vector::LoadOp::create(b, loc, vec(b.getI8Type()), ops.zeros,
                                          ValueRange{g, col});
        zp = arith::ExtUIOp::create(b, loc, vec(b.getI32Type()), zp);
        zp = arith::UIToFPOp::create(b, loc, f32Vec, zp);
        negOffset = arith::NegFOp::create(b, loc, zp);
      }
      for (int64_t i = 0; i < rows; ++i) {
        Value value = acc[i * units + v];
        if (linear.dotI8)
          value = arith::SIToFPOp::create(b, loc, f32Vec, value);
        if (negOffset)
          value = vector::FMAOp::create(b, loc, negOffset, sums[i], value);
        SmallVector<Value, 2> at{idx(i), idx(v * Int4Layout::kUnitCols)};
        Value total = vector::LoadOp::create(b, loc, f32Vec, tileBuffer, at);
        total = vector::FMAOp::create(b, loc, value, scale, total);
        vector::StoreOp::create(b, loc, total, tileBuffer, at);
      }
    }
  }

  /// C += the tile's totals; after the last K block (`isLast`) also the row
  /// scale (W4A8) and the bias.
  void storeTile(Value r0, int64_t rows, Value u0, int64_t units,
                 Value isLast) {
    VectorType f32Vec = vec(b.getF32Type());
    Value zero = splatF32(0);
    Value n = idx(layout().cols);
    for (int64_t v = 0; v < units; ++v) {
      Value col = mul(add(u0, v), Int4Layout::kUnitCols);
      Value mask = tailMask(b, loc, col, n, kLanes);
      Value bias;
      if (ops.bias)
        bias = vector::MaskedLoadOp::create(b, loc, f32Vec, ops.bias,
                                            ValueRange{col}, mask, zero);
      for (int64_t i = 0; i < rows; ++i) {
        Value row = add(r0, i);
        Value total = vector::LoadOp::create(
            b, loc, f32Vec, tileBuffer, ValueRange{idx(i), idx(v * kLanes)});
        Value old = vector::MaskedLoadOp::create(
            b, loc, f32Vec, ops.c, ValueRange{row, col}, mask, zero);
        Value value = arith::AddFOp::create(b, loc, total, old);
        if (ops.rowScale || bias) {
          Value final = value;
          if (ops.rowScale)
            final = arith::MulFOp::create(
                b, loc, final,
                vector::BroadcastOp::create(
                    b, loc, f32Vec,
                    memref::LoadOp::create(b, loc, ops.rowScale,
                                           ValueRange{row})));
          if (bias)
            final = arith::AddFOp::create(b, loc, final, bias);
          value = arith::SelectOp::create(b, loc, isLast, final, value);
        }
        vector::MaskedStoreOp::create(b, loc, ops.c, ValueRange{row, col}, mask,
                                      value);
      }
    }
  }

  /// The weights q * scale (q = code - zp with a zero point) of units
  /// [q0, q1) and octets [o0, o1) into `block`, [unit - q0][row - 8 o0][16].
  void dequantizeBlock(Value block, Value q0, Value q1, Value o0, Value o1) {
    VectorType f32Vec = vec(b.getF32Type());
    forLoop(b, loc, q0, q1, 1, [&](OpBuilder &, Location, Value u) {
      Value col = mul(u, Int4Layout::kUnitCols);
      Value bu = arith::SubIOp::create(b, loc, u, q0);
      forLoop(b, loc, o0, o1, 1, [&](OpBuilder &, Location, Value o) {
        Value g = arith::DivUIOp::create(b, loc, o, idx(layout().groupOctets));
        Value scale = vector::LoadOp::create(b, loc, f32Vec, ops.scales,
                                             ValueRange{g, col});
        Value zp;
        if (ops.zeros) {
          zp = vector::LoadOp::create(b, loc, vec(b.getI8Type()), ops.zeros,
                                      ValueRange{g, col});
          zp = arith::ExtUIOp::create(b, loc, vec(b.getI32Type()), zp);
          zp = arith::UIToFPOp::create(b, loc, f32Vec, zp);
        }
        Value row0 =
            mul(arith::SubIOp::create(b, loc, o, o0), Int4Layout::kOctetRows);
        for (int64_t j = 0; j < Int4Layout::kOctetRows; ++j) {
          Value w = decode(loadShiftedWord(u, o, j % 4), j >= 4);
          if (zp)
            w = arith::SubFOp::create(b, loc, w, zp);
          w = arith::MulFOp::create(b, loc, w, scale);
          vector::StoreOp::create(b, loc, w, block,
                                  ValueRange{bu, add(row0, j), idx(0)});
        }
      });
    });
  }

  /// Rows [r0, r0 + rows) x units [u0, u0 + units) over octets [o0, o1)
  /// of the dequantized `block` (of units from q0): C += x W, plus the bias
  /// after the last K block.
  void dequantizedTile(Value block, Value q0, Value r0, int64_t rows, Value u0,
                       int64_t units, Value o0, Value o1, Value isLast) {
    VectorType f32Vec = vec(b.getF32Type());
    SmallVector<Value> init(rows * units, splatF32(0));
    Value bu = arith::SubIOp::create(b, loc, u0, q0);
    auto loop = scf::ForOp::create(
        b, loc, o0, o1, idx(1), init,
        [&](OpBuilder &, Location, Value o, ValueRange accs) {
          SmallVector<Value> acc(accs);
          Value k0 = mul(o, Int4Layout::kOctetRows);
          Value row0 =
              mul(arith::SubIOp::create(b, loc, o, o0), Int4Layout::kOctetRows);
          for (int64_t j = 0; j < Int4Layout::kOctetRows; ++j) {
            SmallVector<Value> w;
            for (int64_t v = 0; v < units; ++v)
              w.push_back(vector::LoadOp::create(
                  b, loc, f32Vec, block,
                  ValueRange{add(bu, v), add(row0, j), idx(0)}));
            for (int64_t i = 0; i < rows; ++i) {
              Value a = broadcastA(add(r0, i), add(k0, j));
              for (int64_t v = 0; v < units; ++v) {
                Value &sum = acc[i * units + v];
                sum = vector::FMAOp::create(b, loc, a, w[v], sum);
              }
            }
          }
          scf::YieldOp::create(b, loc, acc);
        });
    Value zero = splatF32(0);
    Value n = idx(layout().cols);
    for (int64_t v = 0; v < units; ++v) {
      Value col = mul(add(u0, v), Int4Layout::kUnitCols);
      Value mask = tailMask(b, loc, col, n, kLanes);
      Value bias;
      if (ops.bias)
        bias = vector::MaskedLoadOp::create(b, loc, f32Vec, ops.bias,
                                            ValueRange{col}, mask, zero);
      for (int64_t i = 0; i < rows; ++i) {
        Value row = add(r0, i);
        Value old = vector::MaskedLoadOp::create(
            b, loc, f32Vec, ops.c, ValueRange{row, col}, mask, zero);
        Value value =
            arith::AddFOp::create(b, loc, loop.getResult(i * units + v), old);
        if (bias)
          value = arith::SelectOp::create(
              b, loc, isLast, arith::AddFOp::create(b, loc, value, bias),
              value);
        vector::MaskedStoreOp::create(b, loc, ops.c, ValueRange{row, col}, mask,
                                      value);
      }
    }
  }

  /// Rows [r0, r0 + rows) x units [u0, u0 + units) over segments [s0, s1).
  void tile(Value r0, int64_t rows, Value u0, int64_t units, Value s0,
            Value s1) {
    Value zero = splatF32(0);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t v = 0; v < units; ++v)
        vector::StoreOp::create(b, loc, zero, tileBuffer,
                                ValueRange{idx(i), idx(v * kLanes)});
    forLoop(b, loc, s0, s1, 1, [&](OpBuilder &, Location, Value s) {
      auto [o0, o1, g] = segment(s);
      SmallVector<Value> acc = accumulate(r0, rows, u0, units, s, o0, o1);
      flush(r0, rows, u0, units, s, g, acc);
    });
    Value isLast = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, s1,
                                         idx(plan.segs));
    storeTile(r0, rows, u0, units, isLast);
  }
};

} // namespace

void int4::emitGemm(OpBuilder &b, Location loc, const Int4Linear &linear,
                    const Plan &plan, const Operands &ops) {
  const Int4Layout &l = linear.layout;
  MLIRContext *ctx = b.getContext();
  Int4Emitter e{b, loc, linear, plan, ops, {}, {}, {}, {}, {}, {}, {}};
  if (linear.dotI8) {
    auto acc = VectorType::get({kLanes}, b.getI32Type());
    auto bytes = VectorType::get({4 * kLanes}, b.getI8Type());
    e.dot = getIntrinsicStandIn(
        b, "quilt_x86_vpdpbusd_512", "llvm.x86.avx512.vpdpbusd.512",
        FunctionType::get(ctx, {acc, bytes, bytes}, acc));
  } else if (linear.wideRegisters) {
    auto f32Vec = VectorType::get({kLanes}, b.getF32Type());
    auto i32Vec = VectorType::get({kLanes}, b.getI32Type());
    e.permute = getIntrinsicStandIn(
        b, "quilt_x86_vpermps_512", "llvm.x86.avx512.permvar.sf.512",
        FunctionType::get(ctx, {f32Vec, i32Vec}, f32Vec));
    SmallVector<float> values;
    for (int64_t code = 0; code < 16; ++code)
      values.push_back(float(l.zeroPoint ? code : code - 8));
    e.table = arith::ConstantOp::create(
        b, loc, f32Vec, DenseElementsAttr::get(f32Vec, ArrayRef(values)));
  }

  int64_t units = plan.tileUnits, rows = plan.tileRows;
  int64_t tiles = ceilDiv(l.units, units);
  int64_t blocks = std::clamp<int64_t>(linear.threads, 1, tiles);
  int64_t tilesPerBlock = ceilDiv(tiles, blocks);
  blocks = ceilDiv(tiles, tilesPerBlock);
  int64_t unitsPerBlock = tilesPerBlock * units;
  int64_t l2Units = std::max<int64_t>(units, kL2Units / units * units);

  auto min = [&](Value x, Value y) -> Value {
    return arith::MinUIOp::create(b, loc, x, y);
  };
  auto floorTo = [&](Value start, Value end, int64_t step) -> Value {
    Value span = arith::SubIOp::create(b, loc, end, start);
    Value whole = arith::DivUIOp::create(b, loc, span, e.idx(step));
    return e.add(start, e.mul(whole, step));
  };
  Value c0 = e.idx(0);
  scf::ParallelOp::create(
      b, loc, ValueRange{c0}, ValueRange{e.idx(blocks)}, ValueRange{e.idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        // The thread's tile totals, or its dequantized K block of W (1 MiB,
        // in L2).
        if (!plan.dequantB)
          e.tileBuffer = memref::AllocOp::create(
              b, loc,
              MemRefType::get({std::max(rows, plan.tailRows), units * kLanes},
                              b.getF32Type()),
              ValueRange{}, b.getI64IntegerAttr(64));
        Value block;
        if (plan.expandB)
          block = memref::AllocOp::create(
              b, loc,
              MemRefType::get({l2Units, plan.segsPerBlock * plan.segOctets, 2,
                               Int4Layout::kUnitCols},
                              b.getI32Type()),
              ValueRange{}, b.getI64IntegerAttr(64));
        if (plan.dequantB)
          block = memref::AllocOp::create(
              b, loc,
              MemRefType::get({l2Units, kDequantOctets * Int4Layout::kOctetRows,
                               Int4Layout::kUnitCols},
                              b.getF32Type()),
              ValueRange{}, b.getI64IntegerAttr(64));
        Value ub0 = e.mul(ivs[0], unitsPerBlock);
        Value ub1 = min(e.add(ub0, unitsPerBlock), e.idx(l.units));
        forLoop(
            b, loc, ub0, ub1, l2Units, [&](OpBuilder &, Location, Value q0) {
              Value q1 = min(e.add(q0, l2Units), ub1);
              Value qFull = floorTo(q0, q1, units);
              // Every tile of the row blocks, for units [q0, q1).
              using TileFn = function_ref<void(Value, int64_t, Value, int64_t)>;
              auto allTiles = [&](TileFn tile) {
                forLoop(b, loc, c0, ops.m, plan.blockRows,
                        [&](OpBuilder &, Location, Value r0) {
                          Value r1 = min(e.add(r0, plan.blockRows), ops.m);
                          Value rFull = floorTo(r0, r1, rows);
                          auto rowTiles = [&](Value u, int64_t width) {
                            forLoop(b, loc, r0, rFull, rows,
                                    [&](OpBuilder &, Location, Value r) {
                                      tile(r, rows, u, width);
                                    });
                            if (plan.tailRows > 0)
                              forLoop(b, loc, rFull, r1, plan.tailRows,
                                      [&](OpBuilder &, Location, Value r) {
                                        tile(r, plan.tailRows, u, width);
                                      });
                          };
                          forLoop(b, loc, q0, qFull, units,
                                  [&](OpBuilder &, Location, Value u) {
                                    rowTiles(u, units);
                                  });
                          if (units > 1)
                            forLoop(b, loc, qFull, q1, 1,
                                    [&](OpBuilder &, Location, Value u) {
                                      rowTiles(u, 1);
                                    });
                        });
              };
              if (plan.dequantB) {
                Value octets = e.idx(l.octets);
                forLoop(b, loc, c0, octets, kDequantOctets,
                        [&](OpBuilder &, Location, Value o0) {
                          Value o1 = min(e.add(o0, kDequantOctets), octets);
                          Value isLast = arith::CmpIOp::create(
                              b, loc, arith::CmpIPredicate::eq, o1, octets);
                          e.dequantizeBlock(block, q0, q1, o0, o1);
                          allTiles([&](Value r, int64_t tileRows, Value u,
                                       int64_t width) {
                            e.dequantizedTile(block, q0, r, tileRows, u, width,
                                              o0, o1, isLast);
                          });
                        });
                return;
              }
              forLoop(b, loc, c0, e.idx(plan.segs), plan.segsPerBlock,
                      [&](OpBuilder &, Location, Value s0) {
                        Value s1 =
                            min(e.add(s0, plan.segsPerBlock), e.idx(plan.segs));
                        if (plan.expandB) {
                          Value o0 = std::get<0>(e.segment(s0));
                          Value last =
                              arith::SubIOp::create(b, loc, s1, e.idx(1));
                          Value o1 = std::get<1>(e.segment(last));
                          e.expanded = block;
                          e.expandBlock(q0, q1, o0, o1);
                        }
                        allTiles([&](Value r, int64_t tileRows, Value u,
                                     int64_t width) {
                          e.tile(r, tileRows, u, width, s0, s1);
                        });
                      });
            });
      });
}

/// Per row, the sum over each segment of the activations (f32) or of their

Value int4::emitRowSums(OpBuilder &b, Location loc, const Int4Linear &linear,
                        const Plan &plan, Value a, Value m, int64_t factor) {
  Type element = linear.dotI8 ? (Type)b.getI32Type() : (Type)b.getF32Type();
  auto type = MemRefType::get({ShapedType::kDynamic, plan.segs}, element);
  Value sums = memref::AllocOp::create(b, loc, type, ValueRange{m},
                                       b.getI64IntegerAttr(64));
  Operands none;
  Int4Emitter e{b, loc, linear, plan, none, {}, {}, {}, {}, {}, {}, {}};
  constexpr int64_t width = Int4Layout::kOctetRows;
  auto chunkType = VectorType::get({width}, element);
  Value zero = arith::ConstantOp::create(
      b, loc, chunkType,
      DenseElementsAttr::get(chunkType, b.getZeroAttr(element)));
  scf::ParallelOp::create(
      b, loc, ValueRange{e.idx(0)}, ValueRange{m}, ValueRange{e.idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value row = ivs[0];
        forLoop(
            b, loc, e.idx(0), e.idx(plan.segs), 1,
            [&](OpBuilder &, Location, Value s) {
              auto [o0, o1, g] = e.segment(s);
              (void)g;
              auto loop = scf::ForOp::create(
                  b, loc, o0, o1, e.idx(1), ValueRange{zero},
                  [&](OpBuilder &, Location, Value o, ValueRange acc) {
                    Value chunk;
                    if (linear.dotI8) {
                      // The octet's 8 s8 codes: two words.
                      Value words = vector::LoadOp::create(
                          b, loc, VectorType::get({2}, b.getI32Type()), a,
                          ValueRange{row, e.mul(o, 2)});
                      chunk = vector::BitCastOp::create(
                          b, loc, VectorType::get({width}, b.getI8Type()),
                          words);
                      chunk = arith::ExtSIOp::create(b, loc, chunkType, chunk);
                      chunk = arith::AddIOp::create(b, loc, acc[0], chunk);
                    } else {
                      chunk = vector::LoadOp::create(
                          b, loc, chunkType, a,
                          ValueRange{row, e.mul(o, width)});
                      chunk = arith::AddFOp::create(b, loc, acc[0], chunk);
                    }
                    scf::YieldOp::create(b, loc, chunk);
                  });
              Value total = vector::ReductionOp::create(
                  b, loc, vector::CombiningKind::ADD, loop.getResult(0));
              if (factor != 1 && linear.dotI8)
                total = arith::MulIOp::create(
                    b, loc, total,
                    arith::ConstantOp::create(b, loc,
                                              b.getI32IntegerAttr(factor)));
              else if (factor != 1)
                total = arith::MulFOp::create(
                    b, loc, total,
                    arith::ConstantOp::create(b, loc,
                                              b.getF32FloatAttr(factor)));
              memref::StoreOp::create(b, loc, total, sums, ValueRange{row, s});
            });
      });
  return sums;
}
