// The register model (models/nvptx/register-model.json, fitted to ptxas -v
// reports) vets each kernel's tiling. A forced 128x256 CTA tile on the
// default 2x2 warps would hold 256 accumulators per thread: with warps left
// to `auto`, the model picks the fewest warps it predicts to fit (2x4; ptxas
// confirms it in test/Pipelines/nvptx-ptxas.mlir); forced whole, it is a
// warning. The default tiling needs no vetting and is the same without the
// model.
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=tiles=128x256x32" | FileCheck %s --check-prefix=PICK
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=tiles=128x256x32 warps=2x2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORCED
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=tiles=128x256x32 register-model=none" | FileCheck %s --check-prefix=NONE
// RUN: quilt-opt %s --convert-quilt-to-nvptx | FileCheck %s --check-prefix=DEFAULT
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=register-model=none" | FileCheck %s --check-prefix=DEFAULT
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=register-model=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: echo '{"kind": "nvptx-registers", "schema_version": 999}' > %t.future.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=register-model=%t.future.json" 2>&1 | FileCheck %s --check-prefix=SCHEMA

// PICK: gpu.launch_func @quilt_kernels::@fused_linear_0 blocks in ({{.*}}) threads in (%[[T:.*]], {{.*}}) {{.*}}quilt.kernel_config = "{{.*}}\22block\22:[128,256,32]{{.*}}\22warps\22:[2,4]}"{{.*}}quilt.predicted_registers = {{[0-9]+}} : i64

// FORCED: warning: NVPTX backend: the register model predicts {{[0-9]+}} registers per thread for this tiling, over the 255 a thread can have: it will spill (warps=auto picks a warp grid that fits)

// NONE: quilt.kernel_config = "{{.*}}\22warps\22:[2,2]}"
// NONE-NOT: quilt.predicted_registers

// DEFAULT: quilt.kernel_config = "{\22activation\22:3,\22ahead\22:0,\22bias\22:true,\22block\22:[128,128,32],\22ctas\22:16,\22family\22:\22dense\22,\22mbarrier_release\22:false,\22operand_bits\22:16,\22output_bits\22:16,\22problem\22:[256,1024,512],\22producer_warpgroup\22:false,\22residual\22:true,\22rows\22:0,\22shared_bytes\22:65536,\22sm\22:90,\22split_k\22:1,\22stages\22:4,\22tiles_per_warp\22:0,\22tma\22:false,\22warps\22:[2,2]}"

// MISSING: convert-quilt-to-nvptx: register model: {{.*}}missing.json: {{[Nn]}}o such file or directory
// SCHEMA: convert-quilt-to-nvptx: register model: {{.*}}future.json: schema version 999, this build reads 2

func.func @fused(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x1024, precision<bf16>>, %b: tensor<1024xf32>, %r: tensor<256x1024xbf16>) -> tensor<256x1024xbf16> {
  %y = quilt.linear %x, %w bias %b : tensor<256x512xbf16>, !quilt.packed<512x1024, precision<bf16>>, tensor<1024xf32> -> tensor<256x1024xbf16>
  %g = quilt.gelu %y : tensor<256x1024xbf16>
  %s = quilt.add %g, %r : tensor<256x1024xbf16>
  return %s : tensor<256x1024xbf16>
}
