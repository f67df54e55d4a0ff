// Every failure is one line on stderr, prefixed `quilt-run: error:`, with a
// non-zero exit code.

// RUN: rm -rf %t && mkdir -p %t
// RUN: not quilt-run %t/missing.mlir --pipeline reference 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOFILE
// NOFILE: quilt-run: error: cannot open '{{.*}}missing.mlir': No such file or directory

// RUN: echo 'func.func @main( {' > %t/bad.mlir
// RUN: not quilt-run %t/bad.mlir --pipeline reference 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PARSE
// PARSE: quilt-run: error: cannot parse '{{.*}}bad.mlir': {{.*}}bad.mlir:1:17: expected non-function type

// RUN: not quilt-run %s --cpu-features=+avx2,+no-such-feature 2>&1 \
// RUN:   | FileCheck %s --check-prefix=FEATURE
// FEATURE: quilt-run: error: --cpu-features: the host CPU has no 'no-such-feature'

// RUN: not quilt-run %s --entry nope --pipeline reference 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ENTRY
// ENTRY: quilt-run: error: no entry 'nope' in the module (public functions: dynamic, main, returns_packed)

// RUN: %python %S/Inputs/npy.py write %t/x33.npy '<f4' 3x3 '1'
// RUN: not quilt-run %s --pipeline reference --input 0=%t/x33.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE
// SHAPE: quilt-run: error: entry 'main' argument #0: expected tensor<2x4xf32>, given f32 array of shape 3x3

// RUN: %python %S/Inputs/npy.py write %t/i24.npy '<i4' 2x4 '1'
// RUN: not quilt-run %s --pipeline reference --input 0=%t/i24.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=KIND
// KIND: quilt-run: error: entry 'main' argument #0: expected tensor<2x4xf32>, given i32 array of shape 2x4

// RUN: %python %S/Inputs/npy.py write %t/x24.npy '<f4' 2x4 '1'
// RUN: not quilt-run %s --pipeline reference --input 1=%t/x24.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PACKED
// PACKED: quilt-run: error: entry 'main' argument #1: expected !quilt.packed<4x3, precision<i8, channel>> (given as its dense f32 4x3 weight), given f32 array of shape 2x4

// RUN: not quilt-run %s --pipeline reference --input 2=%t/x24.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=INDEX
// INDEX: quilt-run: error: --input '2={{.*}}x24.npy': entry 'main' has 2 argument(s)

// RUN: not quilt-run %s --pipeline reference --input %t/x24.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SPEC
// SPEC: quilt-run: error: --input '{{.*}}x24.npy': expected I=FILE.npy

// RUN: not quilt-run %s --pipeline reference --input 0=%t/none.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNREADABLE
// UNREADABLE: quilt-run: error: '{{.*}}none.npy': cannot read: No such file or directory

// RUN: %python %S/Inputs/npy.py write %t/f64.npy '<f8' 2x4 '1'
// RUN: not quilt-run %s --pipeline reference --input 0=%t/f64.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DTYPE
// DTYPE: quilt-run: error: '{{.*}}f64.npy': unsupported dtype '<f8' (supported: '<f4', '<f2', '|i1', '<i4', '<i8', little-endian)

// RUN: %python %S/Inputs/npy.py write %t/fortran.npy '<f4' 2x4 '1' --fortran
// RUN: not quilt-run %s --pipeline reference --input 0=%t/fortran.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=FORTRAN
// FORTRAN: quilt-run: error: '{{.*}}fortran.npy': fortran_order arrays are not supported

// RUN: %python %S/Inputs/npy.py write %t/short.npy '<f4' 2x4 '1' --truncate 5
// RUN: not quilt-run %s --pipeline reference --input 0=%t/short.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: quilt-run: error: '{{.*}}short.npy': truncated data: f32 array of shape 2x4 needs 32 bytes, the file has 27

// RUN: %python %S/Inputs/npy.py write %t/magic.npy '<f4' 2x4 '1' --bad-magic
// RUN: not quilt-run %s --pipeline reference --input 0=%t/magic.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MAGIC
// MAGIC: quilt-run: error: '{{.*}}magic.npy': not a .npy file (bad magic)

// RUN: not quilt-run %s --entry dynamic --pipeline reference 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: quilt-run: error: entry 'dynamic': argument #0 has dynamic shape tensor<?x4xf32>; only static shapes are supported

// RUN: not quilt-run %s --entry returns_packed --pipeline reference 2>&1 \
// RUN:   | FileCheck %s --check-prefix=RESULT
// RESULT: quilt-run: error: entry 'returns_packed': result #0 is a packed weight (!quilt.packed<4x3, precision<i8, channel>>); return tensors instead

// --check only fails with --tolerance, when max_rel_err exceeds it.
// RUN: quilt-run %s --pipeline reference --check --tolerance 0 | FileCheck %s --check-prefix=TOL
// TOL: max_abs_err 0, max_rel_err 0
// RUN: not quilt-run %s --pipeline reference --check --tolerance -1 2>&1 \
// RUN:   | FileCheck %s --check-prefix=EXCEEDED
// EXCEEDED: quilt-run: error: max_rel_err 0 exceeds --tolerance -1
// RUN: not quilt-run %s --pipeline reference --tolerance 1 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOCHECK
// NOCHECK: quilt-run: error: --tolerance needs --check

!w = !quilt.packed<4x3, precision<i8, channel>>
func.func @main(%x: tensor<2x4xf32>, %w: !w) -> tensor<2x3xf32> {
  %y = quilt.linear %x, %w : tensor<2x4xf32>, !w -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

func.func @returns_packed(%w: tensor<4x3xf32>) -> !w {
  %p = quilt.pack %w : tensor<4x3xf32> -> !w
  return %p : !w
}

// Private helpers are not entries.
func.func private @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
