//===- QuiltOps.td - Quilt operations -----------------------*- tablegen -*-===//
//
// Packing, compute and fusion ops of the quilt dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_OPS_TD
#define QUILT_OPS_TD

include "QuiltDialect.td"
include "QuiltAttrs.td"
include "QuiltTypes.td"
include "QuiltInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Activations and other runtime tensors: f32, bf16 or f16 elements.
def Quilt_FloatTensor : RankedTensorOf<[F32, BF16, F16]>;
/// A weight operand: packed in a format, or a plain dense f32 matrix.
def Quilt_Weight : AnyTypeOf<[Quilt_PackedType, 2DTensorOf<[F32]>]>;

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

def Quilt_PackOp : Quilt_Op<"pack", [Pure]> {
  let summary = "Stores a dense f32 weight in a format";
  let description = [{
    Rounds, prunes or factorizes a K x N f32 weight into the format of the
    result type. The projection is the optimal (or, for pruning, the
    conventional) one: round-to-nearest-even quantization with the scale
    granularity; N:M keeps the N largest magnitudes of every M along K; block
    sparsity keeps the highest-norm blocks; Monarch takes the best rank-1
    approximation of every block; low-rank takes the truncated SVD,
    computed by subspace iteration (exact when r + 16 >= N; see
    ReferenceKernels.mlir).

    ```mlir
    %p = quilt.pack %w : tensor<64x32xf32> -> !quilt.packed<64x32, precision<i8, channel>>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input);
  let results = (outs Quilt_PackedType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Quilt_PackFactorsOp : Quilt_Op<"pack_factors", [Pure]> {
  let summary = "Stores a low-rank weight given as its two factors";
  let description = [{
    The K x N weight `left * right` (`left` K x r, `right` r x N) in a
    `lowrank<r>` format, each factor rounded to the format's precision as
    `quilt.pack` rounds the factors it computes. For producers that already
    hold the factors (an activation-aware fit such as
    `quilt-select-formats`' low-rank candidates, an SVD-compressed
    checkpoint), so that packing stores them as they are instead of
    factorizing their product again.

    ```mlir
    %p = quilt.pack_factors %u, %v : tensor<64x8xf32>, tensor<8x32xf32>
           -> !quilt.packed<64x32, structure<lowrank<8>>>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$left, 2DTensorOf<[F32]>:$right);
  let results = (outs Quilt_PackedType:$result);
  let assemblyFormat = [{
    $left `,` $right attr-dict `:` type($left) `,` type($right) `->`
    qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Quilt_PackedConstantOp : Quilt_Op<"packed_constant",
                                     [ConstantLike, Pure]> {
  let summary = "A weight packed at compile time in one backend's layout";
  let description = [{
    The bytes a backend's packing kernel produced for a constant weight, as
    `quilt-pack-weights` folds `quilt.pack` of a constant. `layout` names the
    backend whose byte layout `bytes` is in (`"cpu"`: the x86 CPU backend's
    panel or compressed layouts), so only that backend lowers the op; the
    reference lowering rejects it.

    ```mlir
    %w = quilt.packed_constant "cpu" dense<"0x..."> : tensor<4160xi8>
           -> !quilt.packed<64x32, precision<i8, channel>>
    ```
  }];
  let arguments = (ins StrAttr:$layout, ElementsAttr:$bytes);
  let results = (outs Quilt_PackedType:$result);
  let assemblyFormat = [{
    $layout $bytes attr-dict `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  // ConstantLike ops must fold to their value: the greedy driver keys its
  // constant de-duplication on it, and without a folder two different
  // weights of one packed type were merged into one.
  let hasFolder = 1;
}

def Quilt_UnpackOp : Quilt_Op<"unpack", [Pure]> {
  let summary = "Decodes a packed weight to dense f32";
  let description = [{
    Returns the dense weight the packed value stands for: dequantized,
    with pruned entries zero, factors multiplied out.

    ```mlir
    %w = quilt.unpack %p : !quilt.packed<64x32, precision<i8, channel>> -> tensor<64x32xf32>
    ```
  }];
  let arguments = (ins Quilt_PackedType:$input);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Quilt_LinearOp : Quilt_Op<"linear", [Pure]> {
  let summary = "y = x * W (+ bias) with W stored in a format";
  let description = [{
    `x` is M x K, `W` is K x N (packed or dense f32), the optional `bias` has
    N elements and the result is M x N. M may be dynamic. `act` gives the
    precision the activations are rounded to before the product (for example
    `<i8, channel>` for W8A8 with one scale per row); without it they are used
    as they are. Accumulation is in f32 (i32 for integer x integer).

    ```mlir
    %y = quilt.linear %x, %w bias %b act <i8, channel>
        : tensor<16x64xf32>, !quilt.packed<64x32, precision<i8, channel>>,
          tensor<32xf32> -> tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input, Quilt_Weight:$weight,
                       Optional<Quilt_FloatTensor>:$bias,
                       OptionalAttr<Quilt_PrecisionAttr>:$act);
  let results = (outs Quilt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`act` $act^)? attr-dict
    `:` type($input) `,` type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// K and N of the weight.
    int64_t getReductionSize();
    int64_t getOutputSize();
  }];
}

def Quilt_MatmulOp : Quilt_Op<"matmul", [Pure]> {
  let summary = "Batched product of two activations";
  let description = [{
    `lhs` is [B..., M, K] and `rhs` is [B..., K, N] (or [B..., N, K] with
    `transpose_b`, as in attention scores Q K^T); the batch dims B... are equal
    on both sides. Computed in f32.

    ```mlir
    %s = quilt.matmul %q, %k transpose_b
        : tensor<8x128x64xf32>, tensor<8x128x64xf32> -> tensor<8x128x128xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$lhs, Quilt_FloatTensor:$rhs,
                       UnitAttr:$transpose_b);
  let results = (outs Quilt_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_b` $transpose_b^)? attr-dict
    `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

class Quilt_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Quilt_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
        DeclareOpInterfaceMethods<Quilt_ElementwiseOpInterface>])> {
  let results = (outs Quilt_FloatTensor:$result);
}

class Quilt_BinaryOp<string mnemonic, string formula>
    : Quilt_ElementwiseOp<mnemonic, [Commutative]> {
  let summary = "Element-wise " # formula;
  let description = [{
    Both operands and the result have the same type.

    ```mlir
    %z = quilt.}] # mnemonic # [{ %x, %y : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$lhs, Quilt_FloatTensor:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Quilt_AddOp : Quilt_BinaryOp<"add", "lhs + rhs">;
def Quilt_MulOp : Quilt_BinaryOp<"mul", "lhs * rhs">;

class Quilt_UnaryOp<string mnemonic, string formula>
    : Quilt_ElementwiseOp<mnemonic> {
  let summary = "Element-wise " # formula;
  let description = [{
    ```mlir
    %y = quilt.}] # mnemonic # [{ %x : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Quilt_ReluOp : Quilt_UnaryOp<"relu", "max(x, 0)">;
def Quilt_SiluOp : Quilt_UnaryOp<"silu", "x * sigmoid(x)">;

def Quilt_GeluOp : Quilt_ElementwiseOp<"gelu"> {
  let summary = "Element-wise GELU";
  let description = [{
    `x * Phi(x)` with the exact erf form, or the tanh approximation
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` with `tanh`.

    ```mlir
    %y = quilt.gelu %x : tensor<16x32xf32>
    %z = quilt.gelu %x tanh : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input, UnitAttr:$tanh);
  let assemblyFormat = "$input (`tanh` $tanh^)? attr-dict `:` type($result)";
}

def Quilt_QuantizeOp : Quilt_ElementwiseOp<"quantize"> {
  let summary = "Element-wise rounding of an output to a narrower format";
  let description = [{
    Each element becomes the value it would have if the tensor were stored
    in `precision` and read back (quantize, then dequantize: the QDQ form
    that PyTorch and ONNX use for static activation quantization):

    - `<bf16>` and `<f16>`: rounded to nearest even;
    - `<i8, tensor>` with the calibrated `scale` s:
      `clamp(roundeven(x / s), -127, 127) * s`.

    Being element-wise, it fuses into its producer's epilogue like an
    activation (quilt-fuse-blocks), so the rounding costs no extra pass
    over the output. Scales per row or group are not element-wise and are
    rejected; so are the other kinds.

    ```mlir
    %y = quilt.quantize %x to <bf16> : tensor<16x32xf32>
    %z = quilt.quantize %x to <i8, tensor> scale 0.05 : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input, Quilt_PrecisionAttr:$precision,
                       OptionalAttr<F32Attr>:$scale);
  let assemblyFormat = [{
    $input `to` $precision (`scale` $scale^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions over one dimension
//===----------------------------------------------------------------------===//

def Quilt_SoftmaxOp : Quilt_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax along one dimension";
  let description = [{
    `exp(x - max) / sum(exp(x - max))` along `axis` (default: the last;
    negative values count from the end).

    ```mlir
    %p = quilt.softmax %s : tensor<8x128x128xf32>
    %q = quilt.softmax %s {axis = 1 : i64} : tensor<8x128x128xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Quilt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `axis` as a non-negative dimension index.
    int64_t getNormalizedAxis();
  }];
}

def Quilt_RMSNormOp : Quilt_Op<"rmsnorm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalization over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * weight`, over the last dimension D;
    `weight` has D elements.

    ```mlir
    %y = quilt.rmsnorm %x, %g {epsilon = 1.0e-06 : f32}
        : tensor<16x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input, Quilt_FloatTensor:$weight,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs Quilt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Quilt_LayerNormOp : Quilt_Op<"layernorm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Layer normalization over the last dimension";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * weight + bias` over the last
    dimension D (biased variance); `weight` and `bias` have D elements.

    ```mlir
    %y = quilt.layernorm %x, %g, %b : tensor<16x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins Quilt_FloatTensor:$input, Quilt_FloatTensor:$weight,
                       Quilt_FloatTensor:$bias,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Quilt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict
    `:` type($input) `,` type($weight) `,` type($bias)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def Quilt_FusedOp : Quilt_Op<"fused", [IsolatedFromAbove,
    RecursiveMemoryEffects, SingleBlock]> {
  let summary = "A block of ops compiled as one kernel";
  let description = [{
    The region's arguments are bound to the operands; `quilt.yield` returns
    the results. The region is isolated from above, so the block is a
    self-contained kernel. An optional `kind` names the fusion pattern.

    ```mlir
    %y = quilt.fused (%a = %x, %b = %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32> {
      %l = quilt.linear %a, %b : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
      %r = quilt.relu %l : tensor<16x32xf32>
      quilt.yield %r : tensor<16x32xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, OptionalAttr<StrAttr>:$kind);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    YieldOp getYield();
  }];
}

def Quilt_YieldOp : Quilt_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"FusedOp">]> {
  let summary = "Returns the results of a quilt.fused block";
  let description = [{
    ```mlir
    quilt.yield %r : tensor<16x32xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // QUILT_OPS_TD
