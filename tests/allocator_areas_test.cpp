// A10 on Linux: how many memory areas (VMAs, the lines of /proc/self/maps)
// a one-page memory adds. Linux (6.7 on, with transparent huge pages built
// in) places an anonymous mapping whose length is a multiple of 2 MiB at a
// 2 MiB boundary; the allocator rounds its mapping to that (kMappingGranule,
// src/allocator/page_policy.hpp), so base is the mapping's start and
// committing the first page splits the mapping in two areas, as raw mmap +
// mprotect do, not three (the slack before base). Where the kernel does not align (older kernels,
// 64 KiB-page arm64, qemu-user) the slack stays and the test skips, saying so; the policy tests
// check base and the layout for both placements.
#include <gtest/gtest.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <cstddef>
#include <cstdint>

#include "allocator_test_support.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::alloc_test {
namespace {

#ifdef __linux__

constexpr std::size_t kTwoMiB = std::size_t{2} << 20;

// Whether this kernel puts an anonymous inaccessible mapping whose length is
// a multiple of 2 MiB (that of the raw calls in bench/allocator_bench.cpp) at
// a 2 MiB boundary.
bool kernel_aligns_2_mib_multiples() {
  // 6 GiB; never called where size_t has 32 bits.
  constexpr auto kBytes = static_cast<std::size_t>(std::uint64_t{6} << 30);
  void* p = mmap(nullptr, kBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool aligned = reinterpret_cast<std::uintptr_t>(p) % kTwoMiB == 0;
  munmap(p, kBytes);
  return aligned;
}

TEST(MmapPageAllocatorAreas, A10_AOnePageMemoryIsTwoAreasWhereLinuxAlignsItsMapping) {
  WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB();
  if (!kMappingsAreOurs) GTEST_SKIP() << "ThreadSanitizer maps memory of its own at any time";
  if (!kernel_aligns_2_mib_multiples())
    GTEST_SKIP() << "this kernel does not align a mapping of a multiple of 2 MiB: base lies "
                    "after the slack, in a third area";
  const PageAllocatorConfig config{.guard_bytes = std::size_t{2} << 30};  // the benchmark's

  // Warm up whatever the first memory allocates (the trap registry's entry,
  // the C++ runtime's buffers for reading /proc).
  {
    MmapPageAllocator warm(config);
    ASSERT_TRUE(warm.allocate(1, 65536));
    (void)read_mappings();
  }
  const std::size_t before = read_mappings().size();
  MmapPageAllocator a(config);
  const auto m = a.allocate(1, 65536);
  ASSERT_TRUE(m) << m.error().message();
  const std::size_t after = read_mappings().size();
  // Fewer when an area merges with a neighbour of the same protection.
  EXPECT_LE(after, before + 2) << "the slack before base is an area of its own";
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->base) % kTwoMiB, 0u)
      << "base is not the (2 MiB-aligned) start of the mapping";
  ASSERT_TRUE(a.deallocate(m->base, m->committed_bytes));
}

#else

TEST(MmapPageAllocatorAreas, A10_NeedsLinux) {
  GTEST_SKIP() << "the kernel's placement of mappings and /proc/self/maps are Linux's";
}

#endif

}  // namespace
}  // namespace wrt::platform::alloc_test
