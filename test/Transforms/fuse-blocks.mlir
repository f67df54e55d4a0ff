// RUN: quilt-opt %s --quilt-fuse-blocks | FileCheck %s
// RUN: quilt-opt %s --quilt-fuse-blocks --quilt-unfuse | FileCheck %s --check-prefix=UNFUSED

// Each fusion kind, and each legality rule with the cases that must not
// fuse. Unfusing the result gives back the ops (no block left).
// UNFUSED-NOT: quilt.fused
!w = !quilt.packed<64x32, precision<i8, channel>>
!wf = !quilt.packed<64x32, precision<f32>>
!wu = !quilt.packed<64x128, precision<bf16>>
!wd = !quilt.packed<128x64, precision<bf16>>

// linear + bias + gelu: the epilogue joins its producer.
// CHECK-LABEL: func.func @epilogue
// CHECK: %[[F:.+]] = quilt.fused
// CHECK-NEXT: %[[L:.+]] = quilt.linear
// CHECK-SAME: bias
// CHECK-NEXT: %[[G:.+]] = quilt.gelu %[[L]]
// CHECK-NEXT: quilt.yield %[[G]]
// CHECK-NEXT: } attributes {kind = "epilogue"}
// CHECK-NEXT: return %[[F]]
func.func @epilogue(%x: tensor<16x64xf32>, %w: !w, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %l = quilt.linear %x, %w bias %b : tensor<16x64xf32>, !w, tensor<32xf32> -> tensor<16x32xf32>
  %g = quilt.gelu %l : tensor<16x32xf32>
  return %g : tensor<16x32xf32>
}

// Quantizing the output (to the precision the next layer reads) is one more
// epilogue op.
// CHECK-LABEL: func.func @epilogue_quantize
// CHECK: %[[F:.+]] = quilt.fused
// CHECK-NEXT: %[[L:.+]] = quilt.linear
// CHECK-NEXT: %[[G:.+]] = quilt.relu %[[L]]
// CHECK-NEXT: %[[Q:.+]] = quilt.quantize %[[G]] to <i8, tensor> scale
// CHECK-NEXT: quilt.yield %[[Q]]
// CHECK-NEXT: } attributes {kind = "epilogue"}
func.func @epilogue_quantize(%x: tensor<16x64xf32>, %w: !w, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %l = quilt.linear %x, %w bias %b : tensor<16x64xf32>, !w, tensor<32xf32> -> tensor<16x32xf32>
  %g = quilt.relu %l : tensor<16x32xf32>
  %q = quilt.quantize %g to <i8, tensor> scale 0.02 : tensor<16x32xf32>
  return %q : tensor<16x32xf32>
}

// A residual add (an outside tensor) continues the chain.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: %[[R:[^:]+]]: tensor<16x32xf32>)
// CHECK: quilt.fused ({{.*}}%[[RA:.+]] = %[[R]])
// CHECK: quilt.linear
// CHECK-NEXT: %[[S:.+]] = quilt.silu
// CHECK-NEXT: %[[A:.+]] = quilt.add %[[S]], %[[RA]]
// CHECK-NEXT: quilt.yield %[[A]]
// CHECK-NEXT: } attributes {kind = "epilogue"}
func.func @residual(%x: tensor<16x64xf32>, %w: !wf, %r: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %l = quilt.linear %x, %w : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %s = quilt.silu %l : tensor<16x32xf32>
  %a = quilt.add %s, %r : tensor<16x32xf32>
  return %a : tensor<16x32xf32>
}

// Must not fuse: the linear's result has a second user (recomputing a
// linear is never cheap).
// CHECK-LABEL: func.func @epilogue_two_users
// CHECK-NOT: quilt.fused
// CHECK: return
func.func @epilogue_two_users(%x: tensor<16x64xf32>, %w: !wf) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %l = quilt.linear %x, %w : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %g = quilt.relu %l : tensor<16x32xf32>
  return %g, %l : tensor<16x32xf32>, tensor<16x32xf32>
}

// rmsnorm feeding a linear, with the linear's epilogue.
// CHECK-LABEL: func.func @prologue
// CHECK: quilt.fused
// CHECK-NEXT: %[[N:.+]] = quilt.rmsnorm
// CHECK-NEXT: %[[L:.+]] = quilt.linear %[[N]]
// CHECK-NEXT: quilt.silu %[[L]]
// CHECK: } attributes {kind = "prologue"}
func.func @prologue(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %w: !wf) -> tensor<16x32xf32> {
  %n = quilt.rmsnorm %x, %g : tensor<16x64xf32>, tensor<64xf32>
  %l = quilt.linear %n, %w : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %s = quilt.silu %l : tensor<16x32xf32>
  return %s : tensor<16x32xf32>
}

