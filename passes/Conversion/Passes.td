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

def ConvertQuiltToCPU : Pass<"convert-quilt-to-cpu", "::mlir::ModuleOp"> {
  let summary = "Lower quilt ops to tiled, vectorized x86 CPU kernels";
  let description = [{
    The fast CPU backend. Packed weights in a format the CPU kernels read
    natively become one 64-byte aligned byte buffer (`tensor<B x i8>`) laid
    out for the register tiles:

    - f32: column panels of 32, `[N/32][K][32]` floats;
    - bf16: panels of 32 columns holding bf16 pairs along K,
      `[N/32][K/2][32][2]` (the operand layout of `vdpbf16ps`);
    - int8 (symmetric, per tensor or per channel): panels of 32 columns
      holding quads along K, `[N/32][K/4][32][4]` (the operand layout of
      `vpdpbusd`), then one f32 scale and one i32 column sum per column.

    `quilt.linear` becomes a call to a generated kernel function: a loop nest
    blocked for the caches (a parallel loop over column blocks, one per
    thread, then K blocks, row blocks, 32-column panels and register tiles of
    up to 12 x 32 outputs) around a register-tile microkernel written with
    the vector dialect: f32 FMAs with broadcast activations; bf16 pairs
    through `x86vector.avx512.dot` (`vdpbf16ps`) when the activations are
    rounded to bf16 and `bf16-dot` is set (otherwise bf16 pairs are widened
    in registers and multiplied with FMAs, which is exact and, where
    vdpbf16ps retires at half the FMA rate, twice as fast); int8 x int8 through `vpdpbusd` (activations quantized to
    u8 with a +128 shift that the column sums undo) when the activations are
    quantized to int8. Weights stored as bf16 or int8 feeding f32 activations
    are widened in registers. Dequantization, the bias and the ragged edges
    (masked loads and stores) live in the epilogue of the register tile.

    `quilt.matmul` with static shapes packs its right operand (transposed
    for `transpose_b`) into f32 panels at run time, batch by batch, and uses
    the same kernel. Element-wise ops on static f32 tensors become one loop of 16-lane vector
    operations over the flattened elements (masked tail) built from the op's
    own element function; exp/tanh/erf on vectors are then expanded to
    polynomial approximations. softmax (last axis), rmsnorm and layernorm
    process each row in passes of 16-lane vectors with lane-wise reductions.
    Formats and precisions the kernels do not read natively, and other
    shapes (dynamic, non-f32, softmax on another axis) keep their reference
    lowering (convert-quilt-to-linalg patterns), so every module compiles.

    A `quilt.fused` block becomes one kernel (`FusedOps.cpp`) when its body
    is made of linears with native weights, element-wise ops and
    normalizations: each linear's chain of element-wise consumers (bias,
    gelu, silu, relu, residual add, the gated MLP's `silu(gate) * up`) is
    applied to the accumulator tile in registers before the store; linears
    reading the same input share its preparation (int8 quantization, bf16
    rounding); element-wise runs are one loop nest storing only the values
    used later. Other blocks (attention: matmul and softmax) are compiled as
    their bodies, as are all blocks with `fused-kernels=0`.
  }];
  let options = [
    Option<"fusedKernels", "fused-kernels", "bool", "true",
           "Compile quilt.fused blocks as one kernel each where the CPU "
           "kernels allow (false: every block as its body)">,
    Option<"cpuFeatures", "cpu-features", "std::string", "\"host\"",
           "Target features the kernels may use: `host` (detect), or a comma "
           "list of LLVM feature names such as "
           "`+avx512f,+avx512vnni,+avx512bf16`">,
    Option<"threads", "threads", "unsigned", "1",
           "Column blocks of every linear, run in parallel when the "
           "pipeline maps scf.parallel to OpenMP threads">,
    Option<"bf16Dot", "bf16-dot", "bool", "false",
           "Multiply bf16 x bf16 with vdpbf16ps (avx512bf16) instead of "
           "FMAs on bf16 widened in registers; off by default because "
           "vdpbf16ps runs at half the FMA rate on the CPUs measured">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

def QuiltAnnotateCPUTarget
    : Pass<"quilt-annotate-cpu-target", "::mlir::ModuleOp"> {
  let summary = "Set the target CPU and features on every llvm.func";
  let description = [{
    Generated kernels carry explicit 512-bit vectors and x86 intrinsics. LLVM
    compiles them well only when each function says which CPU it targets
    (`target_cpu`, `target_features`) and that 512-bit vectors are welcome:
    on CPUs tuned to prefer 256-bit vectors LLVM would otherwise split every
    zmm operation in two. This pass sets those attributes (`passthrough`
    `"prefer-vector-width"="512"` and `"min-legal-vector-width"="512"`) on
    every function with a body. It also marks the kernel functions the CPU
    lowering builds (attribute `quilt.kernel`) `no_inline`: each runs once
    per op, so inlining gains nothing, and inlined into its entry and the
    entry into its C wrapper, every kernel was compiled three times
    (the JIT of the LLM block's bf16 packing spent 0.3 s in code
    generation).
  }];
  let options = [
    Option<"cpuFeatures", "cpu-features", "std::string", "\"host\"",
           "`host` or a comma list of LLVM feature names (as for "
           "convert-quilt-to-cpu)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def QuiltInlineIntrinsicCalls
    : Pass<"quilt-inline-intrinsic-calls", "::mlir::ModuleOp"> {
  let summary = "Turn calls to intrinsic stand-ins into llvm.call_intrinsic";
  let description = [{
    Some instructions the CPU kernels need (e.g. `vpdpbusd`, u8 x s8 dot
    products) have no op in the vector or x86vector dialects. The kernels
    call a bodiless private function carrying a `quilt.llvm_intrinsic`
    attribute instead: unlike `llvm.call_intrinsic`, whose memory effects
    are unknown, such a call with vector operands passes through
    bufferization and buffer deallocation. This pass, run after them,
    replaces each such call by `llvm.call_intrinsic` of the named intrinsic
    and erases the stand-in declarations.

    ```mlir
    func.func private @quilt_x86_vpdpbusd_512(vector<16xi32>, vector<64xi8>,
        vector<64xi8>) -> vector<16xi32>
        attributes {quilt.llvm_intrinsic = "llvm.x86.avx512.vpdpbusd.512"}
    %d = func.call @quilt_x86_vpdpbusd_512(%acc, %a, %b) : ...
    // becomes
    %d = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%acc, %a, %b) : ...
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ConvertQuiltToNVPTX : Pass<"convert-quilt-to-nvptx", "::mlir::ModuleOp"> {
  let summary = "Compile quilt linears to tensor-core GPU kernels";
  let description = [{
    Triton's programming model, generated by Quilt: every `quilt.linear`
    becomes a kernel in `gpu.module @quilt_kernels` whose program instances
    (CTAs) each compute one output tile, warps splitting the tile, both
    operands staged through a ring of shared-memory buffers by `cp.async`,
    fragments read with `ldmatrix` and multiplied by `mma.sync` into f32
    accumulators. Element-wise ops that follow the linear (relu, silu, gelu,
    and an add of a residual) are fused into its epilogue on the
    accumulators. A weight argument is packed on the GPU by a setup kernel.

    Each converted function becomes a host launch schedule: memref
    arguments (packed weights as their dense f32 K x N), its results as
    trailing output arguments, `gpu.alloc` for packed weights and
    intermediates, and one `gpu.launch_func` per kernel carrying its phase
    (`setup` or `run`), FLOPs and bytes. quilt-export-nvptx writes the
    manifest from it.

    ```mlir
    func.func @f(%x: tensor<128x256xbf16>, %w: !quilt.packed<256x512, precision<bf16>>)
        -> tensor<128x512xbf16> {
      %y = quilt.linear %x, %w : tensor<128x256xbf16>,
          !quilt.packed<256x512, precision<bf16>> -> tensor<128x512xbf16>
      %z = quilt.gelu %y : tensor<128x512xbf16>
      return %z : tensor<128x512xbf16>
    }
    ```

    Supported now: static shapes; x and the weight in the same 16-bit
    float (`bf16` or `f16` activations with `precision<bf16>` /
    `precision<f16>` weights), K a multiple of 8; the same with
    `sparsity<nm<2, 4>>` (pruned on the GPU like the reference, multiplied
    by `mma.sp` on y^T = W^T x^T; K a multiple of 64, N of 16; on Ampere
    mma.sp needs PTX 7.1, which quilt-nvptx-pipeline emits there); and f16
    activations with `precision<i4, group<G>>` weights (symmetric, G a
    multiple of 16, K a multiple of 64), a weight-streaming
    kernel for few rows of x; and W8A8, `precision<i8, channel>` weights
    with `act <i8, channel>` (x of f32, f16 or bf16, quantized per row by a
    kernel before each product; K a multiple of 16) through `mma.sync`
    m16n8k32 s8. Anything else is reported as an error that names what is
    missing.

    `mma=wgmma` compiles dense 16-bit and W8A8 linears for sm_90a's
    warpgroup tensor cores instead (`wgmma.mma_async` on descriptors of the
    same cp.async stages; tiles MxNx64, int8 MxNx128, with warps
    (4 * M / 64)x1). It has not
    run on a GPU yet, so it is not the default. With `tma`, Hopper's tensor
    memory accelerator fills those stages instead of cp.async: one thread
    loads each stage as two boxes through CUDA tensor maps and an mbarrier
    per stage counts their bytes. The kernel then takes two more arguments,
    128-byte buffers the host fills with the tensor maps of x and of the
    packed weight before the launch; the launch's `quilt.tensor_maps`
    attribute says how, and the manifest carries it to quilt-cuda-run as
    buffers of kind `tensor_map`. A stage is refilled after a CTA barrier
    per K slice (`tma-release=barrier`) or, with `tma-release=mbarrier`,
    once each warpgroup has arrived on the stage's "empty" mbarrier after
    its wgmma read it: no CTA barrier in the K loop. The loads are then
    issued by thread 0 between its warpgroup's wgmma (`tma-producer=thread`)
    or, with `tma-producer=warpgroup`, by a warpgroup of their own after
    the consumers (128 more threads), which runs as far ahead as the
    releases allow while the consumers only wait, multiply and release.
    `persistent-ctas=N` (with the producer warpgroup) launches at most N
    CTAs (an H100 SXM has 132 SMs) that each loop over the output tiles
    blockIdx.x, + gridDim.x, ... (CUTLASS's persistent kernels): the ring
    of stages and its mbarrier phases run on across tiles, so the producer
    loads the next tile's first slices while the consumers store the last
    one's, and no CTA waits for a launch wave. The producer warpgroup keeps
    40 registers per thread and gives the rest to the consumers
    (`setmaxnreg`, as CUTLASS; 232 each for two consumer warpgroups).
    `cluster=2` (or 4, with
    `tma-release=mbarrier`) launches clusters of CTAs that compute
    vertically adjacent tiles of the same columns: each loads its share of
    every W^T slice and multicasts it into all their stages (CUTLASS's
    TMA multicast), so L2 delivers W^T once per cluster.

    Tilings come from per-shape tables (measured on an H100) or the
    options. When a register model is loaded (`quilt-tune collect-ptx` and
    `train-registers` fit it to `ptxas -v` reports; no GPU needed), it
    vets each kernel: if the warp grid is `auto` and the model predicts the
    kernel to spill, the grid with the fewest warps predicted to fit
    replaces it (wgmma, whose warps follow the tile: a tile left to `auto`
    narrows until it is predicted to fit); a tiling forced whole that is
    predicted to spill gets a warning. Each GEMM launch records its tiling (`quilt.kernel_config`)
    and the predicted registers (`quilt.predicted_registers`).

    When a timing model of the chip is loaded (`quilt-tune train-timing`
    fits it to the tiling grid timed on a GPU) and tiles, warps and stages
    are all `auto`, the tiling is the one it predicts fastest among the
    kernel's candidate tiles and pipeline depths that the kernels accept
    and the register model predicts not to spill; the other options (the
    wgmma and TMA forms, `int4-load`) still choose the kind of kernel. The
    launch records the prediction (`quilt.predicted_us`).

    For int4 weights the tiling options read differently: `tiles=16xNx64`
    gives a CTA N columns, `warps=WxS` puts W warps side by side in N
    (N / 16W tiles of 16 columns each; they share x through L1) and splits
    K over S, and `stages` is how many 64-deep K blocks of loads each warp
    keeps in flight. S need not divide K: each warp takes ceil(groups / S)
    groups (blocks, for groups that are no multiple of 64), the last
    skipping what its neighbour has. `auto` gives 16-row x one CTA
    per SM, as wide as covers N in one wave (the SMs of the chip's
    data-center part). With `int4-load=bulk` (sm_90) lane 0 of each warp
    copies the warp's weights into a ring of shared memory by
    cp.async.bulk, 4 K blocks of every tile per stage, each stage
    completing on an mbarrier; `stages` is then the ring's depth (0: as
    deep as the shared memory allows, the whole range where it fits) and
    x and the scales stay 4 blocks ahead.
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "The GPU the kernels are for (sm_80 or newer)">,
    Option<"tiles", "tiles", "std::string", "\"auto\"",
           "CTA tile `MxNxK` (K 32 or 64), or `auto` to pick by shape">,
    Option<"warps", "warps", "std::string", "\"auto\"",
           "Warps of a CTA as `MxN`, or `auto`">,
    Option<"stages", "stages", "unsigned", "0",
           "Shared-memory stages of the cp.async pipeline (0: auto)">,
    Option<"mma", "mma", "std::string", "\"sync\"",
           "Tensor-core instruction of dense 16-bit and W8A8 linears: `sync` "
           "(mma.sync, every chip) or `wgmma` (sm_90a's warpgroup MMA; "
           "not yet run on a GPU)">,
    Option<"wgmmaInFlight", "wgmma-in-flight", "unsigned", "0",
           "wgmma batches left running at the end of a K slice (0 or 1; "
           "1 needs 3 or more stages)">,
    Option<"tma", "tma", "bool", "false",
           "With mma=wgmma: fill the shared-memory stages by TMA (tensor "
           "maps and mbarriers) instead of cp.async">,
    Option<"tmaRelease", "tma-release", "std::string", "\"barrier\"",
           "With tma: how a stage is known free for its refill: `barrier` "
           "(a CTA barrier per K slice) or `mbarrier` (per-stage empty "
           "mbarriers the warpgroups arrive on)">,
    Option<"tmaProducer", "tma-producer", "std::string", "\"thread\"",
           "With tma-release=mbarrier: who issues the TMA loads: `thread` "
           "(thread 0, between its wgmma) or `warpgroup` (a producer "
           "warpgroup of its own)">,
    Option<"persistentCtas", "persistent-ctas", "unsigned", "0",
           "With tma-producer=warpgroup: launch at most this many CTAs, "
           "each looping over output tiles (0: one CTA per tile)">,
    Option<"setmaxnreg", "setmaxnreg", "bool", "true",
           "With tma-producer=warpgroup: the producer warpgroup gives its "
           "registers to the consumers (setmaxnreg) where that gives them "
           "more than the launch does">,
    Option<"cluster", "cluster", "unsigned", "1",
           "With tma-release=mbarrier: CTAs per cluster along M (1, 2 or "
           "4); each loads 1 / cluster of every W^T slice and multicasts "
           "it to the others">,
    Option<"int4Load", "int4-load", "std::string", "\"direct\"",
           "How int4 GEMM warps read their weights: `direct` (16-byte "
           "loads into registers, issued `stages` blocks early) or `bulk` "
           "(sm_90: cp.async.bulk copies into a ring of shared memory per "
           "warp, `stages` stages deep or, at 0, as deep as fits; not yet "
           "run on a GPU)">,
    Option<"registerModelPath", "register-model", "std::string", "\"auto\"",
           "Register model file vetting the tilings (`auto`: the committed "
           "models/nvptx/register-model.json if any; `none`: no model)">,
    Option<"timingModelPath", "timing-model", "std::string", "\"auto\"",
           "GPU timing model ranking the tilings `auto` may pick (`auto`: "
           "the committed models/nvptx/timing-model-smNN.json of the chip "
           "if any; `none`: the per-shape tables)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def QuiltExportNVPTX : Pass<"quilt-export-nvptx", "::mlir::ModuleOp"> {
  let summary = "Write the PTX of gpu.binary ops and one manifest per entry";
  let description = [{
    After `gpu-module-to-binary{format=isa}`, writes the PTX text of
    `@quilt_kernels` to `<output-dir>/kernels.ptx` and, for every host
    launch schedule made by convert-quilt-to-nvptx, `<output-dir>/<entry>.json`:
    the buffers (inputs by argument index, outputs by result index,
    temporaries by size), then every launch (kernel, phase, grid, block,
    dynamic shared memory, argument buffers, FLOPs, bytes), as
    quilt-cuda-run reads them. A GEMM launch also carries the tiling it was
    generated with (`config`) and, when the register model was consulted,
    its prediction (`predicted_registers`). Without `output-dir` the pass
    does nothing.

    With `ptxas`, the PTX is assembled by `ptxas -v` (no GPU needed) and
    each launch gets the registers per thread and spilled bytes ptxas
    reports; a kernel that spills is a warning, PTX that ptxas rejects an
    error.
  }];
  let options = [
    Option<"outputDir", "output-dir", "std::string", "\"\"",
           "Directory for kernels.ptx and the manifests (created if needed)">,
    Option<"ptxas", "ptxas", "std::string", "\"\"",
           "ptxas to report registers and spills with: a path, `auto` (on "
           "PATH or in /usr/local/cuda/bin, skipped if neither), or empty "
           "(none)">
  ];
}

#endif // QUILT_CONVERSION_PASSES_TD
