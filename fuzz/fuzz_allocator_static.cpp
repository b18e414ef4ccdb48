// StaticPageAllocator under a fuzzer-chosen call sequence, checked step by
// step against the model (allocator_driver.hpp), over a right or wrongly
// shaped caller buffer pre-filled with a non-zero pattern.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>

#include "allocator_driver.hpp"
#include "static_buffer.hpp"

using namespace wrt::platform;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::uint32_t limit_pages = 0;
  auto allocator = fuzz::create_static_allocator(in, limit_pages);
  if (!allocator) return 0;
  fuzz::NoOsFaults no_faults;
  fuzz::AllocatorDriver driver(*allocator,
                               {.limit_pages = limit_pages,
                                .guard_bytes = std::nullopt,
                                .calls_os = false,
                                .moved_from_can_allocate = false},
                               no_faults);
  driver.run(in);
  return 0;
}
