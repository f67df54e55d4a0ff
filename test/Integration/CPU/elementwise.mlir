// RUN: quilt-run %s --entry chain --pipeline cpu --check --tolerance 1e-6 | FileCheck %s
// RUN: quilt-run %s --entry gelu --pipeline cpu --check --tolerance 1e-6 | FileCheck %s
// RUN: quilt-run %s --entry mixed --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry quantize --pipeline cpu --check --tolerance 0 | FileCheck %s

// Element-wise ops through quilt-cpu-pipeline (16-lane loops with a masked
// tail; 7 x 13 = 91 elements is not a multiple of 16) against the reference
// pipeline on seeded random inputs in [-1, 1). The CPU code evaluates exp,
// tanh and erf with MLIR's vector polynomial approximations (a few ulp), so
// the bound is 1e-6 relative to the largest output rather than exact; a
// wrong element function or a dropped tail element fails it. `mixed` adds a
// linear whose output feeds the element-wise ops (f32 sums in a different
// order than the reference: 1e-5).
// CHECK: check vs reference: max_abs_err

func.func @chain(%x: tensor<7x13xf32>, %y: tensor<7x13xf32>) -> tensor<7x13xf32> {
  %a = quilt.add %x, %y : tensor<7x13xf32>
  %m = quilt.mul %a, %x : tensor<7x13xf32>
  %r = quilt.relu %m : tensor<7x13xf32>
  %s = quilt.silu %a : tensor<7x13xf32>
  %o = quilt.add %r, %s : tensor<7x13xf32>
  return %o : tensor<7x13xf32>
}

func.func @gelu(%x: tensor<7x13xf32>) -> tensor<7x13xf32> {
  %e = quilt.gelu %x : tensor<7x13xf32>
  %t = quilt.gelu %x tanh : tensor<7x13xf32>
  %o = quilt.add %e, %t : tensor<7x13xf32>
  return %o : tensor<7x13xf32>
}

func.func @mixed(%x: tensor<5x40xf32>, %w: !quilt.packed<40x24, precision<f32>>, %b: tensor<24xf32>) -> tensor<5x24xf32> {
  %h = quilt.linear %x, %w bias %b : tensor<5x40xf32>, !quilt.packed<40x24, precision<f32>>, tensor<24xf32> -> tensor<5x24xf32>
  %g = quilt.gelu %h : tensor<5x24xf32>
  %o = quilt.mul %g, %h : tensor<5x24xf32>
  return %o : tensor<5x24xf32>
}

// quilt.quantize on its own (not fused) to each format it rounds to: the
// same element function on the same inputs, so exactly equal.
func.func @quantize(%x: tensor<7x13xf32>) -> tensor<7x13xf32> {
  %b = quilt.quantize %x to <bf16> : tensor<7x13xf32>
  %h = quilt.quantize %x to <f16> : tensor<7x13xf32>
  %i = quilt.quantize %x to <i8, tensor> scale 0.01 : tensor<7x13xf32>
  %bh = quilt.add %b, %h : tensor<7x13xf32>
  %o = quilt.add %bh, %i : tensor<7x13xf32>
  return %o : tensor<7x13xf32>
}