// Must not fuse the layernorm (three users, recompute off); the three
// projections of its result are one horizontal block.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[N:.+]] = quilt.layernorm
// CHECK-NEXT: %[[F:.+]]:3 = quilt.fused ({{.*}} = %[[N]],
// CHECK-COUNT-3: quilt.linear
// CHECK-NEXT: quilt.yield
// CHECK-NEXT: } attributes {kind = "horizontal"}
// CHECK-NEXT: return %[[F]]#0, %[[F]]#1, %[[F]]#2
func.func @qkv(%x: tensor<16x64xf32>, %g: tensor<64xf32>, %wq: !wf, %wk: !wf, %wv: !wf, %bq: tensor<32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) {
  %n = quilt.layernorm %x, %g, %g : tensor<16x64xf32>, tensor<64xf32>, tensor<64xf32>
  %q = quilt.linear %n, %wq bias %bq : tensor<16x64xf32>, !wf, tensor<32xf32> -> tensor<16x32xf32>
  %k = quilt.linear %n, %wk : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %v = quilt.linear %n, %wv : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  return %q, %k, %v : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>
}

// Must not fuse horizontally: different `act` (the input is prepared
// differently for each).
// CHECK-LABEL: func.func @horizontal_act
// CHECK-NOT: quilt.fused
// CHECK: return
func.func @horizontal_act(%x: tensor<16x64xf32>, %w1: !w, %w2: !w) -> (tensor<16x32xf32>, tensor<16x32xf32>) {
  %a = quilt.linear %x, %w1 act <i8, channel> : tensor<16x64xf32>, !w -> tensor<16x32xf32>
  %b = quilt.linear %x, %w2 : tensor<16x64xf32>, !w -> tensor<16x32xf32>
  return %a, %b : tensor<16x32xf32>, tensor<16x32xf32>
}

// Must not fuse horizontally: the second linear's weight is the first's
// result (dependent, not siblings).
// CHECK-LABEL: func.func @horizontal_cycle
// CHECK-NOT: quilt.fused
// CHECK: return
func.func @horizontal_cycle(%x: tensor<64x64xf32>, %w: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %a = quilt.linear %x, %w : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  %b = quilt.linear %x, %a : tensor<64x64xf32>, tensor<64x64xf32> -> tensor<64x64xf32>
  return %b : tensor<64x64xf32>
}

// Must not fuse: the relu between the linears uses the first result before
// the block's position (and the first result has two users, so no epilogue).
// CHECK-LABEL: func.func @horizontal_order
// CHECK-NOT: quilt.fused
// CHECK: return
func.func @horizontal_order(%x: tensor<16x64xf32>, %w1: !wf, %w2: !wf) -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) {
  %a = quilt.linear %x, %w1 : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  %r = quilt.relu %a : tensor<16x32xf32>
  %b = quilt.linear %x, %w2 : tensor<16x64xf32>, !wf -> tensor<16x32xf32>
  return %a, %r, %b : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>
}

// The whole gated MLP: up, gate, silu, mul, down and its residual add.
// CHECK-LABEL: func.func @gated_mlp(
// CHECK: quilt.fused
// CHECK-NEXT: %[[U:.+]] = quilt.linear
// CHECK-NEXT: %[[G:.+]] = quilt.linear
// CHECK-NEXT: %[[S:.+]] = quilt.silu %[[G]]
// CHECK-NEXT: %[[H:.+]] = quilt.mul %[[U]], %[[S]]
// CHECK-NEXT: %[[D:.+]] = quilt.linear %[[H]]
// CHECK-NEXT: %[[O:.+]] = quilt.add %[[D]]
// CHECK-NEXT: quilt.yield %[[O]]
// CHECK-NEXT: } attributes {kind = "gated-mlp"}
func.func @gated_mlp(%x: tensor<4x64xf32>, %wu: !wu, %wg: !wu, %wd: !wd, %res: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %u = quilt.linear %x, %wu : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %g = quilt.linear %x, %wg : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %s = quilt.silu %g : tensor<4x128xf32>
  %h = quilt.mul %u, %s : tensor<4x128xf32>
  %d = quilt.linear %h, %wd : tensor<4x128xf32>, !wd -> tensor<4x64xf32>
  %o = quilt.add %d, %res : tensor<4x64xf32>
  return %o : tensor<4x64xf32>
}

