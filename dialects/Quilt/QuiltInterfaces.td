//===- QuiltInterfaces.td - Quilt op interfaces ------------*- tablegen -*-===//
//
// Interfaces shared by quilt ops.
//
//===----------------------------------------------------------------------===//

#ifndef QUILT_INTERFACES_TD
#define QUILT_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Quilt_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::mlir::quilt";
  let description = [{
    An op whose result element is a pure function of the operand elements at
    the same index. The op builds that function on scalars or vectors of f32,
    so every backend (the reference lowering, CPU epilogues in registers, GPU
    epilogues on accumulators) emits the same math from one definition.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the element function on `operands` (one f32 scalar or vector
        per op operand, in order) and returns the result of the same type.
      }],
      "::mlir::Value", "buildElementFunction",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands)>
  ];
}

#endif // QUILT_INTERFACES_TD
