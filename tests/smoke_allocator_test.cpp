#include <gtest/gtest.h>

#include "wrt/platform.hpp"

using namespace wrt::platform;

TEST(Smoke, A1_MmapAllocateCommitsZeroedPages) {
  MmapPageAllocator a;
  auto m = a.allocate(2, 4);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->committed_bytes, 2 * kWasmPageSize);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->base) % kWasmPageSize, 0u);
  for (std::size_t i = 0; i < m->committed_bytes; i += 4096) EXPECT_EQ(m->base[i], std::byte{0});
  ASSERT_TRUE(a.grow(2, 2));
  m->base[4 * kWasmPageSize - 1] = std::byte{7};
  EXPECT_EQ(a.grow(4, 1).error().code(), ErrorCode::CapacityExceeded);
  EXPECT_TRUE(a.deallocate(m->base, 4 * kWasmPageSize));
}
