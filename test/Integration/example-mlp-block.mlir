// RUN: quilt-opt %S/../../examples/mlp-block.mlir --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Runs examples/mlp-block.mlir (an MLP block with dense f32 weights and
// with compressed ones) and checks the structure of what it prints: the
// first 8 outputs of token 0 for both (finite numbers), then the max
// absolute difference (finite) and the relative difference, which must be
// finite and below 1.

// Token 0, first 8 outputs, dense f32 weights.
// CHECK: rank = 2 offset = 0 sizes = [1, 8] strides = [{{[0-9]+}}, 1] data =
// CHECK-NEXT: {{^\[\[(-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?, +){7}-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?\]\]}}
// Token 0, first 8 outputs, compressed weights.
// CHECK: rank = 2 offset = 0 sizes = [1, 8] strides = [{{[0-9]+}}, 1] data =
// CHECK-NEXT: {{^\[\[(-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?, +){7}-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?\]\]}}
// max |compressed - dense|: a finite non-negative number.
// CHECK: rank = 0 offset = 0 sizes = [] strides = [] data =
// CHECK-NEXT: {{^\[[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?\]}}
// max |compressed - dense| / max |dense|: finite and < 1.
// CHECK: rank = 0 offset = 0 sizes = [] strides = [] data =
// CHECK-NEXT: {{^\[(0(\.[0-9]+)?|[1-9](\.[0-9]+)?e-[0-9]+)\]}}
// CHECK-NOT: data =
