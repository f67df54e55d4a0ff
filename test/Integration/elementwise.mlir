// RUN: quilt-opt %s --quilt-reference-pipeline | \
// RUN:   mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | \
// RUN:   FileCheck %s

// Element-wise ops and the one-dimension reductions on hand-picked points:
// add, mul (exact, also in bf16 with one rounding of the f32 result), relu,
// gelu (erf and tanh forms), silu, softmax (last axis and axis 0, shift
// invariance for large inputs, -inf masking, rows summing to 1), rmsnorm
// and layernorm (default and explicit epsilon, 3-d input, a constant row).
// Transcendental results are checked to 6 significant digits, allowing
// for an error of max(1e-6 |y|, 1e-7) (the patterns list the admissible
// prints).

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<?x?xf32>) {
  %u = tensor.cast %t : tensor<?x?xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[[1.0, -2.0, 0.5, 3.0]]> : tensor<1x4xf32>
  %y = arith.constant dense<[[0.25, 2.0, -4.0, 1.0e-8]]> : tensor<1x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [1.25,   0,   -3.5,   3]
  %add = quilt.add %x, %y : tensor<1x4xf32>
  %addd = tensor.cast %add : tensor<1x4xf32> to tensor<?x?xf32>
  call @print(%addd) : (tensor<?x?xf32>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [0.25,   -4,   -2,   3e-08]
  %mul = quilt.mul %x, %y : tensor<1x4xf32>
  %muld = tensor.cast %mul : tensor<1x4xf32> to tensor<?x?xf32>
  call @print(%muld) : (tensor<?x?xf32>) -> ()

  // bf16: 256 + 1 = 257 ties to 256, 1 + 2^-8 ties to 1, 1 + 3 * 2^-8
  // ties to 1 + 2^-6; 3 * 1.5 = 4.5 is exact.
  %hx = arith.constant dense<[[256.0, 1.0, 1.0, 3.0]]> : tensor<1x4xbf16>
  %hy = arith.constant dense<[[1.0, 0.00390625, 0.01171875, 1.5]]> : tensor<1x4xbf16>
  // CHECK: data =
  // CHECK-NEXT: [256,   1,   1.01562,   4.5]
  %hadd = quilt.add %hx, %hy : tensor<1x4xbf16>
  %haddf = arith.extf %hadd : tensor<1x4xbf16> to tensor<1x4xf32>
  %haddd = tensor.cast %haddf : tensor<1x4xf32> to tensor<?x?xf32>
  call @print(%haddd) : (tensor<?x?xf32>) -> ()
  // CHECK: data =
  // CHECK-NEXT: [256,   0.00390625,   0.0117188,   4.5]
  %hmul = quilt.mul %hx, %hy : tensor<1x4xbf16>
  %hmulf = arith.extf %hmul : tensor<1x4xbf16> to tensor<1x4xf32>
  %hmuld = tensor.cast %hmulf : tensor<1x4xf32> to tensor<?x?xf32>
  call @print(%hmuld) : (tensor<?x?xf32>) -> ()

  %z = arith.constant dense<[[-1.0, 0.0, 2.5, -0.0, -1.0e-30]]> : tensor<1x5xf32>
  // CHECK: data =
  // CHECK-NEXT: [0,   0,   2.5,   0,   0]
  %relu = quilt.relu %z : tensor<1x5xf32>
  %relud = tensor.cast %relu : tensor<1x5xf32> to tensor<?x?xf32>
  call @print(%relud) : (tensor<?x?xf32>) -> ()

  // Points -3, -1, 0, 0.5, 1, 2, 3.
  %p = arith.constant dense<[[-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]]> : tensor<1x7xf32>
  // gelu (erf): x * Phi(x).
  // CHECK: data =
  // CHECK-NEXT: [-0.004049{{[0-9]*}},   -0.158655,   0,   {{0\.345731|0\.345732}},   {{0\.841344|0\.841345|0\.841346}},   1.9545,   2.99595]
  %g = quilt.gelu %p : tensor<1x7xf32>
  %gd = tensor.cast %g : tensor<1x7xf32> to tensor<?x?xf32>
  call @print(%gd) : (tensor<?x?xf32>) -> ()
  // gelu (tanh): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  // CHECK: data =
  // CHECK-NEXT: [-0.003637{{[0-9]*}},   -0.158808,   0,   0.345714,   {{0\.841191|0\.841192|0\.841193}},   1.9546,   {{2\.99636|2\.99637}}]
  %gt = quilt.gelu %p tanh : tensor<1x7xf32>
  %gtd = tensor.cast %gt : tensor<1x7xf32> to tensor<?x?xf32>
  call @print(%gtd) : (tensor<?x?xf32>) -> ()
  // silu: x * sigmoid(x).
  // CHECK: data =
  // CHECK-NEXT: [{{-0\.142278|-0\.142277}},   {{-0\.268942|-0\.268941}},   0,   {{0\.311229|0\.31123}},   {{0\.731058|0\.731059}},   {{1\.76159|1\.7616}},   {{2\.85772|2\.85773}}]
  %s = quilt.silu %p : tensor<1x7xf32>
  %sd = tensor.cast %s : tensor<1x7xf32> to tensor<?x?xf32>
  call @print(%sd) : (tensor<?x?xf32>) -> ()
  // silu in bf16: computed in f32, rounded once (silu(1) = 0.731059 ->
  // 0.730469, silu(2) = 1.76159 -> 1.757812).
  %hp = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xbf16>
  // CHECK: data =
  // CHECK-NEXT: [0.730469,   1.75781]
  %hs = quilt.silu %hp : tensor<1x2xbf16>
  %hsf = arith.extf %hs : tensor<1x2xbf16> to tensor<1x2xf32>
  %hsd = tensor.cast %hsf : tensor<1x2xf32> to tensor<?x?xf32>
  call @print(%hsd) : (tensor<?x?xf32>) -> ()

  // softmax over the last axis: [1, 2, 3] and [1000, 1001, 1002] (same
  // result: the max is subtracted first), uniform, and -inf masked.
  %ninf = arith.constant 0xFF800000 : f32
  %sm_in0 = arith.constant dense<[[1.0, 2.0, 3.0],
                                  [1000.0, 1001.0, 1002.0],
                                  [-5.0, -5.0, -5.0],
                                  [0.0, 0.0, 0.0]]> : tensor<4x3xf32>
  %c3 = arith.constant 3 : index
  %c1 = arith.constant 1 : index
  %sm_in = tensor.insert %ninf into %sm_in0[%c3, %c1] : tensor<4x3xf32>
  // CHECK: data =
  // CHECK-NEXT: [{{0\.0900305|0\.0900306|0\.0900307}},   {{0\.244728|0\.244729}},   {{0\.66524|0\.665241|0\.665242}}]
  // CHECK-NEXT: [{{0\.0900305|0\.0900306|0\.0900307}},   {{0\.244728|0\.244729}},   {{0\.66524|0\.665241|0\.665242}}]
  // CHECK-NEXT: [0.333333,   0.333333,   0.333333]
  // CHECK-NEXT: [0.5,   0,   0.5]
  %sm = quilt.softmax %sm_in : tensor<4x3xf32>
  %smd = tensor.cast %sm : tensor<4x3xf32> to tensor<?x?xf32>
  call @print(%smd) : (tensor<?x?xf32>) -> ()
  // Row sums (exactly 1 to print precision).
  %zero = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<4xf32>) -> tensor<4xf32>
  %sums = linalg.reduce ins(%sm : tensor<4x3xf32>) outs(%z4 : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %sums2 = tensor.expand_shape %sums [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  // CHECK: data =
  // CHECK-NEXT: [1,   1,   1,   1]
  %sumsd = tensor.cast %sums2 : tensor<1x4xf32> to tensor<?x?xf32>
  call @print(%sumsd) : (tensor<?x?xf32>) -> ()

  // softmax over axis 0: columns [1, 1] and [0, ln 3].
  %ln3 = arith.constant dense<[[1.0, 0.0],
                               [1.0, 1.098612289]]> : tensor<2x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [0.5,   0.25]
  // CHECK-NEXT: [0.5,   {{0\.749999|0\.75|0\.750001}}]
  %sm0 = quilt.softmax %ln3 {axis = 0} : tensor<2x2xf32>
  %sm0d = tensor.cast %sm0 : tensor<2x2xf32> to tensor<?x?xf32>
  call @print(%sm0d) : (tensor<?x?xf32>) -> ()

  // softmax of a 3-d tensor along axis 1 (= -2).
  %t3 = arith.constant dense<[[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]]> : tensor<1x3x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [{{0\.0900305|0\.0900306|0\.0900307}},   0.333333],
  // CHECK-NEXT: [{{0\.244728|0\.244729}},   0.333333],
  // CHECK-NEXT: [{{0\.66524|0\.665241|0\.665242}},   0.333333]]]
  %sm3 = quilt.softmax %t3 {axis = -2} : tensor<1x3x2xf32>
  %sm3u = tensor.cast %sm3 : tensor<1x3x2xf32> to tensor<*xf32>
  call @printMemrefF32(%sm3u) : (tensor<*xf32>) -> ()

  // rmsnorm: x / sqrt(mean(x^2) + eps) * g, eps = 1e-6 by default.
  %rx = arith.constant dense<[[3.0, 4.0],
                              [1.0, 1.0],
                              [-2.0, 0.0]]> : tensor<3x2xf32>
  %rg = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // CHECK: data =
  // CHECK-NEXT: [{{0\.848527|0\.848528|0\.848529}},   2.26274]
  // CHECK-NEXT: [{{0\.999999|1}},   2]
  // CHECK-NEXT: [-1.41421,   0]
  %rn = quilt.rmsnorm %rx, %rg : tensor<3x2xf32>, tensor<2xf32>
  %rnd = tensor.cast %rn : tensor<3x2xf32> to tensor<?x?xf32>
  call @print(%rnd) : (tensor<?x?xf32>) -> ()
  // With epsilon = 1: [1, 1] -> [1, 2] / sqrt(2).
  // CHECK: data =
  // CHECK-NEXT: [{{0\.816496|0\.816497}},   {{2\.17732|2\.17733}}]
  // CHECK-NEXT: [{{0\.707106|0\.707107}},   1.41421]
  // CHECK-NEXT: [-1.1547,   0]
  %rn1 = quilt.rmsnorm %rx, %rg {epsilon = 1.0 : f32} : tensor<3x2xf32>, tensor<2xf32>
  %rn1d = tensor.cast %rn1 : tensor<3x2xf32> to tensor<?x?xf32>
  call @print(%rn1d) : (tensor<?x?xf32>) -> ()
  // 3-d input: normalized over the last dim only.
  %rx3 = tensor.expand_shape %rx [[0, 1], [2]] output_shape [3, 1, 2] : tensor<3x2xf32> into tensor<3x1x2xf32>
  // CHECK: data =
  // CHECK-NEXT: [{{0\.848527|0\.848528|0\.848529}},   2.26274]],
  // CHECK-NEXT: [{{0\.999999|1}},   2]],
  // CHECK-NEXT: [-1.41421,   0]]]
  %rn3 = quilt.rmsnorm %rx3, %rg : tensor<3x1x2xf32>, tensor<2xf32>
  %rn3u = tensor.cast %rn3 : tensor<3x1x2xf32> to tensor<*xf32>
  call @printMemrefF32(%rn3u) : (tensor<*xf32>) -> ()

  // layernorm: (x - mean) / sqrt(var + eps) * g + b (biased variance,
  // eps = 1e-5 by default); a constant row gives b.
  %lx = arith.constant dense<[[1.0, 2.0, 3.0, 4.0],
                              [5.0, 5.0, 5.0, 5.0],
                              [-1.0, 1.0, -1.0, 1.0]]> : tensor<3x4xf32>
  %lg = arith.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %lb = arith.constant dense<[0.0, 1.0, 0.0, -1.0]> : tensor<4xf32>
  // CHECK: data =
  // CHECK-NEXT: [{{-1\.34164|-1\.34163}},   {{0\.552788|0\.552789}},   {{0\.894423|0\.894424|0\.894425}},   1.68327]
  // CHECK-NEXT: [0,   1,   0,   -1]
  // CHECK-NEXT: [{{-0\.999996|-0\.999995|-0\.999994}},   {{1\.99999|2}},   -1.99999,   {{0\.999989|0\.99999|0\.999991}}]
  %ln = quilt.layernorm %lx, %lg, %lb : tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>
  %lnd = tensor.cast %ln : tensor<3x4xf32> to tensor<?x?xf32>
  call @print(%lnd) : (tensor<?x?xf32>) -> ()
  // With epsilon = 0.75: row 0 has var 1.25, so the scale is 1/sqrt(2).
  // CHECK: data =
  // CHECK-NEXT: [-1.06066,   {{0\.646446|0\.646447}},   {{0\.707106|0\.707107}},   1.12132]
  // CHECK-NEXT: [0,   1,   0,   -1]
  // CHECK-NEXT: [{{-0\.75593|-0\.755929|-0\.755928}},   1.75593,   -1.51186,   {{0\.511857|0\.511858}}]
  %lne = quilt.layernorm %lx, %lg, %lb {epsilon = 0.75 : f32} : tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>
  %lned = tensor.cast %lne : tensor<3x4xf32> to tensor<?x?xf32>
  call @print(%lned) : (tensor<?x?xf32>) -> ()
  return
}
