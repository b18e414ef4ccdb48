// MmapPageAllocator under a fuzzer-chosen call sequence, checked step by
// step against the model (allocator_driver.hpp). Small configs (at most 16
// pages) keep every execution to a few system calls.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "allocator_driver.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

using namespace wrt::platform;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  PageAllocatorConfig config;
  config.maximum_pages = in.ConsumeIntegralInRange<std::uint32_t>(0, 16);
  config.guard_bytes = fuzz::pick_guard_bytes(in);
  MmapPageAllocator allocator(config);
  fuzz::NoOsFaults no_faults;
  fuzz::AllocatorDriver driver(allocator,
                               {.limit_pages = config.maximum_pages,
                                .guard_bytes = config.guard_bytes,
                                .calls_os = true,
                                .moved_from_can_allocate = true},
                               no_faults);
  driver.run(in);
  return 0;
}
