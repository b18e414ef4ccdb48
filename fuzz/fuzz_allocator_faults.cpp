// Both allocator backends with OS failures injected through the system-call
// seam: the input picks the failing call (mmap, mprotect, munmap), the errno
// and when it fails. Every failed call must map the errno (ENOMEM ->
// OutOfMemory, else SystemError, os_errno set), leave the observers and the
// written bytes unchanged and leave nothing mapped (A12); StaticPageAllocator
// must never reach the OS at all (A15). Needs WRT_PLATFORM_FAULT_INJECTION.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "allocator_driver.hpp"
#include "os_faults.hpp"
#include "static_buffer.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

using namespace wrt::platform;

namespace {

void fuzz_mmap(FuzzedDataProvider& in) {
  PageAllocatorConfig config;
  config.maximum_pages = in.ConsumeIntegralInRange<std::uint32_t>(0, 16);
  config.guard_bytes = fuzz::pick_guard_bytes(in);
  MmapPageAllocator allocator(config);
  fuzz::OsFaultPlan faults;  // declared after the allocator: disarmed before it is destroyed
  fuzz::AllocatorDriver driver(allocator,
                               {.limit_pages = config.maximum_pages,
                                .guard_bytes = config.guard_bytes,
                                .calls_os = true,
                                .moved_from_can_allocate = true},
                               faults);
  driver.run(in);
}

void fuzz_static(FuzzedDataProvider& in) {
  std::uint32_t limit_pages = 0;
  auto allocator = fuzz::create_static_allocator(in, limit_pages);
  if (!allocator) return;
  fuzz::OsFaultPlan faults;
  fuzz::AllocatorDriver driver(*allocator,
                               {.limit_pages = limit_pages,
                                .guard_bytes = std::nullopt,
                                .calls_os = false,
                                .moved_from_can_allocate = false},
                               faults);
  driver.run(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool())
    fuzz_static(in);
  else
    fuzz_mmap(in);
  return 0;
}