// Must not fuse the whole block: the up-projection has another user. The
// two up-projections still share their input (horizontal, with the gate's
// silu * up epilogue), the down-projection stays outside.
// CHECK-LABEL: func.func @gated_mlp_shared_up
// CHECK: %[[F:.+]]:2 = quilt.fused
// CHECK: quilt.mul
// CHECK: } attributes {kind = "horizontal"}
// CHECK-NEXT: %[[D:.+]] = quilt.linear %[[F]]#1
// CHECK-NEXT: return %[[D]], %[[F]]#0
func.func @gated_mlp_shared_up(%x: tensor<4x64xf32>, %wu: !wu, %wg: !wu, %wd: !wd) -> (tensor<4x64xf32>, tensor<4x128xf32>) {
  %u = quilt.linear %x, %wu : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %g = quilt.linear %x, %wg : tensor<4x64xf32>, !wu -> tensor<4x128xf32>
  %s = quilt.silu %g : tensor<4x128xf32>
  %h = quilt.mul %s, %u : tensor<4x128xf32>
  %d = quilt.linear %h, %wd : tensor<4x128xf32>, !wd -> tensor<4x64xf32>
  return %d, %u : tensor<4x64xf32>, tensor<4x128xf32>
}

// Short-sequence attention: scores, scale, softmax, values.
// CHECK-LABEL: func.func @attention(
// CHECK: quilt.fused
// CHECK-NEXT: quilt.matmul {{.*}} transpose_b
// CHECK-NEXT: quilt.mul
// CHECK-NEXT: quilt.softmax
// CHECK-NEXT: quilt.matmul
// CHECK-NEXT: quilt.yield
// CHECK-NEXT: } attributes {kind = "attention"}
func.func @attention(%q: tensor<4x32x16xf32>, %k: tensor<4x32x16xf32>, %v: tensor<4x32x16xf32>, %scale: tensor<4x32x32xf32>) -> tensor<4x32x16xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<4x32x16xf32>, tensor<4x32x16xf32> -> tensor<4x32x32xf32>
  %t = quilt.mul %s, %scale : tensor<4x32x32xf32>
  %p = quilt.softmax %t : tensor<4x32x32xf32>
  %o = quilt.matmul %p, %v : tensor<4x32x32xf32>, tensor<4x32x16xf32> -> tensor<4x32x16xf32>
  return %o : tensor<4x32x16xf32>
}

// Must not fuse: 1024 keys exceed attention-max-seq (512).
// CHECK-LABEL: func.func @attention_long
// CHECK-NOT: quilt.fused
// CHECK: return
func.func @attention_long(%q: tensor<1x1024x16xf32>, %k: tensor<1x1024x16xf32>, %v: tensor<1x1024x16xf32>) -> tensor<1x1024x16xf32> {
  %s = quilt.matmul %q, %k transpose_b : tensor<1x1024x16xf32>, tensor<1x1024x16xf32> -> tensor<1x1024x1024xf32>
  %p = quilt.softmax %s : tensor<1x1024x1024xf32>
  %o = quilt.matmul %p, %v : tensor<1x1024x1024xf32>, tensor<1x1024x16xf32> -> tensor<1x1024x16xf32>
  return %o : tensor<1x1024x16xf32>
}

// An element-wise chain with a shared intermediate inside the block.
// CHECK-LABEL: func.func @chain(
// CHECK: quilt.fused
// CHECK-COUNT-5: quilt.{{add|mul|relu|silu}}
// CHECK-NEXT: quilt.yield
// CHECK-NEXT: } attributes {kind = "elementwise"}
func.func @chain(%x: tensor<7x13xf32>, %y: tensor<7x13xf32>) -> tensor<7x13xf32> {
  %a = quilt.add %x, %y : tensor<7x13xf32>
  %m = quilt.mul %a, %x : tensor<7x13xf32>
  %r = quilt.relu %m : tensor<7x13xf32>
  %s = quilt.silu %a : tensor<7x13xf32>
  %o = quilt.add %r, %s : tensor<7x13xf32>
  return %o : tensor<7x13xf32>
}

// Must not fuse the add: its result is also returned; the rest is fused.
// CHECK-LABEL: func.func @chain_shared
// CHECK: %[[A:.+]] = quilt.add
// CHECK-NEXT: %[[F:.+]] = quilt.fused (%{{.+}} = %[[A]])
// CHECK-NEXT: quilt.relu
// CHECK-NEXT: quilt.silu
// CHECK: return %[[F]], %[[A]]
func.func @chain_shared(%x: tensor<7x13xf32>, %y: tensor<7x13xf32>) -> (tensor<7x13xf32>, tensor<7x13xf32>) {
  %a = quilt.add %x, %y : tensor<7x13xf32>
  %r = quilt.relu %a : tensor<7x13xf32>
  %s = quilt.silu %r : tensor<7x13xf32>
  return %s, %a : tensor<7x13xf32>, tensor<7x13xf32>
}
