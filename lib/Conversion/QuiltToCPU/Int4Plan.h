//===- Int4Plan.h - Loop plan of the int4 linear kernels --------*- C++ -*-===//
//
// What Int4Kernels.cpp (the driver: plan, row sums, operands) and
// Int4Gemm.cpp (the loop nest and microkernels) share.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_INT4PLAN_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_INT4PLAN_H

#include "Int4Kernels.h"

namespace mlir::quilt::cpu::int4 {

inline constexpr int64_t kLanes = 16;
inline constexpr int64_t kBlockOctets =
    128; // K block of 1024 rows: 8 KiB per unit
inline constexpr int64_t kRowBlockTiles = 16; // A block of up to 256 rows in L2
inline constexpr int64_t kL2Units = 64;       // 1024 columns
inline constexpr int64_t kFewRows = 48;       // stream all of K
inline constexpr int64_t kPrefetchOctets =
    32; // 2 KiB ahead in each code stream
inline constexpr int64_t kDequantOctets =
    32; // K block of dequantized W: 256 rows

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The loop structure, fixed at compile time.
struct Plan {
  int64_t tileRows, tileUnits; // register tile: R rows x V units
  int64_t segOctets;           // octets of a segment (a group or a part)
  int64_t segsPerGroup, segs;  // segments of a group, of K
  int64_t segsPerBlock;        // segments of a K block
  int64_t blockRows;
  int64_t tailRows; // leftover rows of a row block, one static tile
  bool fewRows;
  /// f32 activations and many rows: each K block of W is dequantized once
  /// (q * scale, the reference's weights) into an f32 buffer that all row
  /// tiles reuse, so the tiles are the plain FMA microkernel.
  bool dequantB;
  /// W4A8 and many rows: each K block's codes are split into u8 quads once
  /// for all row tiles.
  bool expandB;
};

/// The plan for `linear`.
Plan makePlan(const Int4Linear &linear);

struct Operands {
  Value a;        // f32: memref<M x lda x f32>; W4A8: memref<M x lda x i32>
  Value bytes;    // the weight's buffer, memref<? x i8>
  Value codes;    // memref<units x octets x 16 x i32>
  Value scales;   // memref<groups x cols x f32>
  Value zeros;    // memref<groups x cols x i8> or null
  Value rowSums;  // memref<M x segs x f32 (f32) | i32 (W4A8)> or null
  Value rowScale; // memref<M x f32> (W4A8) or null
  Value bias;     // memref<N x f32> or null
  Value c;        // memref<M x N x f32>, zero on entry
  Value m;
};

/// C += A W for the operands `ops` (the loop nest of Int4Kernels.cpp's
/// header comment).
void emitGemm(OpBuilder &b, Location loc, const Int4Linear &linear,
              const Plan &plan, const Operands &ops);

/// Per row, `factor` times the sum over each segment of the activations
/// (f32) or of their s8 codes (W4A8, i32): memref<M x segs x f32 | i32>.
Value emitRowSums(OpBuilder &b, Location loc, const Int4Linear &linear,
                  const Plan &plan, Value a, Value m, int64_t factor);

} // namespace mlir::quilt::cpu::int4

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_INT4PLAN_H
