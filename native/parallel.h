// Work split across ATen's threads by claiming: what the fused kernels use instead of
// at::parallel_for's equal shares.
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace trm {

// Runs thread_body(next) once on each of ATen's threads (no more than n); next(i) hands that
// thread the next unclaimed index of [0, n), false once none are left. A thread that runs slower
// takes fewer: on a shared host one core can run at half the other's speed for minutes (a busy
// sibling hyperthread), and with equal shares the fast one waits. Per-thread setup (scratch
// blocks, the tile configuration) goes in thread_body before the claims.
template <typename F>
void ParallelClaims(int64_t n, const F& thread_body) {
  std::atomic<int64_t> unclaimed{0};
  auto next = [&](int64_t& i) { return (i = unclaimed.fetch_add(1, std::memory_order_relaxed)) < n; };
  const int64_t threads = std::min<int64_t>(at::in_parallel_region() ? 1 : at::get_num_threads(), n);
  if (threads <= 1) return thread_body(next);
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) { thread_body(next); });
}

// f(begin, end) over [0, n) in claimed chunks of `chunk` indices (as at::parallel_for's f).
template <typename F>
void ParallelFor(int64_t n, int64_t chunk, const F& f) {
  ParallelClaims((n + chunk - 1) / chunk, [&](auto next) {
    for (int64_t c; next(c);) f(c * chunk, std::min(n, (c + 1) * chunk));
  });
}

}  // namespace trm
