// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// A packed weight chosen by scf.if and passed through a block argument keeps
// its meaning: int8 per-channel of [[127, 1], [63.5, 2]] has scales 1 and
// 2/127, so 63.5 rounds (to even) to 64 and 1 becomes 64 * 2/127.

!p = !quilt.packed<2x2, precision<i8, channel>>
func.func private @printMemrefF32(tensor<*xf32>)
func.func @main() {
  %w = arith.constant dense<[[127.0, 1.0], [63.5, 2.0]]> : tensor<2x2xf32>
  %c = arith.constant true
  %q = scf.if %c -> !p {
    %p0 = quilt.pack %w : tensor<2x2xf32> -> !p
    scf.yield %p0 : !p
  } else {
    %z = arith.constant dense<0.0> : tensor<2x2xf32>
    %p1 = quilt.pack %z : tensor<2x2xf32> -> !p
    scf.yield %p1 : !p
  }
  %other = quilt.pack %w : tensor<2x2xf32> -> !quilt.packed<2x2, precision<i8, channel>>
  cf.cond_br %c, ^bb1(%q : !p), ^bb1(%other : !p)
^bb1(%r: !p):
  %u = quilt.unpack %r : !p -> tensor<2x2xf32>
  %uc = tensor.cast %u : tensor<2x2xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[\[}}127,   1.00787],
  // CHECK-NEXT: [64,   2]]
  call @printMemrefF32(%uc) : (tensor<*xf32>) -> ()
  return
}
