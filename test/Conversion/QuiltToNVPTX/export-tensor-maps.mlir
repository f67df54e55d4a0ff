// RUN: rm -rf %t && quilt-opt %s --split-input-file --quilt-export-nvptx=output-dir=%t -verify-diagnostics -o /dev/null
// RUN: FileCheck %s < %t/maps.json

// quilt-export-nvptx turns the buffers a launch's quilt.tensor_maps names
// into manifest buffers of kind "tensor_map" that quilt-cuda-run encodes
// (convert-quilt-to-nvptx{mma=wgmma tma=1} writes the attribute), and
// refuses an attribute it cannot follow.

// CHECK: "box": [
// CHECK-NEXT: 64,
// CHECK-NEXT: 32
// CHECK-NEXT: ],
// CHECK-NEXT: "bytes": 128,
// CHECK-NEXT: "dims": [
// CHECK-NEXT: 64,
// CHECK-NEXT: 96
// CHECK-NEXT: ],
// CHECK-NEXT: "dtype": "bf16",
// CHECK-NEXT: "kind": "tensor_map",
// CHECK-NEXT: "name": "tmp0",
// CHECK-NEXT: "of": "arg0",
// CHECK-NEXT: "swizzle": 128
// CHECK: "args": [
// CHECK-NEXT: "tmp0",
// CHECK-NEXT: "arg0",
// CHECK-NEXT: "res0"
module attributes {gpu.container_module} {
  gpu.binary @quilt_kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, assembly = ".version 8.3\n.target sm_90a\n.address_size 64\n.visible .entry k(.param .u64 m, .param .u64 x, .param .u64 y) { ret; }\n">]
  func.func @maps(%x: memref<96x64xbf16>, %y: memref<96x64xbf16>) attributes {quilt.gpu_results = 1 : i64} {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : i32
    %map = gpu.alloc () : memref<128xi8>
    gpu.launch_func @quilt_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) dynamic_shared_memory_size %c0 args(%map : memref<128xi8>, %x : memref<96x64xbf16>, %y : memref<96x64xbf16>) {quilt.tensor_maps = [{argument = 0 : i64, source = 1 : i64, element = bf16, dims = array<i64: 64, 96>, box = array<i64: 64, 32>, swizzle = 128 : i64}]}
    return
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.binary @quilt_kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, assembly = ".version 8.3\n.target sm_90a\n.address_size 64\n.visible .entry k(.param .u64 m, .param .u64 y) { ret; }\n">]
  func.func @bad_source(%y: memref<96x64xbf16>) attributes {quilt.gpu_results = 1 : i64} {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : i32
    %map = gpu.alloc () : memref<128xi8>
    // expected-error @+1 {{quilt-export-nvptx: malformed quilt.tensor_maps entry}}
    gpu.launch_func @quilt_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) dynamic_shared_memory_size %c0 args(%map : memref<128xi8>, %y : memref<96x64xbf16>) {quilt.tensor_maps = [{argument = 0 : i64, source = 3 : i64, element = bf16, dims = array<i64: 64, 96>, box = array<i64: 64, 32>, swizzle = 128 : i64}]}
    return
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.binary @quilt_kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, assembly = ".version 8.3\n.target sm_90a\n.address_size 64\n.visible .entry k(.param .u64 x, .param .u64 y) { ret; }\n">]
  func.func @not_alloc(%x: memref<96x64xbf16>, %y: memref<96x64xbf16>) attributes {quilt.gpu_results = 1 : i64} {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : i32
    // expected-error @+1 {{quilt-export-nvptx: a tensor map argument is not a gpu.alloc of the entry}}
    gpu.launch_func @quilt_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) dynamic_shared_memory_size %c0 args(%x : memref<96x64xbf16>, %y : memref<96x64xbf16>) {quilt.tensor_maps = [{argument = 0 : i64, source = 1 : i64, element = bf16, dims = array<i64: 64, 96>, box = array<i64: 64, 32>, swizzle = 128 : i64}]}
    return
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.binary @quilt_kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, assembly = ".version 8.3\n.target sm_90a\n.address_size 64\n.visible .entry k(.param .u64 m, .param .u64 y) { ret; }\n">]
  func.func @negative_source(%y: memref<96x64xbf16>) attributes {quilt.gpu_results = 1 : i64} {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : i32
    %map = gpu.alloc () : memref<128xi8>
    // expected-error @+1 {{quilt-export-nvptx: malformed quilt.tensor_maps entry}}
    gpu.launch_func @quilt_kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) dynamic_shared_memory_size %c0 args(%map : memref<128xi8>, %y : memref<96x64xbf16>) {quilt.tensor_maps = [{argument = 0 : i64, source = -1 : i64, element = bf16, dims = array<i64: 64, 96>, box = array<i64: 64, 32>, swizzle = 128 : i64}]}
    return
  }
}
