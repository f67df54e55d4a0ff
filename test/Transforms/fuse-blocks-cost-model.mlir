// quilt-fuse-blocks with a cost model: a group is fused only when its block
// is not predicted slower than its ops apart.
//
// Two hand-made learned models (one split over a trained model's trees):
// "slow-blocks" predicts every quilt.fused block 20x (e^3) its roofline
// time, "slow-silu" only blocks with a silu epilogue.
// RUN: quilt-tune train --data %S/../Tools/quilt-tune/Inputs/tiny.jsonl --target %S/../Tools/quilt-tune/Inputs/target.json --rounds 2 --no-ir-tokens -o %t.trained.json
// RUN: %python %S/Inputs/one-split-model.py %t.trained.json fused 0.5 3.0 %t.slow-blocks.json
// RUN: %python %S/Inputs/one-split-model.py %t.trained.json fused_silu 0.5 3.0 %t.slow-silu.json

// The roofline model: a block saves the intermediates' round trips, so
// every group fuses, as without a model.
// RUN: quilt-opt %s --quilt-fuse-blocks="cost-model=analytical remarks=1" 2>%t.remarks | FileCheck %s --check-prefix=FUSED
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: quilt-opt %s --quilt-fuse-blocks | FileCheck %s --check-prefix=FUSED

// Every block predicted slower: nothing fuses.
// RUN: quilt-opt %s --quilt-fuse-blocks="cost-model=%t.slow-blocks.json remarks=1" 2>%t.refused | FileCheck %s --check-prefix=APART
// RUN: FileCheck %s --check-prefix=REFUSED < %t.refused

// Only silu epilogues predicted slower: the refused gated MLP leaves its
// ops to the kinds tried after it.
// RUN: quilt-opt %s --quilt-fuse-blocks="cost-model=%t.slow-silu.json" | FileCheck %s --check-prefix=PARTIAL

// A model that cannot be loaded: a warning, then the roofline model.
// RUN: quilt-opt %s --quilt-fuse-blocks="cost-model=%t.missing.json" 2>%t.warning | FileCheck %s --check-prefix=FUSED
// RUN: FileCheck %s --check-prefix=MISSING < %t.warning

!wu = !quilt.packed<64x128, precision<bf16>>
!wd = !quilt.packed<128x64, precision<bf16>>
!w = !quilt.packed<64x32, precision<i8, channel>>

// MISSING: warning: cost model: {{.*}}missing.json: No such file or directory; falling back to the analytical model
// REMARK-DAG: remark: fused epilogue block of 2 ops: predicted {{[0-9.]+}} us as one kernel, {{[0-9.]+}} us apart (analytical model, 1 threads)
// REMARK-DAG: remark: fused gated-mlp block of 6 ops: predicted
// REFUSED-DAG: remark: not fused epilogue block of 2 ops: predicted
// REFUSED-DAG: remark: not fused gated-mlp block of 6 ops: predicted {{[0-9.]+}} us as one kernel, {{[0-9.]+}} us apart (learned model, 1 threads)

// FUSED-LABEL: func.func @epilogue
// FUSED: quilt.fused
// FUSED: } attributes {kind = "epilogue"}
// APART-LABEL: func.func @epilogue
// APART-NOT: quilt.fused
// APART: quilt.gelu
// PARTIAL-LABEL: func.func @epilogue
// PARTIAL: } attributes {kind = "epilogue"}
func.func @epilogue(%x: tensor<16x64xf32>, %w: !w, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %l = quilt.linear %x, %w bias %b : tensor<16x64xf32>, !w, tensor<32xf32> -> tensor<16x32xf32>
  %g = quilt.gelu %l : tensor<16x32xf32>
  return %g : tensor<16x32xf32>
}

// FUSED-LABEL: func.func @gated_mlp
// FUSED: quilt.fused
// FUSED: } attributes {kind = "gated-mlp"}
// FUSED-NEXT: return
// APART-LABEL: func.func @gated_mlp
// APART-NOT: quilt.fused
// APART: return
// The gate's silu stays apart; up * silu and down + residual fuse as
// epilogues.
// PARTIAL-LABEL: func.func @gated_mlp
// PARTIAL: %[[G:.+]] = quilt.linear
// PARTIAL-NEXT: %[[S:.+]] = quilt.silu %[[G]]
// PARTIAL-NEXT: %[[H:.+]] = quilt.fused ({{.*}}= %[[S]]
// PARTIAL-NEXT: quilt.linear
// PARTIAL-NEXT: quilt.mul
// PARTIAL-NEXT: quilt.yield
// PARTIAL-NEXT: } attributes {kind = "epilogue"}
// PARTIAL-NEXT: %[[O:.+]] = quilt.fused ({{.*}}= %[[H]]
// PARTIAL-NEXT: quilt.linear
// PARTIAL-NEXT: quilt.add
// PARTIAL-NEXT: quilt.yield
// PARTIAL-NEXT: } attributes {kind = "epilogue"}
// PARTIAL-NEXT: return %[[O]]
func.func @gated_mlp(%x: tensor<4x64xf32>, %wu: !wu, %wg: !wu, %wd: !wd, %res: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %u = quilt.linear %x, %wu : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %g = quilt.linear %x, %wg : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %s = quilt.silu %g : tensor<4x128xf32>
  %h = quilt.mul %u, %s : tensor<4x128xf32>
  %d = quilt.linear %h, %wd : tensor<4x128xf32>, !wd -> tensor<4x64xf32>
  %o = quilt.add %d, %res : tensor<4x64xf32>
  return %o : tensor<4x64xf32>
}
