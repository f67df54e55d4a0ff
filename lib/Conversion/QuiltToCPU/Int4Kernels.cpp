//===- Int4Kernels.cpp - The int4 linear kernel generator -------*- C++ -*-===//
//
// y = x W for int4 weights in Int4Layout, the codes read directly:
//
//   parallel      column block (one per thread)
//     for         64 units (1024 columns)          K block of W stays in L2
//       for       K block of whole segments        (few rows: all of K)
//         for     row block of 16 register tiles
//           for   tile of V units, R rows          accumulators in zmm
//             for segment (a scale group, or a part of a long one)
//               for octet: load V code words; per row of the octet and
//                 unit, dequantize and multiply-add into R x V group sums
//               flush: totals += (sums - offset) * group scale
//             C += totals (after the last K block: x row scale, + bias)
//
// The totals live in a small per-thread buffer (in L1), not in C, whose rows
// are often a multiple of 4 KiB apart. Microkernels:
// - f32 activations: a code word loaded at byte offset b (shifted right by
//   4 for the high nibble) indexes a 16-entry table of the code values with
//   vpermps, which reads only the low 4 bits of each lane, so 16 weights of
//   row 8o+b (8o+4+b) cost one permute (and one shift) plus one FMA per
//   tile row; the table holds q for symmetric codes
//   (code - 8) and the code itself with a zero point, whose offset is taken
//   off at the flush as zp * (sum of x over the segment). With many rows,
//   each K block of W is instead dequantized once (q * scale) into an f32
//   buffer that plain FMA tiles reuse: the dequantization is then shared by
//   all rows instead of one tile's. Without AVX-512 (16 ymm, no 16-lane
//   vpermps) the code is masked out and converted, symmetric codes as
//   unsigned with the sums started at -8 * (sum of x over the segment), in
//   tiles of at most 12 ymm sums; from 5 rows on, K blocks are dequantized.
// - W4A8: the nibbles are the unsigned operand of vpdpbusd (one AND for the
//   low nibbles, a shift and an AND for the high ones give the 4 + 4 rows of
//   an octet as u8 quads) and the activations, quantized to s8 exactly as
//   the reference rounds them, the signed one. The int32 group sums are off
//   by offset * (sum of the row's s8 codes over the segment), exact
//   integers subtracted at the flush, then scaled per group.
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

Plan int4::makePlan(const Int4Linear &linear) {
  const Int4Layout &l = linear.layout;
  std::optional<int64_t> m = linear.staticM;
  if (m && *m == 0)
    m = 1;
  Plan p;
  p.fewRows = m && *m <= kFewRows;
  // With 16 registers a decoded code word feeds too few rows to pay for its
  // decoding (no vpermps): from 5 rows on, K blocks are dequantized once.
  if (!linear.wideRegisters && !(m && *m <= 4))
    p.fewRows = false;
  p.dequantB = !linear.dotI8 && !p.fewRows;
  p.expandB = linear.dotI8 && !p.fewRows;
  auto balance = [&](int64_t maxRows, int64_t units) {
    int64_t tiles = m ? ceilDiv(*m, maxRows) : 1;
    p.tileRows = m ? ceilDiv(*m, tiles) : maxRows;
    p.tileUnits = units;
  };
  if (!linear.wideRegisters) {
    // 16 ymm: 12 for sums (a unit is 2 ymm) beside the weight vectors and
    // the broadcast, as in the f32 GEMM's 6 x 16 tile.
    if (m && *m <= 4) {
      p.tileRows = *m;
      p.tileUnits = *m == 1 ? 4 : *m == 2 ? 2 : 1;
    } else {
      balance(6, 1);
    }
  } else if (m && *m <= 4) {
    // Few rows: several units per tile, so enough independent sums hide the
    // latency and several code streams are in flight.
    p.tileRows = *m;
    p.tileUnits = *m == 1 ? 8 : *m == 2 ? 4 : 2;
  } else if (p.dequantB || (linear.dotI8 && !(m && *m <= 16))) {
    // 12 rows x 2 units: 24 sums, 2 weight vectors (dequantized blocks) or
    // code words, and a broadcast per row; for W4A8 half the broadcasts per
    // vpdpbusd of 24 x 1, for one more AND, shift and AND per octet.
    balance(12, 2);
  } else {
    // Up to 16 rows (f32 activations: up to 48, in tiles of up to 16): one
    // unit, so a code word's dequantization is shared by all rows (16 sums,
    // the codes and the table beside).
    balance(16, 1);
  }
  if (p.fewRows || l.groupOctets <= kBlockOctets) {
    p.segOctets = l.groupOctets;
    p.segsPerGroup = 1;
  } else {
    p.segOctets = kBlockOctets;
    p.segsPerGroup = ceilDiv(l.groupOctets, kBlockOctets);
  }
  p.segs = l.groups * p.segsPerGroup;
  p.segsPerBlock =
      p.fewRows ? p.segs : std::max<int64_t>(1, kBlockOctets / p.segOctets);
  p.blockRows = p.tileRows * kRowBlockTiles;
  p.tailRows = m ? (*m % p.blockRows) % p.tileRows : 1;
  return p;
}

