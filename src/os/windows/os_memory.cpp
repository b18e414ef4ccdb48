// Windows virtual memory: the functions of os_memory.hpp on VirtualAlloc and
// VirtualFree, so MmapPageAllocator works unchanged. See docs/SAFETY.md,
// "Memory". The seam's Mmap, Mprotect and Munmap stand for reserve, commit
// and release here, and an injected error is a GetLastError() code.
#ifdef _WIN32

#ifndef NOMINMAX
#define NOMINMAX  // <windows.h> must not define min and max macros
#endif
#include <windows.h>

#include "os/os_memory.hpp"
#include "os/seam.hpp"

namespace wrt::platform::prim {
namespace {

// Makes the call unless the seam fails it. Returns 0 on success, else
// GetLastError(), read before anything else can overwrite it.
template <typename Call>
int os_call(OsCall which, Call&& call) noexcept {
  if (const int injected = intercept(which)) return injected;
  return call() ? 0 : static_cast<int>(GetLastError());
}

// The codes Windows gives when memory or the commit limit is exhausted.
Error os_error(int error, const char* message) noexcept {
  const bool out_of_memory = error == ERROR_NOT_ENOUGH_MEMORY || error == ERROR_OUTOFMEMORY ||
                             error == ERROR_COMMITMENT_LIMIT;
  return Error(out_of_memory ? ErrorCode::OutOfMemory : ErrorCode::SystemError, message, error);
}

}  // namespace

std::size_t os_page_size() noexcept {
  static const std::size_t size = [] {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return static_cast<std::size_t>(info.dwPageSize);
  }();
  return size;
}

Result<std::byte*> reserve(std::size_t bytes) noexcept {
  void* p = nullptr;
  const int error = os_call(OsCall::Mmap, [&] {
    p = VirtualAlloc(nullptr, bytes, MEM_RESERVE, PAGE_NOACCESS);
    return p != nullptr;
  });
  if (error != 0)
    return tl::unexpected(os_error(error, "VirtualAlloc: reserving address space failed"));
  return static_cast<std::byte*>(p);
}

Result<void> commit(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Mprotect, [&] {
    return VirtualAlloc(p, bytes, MEM_COMMIT, PAGE_READWRITE) != nullptr;
  });
  if (error != 0) return tl::unexpected(os_error(error, "VirtualAlloc: committing pages failed"));
  return {};
}

// MEM_RELEASE frees the whole reservation made at `p` and wants size 0.
Result<void> release(std::byte* p, std::size_t /*bytes*/) noexcept {
  const int error = os_call(OsCall::Munmap, [&] { return VirtualFree(p, 0, MEM_RELEASE) != 0; });
  if (error != 0)
    return tl::unexpected(os_error(error, "VirtualFree: releasing the reservation failed"));
  return {};
}

}  // namespace wrt::platform::prim

#endif  // _WIN32
