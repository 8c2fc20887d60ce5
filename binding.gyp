{
  "targets": [
    {
      "target_name": "trm_native",
      "sources": [
        "native/addon.cc",
        "native/amx.cc",
        "native/allocator.cc",
        "native/attention.cc",
        "native/autograd.cc",
        "native/data.cc",
        "native/jit.cc",
        "native/kernels.cc",
        "native/mlp.cc",
        "native/distributed.cc",
        "native/gemm.cc",
        "native/ops.cc",
        "native/optim.cc",
        "native/runtime.cc",
        "native/tensor.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node bin/libtorch.js include-dirs)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node bin/libtorch.js defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-fopenmp", "-Wno-unused-parameter"],
      "libraries": [
        "-L<!(node bin/libtorch.js lib-dir)",
        "-Wl,-rpath,<!(node bin/libtorch.js lib-dir)",
        "-Wl,--no-as-needed",
        "<!@(node bin/libtorch.js libs)",
        "-Wl,--as-needed",
        "-fopenmp"
      ]
    }
  ]
}
