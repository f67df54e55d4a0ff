//===- NativeLinear.h - Linears on the dense panel layouts ------*- C++ -*-===//
//
// The building block every CPU linear kernel ends in: y = x W (+ bias) where
// W is stored in one of the native panel layouts (CPUWeightLayout). Linear
// kernels of the compressed formats call it for their dense pieces (low-rank
// factors, block-diagonal blocks, Monarch factors).
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_NATIVELINEAR_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_NATIVELINEAR_H

#include "GemmKernel.h"
#include "quilt/Dialect/Quilt/QuiltAttrs.h"

namespace mlir::quilt::cpu {

/// Which microkernel a linear uses, and whether it consumes `act` itself.
struct KernelChoice {
  GemmKind kind = GemmKind::F32;
  bool actHandled = false;
  bool perTensorAct = false;
  bool roundActToBF16 = false; // the F32 kernel's A copy rounds to bf16
};

/// The microkernel for a weight in `layout` and activations of precision
/// `act` (null: f32) on `target`.
KernelChoice chooseKernel(const CPUWeightLayout &layout, PrecisionAttr act,
                          const CPUTarget &target);

/// "fma", "bf16dot" or "vnni", for kernel names.
StringRef getGemmKindName(GemmKind kind);

/// Activations prepared for a microkernel: the A operand, the int8 row
/// scales (I8Dot) and M. Linears whose weights share the layout's K
/// geometry and the kernel choice can share one.
struct PreparedInput {
  Value a, rowScale, m;
};

/// `x` (memref<M x K x f32>) prepared for `choice` and `config.weight`.
PreparedInput prepareLinearInput(OpBuilder &b, Location loc,
                                 const GemmConfig &config,
                                 const KernelChoice &choice, Value x);

/// Whether an input prepared for (`a`, `choiceA`) serves (`b`, `choiceB`).
bool canShareInput(const CPUWeightLayout &a, const KernelChoice &choiceA,
                   const CPUWeightLayout &b, const KernelChoice &choiceB);

/// A new memref<M x N x f32> holding `input` x W (+ bias), with `epilogue`
/// applied in registers before the store.
Value emitNativeGemm(OpBuilder &b, Location loc, const GemmConfig &config,
                     const PreparedInput &input, Value bytes,
                     int64_t byteOffset, Value bias,
                     GemmEpilogueFn epilogue = {});

/// A new memref<M x N x f32> holding `epilogue(input x W, input x W2)`,
/// both products computed in one pass over the two weights (same layout;
/// canPairGemm(config)). `bytes`/`bytes2` hold W and W2 from offset 0.
Value emitNativePairGemm(OpBuilder &b, Location loc, const GemmConfig &config,
                         const PreparedInput &input, Value bytes, Value bias,
                         Value bytes2, Value bias2,
                         GemmPairEpilogueFn epilogue);

/// Whether a dense f32 K x N weight can be read by the GEMM as it is,
/// row-major, instead of packed into panels on every call: few rows (each
/// panel is streamed once, so packing would only add a read and a write of
/// the whole weight) and N a multiple of the panel width.
bool canReadRowMajorWeight(const GemmConfig &config);

/// Inside a kernel body: returns a new memref<M x N x f32> holding x W
/// (+ bias). `x` is a memref<M x K x f32> of any layout (already rounded to
/// `act` unless `choice.actHandled`), W's bytes in `config.weight` start at
/// `byteOffset` of the 1-d i8 buffer `bytes`, `bias` is memref<N x f32> or
/// null. Where canReadRowMajorWeight, `bytes` may instead be the row-major
/// memref<K x N x f32> itself.
Value emitNativeLinear(OpBuilder &b, Location loc, const GemmConfig &config,
                       const KernelChoice &choice, Value x, Value bytes,
                       int64_t byteOffset, Value bias);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_NATIVELINEAR_H
