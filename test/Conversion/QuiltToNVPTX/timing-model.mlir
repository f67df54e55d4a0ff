// The GPU timing model (quilt-tune train-timing; its training and the
// tiling it picks are tested in test/Tools/quilt-tune/train-timing.test)
// is optional: `auto` uses the committed model of the chip where there is
// one and the per-shape tables otherwise; a file given by path must load.
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma timing-model=none" | FileCheck %s --check-prefix=NONE
// RUN: env QUILT_MODELS_DIR=%t.no-models quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma" | FileCheck %s --check-prefix=NONE
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: echo '{"kind": "nvptx-timing", "schema_version": 999}' > %t.future.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.future.json" 2>&1 | FileCheck %s --check-prefix=SCHEMA
// RUN: echo '{"kind": "nvptx-timing", "schema_version": 1, "sm": 90, "domain": {"wgmma": {}}, "features": ["sm"], "booster": ""}' > %t.sm90.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=chip=sm_80 timing-model=%t.sm90.json" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.sm90.json" 2>&1 | FileCheck %s --check-prefix=FEATURES
// RUN: echo '{"kind": "nvptx-timing", "schema_version": 1, "sm": 90, "domain": {"wgmma": 3}, "features": [], "booster": ""}' > %t.domain.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.domain.json" 2>&1 | FileCheck %s --check-prefix=DOMAIN
// RUN: echo '{"kind": "nvptx-timing", "schema_version": 1, "sm": 90, "domain": {"wgmma": {"stages": 3}}, "features": [], "booster": ""}' > %t.knob.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.knob.json" 2>&1 | FileCheck %s --check-prefix=KNOB
// RUN: echo '{"kind": "nvptx-timing", "schema_version": 1, "sm": 90}' > %t.corrupt.json
// RUN: not quilt-opt %s "--convert-quilt-to-nvptx=timing-model=%t.corrupt.json" 2>&1 | FileCheck %s --check-prefix=CORRUPT

// NONE: quilt.kernel_config = "{{.*}}\22block\22:[64,128,64]{{.*}}\22stages\22:4,{{.*}}"
// NONE-NOT: quilt.predicted_us

// MISSING: convert-quilt-to-nvptx: timing model: {{.*}}missing.json: {{[Nn]}}o such file or directory
// SCHEMA: convert-quilt-to-nvptx: timing model: {{.*}}future.json: schema version 999, this build reads 1
// CHIP: convert-quilt-to-nvptx: timing model: {{.*}}sm90.json: timed sm_90 kernels, not sm_80
// FEATURES: convert-quilt-to-nvptx: timing model: {{.*}}sm90.json: the model's feature list differs from this build's timing features
// DOMAIN: convert-quilt-to-nvptx: timing model: {{.*}}domain.json: corrupt timing model: domain.wgmma is not an object
// KNOB: convert-quilt-to-nvptx: timing model: {{.*}}knob.json: corrupt timing model: domain.wgmma.stages is not an array
// CORRUPT: convert-quilt-to-nvptx: timing model: {{.*}}corrupt.json: corrupt timing model: needs sm, domain, features and booster

func.func @linear(%x: tensor<64x2048xbf16>, %w: !quilt.packed<2048x512, precision<bf16>>) -> tensor<64x512xbf16> {
  %y = quilt.linear %x, %w : tensor<64x2048xbf16>, !quilt.packed<2048x512, precision<bf16>> -> tensor<64x512xbf16>
  return %y : tensor<64x512xbf16>
}
