// The CPU allocator: plain malloc, aligned by hand. LibTorch's default (posix_memalign) did not
// reuse freed blocks here and RSS grew every training step (SPEC §11); this keeps it flat.
#include "common.h"

#include <c10/core/CPUAllocator.h>

#include <malloc.h>

#include <cstdlib>

namespace trm {

namespace {

constexpr size_t kAlignment = 64;

void FreeAligned(void* p) {
  if (p) std::free(static_cast<void**>(p)[-1]);
}

struct MallocAllocator final : c10::Allocator {
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 3
  c10::DataPtr allocate(size_t n) override {
#else
  c10::DataPtr allocate(size_t n) const override {
#endif
    void* raw = std::malloc(n + kAlignment + sizeof(void*));
    if (!raw) throw std::bad_alloc();
    uintptr_t base = reinterpret_cast<uintptr_t>(raw) + sizeof(void*);
    void* aligned = reinterpret_cast<void*>((base + kAlignment - 1) & ~(kAlignment - 1));
    static_cast<void**>(aligned)[-1] = raw;
    return {aligned, aligned, &FreeAligned, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &FreeAligned; }
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 3
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#endif
};

}  // namespace

void InstallAllocator() {
  static MallocAllocator allocator;
  static bool installed = false;
  if (installed) return;
  installed = true;
  // Keep big blocks on the heap and freed memory mapped: re-faulting pages each step was costly.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  c10::SetCPUAllocator(&allocator, /*priority=*/1);
}

}  // namespace trm
