// Bad pass options and a misplaced export are clear errors, not crashes.
// RUN: not quilt-opt %s --convert-quilt-to-nvptx=chip=sm_75 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not quilt-opt %s --convert-quilt-to-nvptx=chip=gfx90a 2>&1 | FileCheck %s --check-prefix=CHIP-NAME
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=tiles=128x0x32" 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=warps=2x2x2" 2>&1 | FileCheck %s --check-prefix=WARPS
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=tiles=80x128x32 warps=2x2" 2>&1 | FileCheck %s --check-prefix=TILING
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=tiles=128x128x48" 2>&1 | FileCheck %s --check-prefix=BLOCK-K
// RUN: rm -rf %t && not quilt-opt %s --quilt-export-nvptx=output-dir=%t 2>&1 | FileCheck %s --check-prefix=EXPORT
// RUN: rm -rf %t && not quilt-opt %s "--quilt-nvptx-pipeline=output-dir=%t ptxas=/bin/false" 2>&1 | FileCheck %s --check-prefix=PTXAS
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wmma" 2>&1 | FileCheck %s --check-prefix=MMA
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=chip=sm_90 mma=wgmma" 2>&1 | FileCheck %s --check-prefix=WGMMA-CHIP
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=128x128x32" 2>&1 | FileCheck %s --check-prefix=WGMMA-K
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=128x128x64 warps=2x2" 2>&1 | FileCheck %s --check-prefix=WGMMA-WARPS
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=256x256x64 stages=3" 2>&1 | FileCheck %s --check-prefix=WGMMA-REGS
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=wgmma-in-flight=1" 2>&1 | FileCheck %s --check-prefix=IN-FLIGHT-MMA
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma wgmma-in-flight=1 stages=2" 2>&1 | FileCheck %s --check-prefix=IN-FLIGHT-STAGES
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma wgmma-in-flight=2" 2>&1 | FileCheck %s --check-prefix=IN-FLIGHT-STAGES
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=tma=1" 2>&1 | FileCheck %s --check-prefix=TMA-MMA
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tiles=512x64x64 stages=2" 2>&1 | FileCheck %s --check-prefix=TMA-BOX
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma-release=mbarrier" 2>&1 | FileCheck %s --check-prefix=RELEASE-TMA
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=fence" 2>&1 | FileCheck %s --check-prefix=RELEASE-NAME
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-producer=warpgroup" 2>&1 | FileCheck %s --check-prefix=PRODUCER-RELEASE
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier persistent-ctas=132" 2>&1 | FileCheck %s --check-prefix=PERSISTENT-PRODUCER
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier tma-producer=warp" 2>&1 | FileCheck %s --check-prefix=PRODUCER-NAME
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 tma-release=mbarrier cluster=3" 2>&1 | FileCheck %s --check-prefix=CLUSTER-SIZE
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tma=1 cluster=2" 2>&1 | FileCheck %s --check-prefix=CLUSTER-RELEASE
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=int4-load=tma" 2>&1 | FileCheck %s --check-prefix=INT4-LOAD
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=chip=sm_89 int4-load=bulk" 2>&1 | FileCheck %s --check-prefix=INT4-BULK-CHIP

// CHIP: chip 'sm_75' is not sm_80 or newer
// CHIP-NAME: chip 'gfx90a' is not sm_80 or newer
// TILES: tiles '128x0x32' is not `auto` or MxNxK with positive integers
// WARPS: warps '2x2x2' is not `auto` or MxN
// TILING: tiling 80x128x32 with 2x2 warps: each warp's tile must be a multiple of 16 x 16
// BLOCK-K: block-k must be 32 or 64
// PTXAS: quilt-export-nvptx: /bin/false failed (1)
// MMA: mma 'wmma' is not `sync` or `wgmma`
// WGMMA-CHIP: mma=wgmma needs chip=sm_90a, got 'sm_90'
// WGMMA-K: wgmma tiling 128x128x32 with 8x1 warps: wgmma tiles are MxNx64 (int8: MxNx128): 128-byte rows, the 128-byte swizzle
// WGMMA-WARPS: wgmma tiling 128x128x64 with 2x2 warps: wgmma needs M a multiple of 64 and one warpgroup (4 warps) per 64 rows: warps (4 * M / 64)x1
// WGMMA-REGS: wgmma tiling 256x256x64 with 16x1 warps: a thread's N / 2 accumulators and 32 more registers must fit in the 128 it can have
// IN-FLIGHT-MMA: wgmma-in-flight needs mma=wgmma
// IN-FLIGHT-STAGES: wgmma keeps 0 or 1 batches in flight, with at least 2 + that many stages
// TMA-MMA: convert-quilt-to-nvptx: tma needs mma=wgmma (the TMA stages feed wgmma's descriptors)
// RELEASE-TMA: convert-quilt-to-nvptx: tma-release=mbarrier needs tma=1
// PRODUCER-RELEASE: convert-quilt-to-nvptx: tma-producer=warpgroup needs tma-release=mbarrier
// PERSISTENT-PRODUCER: convert-quilt-to-nvptx: persistent-ctas needs tma-producer=warpgroup
// CLUSTER-SIZE: convert-quilt-to-nvptx: cluster 3 is not 1, 2 or 4
// CLUSTER-RELEASE: convert-quilt-to-nvptx: cluster needs tma-release=mbarrier
// INT4-LOAD: convert-quilt-to-nvptx: int4-load 'tma' is not `direct` or `bulk`
// INT4-BULK-CHIP: convert-quilt-to-nvptx: int4-load=bulk needs sm_90 or newer, got 'sm_89'
// PRODUCER-NAME: convert-quilt-to-nvptx: tma-producer 'warp' is not `thread` or `warpgroup`
// RELEASE-NAME: convert-quilt-to-nvptx: tma-release 'fence' is not `barrier` or `mbarrier`
// TMA-BOX: wgmma tiling 512x64x64 with 32x1 warps: TMA loads at most 256 rows per box: M up to 256
// EXPORT: quilt-export-nvptx: no gpu.binary @quilt_kernels (run gpu-module-to-binary{format=isa} first)

func.func @lin(%x: tensor<128x256xbf16>, %w: !quilt.packed<256x512, precision<bf16>>) -> tensor<128x512xbf16> {
  %y = quilt.linear %x, %w : tensor<128x256xbf16>, !quilt.packed<256x512, precision<bf16>> -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}
