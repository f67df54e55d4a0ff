//===- Passes.td - Quilt conversion passes ------------------*- tablegen -*-===//
//
// Passes that lower quilt IR to other dialects.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_CONVERSION_PASSES_TD
#define QUILT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQuiltToLinalg : Pass<"convert-quilt-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower quilt ops to their reference meaning on dense f32";
  let description = [{
    The oracle every fast path is checked against. Each op becomes naive
    linalg / tensor / arith / math code computed in f32:

    - a `!quilt.packed<K x N, format>` value is represented by the dense
      `tensor<K x N x f32>` it decodes to, so `quilt.unpack` is the identity;
    - `quilt.pack` applies the format's projection in the order
      structure -> sparsity -> precision: Monarch keeps the best rank-1
      approximation of every block (power iteration), low-rank the truncated
      SVD (Jacobi eigendecomposition of the Gram matrix), block-diagonal
      zeroes the off-diagonal blocks; N:M keeps the N largest magnitudes of
      each group of M along K, block sparsity the highest-norm blocks,
      unstructured the largest magnitudes; integer precisions round to nearest
      even with the scale granularity (symmetric or with a zero point), f8
      rounds to the E4M3FN grid, bf16/f16 round-trip through the type. Monarch
      and low-rank quantize their factors, not their product;
    - `quilt.linear` rounds the activations to `act` (if given), multiplies
      by the decoded weight and adds the bias; `quilt.matmul`, element-wise
      ops, softmax and the normalizations become `linalg.generic` ops;
      `quilt.fused` blocks are inlined (their meaning is their body).

    The projections are the functions of `ReferenceKernels.mlir`, copied into
    the module as private functions on dynamically shaped tensors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // QUILT_CONVERSION_PASSES_TD
