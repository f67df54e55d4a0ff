//===- QuiltAttrs.td - Weight format attributes ------------*- tablegen -*-===//
//
// Precision, sparsity and structure of a stored weight, and the format that
// bundles the three.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_ATTRS_TD
#define QUILT_ATTRS_TD

include "QuiltDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Quilt_Granularity : I32EnumAttr<"Granularity",
    "how many elements share one quantization scale", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Tensor", 1, "tensor">,
      I32EnumAttrCase<"Channel", 2, "channel">,
      I32EnumAttrCase<"Group", 3, "group">]> {
  let cppNamespace = "::mlir::quilt";
  let genSpecializedAttr = 0;
}

def Quilt_SparsityKind : I32EnumAttr<"SparsityKind", "kind of sparsity", [
      I32EnumAttrCase<"Dense", 0, "dense">,
      I32EnumAttrCase<"NM", 1, "nm">,
      I32EnumAttrCase<"Block", 2, "block">,
      I32EnumAttrCase<"Unstructured", 3, "unstructured">]> {
  let cppNamespace = "::mlir::quilt";
  let genSpecializedAttr = 0;
}

def Quilt_StructureKind : I32EnumAttr<"StructureKind", "kind of structure", [
      I32EnumAttrCase<"Dense", 0, "dense">,
      I32EnumAttrCase<"Monarch", 1, "monarch">,
      I32EnumAttrCase<"BlockDiag", 2, "blockdiag">,
      I32EnumAttrCase<"LowRank", 3, "lowrank">]> {
  let cppNamespace = "::mlir::quilt";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Quilt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Quilt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Quilt_PrecisionAttr : Quilt_Attr<"Precision", "precision"> {
  let summary = "Element kind and quantization scales of stored values";
  let description = [{
    The element kind is one of `f32`, `bf16`, `f16`, `f8E4M3FN`, `i8`, `i4`.
    Scaled kinds carry a scale granularity: `tensor` (one scale), `channel`
    (one per output column of a K x N weight; one per row of an activation)
    or `group<G>` (one per G consecutive elements along K). `zero_point`
    makes integer quantization asymmetric.

    ```mlir
    #quilt.precision<f32>
    #quilt.precision<bf16>
    #quilt.precision<i8, channel>
    #quilt.precision<i4, group<128>, zero_point>
    #quilt.precision<f8E4M3FN, tensor>
    ```

    Rules: integer kinds need a granularity; `f32`, `bf16` and `f16` take
    none; `zero_point` needs an integer kind; a group size is positive.
  }];
  let parameters = (ins "::mlir::Type":$elementType,
                        EnumParameter<Quilt_Granularity>:$granularity,
                        "int64_t":$groupSize,
                        "bool":$zeroPoint);
  let builders = [
    AttrBuilder<(ins "::mlir::Type":$elementType), [{
      return $_get($_ctxt, elementType, Granularity::None, 0, false);
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True for the i8 and i4 kinds.
    bool isInteger() const;
    /// Bits per stored element (32, 16, 8 or 4).
    unsigned getBitWidth() const;
    /// True for plain f32: nothing is rounded.
    bool isExact() const;
  }];
}

def Quilt_SparsityAttr : Quilt_Attr<"Sparsity", "sparsity"> {
  let summary = "Which weight entries are stored";
  let description = [{
    ```mlir
    #quilt.sparsity<dense>
    #quilt.sparsity<nm<2, 4>>                   // N of every M along K
    #quilt.sparsity<block<16x16>, density = 0.25>
    #quilt.sparsity<unstructured, density = 0.1>
    ```

    Rules: for `nm<N, M>`, 1 <= N <= M; block dims are positive; a density
    lies in (0, 1].
  }];
  let parameters = (ins EnumParameter<Quilt_SparsityKind>:$kind,
                        "int64_t":$n, "int64_t":$m,
                        "int64_t":$blockRows, "int64_t":$blockCols,
                        APFloatParameter<"fraction of entries kept">:$density);
  let builders = [
    AttrBuilder<(ins), [{
      return $_get($_ctxt, SparsityKind::Dense, 0, 0, 0, 0,
                   ::llvm::APFloat(1.0));
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isDense() const { return getKind() == SparsityKind::Dense; }
    /// Fraction of the weight's entries that are kept.
    double getKeptFraction() const;
  }];
}

def Quilt_StructureAttr : Quilt_Attr<"Structure", "structure"> {
  let summary = "Factorized structure of a weight";
  let description = [{
    ```mlir
    #quilt.structure<dense>
    #quilt.structure<monarch<64>>    // two block-diagonal factors, 64 blocks
    #quilt.structure<blockdiag<4>>   // 4 diagonal blocks
    #quilt.structure<lowrank<256>>   // U (K x 256) * V (256 x N)
    ```

    A Monarch weight with B blocks is
    `W[p*k + i, q*n + o] = L[p, i, q] * R[q, p, o]` with k = K/B, n = N/B.
    Rule: the block count or rank is positive.
  }];
  let parameters = (ins EnumParameter<Quilt_StructureKind>:$kind,
                        "int64_t":$size);
  let builders = [
    AttrBuilder<(ins), [{
      return $_get($_ctxt, StructureKind::Dense, 0);
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isDense() const { return getKind() == StructureKind::Dense; }
  }];
}

def Quilt_FormatAttr : Quilt_Attr<"Format", "format"> {
  let summary = "Storage format of a weight: precision x sparsity x structure";
  let description = [{
    Components left out default to `f32`, `dense`, `dense`.

    ```mlir
    #quilt.format<precision<i4, group<128>>>
    #quilt.format<precision<i8, channel>, sparsity<nm<2, 4>>>
    #quilt.format<precision<bf16>, structure<monarch<64>>>
    ```
  }];
  let parameters = (ins Quilt_PrecisionAttr:$precision,
                        Quilt_SparsityAttr:$sparsity,
                        Quilt_StructureAttr:$structure);
  let builders = [
    AttrBuilder<(ins), [{
      return $_get($_ctxt,
                   PrecisionAttr::get($_ctxt, ::mlir::Float32Type::get($_ctxt)),
                   SparsityAttr::get($_ctxt), StructureAttr::get($_ctxt));
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    /// Parses `precision<...>, sparsity<...>, structure<...>` (each optional,
    /// in this order) without the surrounding brackets.
    static FormatAttr parseBody(::mlir::AsmParser &parser);
    /// Prints the non-default components, each preceded by `, ` if
    /// `leadingComma`, else separated by `, `.
    void printBody(::mlir::AsmPrinter &printer, bool leadingComma) const;
    /// True when nothing is rounded, pruned or factorized.
    bool isDenseF32() const;
  }];
}

#endif // QUILT_ATTRS_TD
