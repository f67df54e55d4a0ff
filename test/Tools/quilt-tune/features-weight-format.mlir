// A query with another weight format (CostQuery::weightFormat, what
// quilt-select-formats asks) sees exactly what an op with that format shows,
// numeric features and IR tokens alike.
// RUN: quilt-tune features %s --target %S/Inputs/target.json --weight-format '!quilt.packed<512x512, precision<i4, group<128>>>' | FileCheck %s
// RUN: quilt-tune features %s --target %S/Inputs/target.json | FileCheck %s --check-prefix=OWN
// RUN: not quilt-tune features %s --weight-format 'tensor<4xf32>' 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK: quilt.linear at {{.*}}: [[F:op_kind=.*]]
// CHECK-NEXT: quilt.linear at {{.*}}: [[F]]
// OWN: weight_bits=32
// OWN: weight_bits=4
// BAD: quilt-tune: error: --weight-format: not a !quilt.packed type: tensor<4xf32>
func.func @f32(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<f32>>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w : tensor<16x512xf32>, !quilt.packed<512x512, precision<f32>> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}
func.func @int4(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<i4, group<128>>>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w : tensor<16x512xf32>, !quilt.packed<512x512, precision<i4, group<128>>> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}
