// RUN: quilt-opt %s --split-input-file --verify-diagnostics \
// RUN:   --quilt-inline-intrinsic-calls | FileCheck %s

// Calls to a stand-in become llvm.call_intrinsic of the intrinsic it names;
// the unused declaration goes away. Other calls are left alone.
// CHECK-LABEL: func.func @dot(
// CHECK:         %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%arg0, %arg1, %arg2) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK:         call @other(%[[D]])
// CHECK-NOT:   quilt_x86_vpdpbusd_512
func.func private @quilt_x86_vpdpbusd_512(vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
    attributes {quilt.llvm_intrinsic = "llvm.x86.avx512.vpdpbusd.512"}
func.func private @other(vector<16xi32>) -> vector<16xi32>
func.func @dot(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  %d = func.call @quilt_x86_vpdpbusd_512(%acc, %a, %b) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
  %e = func.call @other(%d) : (vector<16xi32>) -> vector<16xi32>
  return %e : vector<16xi32>
}

// -----

// A stand-in must be a declaration.
func.func private @bad(%x: i32) -> i32 attributes {quilt.llvm_intrinsic = "llvm.x86.foo"} {
  return %x : i32
}
func.func @use(%x: i32) -> i32 {
  // expected-error @below {{stand-in 'bad' needs a string quilt.llvm_intrinsic and no body}}
  %y = func.call @bad(%x) : (i32) -> i32
  return %y : i32
}
