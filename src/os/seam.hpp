// The one seam between wrt-platform and the operating system.
//
// Every system call site asks intercept() first. In normal builds intercept()
// is a constant 0 and compiles away. In test builds
// (WRT_PLATFORM_FAULT_INJECTION) it counts the call and may answer with an
// errno, which the call site then reports exactly as if the OS had failed:
// that is how tests prove the strong guarantee on OS failures they cannot
// cause for real (see fault_injection.hpp).
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace wrt::platform::prim {

enum class OsCall : unsigned {
  Mmap,
  Mprotect,
  Munmap,
  FutexWait,
  FutexWake,
  // The trap handler's sigaction calls (os_traps.hpp); on Windows its
  // TlsAlloc and AddVectoredExceptionHandler.
  Sigaction,
  // Memory pool (os_pool.hpp): madvise, mmap with MAP_FIXED over a slot,
  // the three calls that fill an image's memory file and the fcntl that
  // seals it.
  Madvise,
  MapFixed,
  MemfdCreate,
  Ftruncate,
  Pwrite,
  AddSeals,
  // Memory pool, Linux: the PAGEMAP_SCAN ioctl that finds a slot's dirty kept
  // pages, and the one open of /proc/self/pagemap it needs.
  PagemapScan,
  // The library's heap allocations (heap_new below: the trap registry's
  // entries and nodes, the C ABI's handles): not a system call, but a
  // resource a test cannot exhaust on demand.
  HeapAlloc,
};
inline constexpr std::size_t kOsCallCount = 14;

#ifdef WRT_PLATFORM_FAULT_INJECTION
// Runs the test's hook for `call`, if any (fault::before), then counts
// `call`; returns the errno to fail it with, or 0 to make the real call.
int intercept(OsCall call) noexcept;
// The trap handler, after a fault and before it looks the address up: runs
// the test's hook, if any (fault::before_trap_lookup), so that a test can
// let a grow commit and publish in between (the Retry race, T1/T6).
void trap_lookup_pause() noexcept;
#else
constexpr int intercept(OsCall) noexcept { return 0; }
constexpr void trap_lookup_pause() noexcept {}
#endif

// A new T made from `args`, or nullptr when the heap is exhausted (or a test
// says so through the seam, OsCall::HeapAlloc). Every heap allocation of
// the library whose failure it reports goes through here.
template <typename T, typename... Args>
T* heap_new(Args&&... args) noexcept {
  if (intercept(OsCall::HeapAlloc) != 0) return nullptr;
  return new (std::nothrow) T{std::forward<Args>(args)...};
}

}  // namespace wrt::platform::prim
