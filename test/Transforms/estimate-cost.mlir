// RUN: quilt-opt %s --quilt-estimate-cost="target=%S/Inputs/estimate-cost-target.json" | FileCheck %s
// RUN: quilt-opt %s --quilt-estimate-cost="target=%S/Inputs/estimate-cost-target.json threads=2" | FileCheck %s --check-prefix=T2
// RUN: quilt-opt %s --quilt-estimate-cost="target=%S/Inputs/estimate-cost-target.json remarks=1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// The analytical model with round calibration figures (1e11 f32 FLOP/s,
// 4e11 int8 op/s, L2 of 2 MiB at 5e10 B/s), so every time below is the
// roofline worked out by hand, plus 2 us of call overhead.

// 2*16*512*512 FLOPs at 1e11/s = 83.88608 us > 1114112 B at 5e10 B/s.
// CHECK-LABEL: func.func @dense_f32
// CHECK: quilt.linear {{.*}}quilt.cost_model = "analytical", quilt.predicted_time_us = 85.886
// Two threads: half the compute time.
// T2-LABEL: func.func @dense_f32
// T2: quilt.predicted_time_us = 43.943
// REMARK: remark: predicted 85.886 us (analytical model, 1 threads)
func.func @dense_f32(%x: tensor<16x512xf32>, %w: tensor<512x512xf32>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w : tensor<16x512xf32>, tensor<512x512xf32> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}

// W8A8 runs at the int8 peak: 8388608 / 4e11 = 20.97152 us.
// CHECK-LABEL: func.func @int8
// CHECK: quilt.predicted_time_us = 22.971
func.func @int8(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<i8, channel>>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<16x512xf32>, !quilt.packed<512x512, precision<i8, channel>> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}

// 64 KiB of traffic from L2: 1.31072 us.
// CHECK-LABEL: func.func @relu
// CHECK: quilt.relu {{.*}}quilt.predicted_time_us = 3.31072
func.func @relu(%x: tensor<16x512xf32>) -> tensor<16x512xf32> {
  %y = quilt.relu %x : tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}

// A block is one kernel: the linear's FLOPs plus 20 ops per gelu element,
// annotated on the block only.
// CHECK-LABEL: func.func @fused
// CHECK: quilt.fused
// CHECK-NOT: predicted_time_us
// CHECK: quilt.yield
// CHECK-NEXT: } attributes {quilt.cost_model = "analytical", quilt.predicted_time_us = 89.162
func.func @fused(%x: tensor<16x512xf32>, %w: !quilt.packed<512x512, precision<i4, group<128>>>, %b: tensor<512xf32>) -> tensor<16x512xf32> {
  %y = quilt.fused (%a = %x, %u = %w, %c = %b) : (tensor<16x512xf32>, !quilt.packed<512x512, precision<i4, group<128>>>, tensor<512xf32>) -> tensor<16x512xf32> {
    %l = quilt.linear %a, %u bias %c : tensor<16x512xf32>, !quilt.packed<512x512, precision<i4, group<128>>>, tensor<512xf32> -> tensor<16x512xf32>
    %g = quilt.gelu %l : tensor<16x512xf32>
    quilt.yield %g : tensor<16x512xf32>
  }
  return %y : tensor<16x512xf32>
}

// Batched attention scores: 2*512*64*64 FLOPs = 41.94304 us.
// CHECK-LABEL: func.func @matmul
// CHECK: quilt.predicted_time_us = 43.943
func.func @matmul(%q: tensor<8x64x64xf32>, %k: tensor<8x64x64xf32>) -> tensor<8x64x64xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<8x64x64xf32>, tensor<8x64x64xf32> -> tensor<8x64x64xf32>
  return %s : tensor<8x64x64xf32>
}

// Dynamic shapes have no cost: no annotation.
// CHECK-LABEL: func.func @dynamic
// CHECK-NOT: predicted_time_us
// CHECK: return
func.func @dynamic(%x: tensor<?x512xf32>, %w: tensor<512x512xf32>) -> tensor<?x512xf32> {
  %y = quilt.linear %x, %w : tensor<?x512xf32>, tensor<512x512xf32> -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
