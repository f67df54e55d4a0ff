// RUN: quilt-run %s --pipeline reference --print-results | FileCheck %s
// RUN: quilt-run %s --entry two_results --pipeline reference --print-results \
// RUN:   | FileCheck %s --check-prefix=TWO
// RUN: quilt-run %s --entry rank3 --pipeline reference --print-results \
// RUN:   | FileCheck %s --check-prefix=RANK3
// RUN: quilt-run %s --pipeline reference --print-results --json \
// RUN:   | FileCheck %s --check-prefix=JSON

// A tiny linear on constant inputs: y = x W, exact in f32.
// CHECK: entry @main, pipeline quilt-reference-pipeline, 1 thread(s)
// CHECK-NEXT: result #0: tensor<2x3xf32>
// CHECK-NEXT: {{^\[\[}}1, 2, 0],
// CHECK-NEXT: {{^}} [3, 4, 2]]
// CHECK-NOT: time:
// CHECK-NOT: check vs reference
func.func @main() -> tensor<2x3xf32> {
  %x = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w = arith.constant dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]> : tensor<2x3xf32>
  %y = quilt.linear %x, %w : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// JSON: "results":[{"type":"tensor<2x3xf32>","values":[1,2,0,3,4,2]}]

// Several results, one of them a constant and one an argument: the entry
// returns buffers it owns (clones), which quilt-run frees.
// TWO: result #0: tensor<3xf32>
// TWO-NEXT: {{^}}[1.5, -2, 0.25]
// TWO-NEXT: result #1: tensor<3xf32>
// TWO-NEXT: {{^}}[3, -4, 0.5]
func.func @two_results() -> (tensor<3xf32>, tensor<3xf32>) {
  %c = arith.constant dense<[1.5, -2.0, 0.25]> : tensor<3xf32>
  %d = arith.addf %c, %c : tensor<3xf32>
  return %c, %d : tensor<3xf32>, tensor<3xf32>
}

// RANK3: result #0: tensor<2x2x2xf32>
// RANK3-NEXT: {{^\[\[\[}}0, 1],
// RANK3-NEXT: {{^}}  [2, 3]],
// RANK3-NEXT: {{^ \[\[}}4, 5],
// RANK3-NEXT: {{^}}  [6, 7]]]
func.func @rank3() -> tensor<2x2x2xf32> {
  %c = arith.constant dense<[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]> : tensor<2x2x2xf32>
  return %c : tensor<2x2x2xf32>
}
