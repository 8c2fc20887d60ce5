// Memory-mapped files as tensors: a dataset's .npy arrays become tensors without a copy, so a
// multi-GB dataset costs address space, not RSS (SPEC §11).
#include "common.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trm {

// mmapFile(path, byteOffset, dtype, shape): a tensor over the file's bytes from byteOffset on.
// Private copy-on-write mapping: an in-place op on it never writes the file (and a read-only
// mapping would segfault on one).
static Napi::Value MmapFile(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "mmapFile path");
  int64_t offset = IntArg(info, 1, "mmapFile byte offset");
  c10::ScalarType dtype = ParseDtype(StringArg(info, 2, "mmapFile dtype"));
  std::vector<int64_t> shape = IntListArg(info, 3, "mmapFile shape");
  int64_t numel = Numel(shape, "mmapFile shape");
  if (offset < 0 || offset % static_cast<int64_t>(c10::elementSize(dtype)) != 0) {
    throw std::invalid_argument("mmapFile: byte offset " + std::to_string(offset) + " is not aligned to " + DtypeName(dtype));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot stat '" + path + "': " + std::strerror(err));
  }
  size_t bytes = static_cast<size_t>(numel) * c10::elementSize(dtype);
  if (static_cast<size_t>(st.st_size) < offset + bytes) {
    ::close(fd);
    throw std::runtime_error("'" + path + "' is truncated: " + std::to_string(offset + bytes) + " bytes needed, " +
                             std::to_string(st.st_size) + " present");
  }
  size_t length = offset + bytes;
  void* base = length ? ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : nullptr;
  int err = errno;
  ::close(fd);  // the mapping stays valid without the descriptor
  if (base == MAP_FAILED) throw std::runtime_error("cannot map '" + path + "': " + std::strerror(err));
  // Batches gather scattered rows: without this the kernel reads ahead ~64 KiB around each row
  // and RSS grows with every batch.
  if (base) ::madvise(base, length, MADV_RANDOM);
  if (!base) return NewTensor(info.Env(), at::empty(shape, at::TensorOptions().dtype(dtype)));
  at::Tensor t = at::from_blob(
      static_cast<uint8_t*>(base) + offset, shape, [base, length](void*) { ::munmap(base, length); },
      at::TensorOptions().dtype(dtype));
  return NewTensor(info.Env(), std::move(t));
}

void InitData(Napi::Env env, Napi::Object exports) { TRM_EXPORT(exports, "mmapFile", MmapFile); }

}  // namespace trm
