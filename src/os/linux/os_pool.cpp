// The memory pool's system calls on Linux. See docs/SAFETY.md, "Memory pool".
#include "os/os_pool.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "os/posix/os_call.hpp"

namespace wrt::platform::prim {

Result<void> discard(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Madvise, [&] { return madvise(p, bytes, MADV_DONTNEED) == 0; });
  if (error != 0) return tl::unexpected(os_error(error, "madvise: returning pages failed"));
  return {};
}

Result<void> decommit(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Mprotect, [&] { return mprotect(p, bytes, PROT_NONE) == 0; });
  if (error != 0) return tl::unexpected(os_error(error, "mprotect: decommitting pages failed"));
  return {};
}

namespace {

Result<void> map_fixed(std::byte* p, std::size_t bytes, int protection, int flags, int fd,
                       const char* message) noexcept {
  const int error = os_call(OsCall::MapFixed, [&] {
    return mmap(p, bytes, protection, MAP_PRIVATE | MAP_FIXED | flags, fd, 0) != MAP_FAILED;
  });
  if (error != 0) return tl::unexpected(os_error(error, message));
  return {};
}

}  // namespace

Result<void> map_file_private(std::byte* p, std::size_t bytes, int fd) noexcept {
  return map_fixed(p, bytes, PROT_READ | PROT_WRITE, 0, fd, "mmap: mapping an image failed");
}

Result<void> map_reserved(std::byte* p, std::size_t bytes) noexcept {
  return map_fixed(p, bytes, PROT_NONE, MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   "mmap: restoring a slot's reservation failed");
}

Result<int> create_image_file(std::span<const std::byte> data, std::size_t data_offset,
                              std::size_t file_bytes) noexcept {
  int fd = -1;
  int error = os_call(OsCall::MemfdCreate, [&] {
    fd = memfd_create("wrt-memory-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd >= 0;
  });
  if (error != 0) return tl::unexpected(os_error(error, "memfd_create: creating an image failed"));
  error = os_call(OsCall::Ftruncate,
                  [&] { return ftruncate(fd, static_cast<off_t>(file_bytes)) == 0; });
  const char* message = "ftruncate: sizing an image failed";
  // tmpfs writes are not interrupted by signals; a short write only moves on.
  for (std::size_t written = 0; error == 0 && written < data.size();) {
    ssize_t n = -1;
    error = os_call(OsCall::Pwrite, [&] {
      n = pwrite(fd, data.data() + written, data.size() - written,
                 static_cast<off_t>(data_offset + written));
      return n >= 0;
    });
    message = "pwrite: filling an image failed";
    if (error == 0) written += static_cast<std::size_t>(n);
  }
  // Sealed once full (S7): no one, not even a holder of the descriptor, can
  // change or resize what live memories map. No shared writable mapping of
  // the file exists (F_SEAL_WRITE would fail with EBUSY): it was filled with
  // pwrite and is only ever mapped MAP_PRIVATE.
  if (error == 0) {
    error = os_call(OsCall::AddSeals, [&] {
      return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
    });
    message = "fcntl: sealing an image failed";
  }
  if (error != 0) {
    close_file(fd);
    return tl::unexpected(os_error(error, message));
  }
  return fd;
}

void close_file(int fd) noexcept { (void)close(fd); }

}  // namespace wrt::platform::prim
