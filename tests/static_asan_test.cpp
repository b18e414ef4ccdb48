// StaticPageAllocator under AddressSanitizer (A10 for the no-MMU backend).
// Nothing faults on a stray access into a caller buffer, so the allocator
// poisons every byte that is not committed (ASan manual poisoning, see
// src/allocator/static_page_allocator.cpp). These death tests prove ASan reports a use
// of uncommitted and of released static memory, and that committed, grown
// and handed-back bytes stay usable. Skipped in builds without ASan.
#include <gtest/gtest.h>

#include <cstddef>
#include <utility>

#include "wrt/platform.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WRT_PLATFORM_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WRT_PLATFORM_TEST_ASAN 1
#endif

namespace wrt::platform {
namespace {

constexpr std::uint32_t kPages = 4;
alignas(kWasmPageSize) std::byte g_buffer[kPages * kWasmPageSize];

// A write the optimiser cannot drop or move past the death-test boundary.
void touch(std::byte* p) { *static_cast<volatile std::byte*>(p) = std::byte{0x5a}; }

// ASan's report names the kind of bad access; manual poisoning is "use-after-poison".
constexpr char kReport[] = "AddressSanitizer: use-after-poison";

class StaticAsan : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef WRT_PLATFORM_TEST_ASAN
    GTEST_SKIP() << "needs AddressSanitizer (cmake --preset asan)";
#endif
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }

  StaticPageAllocator make() {
    auto a = StaticPageAllocator::create(g_buffer, {.maximum_pages = kPages});
    EXPECT_TRUE(a) << a.error().message();
    return std::move(*a);
  }
};

TEST_F(StaticAsan, A10_A15_UseOfUncommittedStaticMemoryIsReported) {
  auto a = make();
  auto m = a.allocate(1, kPages);
  ASSERT_TRUE(m) << m.error().message();
  touch(m->base + kWasmPageSize - 1);  // the last committed byte: fine
  EXPECT_DEATH(touch(m->base + kWasmPageSize), kReport);
  EXPECT_DEATH(touch(m->base + kPages * kWasmPageSize - 1), kReport);
}

TEST_F(StaticAsan, A10_A15_UseOfReleasedStaticMemoryIsReported) {
  auto a = make();
  auto m = a.allocate(2, kPages);
  ASSERT_TRUE(m) << m.error().message();
  std::byte* const base = m->base;
  touch(base);
  ASSERT_TRUE(a.deallocate(base, m->committed_bytes));
  EXPECT_DEATH(touch(base), kReport);
  EXPECT_DEATH(touch(base + 2 * kWasmPageSize - 1), kReport);
}

TEST_F(StaticAsan, A10_A15_GrowMakesTheNewPageUsable) {
  auto a = make();
  auto m = a.allocate(1, kPages);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_TRUE(a.grow(1, 1));
  touch(m->base + 2 * kWasmPageSize - 1);  // no report: committed by grow
  EXPECT_DEATH(touch(m->base + 2 * kWasmPageSize), kReport);
}

TEST_F(StaticAsan, A15_DestroyedAllocatorHandsTheBufferBackUsable) {
  {
    auto a = make();
    ASSERT_TRUE(a.allocate(1, kPages));
  }
  for (std::size_t i = 0; i < sizeof g_buffer; i += kWasmPageSize / 2) touch(g_buffer + i);
  touch(g_buffer + sizeof g_buffer - 1);
}

}  // namespace
}  // namespace wrt::platform
