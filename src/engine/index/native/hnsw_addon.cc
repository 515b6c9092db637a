// surgevec's own N-API binding over hnswlib's header-only C++ core (shipped by the pinned hnswlib-node npm
// package; chosen over usearch by measurement: docs/decisions/0006-native-search-core.md).
//
// What the stock bindings could not do, and this one does:
//  - searches and batch adds run on the libuv pool (napi AsyncWorker), never on the calling JS thread;
//  - ef is a per-call argument (hnswlib's ef_ is index-wide state; a copy of searchKnn takes it as a
//    parameter, so concurrent searches with different ef never race);
//  - filters are a bitset over keys or a key allowlist, evaluated in C++ during traversal, plus an exact
//    (brute-force, SIMD distance) path over the allowed keys for selective filters;
//  - one index serves every thread: searches share a reader lock, capacity growth and save take it
//    exclusively (hnswlib supports concurrent addPoint/searchKnn/markDelete, but not resizeIndex/saveIndex).
//
// Inputs are validated on the JS thread and every C++ exception becomes a rejected promise or a thrown JS
// error with a `code` — never a crash. Vectors and queries are copied before work leaves the JS thread: the
// caller may detach or reuse its buffers the moment the call returns.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "hnswlib.h"

namespace {

using hnswlib::labeltype;
using hnswlib::tableint;
using Hnsw = hnswlib::HierarchicalNSW<float>;

constexpr size_t kMaxK = 1 << 20;
constexpr size_t kMaxEf = 1 << 20;
constexpr unsigned kMaxThreads = 64;
constexpr uint32_t kAbsent = 0xffffffffu;

// A JS-facing error with a stable code the TypeScript adapter maps to the catalogue.
struct CoreError : std::runtime_error {
  std::string code;
  CoreError(std::string c, const std::string& m) : std::runtime_error(m), code(std::move(c)) {}
};

// ---- filters ---------------------------------------------------------------------------------------------

struct Filter {
  std::vector<uint8_t> bits;             // bitset: bit i&7 of byte i>>3 stands for key base + i
  uint64_t base = 0;
  bool hasBits = false;
  std::unordered_set<uint64_t> allow;    // key allowlist
  bool hasAllow = false;

  bool active() const { return hasBits || hasAllow; }
  bool allows(uint64_t key) const {
    if (hasBits) {
      if (key < base) return false;
      uint64_t i = key - base;
      if (i >= bits.size() * 8ull || !((bits[i >> 3] >> (i & 7)) & 1)) return false;
    }
    if (hasAllow && allow.find(key) == allow.end()) return false;
    return true;
  }
};

struct FilterFunctor : hnswlib::BaseFilterFunctor {
  const Filter& f;
  explicit FilterFunctor(const Filter& filter) : f(filter) {}
  bool operator()(labeltype id) override { return f.allows(id); }
};

// ---- vector spaces --------------------------------------------------------------------------------------

// How vectors are stored and compared: hnswlib's distance interface plus the conversion from the float input.
// f32 stores floats as they are. Quantized spaces (f16, i8: their own issue) plug in here — an hnswlib
// SpaceInterface whose data_size is dim × 2 or dim × 1 bytes with its distance kernel, and an encode step —
// and nothing else in the core changes: the graph only ever sees data_size bytes per vector.
class Space {
 public:
  virtual ~Space() = default;
  virtual hnswlib::SpaceInterface<float>* hnsw() = 0;
  // Returns the stored form of `v`: `v` itself when no conversion is needed, else written into `scratch`.
  virtual const void* encode(const float* v, std::vector<char>& scratch) const = 0;
  virtual void decode(const void* stored, float* out) const = 0;
};

class F32Space : public Space {
 public:
  F32Space(bool ip, size_t dim) : dim_(dim) {
    if (ip) space_ = std::make_unique<hnswlib::InnerProductSpace>(dim);
    else space_ = std::make_unique<hnswlib::L2Space>(dim);
  }
  hnswlib::SpaceInterface<float>* hnsw() override { return space_.get(); }
  const void* encode(const float* v, std::vector<char>&) const override { return v; }
  void decode(const void* stored, float* out) const override { std::memcpy(out, stored, dim_ * sizeof(float)); }

 private:
  size_t dim_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
};

// ---- the core: hnswlib plus a dense key → internal-id table for exact scans over a bitset ----------------

class Core {
 public:
  Core(bool ip, size_t dim, size_t m, size_t efc, size_t capacity, size_t seed)
      : dim_(dim), space_(std::make_unique<F32Space>(ip, dim)) {
    hnsw_ = std::make_unique<Hnsw>(space_->hnsw(), std::max<size_t>(capacity, 16), m, efc, seed);
    adviseHugePages();
    growReady();
  }

