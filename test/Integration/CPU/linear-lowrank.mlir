// RUN: quilt-run %s --entry lr --pipeline cpu --check --tolerance 1e-5 | FileCheck %s
// RUN: quilt-run %s --entry lr8 --pipeline cpu --check --tolerance 1e-5 --threads 2 | FileCheck %s
// RUN: quilt-run %s --entry unpack --pipeline cpu --check --tolerance 0 | FileCheck %s
// RUN: quilt-run %s --entry factors --pipeline cpu --check --tolerance 1e-4 | FileCheck %s

// Low-rank weights through quilt-cpu-pipeline: the factors U and V are
// stored in the native panel layouts and the linear is (x U) V. The factors
// are the reference's and are rounded exactly as the reference rounds them,
// so the results differ only by the order of the f32 sums (about 1e-6 here;
// the reference forms U V first). Decoding (quilt.unpack) multiplies the
// stored factors with the reference's own expansion, so it is bit-exact.
// CHECK: check vs reference: max_abs_err

func.func @lr(%x: tensor<5x96xf32>, %w: !quilt.packed<96x70, structure<lowrank<8>>>, %b: tensor<70xf32>) -> tensor<5x70xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<5x96xf32>, !quilt.packed<96x70, structure<lowrank<8>>>, tensor<70xf32> -> tensor<5x70xf32>
  return %y : tensor<5x70xf32>
}
func.func @lr8(%x: tensor<33x64xf32>, %w: !quilt.packed<64x48, precision<i8, tensor>, structure<lowrank<16>>>) -> tensor<33x48xf32> {
  %y = quilt.linear %x, %w act <bf16> : tensor<33x64xf32>, !quilt.packed<64x48, precision<i8, tensor>, structure<lowrank<16>>> -> tensor<33x48xf32>
  return %y : tensor<33x48xf32>
}
func.func @unpack(%w: tensor<40x24xf32>) -> tensor<40x24xf32> {
  %p = quilt.pack %w : tensor<40x24xf32> -> !quilt.packed<40x24, precision<bf16>, structure<lowrank<4>>>
  %d = quilt.unpack %p : !quilt.packed<40x24, precision<bf16>, structure<lowrank<4>>> -> tensor<40x24xf32>
  return %d : tensor<40x24xf32>
}

// Factors given (quilt.pack_factors), packed when the entry is called and
// rounded to int8 per tensor as the reference rounds them.
func.func @factors(%x: tensor<7x40xf32>, %u: tensor<40x6xf32>, %v: tensor<6x36xf32>) -> tensor<7x36xf32> {
  %w = quilt.pack_factors %u, %v : tensor<40x6xf32>, tensor<6x36xf32> -> !quilt.packed<40x36, precision<i8, tensor>, structure<lowrank<6>>>
  %y = quilt.linear %x, %w : tensor<7x40xf32>, !quilt.packed<40x36, precision<i8, tensor>, structure<lowrank<6>>> -> tensor<7x36xf32>
  return %y : tensor<7x36xf32>
}
