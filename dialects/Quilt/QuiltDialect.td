//===- QuiltDialect.td - The quilt dialect -----------------*- tablegen -*-===//
//
// The quilt dialect: linear algebra whose weights carry their storage format
// (precision x sparsity x structure) in their type.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_DIALECT_TD
#define QUILT_DIALECT_TD

include "mlir/IR/OpBase.td"

def Quilt_Dialect : Dialect {
  let name = "quilt";
  let cppNamespace = "::mlir::quilt";
  let summary = "Linear algebra over structured, sparse and quantized weights";
  let description = [{
    Quilt represents neural-network linear algebra whose weights are not plain
    dense floats. One idea carries the dialect: **a weight's storage format is
    part of its type**. A `!quilt.packed<K x N, ...>` value is a K x N weight
    stored with a precision (f32, bf16, f16, f8E4M3FN, i8, i4 with tensor,
    channel or group scales, optionally asymmetric), a sparsity (dense, N:M,
    block, unstructured) and a structure (dense, Monarch, block-diagonal,
    low-rank). Format selection rewrites these types; lowering specializes
    code on them.

    Compute ops (`quilt.linear`, `quilt.matmul`, element-wise and
    normalization ops) work on tensors; `quilt.fused` groups ops that are to
    be compiled as one kernel. `convert-quilt-to-linalg` gives every op its
    reference meaning on dense f32.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

/// Base class of every quilt op.
class Quilt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Quilt_Dialect, mnemonic, traits>;

#endif // QUILT_DIALECT_TD