Value cpu::emitInt4Linear(OpBuilder &b, Location loc, const Int4Linear &linear,
                          Value x, Value bytes, Value bias) {
  const Int4Layout &l = linear.layout;
  Plan plan = makePlan(linear);
  Operands ops;
  ops.bias = bias;
  ops.m = linear.staticM ? indexConst(b, loc, *linear.staticM)
                         : memref::DimOp::create(b, loc, x, 0).getResult();

  // Activations with K padded by zeros to whole octets.
  if (linear.dotI8) {
    CPUWeightLayout words = CPUWeightLayout::make(CPUWeightEncoding::I8Quads,
                                                  l.getPaddedRows(), l.cols);
    words.rows = l.rows;
    ops.a = prepareI8Activations(b, loc, x, ops.m, words, linear.perTensorAct,
                                 ops.rowScale, /*shiftToU8=*/false);
  } else if (l.rows != l.getPaddedRows() || plan.tileRows > 4) {
    // Also for tiles of many rows: the copy's row stride is not a multiple
    // of 4 KiB, so the rows of a tile do not all map to the same L1 sets.
    CPUWeightLayout floats = CPUWeightLayout::make(CPUWeightEncoding::F32,
                                                   l.getPaddedRows(), l.cols);
    floats.rows = l.rows;
    ops.a = prepareF32Activations(b, loc, x, ops.m, floats);
  } else {
    ops.a = x;
  }
  // Symmetric f32 codes index their own values (vpermps); the others are
  // offset: symmetric W4A8 sums, and symmetric f32 sums decoded without
  // vpermps, start at -8 x the row's sums (one op less per decoded code),
  // zero points are taken off at the flush (dequantized blocks subtract
  // them themselves).
  bool offsetSums = !l.zeroPoint && (linear.dotI8 || !linear.wideRegisters);
  if ((offsetSums || l.zeroPoint) && !plan.dequantB)
    ops.rowSums =
        emitRowSums(b, loc, linear, plan, ops.a, ops.m, l.zeroPoint ? 1 : -8);

  ops.bytes = bytes;
  ops.codes = viewAs(b, loc, bytes, 0,
                     MemRefType::get({l.units, l.octets, Int4Layout::kUnitCols},
                                     b.getI32Type()));
  ops.scales =
      viewAs(b, loc, bytes, l.scalesOffset,
             MemRefType::get({l.groups, l.getPaddedCols()}, b.getF32Type()));
  if (l.zeroPoint)
    ops.zeros =
        viewAs(b, loc, bytes, l.zerosOffset,
               MemRefType::get({l.groups, l.getPaddedCols()}, b.getI8Type()));

  auto cType = MemRefType::get(
      {linear.staticM ? *linear.staticM : ShapedType::kDynamic, l.cols},
      b.getF32Type());
  SmallVector<Value> dynSizes;
  if (!linear.staticM)
    dynSizes.push_back(ops.m);
  ops.c =
      memref::AllocOp::create(b, loc, cType, dynSizes, b.getI64IntegerAttr(64));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{ops.c});
  emitGemm(b, loc, linear, plan, ops);
  return ops.c;
}
