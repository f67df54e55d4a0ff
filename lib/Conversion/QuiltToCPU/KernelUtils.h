//===- KernelUtils.h - Helpers of the CPU kernel generators -----*- C++ -*-===//
//
// Private helpers shared by the convert-quilt-to-cpu files: index constants,
// kernel functions with tensor signatures and memref bodies, typed views of
// byte buffers, and the generators' entry points.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_LIB_CONVERSION_QUILTTOCPU_KERNELUTILS_H
#define QUILT_LIB_CONVERSION_QUILTTOCPU_KERNELUTILS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "quilt/Conversion/QuiltToCPU/QuiltToCPU.h"

namespace mlir::quilt::cpu {

/// `arith.constant <value> : index`.
Value indexConst(OpBuilder &b, Location loc, int64_t value);

/// Kernel functions take and return tensors, so one-shot bufferization sees
/// ordinary calls, and work on memrefs inside: `toBuffer` (read-only view of
/// an argument) and `toTensor` (the result buffer, handed to the caller).
Value toBuffer(OpBuilder &b, Location loc, Value tensor);
Value toTensor(OpBuilder &b, Location loc, Value buffer);

/// Marks the functions getOrCreateKernel builds; quilt-annotate-cpu-target
/// keeps LLVM from inlining them (each is called once per op).
constexpr StringLiteral kKernelAttrName = "quilt.kernel";

/// Returns the private function `name` of `module`, building it with `body`
/// (given the entry block arguments, returns the results) if it is new.
func::FuncOp getOrCreateKernel(
    OpBuilder &b, ModuleOp module, StringRef name, FunctionType type,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);

/// A bodiless function standing for LLVM intrinsic `intrinsic` (see
/// quilt-inline-intrinsic-calls), declared once in the module that holds the
/// insertion point.
func::FuncOp getIntrinsicStandIn(OpBuilder &b, StringRef name,
                                 StringRef intrinsic, FunctionType type);

/// The stand-in for vpdpbusd (512-bit): acc(i32) += u8 quads . s8 quads.
func::FuncOp getVNNIStandIn(OpBuilder &b);

/// A 64-byte aligned `memref<bytes x i8>` (bytes may be dynamic).
Value allocBytes(OpBuilder &b, Location loc, OpFoldResult bytes);

/// A view of the 1-d byte buffer `bytes` from `byteOffset` as `type`, whose
/// dynamic sizes are `sizes`.
Value viewAs(OpBuilder &b, Location loc, Value bytes, int64_t byteOffset,
             MemRefType type, ValueRange sizes = {});

/// A static buffer viewed as one dimension (itself when it has one).
Value flattenBuffer(OpBuilder &b, Location loc, Value buffer);

/// Builds `body(iv)` for iv = lb, lb + step, ... < ub.
void forLoop(OpBuilder &b, Location loc, Value lb, Value ub, int64_t step,
             function_ref<void(OpBuilder &, Location, Value)> body);

/// The mask of the first clamp(limit - start, 0, width) lanes.
Value tailMask(OpBuilder &b, Location loc, Value start, Value limit,
               int64_t width);

/// to[prefix..., c, r] = from[prefix..., r, c] for r < rows, c < cols (f32
/// buffers, `fromPrefix` and `toPrefix` their leading indices): in 8 x 8
/// blocks of vectors transposed by 24 shuffles (unpack, 2-lane shuffle,
/// 128-bit permute, which x86 selects as such) when both sizes are
/// multiples of 8, else by scalar copies (which took a quarter of a
/// 32 x 256 x 256 x 128 attention kernel on Zen 3).
void emitTranspose(OpBuilder &b, Location loc, Value from,
                   ValueRange fromPrefix, Value to, ValueRange toPrefix,
                   int64_t rows, int64_t cols);

//===----------------------------------------------------------------------===//
// Generators of the other kernels (ActivationKernels.cpp, WeightKernels.cpp)
//===----------------------------------------------------------------------===//

/// Activations `x` (memref<M x K x f32>) as the A operand of a GEMM whose
/// weight has `layout`, with K padded by zeros to whole words and rows
/// padded so that consecutive rows do not alias in the L1 cache:
/// - f32 copy, memref<M x (kWords * kStep + 16) x f32>, optionally rounded
///   to bf16 (round to nearest even) on the way;
/// - bf16 pairs rounded to nearest even, memref<M x (kWords + 16) x i32>;
/// - int8 quantized symmetrically per row (`perTensor`: one scale) and,
///   with `shiftToU8`, shifted to u8 by +128 (else left as s8, for kernels
///   whose weights are the unsigned operand of vpdpbusd),
///   memref<M x (kWords + 16) x i32>, with the scales in `rowScales`
///   (memref<M x f32>). Padding past K is the code of 0.
Value prepareF32Activations(OpBuilder &b, Location loc, Value x, Value m,
                            const CPUWeightLayout &layout,
                            bool roundToBF16 = false);
Value prepareBF16Activations(OpBuilder &b, Location loc, Value x, Value m,
                             const CPUWeightLayout &layout);
Value prepareI8Activations(OpBuilder &b, Location loc, Value x, Value m,
                           const CPUWeightLayout &layout, bool perTensor,
                           Value &rowScales, bool shiftToU8 = true);

/// Encodes the dense f32 weight `w` (memref<K x N>) into the byte buffer
/// `bytes` of `layout`, from `byteOffset` (64-aligned) on, quantizing
/// exactly as the reference does.
void emitWeightPacking(OpBuilder &b, Location loc, Value w, Value bytes,
                       int64_t byteOffset, const CPUWeightLayout &layout);
/// Decodes `layout`'s bytes at `byteOffset` of `bytes` into the dense f32
/// memref<K x N> `w`.
void emitWeightUnpacking(OpBuilder &b, Location loc, Value bytes,
                         int64_t byteOffset, Value w,
                         const CPUWeightLayout &layout);

} // namespace mlir::quilt::cpu

#endif // QUILT_LIB_CONVERSION_QUILTTOCPU_KERNELUTILS_H
