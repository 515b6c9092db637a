{
  # surgevec's native HNSW core (src/engine/index/native), built by node-gyp during `npm ci` / `npm install`.
  # Headers come from pinned npm packages (hnswlib-node ships hnswlib's header-only C++), nothing vendored.
  # -march=native: the addon is compiled on the machine that runs it, and hnswlib picks its SIMD distance
  # kernels (SSE/AVX/AVX-512) at compile time. Set SURGEVEC_MARCH (e.g. x86-64-v2) when node_modules is
  # built on one machine and copied to another.
  "targets": [
    {
      "target_name": "surgevec_hnsw",
      "sources": ["src/engine/index/native/hnsw_addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('path').dirname(require.resolve('hnswlib-node/package.json')) + '/src/hnswlib'\")"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NDEBUG"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-march=<!(echo ${SURGEVEC_MARCH:-native})", "-Wno-unused-parameter", "-Wno-sign-compare", "-Wno-unused-variable", "-Wno-cast-function-type", "-Wno-type-limits", "-Wno-unused-function"],
      "ldflags": ["-pthread"]
    }
  ]
}