  Core(bool ip, size_t dim, const std::string& file, size_t extra)
      : dim_(dim), space_(std::make_unique<F32Space>(ip, dim)) {
    hnsw_ = std::make_unique<Hnsw>(space_->hnsw());
    hnsw_->loadIndex(file, space_->hnsw(), 0);
    if (hnsw_->data_size_ != space_->hnsw()->get_data_size()) {
      throw CoreError("SV_CORRUPT", "the index file was written for another dimension or space");
    }
    if (extra > 0) hnsw_->resizeIndex(hnsw_->max_elements_ + extra);
    adviseHugePages();
    growReady();
    for (tableint i = 0; i < hnsw_->cur_element_count; i++) {
      remember(hnsw_->getExternalLabel(i), i);
      ready_[i].store(1, std::memory_order_release);
    }
  }

  size_t dim() const { return dim_; }

  // `nice` > 0 builds on fresh threads at that lower OS priority (Linux): indexing is background work that
  // may use every idle cycle but must yield to searches, the WAL and whatever else serves callers.
  void add(const uint64_t* keys, const float* vecs, size_t n, unsigned threads, int nice) {
    std::shared_lock<std::shared_mutex> building(buildMu_);
    reserve(n);
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::atomic<size_t> next{0};
    std::exception_ptr failure;
    std::mutex failureMu;
    auto work = [&] {
      lowerPriority(nice);
      std::vector<char> scratch;
      try {
        for (size_t i; (i = next.fetch_add(1)) < n;) {
          hnsw_->addPoint(space_->encode(vecs + i * dim_, scratch), keys[i], false);
          tableint id = lookup(keys[i]);
          remember(keys[i], id);
          ready_[id].store(1, std::memory_order_release);
        }
      } catch (...) {
        std::lock_guard<std::mutex> g(failureMu);
        if (!failure) failure = std::current_exception();
        next.store(n);
      }
    };
    size_t t = std::min<size_t>(threads, n);
    if (nice > 0) runOnFreshThreads(t, work);
    else runParallel(t, work);
    if (failure) std::rethrow_exception(failure);
  }

  size_t remove(const uint64_t* keys, size_t n) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::lock_guard<std::mutex> serial(removeMu_);
    size_t removed = 0;
    for (size_t i = 0; i < n; i++) {
      tableint id = lookup(keys[i]);
      if (id == kAbsent || hnsw_->isMarkedDeleted(id)) continue;
      hnsw_->markDelete(keys[i]);
      removed++;
    }
    return removed;
  }

