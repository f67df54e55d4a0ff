// Malformed and ill-typed IR never crashes quilt-opt: every mutant of the
// dialect's test files either parses or is rejected with a diagnostic
// (exit 1), through the parser, the verifiers and the lowerings (reference
// and CPU pipelines).

// RUN: %python %S/mutate.py %S/../Dialect/Quilt/ops.mlir --seed 1 --count 40 \
// RUN:   -- -split-input-file | FileCheck %s
// RUN: %python %S/mutate.py %S/../Dialect/Quilt/invalid.mlir --seed 2 --count 40 \
// RUN:   -- -split-input-file --convert-quilt-to-linalg | FileCheck %s
// RUN: %python %S/mutate.py %S/../Conversion/QuiltToLinalg/pack.mlir --seed 3 --count 30 \
// RUN:   -- -split-input-file --quilt-reference-pipeline | FileCheck %s
// RUN: %python %S/mutate.py %S/../Conversion/QuiltToCPU/linear.mlir --seed 4 --count 30 \
// RUN:   -- -split-input-file "--quilt-cpu-pipeline=threads=2" | FileCheck %s
// RUN: %python %S/mutate.py %S/../Conversion/QuiltToCPU/elementwise-and-norms.mlir --seed 5 \
// RUN:   --count 30 -- -split-input-file --quilt-cpu-pipeline | FileCheck %s

// CHECK: no crash
