{
  "targets": [
    {
      "target_name": "sgdlab_torch",
      "sources": [
        "src/native/addon.cc",
        "src/native/handle.cc",
        "src/native/queries.cc",
        "src/native/creation.cc",
        "src/native/ops_views.cc",
        "src/native/ops_math.cc",
        "src/native/ops_nn.cc",
        "src/native/autograd.cc",
        "src/native/lbfgsb.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch-config.mjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "<!@(node scripts/libtorch-config.mjs cflags)"],
      "ldflags": ["<!@(node scripts/libtorch-config.mjs ldflags)"],
      "libraries": ["-llbfgsb"]
    }
  ]
}
