// A 64-1024-1024-10 ReLU MLP classifying the 8x8 handwritten digits of
// scikit-learn (examples/digits/train.py trains it; its weights are the
// .npy files next to this file), applied to the 540 test images at once.
//
// The weights are arguments bound to their files by quilt-load-weights
// (`quilt.weight`), so the passes that choose and pack formats see them as
// constants:
//
//   quilt-run examples/digits/digits.mlir --entry forward --pipeline cpu \
//     --passes 'quilt-load-weights{dir=examples/digits},quilt-select-formats{error-budget=0.05 calibration=examples/digits/calib_x.npy explain=1}' \
//     --input 0=examples/digits/test_x.npy --output-npy out/
func.func @forward(%x: tensor<540x64xf32>,
    %w1: tensor<64x1024xf32> {quilt.weight = "fc1_w.npy"},
    %b1: tensor<1024xf32> {quilt.weight = "fc1_b.npy"},
    %w2: tensor<1024x1024xf32> {quilt.weight = "fc2_w.npy"},
    %b2: tensor<1024xf32> {quilt.weight = "fc2_b.npy"},
    %w3: tensor<1024x10xf32> {quilt.weight = "fc3_w.npy"},
    %b3: tensor<10xf32> {quilt.weight = "fc3_b.npy"}) -> tensor<540x10xf32> {
  %h1 = quilt.linear %x, %w1 bias %b1
      : tensor<540x64xf32>, tensor<64x1024xf32>, tensor<1024xf32> -> tensor<540x1024xf32>
  %a1 = quilt.relu %h1 : tensor<540x1024xf32>
  %h2 = quilt.linear %a1, %w2 bias %b2
      : tensor<540x1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32> -> tensor<540x1024xf32>
  %a2 = quilt.relu %h2 : tensor<540x1024xf32>
  %y = quilt.linear %a2, %w3 bias %b3
      : tensor<540x1024xf32>, tensor<1024x10xf32>, tensor<10xf32> -> tensor<540x10xf32>
  return %y : tensor<540x10xf32>
}
