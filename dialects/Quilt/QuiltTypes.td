//===- QuiltTypes.td - The packed weight type ---------------*- tablegen -*-===//
//
// !quilt.packed: a K x N weight stored in a format.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_TYPES_TD
#define QUILT_TYPES_TD

include "QuiltAttrs.td"
include "mlir/IR/AttrTypeBase.td"

def Quilt_PackedType : TypeDef<Quilt_Dialect, "Packed"> {
  let mnemonic = "packed";
  let summary = "A K x N weight stored in a precision x sparsity x structure format";
  let description = [{
    ```mlir
    !quilt.packed<4096x4096, precision<i4, group<128>>>
    !quilt.packed<64x32, precision<i8, channel>, sparsity<nm<2, 4>>>
    !quilt.packed<256x256, structure<monarch<16>>>
    ```

    The type verifier enforces every rule that ties a format to the shape:
    N:M needs K % M == 0; a scale group must divide K; int4 needs an even K
    (two values per byte along K); block sparsity needs its block to tile
    K x N; Monarch and block-diagonal need the block count to divide K and N;
    a low-rank rank is at most min(K, N). It also rejects compositions that
    have no meaning: sparsity together with a non-dense structure, and channel
    or group scales on Monarch or low-rank factors.
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        Quilt_FormatAttr:$format);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The dense type this weight unpacks to: tensor<K x N x f32>.
    ::mlir::RankedTensorType getUnpackedType() const;
    PrecisionAttr getPrecision() const { return getFormat().getPrecision(); }
    SparsityAttr getSparsity() const { return getFormat().getSparsity(); }
    StructureAttr getStructure() const { return getFormat().getStructure(); }
  }];
}

#endif // QUILT_TYPES_TD
