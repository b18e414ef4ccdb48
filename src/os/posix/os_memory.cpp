// POSIX virtual memory (Linux, macOS). See docs/SAFETY.md, "Memory".
#include <sys/mman.h>
#include <unistd.h>

#include "os/os_memory.hpp"
#include "os/posix/os_call.hpp"

namespace wrt::platform::prim {
namespace {

// MAP_NORESERVE keeps a reservation out of the commit charge on Linux;
// platforms without it reserve lazily anyway.
#ifdef MAP_NORESERVE
constexpr int kNoReserve = MAP_NORESERVE;
#else
constexpr int kNoReserve = 0;
#endif

}  // namespace

std::size_t os_page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

Result<std::byte*> reserve(std::size_t bytes) noexcept {
  void* p = MAP_FAILED;
  const int error = os_call(OsCall::Mmap, [&] {
    p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANON | kNoReserve, -1, 0);
    return p != MAP_FAILED;
  });
  if (error != 0) return tl::unexpected(os_error(error, "mmap: reserving address space failed"));
  return static_cast<std::byte*>(p);
}

Result<void> commit(std::byte* p, std::size_t bytes) noexcept {
  const int error =
      os_call(OsCall::Mprotect, [&] { return mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0; });
  if (error != 0) return tl::unexpected(os_error(error, "mprotect: committing pages failed"));
  return {};
}

Result<void> release(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Munmap, [&] { return munmap(p, bytes) == 0; });
  if (error != 0)
    return tl::unexpected(os_error(error, "munmap: releasing the reservation failed"));
  return {};
}

}  // namespace wrt::platform::prim