  // Rows of absent or removed keys are NaN; `found` says which were present.
  void get(const uint64_t* keys, size_t n, float* out, uint8_t* found) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (size_t i = 0; i < n; i++) {
      tableint id = lookup(keys[i]);
      found[i] = id != kAbsent && !hnsw_->isMarkedDeleted(id);
      if (found[i]) {
        space_->decode(hnsw_->getDataByInternalId(id), out + i * dim_);
      } else {
        std::fill(out + i * dim_, out + (i + 1) * dim_, std::nanf(""));
      }
    }
  }

  // Answers nq queries; query q's hits are at [q*k, q*k + counts[q]), best first.
  // `efs`, when not empty, holds one ef per query (searches of different callers answered in one call).
  void search(const float* queries, size_t nq, size_t k, size_t ef, const std::vector<uint32_t>& efs,
              const Filter& filter, bool exact, unsigned threads, uint64_t* keys, float* dists,
              uint32_t* counts) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::atomic<size_t> next{0};
    auto work = [&] {
      std::vector<char> scratch;
      for (size_t q; (q = next.fetch_add(1)) < nq;) {
        const void* query = space_->encode(queries + q * dim_, scratch);
        // A shared call's k is the largest its callers asked for; each query keeps its own ef (the caller
        // made it >= its own k), so it walks exactly as it would alone.
        Heap top = exact ? exactOne(query, k, filter) : graphOne(query, k, efs.empty() ? std::max(ef, k) : efs[q], filter);
        size_t c = top.size();
        counts[q] = static_cast<uint32_t>(c);
        for (size_t i = c; i-- > 0;) {  // the heap pops worst first
          keys[q * k + i] = top.top().second;
          dists[q * k + i] = top.top().first;
          top.pop();
        }
      }
    };
    runParallel(std::min<size_t>(threads, nq), work);
  }

  std::vector<uint64_t> keys() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::vector<uint64_t> out;
    out.reserve(hnsw_->cur_element_count);
    for (tableint i = 0; i < hnsw_->cur_element_count; i++) {
      if (!hnsw_->isMarkedDeleted(i)) out.push_back(hnsw_->getExternalLabel(i));
    }
    return out;
  }

  // hnswlib's saveIndex is not safe beside addPoint, but is beside searches: it excludes adds only, so a
  // snapshot does not stall searches for the seconds a large graph takes to write.
  void save(const std::string& file) {
    std::unique_lock<std::shared_mutex> building(buildMu_);
    std::shared_lock<std::shared_mutex> lock(mu_);
    {
      // saveIndex does not check its stream: an unwritable path would leave a silently empty file
      std::ofstream probe(file, std::ios::binary | std::ios::trunc);
      if (!probe) throw CoreError("SV_IO", "cannot write " + file);
    }
    hnsw_->saveIndex(file);
  }

  size_t size() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return hnsw_->cur_element_count - hnsw_->num_deleted_;
  }

  size_t capacity() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return hnsw_->max_elements_;
  }

  size_t memoryBytes() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    size_t bytes = hnsw_->max_elements_ * (hnsw_->size_data_per_element_ + sizeof(void*) + sizeof(int));
    for (tableint i = 0; i < hnsw_->cur_element_count; i++) {
      bytes += static_cast<size_t>(hnsw_->element_levels_[i]) * hnsw_->size_links_per_element_;
    }
    // label map (~32 B per entry in libstdc++), dense key table, one visited list per searching thread
    bytes += hnsw_->label_lookup_.size() * 32 + denseCap_.load() * sizeof(uint32_t);
    bytes += hnsw_->max_elements_ * sizeof(hnswlib::vl_type) * 2;
    return bytes;
  }

 private:
  using Heap = std::priority_queue<std::pair<float, labeltype>>;

  static void runParallel(size_t threads, const std::function<void()>& work) {
    std::vector<std::thread> extra;
    for (size_t t = 1; t < threads; t++) extra.emplace_back(work);
    work();
    for (auto& t : extra) t.join();
  }

  // The calling pool thread only waits: a priority lowered on it could not be raised again unprivileged,
  // and it would then serve searches at that priority.
  static void runOnFreshThreads(size_t threads, const std::function<void()>& work) {
    std::vector<std::thread> all;
    for (size_t t = 0; t < threads; t++) all.emplace_back(work);
    for (auto& t : all) t.join();
  }

  static void lowerPriority(int nice) {
#if defined(__linux__)
    // Per thread on Linux (the tid, not the process); failure only means the build competes at normal priority.
    if (nice > 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
#else
    (void)nice;
#endif
  }

  void reserve(size_t n) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    size_t need = hnsw_->cur_element_count + n;
    if (need > hnsw_->max_elements_) {
      hnsw_->resizeIndex(std::max(need, hnsw_->max_elements_ * 2));
      adviseHugePages();
      growReady();
    }
  }

  // Searches and scans touch nodes scattered over the level-0 block (≈0.5 KB each at 100-D): with 4 KiB pages
  // nearly every node is a TLB miss, costly under a VM's nested paging. Transparent huge pages are often
  // opt-in (madvise mode), so the block asks for them; pages not yet touched fault in as 2 MiB pages,
  // khugepaged collapses the rest. Advice only: failure changes nothing.
  void adviseHugePages() {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t page = 4096;
    uintptr_t start = reinterpret_cast<uintptr_t>(hnsw_->data_level0_memory_);
    uintptr_t end = start + hnsw_->max_elements_ * hnsw_->size_data_per_element_;
    start = (start + page - 1) & ~(page - 1);
    if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
#endif
  }

  // Called with no reader (constructor or the exclusive lock): copies the flags into a table of the capacity.
  void growReady() {
    size_t cap = hnsw_->max_elements_;
    auto next = std::make_unique<std::atomic<uint8_t>[]>(cap);
    for (size_t i = 0; i < cap; i++) next[i].store(i < readyCap_ ? ready_[i].load() : 0);
    ready_ = std::move(next);
    readyCap_ = cap;
  }

  tableint lookup(uint64_t key) const {
    if (key < denseCap_.load(std::memory_order_acquire)) {
      uint32_t id = dense_.load(std::memory_order_acquire)[key].load(std::memory_order_acquire);
      if (id != kAbsent) return id;
    }
    std::lock_guard<std::mutex> g(hnsw_->label_lookup_lock);
    auto it = hnsw_->label_lookup_.find(key);
    return it == hnsw_->label_lookup_.end() ? kAbsent : it->second;
  }

  // Keys below 2^31 (the collection's slots) get an O(1) table so exact scans iterate a bitset's set bits
  // without touching hnswlib's locked hash map; others fall back to that map.
  void remember(uint64_t key, tableint id) {
    if (key >= (1ull << 31)) return;
    std::lock_guard<std::mutex> g(denseMu_);
    size_t old = denseCap_.load(std::memory_order_relaxed);
    if (key >= old) {
      size_t cap = std::max<size_t>(std::max<size_t>(old * 2, 1024), key + 1);
      auto next = std::make_unique<std::atomic<uint32_t>[]>(cap);
      std::atomic<uint32_t>* prev = dense_.load(std::memory_order_relaxed);
      for (size_t i = 0; i < cap; i++) next[i].store(i < old ? prev[i].load() : kAbsent);
      // Readers run beside growth (both under the shared lock), so an old table must outlive them: keep
      // every table until the index is destroyed (they double, so all of them stay under 2x the last one).
      // The pointer is published before the capacity: a reader that sees the new capacity sees the new table.
      dense_.store(next.get(), std::memory_order_release);
      denseCap_.store(cap, std::memory_order_release);
      tables_.push_back(std::move(next));
    }
    dense_.load(std::memory_order_relaxed)[key].store(id, std::memory_order_release);
  }

  Heap graphOne(const void* q, size_t k, size_t ef, const Filter& filter) const {
    Heap result;
    if (hnsw_->cur_element_count == 0) return result;
    // hnswlib's searchKnn with ef as a parameter instead of the shared ef_ member.
    tableint cur = hnsw_->enterpoint_node_;
    float curDist = hnsw_->fstdistfunc_(q, hnsw_->getDataByInternalId(cur), hnsw_->dist_func_param_);
    for (int level = hnsw_->maxlevel_; level > 0; level--) {
      for (bool changed = true; changed;) {
        changed = false;
        unsigned int* data = hnsw_->get_linklist(cur, level);
        int size = hnsw_->getListCount(data);
        tableint* links = reinterpret_cast<tableint*>(data + 1);
        for (int i = 0; i < size; i++) {
          float d = hnsw_->fstdistfunc_(q, hnsw_->getDataByInternalId(links[i]), hnsw_->dist_func_param_);
          if (d < curDist) {
            curDist = d;
            cur = links[i];
            changed = true;
          }
        }
      }
    }
    FilterFunctor functor(filter);
    hnswlib::BaseFilterFunctor* allowed = filter.active() ? &functor : nullptr;
    auto top = (hnsw_->num_deleted_ == 0 && !allowed)
                   ? hnsw_->searchBaseLayerST<true>(cur, q, ef, nullptr)
                   : hnsw_->searchBaseLayerST<false>(cur, q, ef, allowed);
    while (top.size() > k) top.pop();
    while (!top.empty()) {
      result.emplace(top.top().first, hnsw_->getExternalLabel(top.top().second));
      top.pop();
    }
    return result;
  }

  void consider(Heap& top, size_t k, const void* q, tableint id) const {
    // hnswlib counts a node (and maps its label) before writing its vector and label; a walk only reaches it
    // once linked, by then complete, but a scan must skip nodes whose add has not returned yet.
    if (!ready_[id].load(std::memory_order_acquire) || hnsw_->isMarkedDeleted(id)) return;
    float d = hnsw_->fstdistfunc_(q, hnsw_->getDataByInternalId(id), hnsw_->dist_func_param_);
    if (top.size() < k) {
      top.emplace(d, hnsw_->getExternalLabel(id));
    } else if (d < top.top().first) {
      top.pop();
      top.emplace(d, hnsw_->getExternalLabel(id));
    }
  }

  Heap exactOne(const void* q, size_t k, const Filter& filter) const {
    Heap top;
    Scan scan(*this, top, k, q);
    if (filter.hasBits && !filter.hasAllow) {
      // Visit only the set bits: cost follows the number of allowed keys, not the index size.
      const uint8_t* bits = filter.bits.data();
      size_t words = filter.bits.size() / 8;
      for (size_t w = 0; w <= words; w++) {
        uint64_t word = 0;
        size_t base = w * 8;
        size_t take = std::min<size_t>(8, filter.bits.size() - std::min(base, filter.bits.size()));
        if (take == 0) break;
        std::memcpy(&word, bits + base, take);
        while (word) {
          uint64_t key = filter.base + base * 8 + static_cast<uint64_t>(__builtin_ctzll(word));
          word &= word - 1;
          tableint id = lookup(key);
          if (id != kAbsent) scan.push(id);
        }
      }
    } else if (filter.hasAllow) {
      for (uint64_t key : filter.allow) {
        if (!filter.allows(key)) continue;
        tableint id = lookup(key);
        if (id != kAbsent) scan.push(id);
      }
    } else {
      for (tableint id = 0; id < hnsw_->cur_element_count; id++) scan.push(id);
    }
    scan.finish();
    return top;
  }

  // An exact scan visits scattered nodes (a filter's allowed points), each a cache miss on its ~0.5 KB
  // (link header, vector, label): ids are queued a few ahead and their memory prefetched, so the misses
  // overlap with distance computations instead of following them.
  class Scan {
   public:
    Scan(const Core& core, Heap& top, size_t k, const void* q) : core_(core), top_(top), k_(k), q_(q) {}
    void push(tableint id) {
      prefetch(id);
      if (n_ == kAhead) core_.consider(top_, k_, q_, ring_[head_]);
      else n_++;
      ring_[head_] = id;
      head_ = (head_ + 1) % kAhead;
    }
    void finish() {
      size_t start = (head_ + kAhead - n_) % kAhead;
      for (size_t i = 0; i < n_; i++) core_.consider(top_, k_, q_, ring_[(start + i) % kAhead]);
      n_ = 0;
    }

   private:
    static constexpr size_t kAhead = 16;
    void prefetch(tableint id) const {
      const char* node = core_.hnsw_->data_level0_memory_ + id * core_.hnsw_->size_data_per_element_;
      for (size_t off = 0; off < core_.hnsw_->size_data_per_element_; off += 64) __builtin_prefetch(node + off);
    }
    const Core& core_;
    Heap& top_;
    size_t k_;
    const void* q_;
    tableint ring_[kAhead];
    size_t head_ = 0, n_ = 0;
  };

  size_t dim_;
  std::unique_ptr<Space> space_;
  std::unique_ptr<Hnsw> hnsw_;
  mutable std::shared_mutex mu_;
  std::shared_mutex buildMu_;  // adds share it, save holds it alone; taken before mu_
  std::mutex denseMu_;
  std::atomic<std::atomic<uint32_t>*> dense_{nullptr};
  std::atomic<size_t> denseCap_{0};
  std::vector<std::unique_ptr<std::atomic<uint32_t>[]>> tables_;
  std::mutex removeMu_;
  std::unique_ptr<std::atomic<uint8_t>[]> ready_;  // by internal id: 1 once its addPoint returned
  size_t readyCap_ = 0;  // hnswlib's markDelete updates num_deleted_ without atomics
};

