// RUN: quilt-opt %s --quilt-fuse-blocks | FileCheck %s --check-prefix=ALL
// RUN: quilt-opt %s --quilt-fuse-blocks=epilogues=0 | FileCheck %s --check-prefix=NOEPI
// RUN: quilt-opt %s --quilt-fuse-blocks=prologues=0 | FileCheck %s --check-prefix=NOPRO
// RUN: quilt-opt %s --quilt-fuse-blocks=horizontal=0 | FileCheck %s --check-prefix=NOHOR
// RUN: quilt-opt %s --quilt-fuse-blocks=blocks=0 | FileCheck %s --check-prefix=NOBLK
// RUN: quilt-opt %s --quilt-fuse-blocks=elementwise=0 | FileCheck %s --check-prefix=NOELT
// RUN: quilt-opt %s --quilt-fuse-blocks=recompute=1 | FileCheck %s --check-prefix=RECOMP
// RUN: quilt-opt %s --quilt-fuse-blocks=attention-max-seq=16 | FileCheck %s --check-prefix=SHORT

// Every fusion kind can be switched off on its own (the others still
// apply), recomputation of cheap producers is opt-in, and the attention
// length limit is an option.

!wf = !quilt.packed<64x32, precision<f32>>
!wu = !quilt.packed<64x128, precision<bf16>>
!wd = !quilt.packed<128x64, precision<bf16>>

// ALL-LABEL: func.func @epilogue
// ALL: kind = "epilogue"
// NOEPI-LABEL: func.func @epilogue
// NOEPI-NOT: kind = "epilogue"
// NOEPI: kind = "elementwise"
// NOPRO-LABEL: func.func @epilogue
// NOPRO: kind = "epilogue"
func.func @epilogue(%x: tensor<16x64xf32>, %w: !wf, %r: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %l = quilt.linear %x, %w : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %g = quilt.gelu %l : tensor<16x32xf32>
  %a = quilt.add %g, %r : tensor<16x32xf32>
  return %a : tensor<16x32xf32>
}

// ALL-LABEL: func.func @prologue
// ALL: kind = "prologue"
// NOPRO-LABEL: func.func @prologue
// NOPRO: quilt.rmsnorm
// NOPRO-NOT: quilt.fused
// NOPRO: return
func.func @prologue(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %w: !wf) -> tensor<16x32xf32> {
  %n = quilt.rmsnorm %x, %g : tensor<16x64xf32>, tensor<64xf32>
  %l = quilt.linear %n, %w : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  return %l : tensor<16x32xf32>
}

// A norm with three users: with recompute, each linear gets its own copy
// (three prologue blocks, the original norm gone).
// ALL-LABEL: func.func @qkv
// ALL: quilt.layernorm
// ALL: kind = "horizontal"
// NOHOR-LABEL: func.func @qkv
// NOHOR-NOT: quilt.fused
// NOHOR: return
// RECOMP-LABEL: func.func @qkv
// RECOMP-NOT: kind = "horizontal"
// RECOMP-COUNT-3: quilt.layernorm
// RECOMP-NOT: quilt.layernorm
// RECOMP: return
func.func @qkv(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %wq: !wf, %wk: !wf, %wv: !wf) -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) {
  %n = quilt.layernorm %x, %g, %g : tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %q = quilt.linear %n, %wq : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %k = quilt.linear %n, %wk : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %v = quilt.linear %n, %wv : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  return %q, %k, %v : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>
}

// Without whole blocks, the up-projections are still horizontal and the
// down-projection stays outside.
// ALL-LABEL: func.func @gated_mlp
// ALL: kind = "gated-mlp"
// NOBLK-LABEL: func.func @gated_mlp
// NOBLK: kind = "horizontal"
// NOBLK-NEXT: quilt.linear
func.func @gated_mlp(%x: tensor<4x64xf32>, %wu: !wu, %wg: !wu, %wd: !wd) -> tensor<4x64xf32> {
  %u = quilt.linear %x, %wu : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %g = quilt.linear %x, %wg : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %s = quilt.silu %g : tensor<4x128xf32>
  %h = quilt.mul %s, %u : tensor<4x128xf32>
  %d = quilt.linear %h, %wd : tensor<4x128xf32>, !wd -> tensor<4x64xf32>
  return %d : tensor<4x64xf32>
}

// ALL-LABEL: func.func @attention
// ALL: kind = "attention"
// SHORT-LABEL: func.func @attention
// SHORT-NOT: quilt.fused
// SHORT: return
func.func @attention(%q: tensor<2x32x16xf32>, %k: tensor<2x32x16xf32>, %v: tensor<2x32x16xf32>) -> tensor<2x32x16xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<2x32x16xf32>, tensor<2x32x16xf32> -> tensor<2x32x32xf32>
  %p = quilt.softmax %s : tensor<2x32x32xf32>
  %o = quilt.matmul %p, %v : tensor<2x32x32xf32>, tensor<2x32x16xf32> -> tensor<2x32x16xf32>
  return %o : tensor<2x32x16xf32>
}

// The add has a user outside: with recompute it is cloned into the block
// and stays for that user.
// ALL-LABEL: func.func @chain_shared
// ALL: %[[A:.+]] = quilt.add
// ALL-NEXT: quilt.fused (%{{.+}} = %[[A]])
// NOELT-LABEL: func.func @chain_shared
// NOELT-NOT: quilt.fused
// NOELT: return
// RECOMP-LABEL: func.func @chain_shared
// RECOMP: %[[A:.+]] = quilt.add
// RECOMP-NEXT: quilt.fused
// RECOMP-NEXT: quilt.add
// RECOMP-NEXT: quilt.relu
// RECOMP-NEXT: quilt.silu
// RECOMP: kind = "elementwise"
// RECOMP-NEXT: return %{{.+}}, %[[A]]
func.func @chain_shared(%x: tensor<7x13xf32>, %y: tensor<7x13xf32>) -> (tensor<7x13xf32>, tensor<7x13xf32>) {
  %a = quilt.add %x, %y : tensor<7x13xf32>
  %r = quilt.relu %a : tensor<7x13xf32>
  %s = quilt.silu %r : tensor<7x13xf32>
  return %s, %a : tensor<7x13xf32>, tensor<7x13xf32>
}
