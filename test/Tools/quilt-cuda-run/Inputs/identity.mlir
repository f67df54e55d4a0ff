// Returns its arguments: quilt-run's results are then its random inputs,
// which random-inputs.test compares with quilt-cuda-run's byte for byte.
func.func @identity(%a: tensor<3x5xbf16>, %b: tensor<2x4xf32>,
                    %c: tensor<3x3xf16>, %d: tensor<7xi8>, %e: tensor<2x3xi32>)
    -> (tensor<3x5xbf16>, tensor<2x4xf32>, tensor<3x3xf16>, tensor<7xi8>,
        tensor<2x3xi32>) {
  return %a, %b, %c, %d, %e : tensor<3x5xbf16>, tensor<2x4xf32>,
      tensor<3x3xf16>, tensor<7xi8>, tensor<2x3xi32>
}
