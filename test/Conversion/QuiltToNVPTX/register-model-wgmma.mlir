// The register model vets wgmma tilings too. Their warps follow the tile,
// so a tile forced whole that the model predicts to spill is a warning
// (256x192 on 16 warps: ptxas gives 128 registers and spills 96 bytes),
// and a tile left to `auto` that it predicts to spill narrows until it is
// predicted to fit. No real wgmma tile of `auto` spills: a model trained on
// the committed wgmma kernels with every 256-wide one marked as spilling
// shows the narrowing.
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma" | FileCheck %s --check-prefix=AUTO
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma tiles=256x192x64 stages=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORCED
// RUN: %python -c "import json, sys; rows = [json.loads(l) for l in open(sys.argv[1]) if '\"wgmma\"' in l]; [r.update(stack_bytes=400, spill_store_bytes=400) for r in rows if r['config']['block'][1] == 256]; print('\n'.join(json.dumps(r) for r in rows))" %quilt_src/models/nvptx/ptxas-dataset.jsonl > %t.jsonl
// RUN: quilt-tune train-registers --data %t.jsonl --folds 2 --rounds 60 -o %t.json > /dev/null
// RUN: quilt-opt %s "--convert-quilt-to-nvptx=mma=wgmma register-model=%t.json" | FileCheck %s --check-prefix=NARROW

// AUTO: quilt.kernel_config = "{{.*}}\22block\22:[128,256,64],{{.*}}\22family\22:\22wgmma\22,{{.*}}\22warps\22:[8,1]}"{{.*}}quilt.predicted_registers = {{[0-9]+}} : i64

// FORCED: warning: NVPTX backend: the register model predicts {{[0-9]+}} registers per thread for this tiling, over the 128 a thread can have: it will spill (tiles=auto narrows the tile until it fits)

// NARROW: quilt.kernel_config = "{{.*}}\22block\22:[128,192,64],{{.*}}\22family\22:\22wgmma\22,{{.*}}\22warps\22:[8,1]}"{{.*}}quilt.predicted_registers = {{[0-9]+}} : i64

func.func @lin(%x: tensor<256x512xbf16>, %w: !quilt.packed<512x1024, precision<bf16>>) -> tensor<256x1024xbf16> {
  %y = quilt.linear %x, %w : tensor<256x512xbf16>, !quilt.packed<512x1024, precision<bf16>> -> tensor<256x1024xbf16>
  return %y : tensor<256x1024xbf16>
}
