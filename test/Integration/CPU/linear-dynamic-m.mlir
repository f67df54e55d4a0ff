// RUN: quilt-opt %s "--quilt-cpu-pipeline=threads=2" | \
// RUN:   mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%mlir_runner_libs \
// RUN:   | FileCheck %s --check-prefix=%if host-avx512vnni %{EXACT%} %else %{CLOSE%}

// A W8A8 linear whose M is only known at run time (29 rows: two register
// tiles of 12, then 5 rows one at a time) gives bit for bit the result of the
// same linear compiled for a static M = 29 (whose kernel is checked against
// the reference in linear-int8.mlir): the per-element arithmetic does not
// depend on how rows are tiled. That holds for the integer dot-product kernel
// (avx512vnni); the f32 FMA fallback of other hosts tiles the static and the
// dynamic M differently and agrees within f32 rounding (|diff| < 1e-5).
// EXACT: rank = 1 offset = 0 sizes = [2]
// EXACT-NEXT: [29,  0]
// CLOSE: rank = 1 offset = 0 sizes = [2]
// CLOSE-NEXT: [29, {{0|[0-9.]+e-(0[6-9]|[1-3][0-9])}}]

func.func private @printMemrefF32(tensor<*xf32>)

func.func @random(%rows: index, %cols: index, %seed: i32, %scale: f32) -> tensor<?x?xf32> {
  %e = tensor.empty(%rows, %cols) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]} outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %p1 = arith.constant 73856093 : i32
    %p2 = arith.constant 19349663 : i32
    %p3 = arith.constant 83492791 : i32
    %a = arith.muli %ii, %p1 : i32
    %b = arith.muli %jj, %p2 : i32
    %c = arith.muli %seed, %p3 : i32
    %ab = arith.xori %a, %b : i32
    %h0 = arith.xori %ab, %c : i32
    %s16 = arith.constant 16 : i32
    %s13 = arith.constant 13 : i32
    %m1 = arith.constant -2048144789 : i32
    %m2 = arith.constant -1028477387 : i32
    %t0 = arith.shrui %h0, %s16 : i32
    %h1 = arith.xori %h0, %t0 : i32
    %h2 = arith.muli %h1, %m1 : i32
    %t1 = arith.shrui %h2, %s13 : i32
    %h3 = arith.xori %h2, %t1 : i32
    %h4 = arith.muli %h3, %m2 : i32
    %t2 = arith.shrui %h4, %s16 : i32
    %h5 = arith.xori %h4, %t2 : i32
    %s8 = arith.constant 8 : i32
    %top = arith.shrui %h5, %s8 : i32
    %f = arith.uitofp %top : i32 to f32
    %inv = arith.constant 1.1920928955078125e-07 : f32
    %one = arith.constant 1.0 : f32
    %u = arith.mulf %f, %inv : f32
    %v0 = arith.subf %u, %one : f32
    %v = arith.mulf %v0, %scale : f32
    linalg.yield %v : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func @main() {
  %c1 = arith.constant 1.0 : f32
  %c0i = arith.constant 0 : index
  %cM = arith.constant 29 : index
  %cK = arith.constant 70 : index
  %cN = arith.constant 45 : index
  %s1 = arith.constant 1 : i32
  %s2 = arith.constant 2 : i32
  %xd = call @random(%cM, %cK, %s1, %c1) : (index, index, i32, f32) -> tensor<?x?xf32>
  %wd = call @random(%cK, %cN, %s2, %c1) : (index, index, i32, f32) -> tensor<?x?xf32>
  %w = tensor.cast %wd : tensor<?x?xf32> to tensor<70x45xf32>
  %p = quilt.pack %w : tensor<70x45xf32> -> !quilt.packed<70x45, precision<i8, channel>>
  %xdyn = tensor.cast %xd : tensor<?x?xf32> to tensor<?x70xf32>
  %xst = tensor.cast %xd : tensor<?x?xf32> to tensor<29x70xf32>
  %yd = quilt.linear %xdyn, %p act <i8, channel> : tensor<?x70xf32>, !quilt.packed<70x45, precision<i8, channel>> -> tensor<?x45xf32>
  %ys = quilt.linear %xst, %p act <i8, channel> : tensor<29x70xf32>, !quilt.packed<70x45, precision<i8, channel>> -> tensor<29x45xf32>
  %yds = tensor.cast %yd : tensor<?x45xf32> to tensor<29x45xf32>
  // [rows of the dynamic result, max |dynamic - static|]
  %rows = tensor.dim %yd, %c0i : tensor<?x45xf32>
  %init = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%init : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %diff = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
                          iterator_types = ["reduction", "reduction"]}
      ins(%yds, %ys : tensor<29x45xf32>, tensor<29x45xf32>) outs(%z : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %d = arith.subf %a, %b : f32
    %ad = math.absf %d : f32
    %m = arith.maximumf %acc, %ad : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %dv = tensor.extract %diff[] : tensor<f32>
  %ri = arith.index_cast %rows : index to i64
  %rf = arith.sitofp %ri : i64 to f32
  %out = tensor.from_elements %rf, %dv : tensor<2xf32>
  %u = tensor.cast %out : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