// ---- argument checking (JS thread) -----------------------------------------------------------------------

[[noreturn]] void fail(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::RangeError::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

size_t sizeArg(Napi::Env env, Napi::Value v, const char* name, size_t min, size_t max) {
  if (!v.IsNumber()) fail(env, "SV_INVALID_ARGUMENT", std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < double(min) || d > double(max)) {
    fail(env, "SV_INVALID_ARGUMENT",
         std::string(name) + " must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<size_t>(d);
}

std::vector<float> floatsArg(Napi::Env env, Napi::Value v, const char* name, size_t dim, size_t* rows) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    fail(env, "SV_INVALID_ARGUMENT", std::string(name) + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  size_t len = a.ElementLength();
  if (a.ArrayBuffer().IsDetached()) fail(env, "SV_INVALID_ARGUMENT", std::string(name) + " is detached");
  if (len == 0 || len % dim != 0) {
    fail(env, "SV_DIMENSION",
         std::string(name) + " has " + std::to_string(len) + " floats, not a multiple of dim " + std::to_string(dim));
  }
  const float* p = a.Data();
  for (size_t i = 0; i < len; i++) {
    if (!std::isfinite(p[i])) {
      fail(env, "SV_NOT_FINITE",
           std::string(name) + " row " + std::to_string(i / dim) + " holds NaN or Infinity at " + std::to_string(i % dim));
    }
  }
  *rows = len / dim;
  return std::vector<float>(p, p + len);
}

std::vector<uint64_t> keysArg(Napi::Env env, Napi::Value v, const char* name) {
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    if (t.ArrayBuffer().IsDetached()) fail(env, "SV_INVALID_ARGUMENT", std::string(name) + " is detached");
    if (t.TypedArrayType() == napi_biguint64_array) {
      auto a = v.As<Napi::TypedArrayOf<uint64_t>>();
      return std::vector<uint64_t>(a.Data(), a.Data() + a.ElementLength());
    }
    if (t.TypedArrayType() == napi_uint32_array) {
      auto a = v.As<Napi::Uint32Array>();
      return std::vector<uint64_t>(a.Data(), a.Data() + a.ElementLength());
    }
  }
  fail(env, "SV_INVALID_ARGUMENT", std::string(name) + " must be a Uint32Array or BigUint64Array");
}

unsigned threadsArg(Napi::Env env, Napi::Value v) {
  if (v.IsUndefined()) return 1;
  return static_cast<unsigned>(sizeArg(env, v, "threads", 1, kMaxThreads));
}

// ---- async workers --------------------------------------------------------------------------------------

// Holds the index alive (and its JS wrapper referenced) until the work completes.
class Work : public Napi::AsyncWorker {
 public:
  Work(Napi::Env env, std::shared_ptr<Core> core, const char* name)
      : Napi::AsyncWorker(env, name), core_(std::move(core)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      Run();
    } catch (const CoreError& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = "SV_OUT_OF_MEMORY";
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = "SV_INTERNAL";
      SetError(e.what());
    }
  }
  virtual void Run() = 0;
  void OnError(const Napi::Error& e) override {
    Napi::Error err = e;
    err.Set("code", Napi::String::New(Env(), code_.empty() ? "SV_INTERNAL" : code_));
    deferred_.Reject(err.Value());
  }
  std::shared_ptr<Core> core_;
  Napi::Promise::Deferred deferred_;
  std::string code_;
};

class AddWork : public Work {
 public:
  AddWork(Napi::Env env, std::shared_ptr<Core> core, std::vector<uint64_t> keys, std::vector<float> vecs, unsigned threads,
          int nice)
      : Work(env, std::move(core), "surgevec.hnsw.add"),
        keys_(std::move(keys)), vecs_(std::move(vecs)), threads_(threads), nice_(nice) {}

 protected:
  void Run() override { core_->add(keys_.data(), vecs_.data(), keys_.size(), threads_, nice_); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  std::vector<uint64_t> keys_;
  std::vector<float> vecs_;
  unsigned threads_;
  int nice_;
};

class SearchWork : public Work {
 public:
  SearchWork(Napi::Env env, std::shared_ptr<Core> core, std::vector<float> queries, size_t nq, size_t k, size_t ef,
             std::vector<uint32_t> efs, Filter filter, bool exact, unsigned threads)
      : Work(env, std::move(core), "surgevec.hnsw.search"),
        queries_(std::move(queries)), nq_(nq), k_(k), ef_(ef), efs_(std::move(efs)), filter_(std::move(filter)),
        exact_(exact), threads_(threads) {}

 protected:
  void Run() override {
    keys_.resize(nq_ * k_);
    dists_.resize(nq_ * k_);
    counts_.resize(nq_);
    core_->search(queries_.data(), nq_, k_, ef_, efs_, filter_, exact_, threads_, keys_.data(), dists_.data(),
                  counts_.data());
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto keys = Napi::TypedArrayOf<uint64_t>::New(env, keys_.size(), napi_biguint64_array);
    std::memcpy(keys.Data(), keys_.data(), keys_.size() * sizeof(uint64_t));
    auto dists = Napi::Float32Array::New(env, dists_.size());
    std::memcpy(dists.Data(), dists_.data(), dists_.size() * sizeof(float));
    auto counts = Napi::Uint32Array::New(env, counts_.size());
    std::memcpy(counts.Data(), counts_.data(), counts_.size() * sizeof(uint32_t));
    Napi::Object out = Napi::Object::New(env);
    out.Set("keys", keys);
    out.Set("distances", dists);
    out.Set("counts", counts);
    out.Set("k", Napi::Number::New(env, double(k_)));
    deferred_.Resolve(out);
  }

 private:
  std::vector<float> queries_;
  size_t nq_, k_, ef_;
  std::vector<uint32_t> efs_;
  Filter filter_;
  bool exact_;
  unsigned threads_;
  std::vector<uint64_t> keys_;
  std::vector<float> dists_;
  std::vector<uint32_t> counts_;
};

class SaveWork : public Work {
 public:
  SaveWork(Napi::Env env, std::shared_ptr<Core> core, std::string file)
      : Work(env, std::move(core), "surgevec.hnsw.save"), file_(std::move(file)) {}

 protected:
  void Run() override {
    try {
      core_->save(file_);
    } catch (const CoreError&) {
      throw;
    } catch (const std::exception& e) {
      throw CoreError("SV_IO", std::string("cannot save the index: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  std::string file_;
};

// ---- the JS class ---------------------------------------------------------------------------------------

class Index : public Napi::ObjectWrap<Index> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeHnsw",
                       {
                           InstanceMethod("addBatch", &Index::AddBatch),
                           InstanceMethod("remove", &Index::Remove),
                           InstanceMethod("get", &Index::Get),
                           InstanceMethod("search", &Index::Search),
                           InstanceMethod("save", &Index::Save),
                           InstanceMethod("keys", &Index::Keys),
                           InstanceMethod("size", &Index::Size),
                           InstanceMethod("capacity", &Index::Capacity),
                           InstanceMethod("memoryUsage", &Index::MemoryUsage),
                           InstanceAccessor("dim", &Index::Dim, nullptr),
                       });
  }

  // new NativeHnsw({space, dim, m, efConstruction, capacity, seed})
  // new NativeHnsw({space, dim, file, extraCapacity})  — loads a file written by save()
  explicit Index(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Index>(info) {
    Napi::Env env = info.Env();
    try {
      if (info.Length() < 1 || !info[0].IsObject()) fail(env, "SV_INVALID_ARGUMENT", "options object expected");
      Napi::Object o = info[0].As<Napi::Object>();
      Napi::Value sp = o.Get("space");
      std::string space = sp.IsString() ? sp.As<Napi::String>().Utf8Value() : "";
      if (space != "ip" && space != "l2") fail(env, "SV_INVALID_ARGUMENT", "space must be 'ip' or 'l2'");
      size_t dim = sizeArg(env, o.Get("dim"), "dim", 1, 65536);
      Napi::Value file = o.Get("file");
      if (file.IsString()) {
        size_t extra = o.Get("extraCapacity").IsUndefined() ? 0 : sizeArg(env, o.Get("extraCapacity"), "extraCapacity", 0, 1ull << 32);
        try {
          core_ = std::make_shared<Core>(space == "ip", dim, file.As<Napi::String>().Utf8Value(), extra);
        } catch (const CoreError& e) {
          fail(env, e.code.c_str(), e.what());
        } catch (const std::exception& e) {
          fail(env, "SV_CORRUPT", std::string("cannot load ") + file.As<Napi::String>().Utf8Value() + ": " + e.what());
        }
        return;
      }
      size_t m = sizeArg(env, o.Get("m"), "m", 2, 256);
      size_t efc = sizeArg(env, o.Get("efConstruction"), "efConstruction", 1, kMaxEf);
      size_t cap = o.Get("capacity").IsUndefined() ? 1024 : sizeArg(env, o.Get("capacity"), "capacity", 1, 1ull << 32);
      size_t seed = o.Get("seed").IsUndefined() ? 100 : sizeArg(env, o.Get("seed"), "seed", 0, 1ull << 32);
      try {
        core_ = std::make_shared<Core>(space == "ip", dim, m, efc, cap, seed);
      } catch (const std::bad_alloc&) {
        fail(env, "SV_OUT_OF_MEMORY", "cannot allocate an index of capacity " + std::to_string(cap));
      }
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
  }

 private:
  // addBatch(keys, vectors, threads?, nice?) → Promise<void>; nice 1..19 builds at that lower thread priority
  Napi::Value AddBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      std::vector<uint64_t> keys = keysArg(env, info[0], "keys");
      size_t rows = 0;
      std::vector<float> vecs = floatsArg(env, info[1], "vectors", core_->dim(), &rows);
      if (rows != keys.size()) {
        fail(env, "SV_DIMENSION", std::to_string(keys.size()) + " keys but " + std::to_string(rows) + " vectors");
      }
      int nice = info[3].IsUndefined() ? 0 : static_cast<int>(sizeArg(env, info[3], "nice", 0, 19));
      auto* w = new AddWork(env, core_, std::move(keys), std::move(vecs), threadsArg(env, info[2]), nice);
      w->Queue();
      return w->Promise();
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  // remove(keys) → number removed (absent or already removed keys are skipped)
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      std::vector<uint64_t> keys = keysArg(env, info[0], "keys");
      return Napi::Number::New(env, double(core_->remove(keys.data(), keys.size())));
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  // get(keys) → {vectors: Float32Array (NaN rows for absent keys), found: Uint8Array}
  Napi::Value Get(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      std::vector<uint64_t> keys = keysArg(env, info[0], "keys");
      auto out = Napi::Float32Array::New(env, keys.size() * core_->dim());
      auto found = Napi::Uint8Array::New(env, keys.size());
      core_->get(keys.data(), keys.size(), out.Data(), found.Data());
      Napi::Object r = Napi::Object::New(env);
      r.Set("vectors", out);
      r.Set("found", found);
      return r;
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  // search(queries, k, {ef, efs?: Uint32Array (one ef per query), filter?: Uint8Array bitset, filterBase?, allow?: keys,
  // exact?, threads?}) → Promise<{keys, distances, counts, k}>
  Napi::Value Search(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      size_t nq = 0;
      std::vector<float> queries = floatsArg(env, info[0], "queries", core_->dim(), &nq);
      size_t k = sizeArg(env, info[1], "k", 1, kMaxK);
      Napi::Object o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
      size_t ef = o.Get("ef").IsUndefined() ? 64 : sizeArg(env, o.Get("ef"), "ef", 1, kMaxEf);
      std::vector<uint32_t> efs;
      Napi::Value efsArg = o.Get("efs");
      if (!efsArg.IsUndefined() && !efsArg.IsNull()) {
        if (!efsArg.IsTypedArray() || efsArg.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
          fail(env, "SV_INVALID_ARGUMENT", "efs must be a Uint32Array");
        }
        auto a = efsArg.As<Napi::Uint32Array>();
        if (a.ArrayBuffer().IsDetached()) fail(env, "SV_INVALID_ARGUMENT", "efs is detached");
        if (a.ElementLength() != nq) {
          fail(env, "SV_INVALID_ARGUMENT", "efs has " + std::to_string(a.ElementLength()) + " entries for " +
                                               std::to_string(nq) + " queries");
        }
        efs.assign(a.Data(), a.Data() + nq);
        for (uint32_t& e : efs) {
          if (e < 1 || e > kMaxEf) fail(env, "SV_INVALID_ARGUMENT", "efs entries must be in 1.." + std::to_string(kMaxEf));
        }
      }
      Filter filter;
      Napi::Value bits = o.Get("filter");
      if (!bits.IsUndefined() && !bits.IsNull()) {
        if (!bits.IsTypedArray() || bits.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
          fail(env, "SV_INVALID_ARGUMENT", "filter must be a Uint8Array bitset");
        }
        auto b = bits.As<Napi::Uint8Array>();
        if (b.ArrayBuffer().IsDetached()) fail(env, "SV_INVALID_ARGUMENT", "filter is detached");
        filter.bits.assign(b.Data(), b.Data() + b.ElementLength());
        filter.hasBits = true;
        Napi::Value fb = o.Get("filterBase");
        filter.base = fb.IsUndefined() ? 0 : sizeArg(env, fb, "filterBase", 0, 1ull << 53);
      }
      Napi::Value allow = o.Get("allow");
      if (!allow.IsUndefined() && !allow.IsNull()) {
        std::vector<uint64_t> keys = keysArg(env, allow, "allow");
        filter.allow.insert(keys.begin(), keys.end());
        filter.hasAllow = true;
      }
      bool exact = o.Get("exact").ToBoolean().Value();
      // Never ask for more than the index holds: k sizes the output arrays.
      k = std::max<size_t>(1, std::min(k, core_->size()));
      auto* w = new SearchWork(env, core_, std::move(queries), nq, k, ef, std::move(efs), std::move(filter), exact,
                               threadsArg(env, o.Get("threads")));
      w->Queue();
      return w->Promise();
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  // save(file) → Promise<void>, written on the pool beside searches (adds wait)
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
      Napi::Error e = Napi::TypeError::New(env, "file must be a string");
      e.Set("code", Napi::String::New(env, "SV_INVALID_ARGUMENT"));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto* w = new SaveWork(env, core_, info[0].As<Napi::String>().Utf8Value());
    w->Queue();
    return w->Promise();
  }

  // keys() → BigUint64Array of the live keys
  Napi::Value Keys(const Napi::CallbackInfo& info) {
    std::vector<uint64_t> keys = core_->keys();
    auto out = Napi::TypedArrayOf<uint64_t>::New(info.Env(), keys.size(), napi_biguint64_array);
    std::memcpy(out.Data(), keys.data(), keys.size() * sizeof(uint64_t));
    return out;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(core_->size())); }
  Napi::Value Capacity(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(core_->capacity()));
  }
  Napi::Value MemoryUsage(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(core_->memoryBytes()));
  }
  Napi::Value Dim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(core_->dim())); }

  std::shared_ptr<Core> core_;
};

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeHnsw", Index::Init(env));
  exports.Set("simd", Napi::String::New(env,
#if defined(__AVX512F__)
                                        "avx512"
#elif defined(__AVX__)
                                        "avx"
#elif defined(__SSE__)
                                        "sse"
#else
                                        "none"
#endif
                                        ));
  return exports;
}

}  // namespace

NODE_API_MODULE(surgevec_hnsw, InitModule)
