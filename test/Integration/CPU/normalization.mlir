// RUN: quilt-run %s --entry softmax --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry softmax_axis --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry rmsnorm --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry layernorm --pipeline cpu --check --tolerance 1e-5 | FileCheck %s

// softmax, rmsnorm and layernorm through quilt-cpu-pipeline (rows of 16-lane
// vector passes with a masked tail: D = 37, 100, 33) against the reference
// pipeline on seeded random inputs. Sums run lane-wise and exp is a vector
// polynomial (a few ulp), so results agree to ~2e-7 relative; 1e-5 fails on
// a wrong statistic, a dropped tail lane or a wrong row. softmax along a
// non-last axis keeps the reference lowering and must agree too.
// CHECK: check vs reference: max_abs_err

func.func @softmax(%x: tensor<3x5x37xf32>) -> tensor<3x5x37xf32> {
  %y = quilt.softmax %x : tensor<3x5x37xf32>
  return %y : tensor<3x5x37xf32>
}
func.func @softmax_axis(%x: tensor<6x37xf32>) -> tensor<6x37xf32> {
  %y = quilt.softmax %x {axis = 0 : i64} : tensor<6x37xf32>
  return %y : tensor<6x37xf32>
}
func.func @rmsnorm(%x: tensor<7x100xf32>, %g: tensor<100xf32>) -> tensor<7x100xf32> {
  %y = quilt.rmsnorm %x, %g {epsilon = 1.0e-06 : f32} : tensor<7x100xf32>, tensor<100xf32>
  return %y : tensor<7x100xf32>
}
func.func @layernorm(%x: tensor<2x4x33xf32>, %g: tensor<33xf32>, %b: tensor<33xf32>) -> tensor<2x4x33xf32> {
  %y = quilt.layernorm %x, %g, %b : tensor<2x4x33xf32>, tensor<33xf32>, tensor<33xf32>
  return %y : tensor<2x4x33xf32>
}
