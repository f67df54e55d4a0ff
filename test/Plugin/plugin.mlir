// Stock mlir-opt (mlir-22-tools) loads QuiltPlugin.so as both a dialect and a
// pass plugin: it parses and verifies quilt IR and runs Quilt's passes and
// pipelines.

// RUN: mlir-opt %s --load-dialect-plugin=%quilt_plugin --load-pass-plugin=%quilt_plugin \
// RUN:   | FileCheck %s --check-prefix=PARSE
// RUN: mlir-opt %s --load-dialect-plugin=%quilt_plugin --load-pass-plugin=%quilt_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(quilt-unfuse))" \
// RUN:   | FileCheck %s --check-prefix=UNFUSE
// RUN: mlir-opt %s --load-dialect-plugin=%quilt_plugin --load-pass-plugin=%quilt_plugin \
// RUN:   --pass-pipeline="builtin.module(convert-quilt-to-linalg)" \
// RUN:   | FileCheck %s --check-prefix=LINALG
// RUN: mlir-opt %s --load-dialect-plugin=%quilt_plugin --load-pass-plugin=%quilt_plugin \
// RUN:   --pass-pipeline="builtin.module(quilt-reference-pipeline)" \
// RUN:   | FileCheck %s --check-prefix=LLVM
// RUN: not mlir-opt %S/Inputs/invalid-format.mlir --load-dialect-plugin=%quilt_plugin 2>&1 \
// RUN:   | FileCheck %s --check-prefix=INVALID

// PARSE-LABEL: func.func @block
// PARSE: quilt.fused
// PARSE: quilt.linear %{{.*}}, %{{.*}} bias %{{.*}} : tensor<4x16xf32>, !quilt.packed<16x8, precision<i8, channel>, sparsity<nm<2, 4>>>, tensor<8xf32> -> tensor<4x8xf32>
// PARSE: quilt.gelu

// UNFUSE-LABEL: func.func @block
// UNFUSE-NOT: quilt.fused
// UNFUSE: quilt.linear
// UNFUSE-NEXT: quilt.gelu
// UNFUSE-NEXT: return

// LINALG-LABEL: func.func @block
// LINALG-NOT: quilt.
// LINALG: call @quilt_ref_prune_nm
// LINALG: call @quilt_ref_fake_quant_int
// LINALG: linalg.generic
// LINALG: math.erf
// LINALG: func.func private @quilt_ref_prune_nm

// LLVM-LABEL: llvm.func @block
// LLVM-NOT: quilt.
// LLVM-NOT: linalg.

!w = !quilt.packed<16x8, precision<i8, channel>, sparsity<nm<2, 4>>>
func.func @block(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %p = quilt.pack %w : tensor<16x8xf32> -> !w
  %y = quilt.fused (%a = %x, %pp = %p, %bb = %b) : (tensor<4x16xf32>, !w, tensor<8xf32>) -> tensor<4x8xf32> {
    %l = quilt.linear %a, %pp bias %bb : tensor<4x16xf32>, !w, tensor<8xf32> -> tensor<4x8xf32>
    %g = quilt.gelu %l : tensor<4x8xf32>
    quilt.yield %g : tensor<4x8xf32>
  }
  return %y : tensor<4x8xf32>
}

// INVALID: error: N:M sparsity 2:4 needs K divisible by M = 4, got K = 30
