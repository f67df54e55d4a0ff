func.func private @f() -> !quilt.packed<30x32, sparsity<nm<2, 4>>>
