// RUN: quilt-opt %s \
// RUN:   "--quilt-cpu-pipeline=cpu-features=+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512vnni,+avx512bf16" \
// RUN:   | mlir-translate --mlir-to-llvmir | llc -O3 | FileCheck %s
// RUN: quilt-opt %s \
// RUN:   "--quilt-cpu-pipeline=cpu-features=+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512vnni,+avx512bf16 bf16-dot=1" \
// RUN:   | mlir-translate --mlir-to-llvmir | llc -O3 | FileCheck %s --check-prefix=DOT
// RUN: quilt-opt %s "--quilt-cpu-pipeline=threads=2" \
// RUN:   | FileCheck %s --check-prefix=OMP

// The machine code the CPU backend produces, for a pinned target (so the
// test does not depend on the machine it runs on): 512-bit FMAs with
// broadcast activations for f32 and widened bf16, vpdpbusd for W8A8,
// vdpbf16ps for bf16 x bf16 with bf16-dot; and the target attributes that
// keep LLVM from splitting zmm operations.

// CHECK-LABEL: quilt_cpu_linear_fma_f32_256x128_m24:
// CHECK:         vbroadcastss
// CHECK:         vfmadd231ps {{.*}}%zmm
// CHECK-LABEL: quilt_cpu_linear_fma_bf16_256x128_m24_actbf16:
// CHECK:         vpslld $16, {{.*}}%zmm
// CHECK:         vfmadd231ps {{.*}}%zmm
// CHECK-LABEL: quilt_cpu_linear_vnni_i8_256x128_m24:
// CHECK:         vpbroadcastd
// CHECK:         vpdpbusd {{.*}}%zmm
// DOT-LABEL:   quilt_cpu_linear_bf16dot_bf16_256x128_m24:
// DOT:           vdpbf16ps {{.*}}%zmm

// Entries call their kernels, which LLVM must not inline (each would be
// compiled once more per caller: the entry and its C wrapper).
// OMP:      llvm.func @f32(
// OMP-NOT:    no_inline
// OMP-SAME:   passthrough =
// OMP:      llvm.func @quilt_cpu_linear_fma_f32_256x128_m24(
// OMP-SAME:   no_inline, passthrough = {{\[\[}}"prefer-vector-width", "512"], ["min-legal-vector-width", "512"]], quilt.kernel
// OMP-SAME:   target_cpu = "{{.+}}"
// OMP:        omp.parallel num_threads
// OMP:        omp.wsloop

func.func @f32(%x: tensor<24x256xf32>, %w: !quilt.packed<256x128, precision<f32>>) -> tensor<24x128xf32> {
  %y = quilt.linear %x, %w : tensor<24x256xf32>, !quilt.packed<256x128, precision<f32>> -> tensor<24x128xf32>
  return %y : tensor<24x128xf32>
}
func.func @bf16(%x: tensor<24x256xf32>, %w: !quilt.packed<256x128, precision<bf16>>) -> tensor<24x128xf32> {
  %y = quilt.linear %x, %w act <bf16> : tensor<24x256xf32>, !quilt.packed<256x128, precision<bf16>> -> tensor<24x128xf32>
  return %y : tensor<24x128xf32>
}
func.func @int8(%x: tensor<24x256xf32>, %w: !quilt.packed<256x128, precision<i8, channel>>) -> tensor<24x128xf32> {
  %y = quilt.linear %x, %w act <i8, channel> : tensor<24x256xf32>, !quilt.packed<256x128, precision<i8, channel>> -> tensor<24x128xf32>
  return %y : tensor<24x128xf32>
}
