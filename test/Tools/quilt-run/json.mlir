// RUN: quilt-run %s --pipeline reference --json | FileCheck %s --check-prefix=PLAIN
// RUN: quilt-run %s --pipeline reference --json --bench 3 --warmup 1 --check \
// RUN:   | FileCheck %s --check-prefix=FULL
// RUN: quilt-run %s --pipeline reference --json --bench 3 --check \
// RUN:   | %python -c "import json, sys; print(sorted(json.load(sys.stdin)))" \
// RUN:   | FileCheck %s --check-prefix=KEYS
// RUN: quilt-run %s --entry no_compute --pipeline reference --json --bench 2 \
// RUN:   | FileCheck %s --check-prefix=NOCOST
// RUN: quilt-run %s --pipeline reference --bench 2 --check \
// RUN:   | FileCheck %s --check-prefix=TEXT
// RUN: quilt-run %s --entry no_compute --pipeline reference --bench 2 \
// RUN:   | FileCheck %s --check-prefix=TEXT-NA

// --json prints exactly one object on one line; figures that were not
// measured are left out (llvm::json sorts the keys).
// PLAIN: {"entry":"main","pipeline":"reference","results":[{"type":"tensor<4x16xf32>"}],"threads":1}{{$}}
// PLAIN-NOT: {

// FULL: {"entry":"main",
// FULL-SAME: "gbps":{{[0-9.e+-]+}},"gflops":{{[0-9.e+-]+}},
// FULL-SAME: "max_abs_err":0,"max_ms":{{[0-9.e+-]+}},"max_rel_err":0,
// FULL-SAME: "median_ms":{{[0-9.e+-]+}},"min_ms":{{[0-9.e+-]+}},
// FULL-SAME: "pipeline":"reference",
// FULL-SAME: "threads":1}{{$}}
// FULL-NOT: {

// The output is one valid JSON object with exactly these keys.
// KEYS: ['entry', 'gbps', 'gflops', 'max_abs_err', 'max_ms', 'max_rel_err', 'median_ms', 'min_ms', 'pipeline', 'results', 'threads']

// No linear or matmul: no throughput figures.
// NOCOST: {"entry":"no_compute","max_ms":{{[0-9.e+-]+}},"median_ms":{{[0-9.e+-]+}},"min_ms":{{[0-9.e+-]+}},"pipeline":"reference",
// NOCOST-NOT: gflops

// TEXT: time: median {{.*}} ms, min {{.*}} ms, max {{.*}} ms over 2 run(s), 1 warm-up
// TEXT-NEXT: throughput: {{[0-9.e+-]+}} GFLOP/s, {{[0-9.e+-]+}} GB/s
// TEXT-NEXT: check vs reference: max_abs_err 0, max_rel_err 0
// TEXT-NA: throughput: n/a

func.func @main(%x: tensor<4x32xf32>, %w: tensor<32x16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %y = quilt.linear %x, %w bias %b : tensor<4x32xf32>, tensor<32x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %r = quilt.relu %y : tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

func.func @no_compute(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = arith.mulf %x, %x : tensor<8xf32>
  return %y : tensor<8xf32>
}
