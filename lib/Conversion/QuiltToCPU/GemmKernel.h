//===- GemmKernel.h - The blocked, vectorized GEMM generator ----*- C++ -*-===//
//
// Generates C += A * B (with a dequantizing, bias-adding epilogue) on memrefs
// as a cache-blocked loop nest around register-tile microkernels.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_GEMMKERNEL_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_GEMMKERNEL_H

#include "mlir/IR/Builders.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

#include <functional>
#include <optional>

namespace mlir::quilt::cpu {

/// The instruction the microkernel is built on.
enum class GemmKind {
  F32,     // vfmadd231ps; bf16/int8 weights are widened in registers
  BF16Dot, // vdpbf16ps on bf16 pairs (activations rounded to bf16)
  I8Dot,   // vpdpbusd on u8 x s8 quads (activations quantized to int8)
};

struct GemmConfig {
  GemmKind kind;
  CPUWeightLayout weight;
  std::optional<int64_t> staticM; // M when static
  unsigned colBlocks = 1;         // parallel column blocks (threads)
  int64_t maxTileRows = 12;       // see getMaxTileRows
};

/// The accumulators the register file holds, in 32-column panel rows (2
/// zmm, or 4 ymm without AVX-512): 12 rows fill 24 of the 32 zmm registers,
/// 3 rows 12 of the 16 ymm ones. emitGemm turns a budget of fewer than 6
/// rows into narrow tiles of twice the rows and 16 columns (6 x 16 on AVX2:
/// no spills, where 3 x 32 spilled; Zen 3, f32 128x4096x4096: 50 ms against
/// 105-125 ms).
int64_t getMaxTileRows(const CPUTarget &target);

/// Element-wise ops fused into the epilogue: maps the finished f32 vector
/// of row `row`, columns [col, col + 16) (lanes past N off in `mask`) to the
/// vector stored in C, while it is still in registers.
using GemmEpilogueFn = std::function<Value(OpBuilder &, Location, Value value,
                                           Value row, Value col, Value mask)>;

/// The epilogue of a paired GEMM: both products of the tile vector (first
/// and second weight, dequantized, biases added) to the vector stored.
using GemmPairEpilogueFn =
    std::function<Value(OpBuilder &, Location, Value first, Value second,
                        Value row, Value col, Value mask)>;

struct GemmOperands {
  Value a;        // memref<M x LDA x f32> (F32) or x i32 words (dot kinds)
  Value b;        // memref<P x kWords x 32 x f32|i32>, any strides
  Value colScale; // memref<P*32 x f32>: int8 weights only
  Value colSum;   // memref<P*32 x i32>: I8Dot only
  Value rowScale; // memref<M x f32>: I8Dot only
  Value bias;     // memref<N x f32> or null
  Value c;        // memref<M x N x f32>, zero on entry
  Value m;        // M as an index
  GemmEpilogueFn epilogue; // null: none
  /// A second weight of the same layout read in the same pass (the gated
  /// MLP's up and gate projections): each broadcast of A feeds both, and
  /// only `pairEpilogue`'s combination is stored. F32 kind, M <= 48 (one K
  /// block) only.
  Value b2, colScale2, bias2;
  GemmPairEpilogueFn pairEpilogue;
};

/// Whether emitGemm can read a second weight in the same pass.
bool canPairGemm(const GemmConfig &config);

/// Whether emitGemm streams each panel's whole K (few rows, M static): a
/// row-major f32 K x N weight with N a multiple of the panel width can then
/// be read in place as panels (a strided view) instead of packed first.
bool streamsWholePanels(const GemmConfig &config);

/// Emits the whole product at the builder's insertion point.
void emitGemm(OpBuilder &b, Location loc, const GemmConfig &config,
              const GemmOperands &operands);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_GEMMKERNEL_H
