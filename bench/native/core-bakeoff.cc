// Bake-off of the two C++ HNSW cores an npm package ships headers for: hnswlib (hnswlib-node/src/hnswlib)
// and usearch (usearch/include/usearch), compiled alike (-O3 -march=native), same data, same M and
// ef_construction, one query at a time on one thread, so only the cores differ (no binding, no JS).
// Data: bench/native/dump-glove.ts. Build + run: bash bench/native/core-bakeoff.sh
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unordered_set>
#include <vector>

#include "hnswlib.h"
#include "usearch/index_dense.hpp"

using clk = std::chrono::steady_clock;
static double secs(clk::time_point a) { return std::chrono::duration<double>(clk::now() - a).count(); }

static std::vector<char> slurp(const std::string& f) {
  std::ifstream in(f, std::ios::binary);
  if (!in) { std::fprintf(stderr, "cannot read %s\n", f.c_str()); std::exit(1); }
  return {std::istreambuf_iterator<char>(in), {}};
}

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".cache/bakeoff";
  const size_t dim = 100, k = 10, M = 16, efc = 200;
  auto baseB = slurp(dir + "/base.f32"), qB = slurp(dir + "/queries.f32"), gtB = slurp(dir + "/gt10.i32");
  const float* base = reinterpret_cast<const float*>(baseB.data());
  const float* qs = reinterpret_cast<const float*>(qB.data());
  const int* gt = reinterpret_cast<const int*>(gtB.data());
  size_t n = baseB.size() / 4 / dim, nq = qB.size() / 4 / dim;
  unsigned threads = std::thread::hardware_concurrency();
  std::printf("%zu base, %zu queries, dim %zu, M %zu, efC %zu, build threads %u\n", n, nq, dim, M, efc, threads);

  auto recallOf = [&](const std::vector<std::vector<size_t>>& found) {
    size_t hit = 0;
    for (size_t q = 0; q < nq; q++) {
      std::unordered_set<size_t> t(gt + q * k, gt + q * k + k);
      for (size_t id : found[q]) hit += t.count(id);
    }
    return double(hit) / double(nq * k);
  };
  const size_t efs[] = {16, 32, 64, 96, 128, 192, 256, 384, 512};

  // hnswlib: inner product space on normalised vectors (= cosine).
  hnswlib::InnerProductSpace ip(dim);
  hnswlib::HierarchicalNSW<float> h(&ip, n, M, efc, 100);
  auto t0 = clk::now();
  {
    std::vector<std::thread> ts;
    h.addPoint(base, 0);
    for (unsigned t = 0; t < threads; t++)
      ts.emplace_back([&, t] { for (size_t i = 1 + t; i < n; i += threads) h.addPoint(base + i * dim, i); });
    for (auto& th : ts) th.join();
  }
  std::printf("hnswlib build %.1f s\n", secs(t0));

  namespace us = unum::usearch;
  us::metric_punned_t metric(dim, us::metric_kind_t::cos_k, us::scalar_kind_t::f32_k);
  us::index_dense_config_t cfg(M, efc, 64);
  auto made = us::index_dense_t::make(metric, cfg);
  us::index_dense_t u = std::move(made.index);
  u.reserve({n, threads});
  t0 = clk::now();
  {
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; t++)
      ts.emplace_back([&, t] { for (size_t i = t; i < n; i += threads) u.add(i, base + i * dim, t); });
    for (auto& th : ts) th.join();
  }
  std::printf("usearch build %.1f s\n", secs(t0));

  std::printf("%-8s %5s %8s %9s\n", "core", "ef", "recall", "QPS");
  for (int round = 0; round < 2; round++) {
    for (size_t ef : efs) {
      std::vector<std::vector<size_t>> found(nq);
      h.setEf(ef);
      auto t1 = clk::now();
      for (size_t q = 0; q < nq; q++) {
        auto r = h.searchKnn(qs + q * dim, k);
        while (!r.empty()) { found[q].push_back(r.top().second); r.pop(); }
      }
      double hq = nq / secs(t1), hr = recallOf(found);
      for (auto& f : found) f.clear();
      u.change_expansion_search(ef);
      t1 = clk::now();
      for (size_t q = 0; q < nq; q++) {
        auto r = u.search(qs + q * dim, k, 0);
        for (size_t i = 0; i < r.size(); i++) found[q].push_back(r[i].member.key);
      }
      double uq = nq / secs(t1), ur = recallOf(found);
      if (round == 1) {
        std::printf("%-8s %5zu %8.4f %9.0f\n", "hnswlib", ef, hr, hq);
        std::printf("%-8s %5zu %8.4f %9.0f\n", "usearch", ef, ur, uq);
      }
    }
  }
  return 0;
}
