// A learned model that cannot be used gives a warning and the analytical
// model, never a failure.
// RUN: quilt-opt %s --quilt-estimate-cost="model=%t.missing.json target=%S/Inputs/estimate-cost-target.json" 2>&1 | FileCheck %s --check-prefixes=MISSING,ANALYTICAL
// RUN: echo '{"schema_version": 1, "features": [' > %t.corrupt.json
// RUN: quilt-opt %s --quilt-estimate-cost="model=%t.corrupt.json target=%S/Inputs/estimate-cost-target.json" 2>&1 | FileCheck %s --check-prefixes=CORRUPT,ANALYTICAL
// RUN: quilt-opt %s --quilt-estimate-cost="model=%S/Inputs/estimate-cost-schema-99.json target=%S/Inputs/estimate-cost-target.json" 2>&1 | FileCheck %s --check-prefixes=SCHEMA,ANALYTICAL
// RUN: quilt-opt %s --quilt-estimate-cost="model=%S/Inputs/estimate-cost-foreign-model.json target=%S/Inputs/estimate-cost-target.json" 2>&1 | FileCheck %s --check-prefixes=FINGERPRINT,ANALYTICAL

// MISSING: warning: cost model: {{.*}}missing.json: No such file or directory; falling back to the analytical model
// CORRUPT: warning: cost model: {{.*}}corrupt.json: corrupt model file: {{.*}}; falling back to the analytical model
// SCHEMA: warning: cost model: {{.*}}schema-99.json: schema version 99, this build reads 1; falling back to the analytical model
// FINGERPRINT: warning: cost model: {{.*}}foreign-model.json: target fingerprint 'not-this-cpu:avx512f' does not match this machine's '{{.*}}'; falling back to the analytical model
// ANALYTICAL: quilt.linear {{.*}}quilt.cost_model = "analytical", quilt.predicted_time_us = 85.886
func.func @dense_f32(%x: tensor<16x512xf32>, %w: tensor<512x512xf32>) -> tensor<16x512xf32> {
  %y = quilt.linear %x, %w : tensor<16x512xf32>, tensor<512x512xf32> -> tensor<16x512xf32>
  return %y : tensor<16x512xf32>
}
