// An unshared memory's load and store check against a plain copy of its
// byte length (docs/SPEC.md W3): it must follow every grow and move, and a
// shared memory must never take that path (its accesses are atomics, E).
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

#include "linear_memory_test_support.hpp"

namespace wrt::platform::linear_memory_testing {
namespace {

template <typename A>
using LinearMemoryUnsharedLength = LinearMemoryTest<A>;
TYPED_TEST_SUITE(LinearMemoryUnsharedLength, Backends, BackendName);

// The last u32 below byte_length() loads and stores; the next one is
// OutOfBounds both ways.
template <typename M>
void expect_accessible_up_to_its_length(M& memory) {
  const std::uint64_t end = memory.byte_length();
  ASSERT_GE(end, 4u);
  EXPECT_TRUE(memory.template store<std::uint32_t>(end - 4, 0x01020304u).has_value());
  EXPECT_EQ(memory.template load<std::uint32_t>(end - 4).value_or(0), 0x01020304u);
  EXPECT_EQ(code_of(memory.template load<std::uint32_t>(end - 3)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template store<std::uint32_t>(end - 3, 1)), ErrorCode::OutOfBounds);
}

TYPED_TEST(LinearMemoryUnsharedLength, W3_LoadAndStoreFollowEveryGrowOfAnUnsharedMemory) {
  auto memory = this->make(MemoryType{1, 3, false});
  expect_accessible_up_to_its_length(memory);
  ASSERT_EQ(memory.grow(2).value_or(99), 1u);
  expect_accessible_up_to_its_length(memory);
}

TYPED_TEST(LinearMemoryUnsharedLength, W3_AMovedFromUnsharedMemoryLoadsAndStoresNothing) {
  auto memory = this->make(MemoryType{1, 1, false});
  auto moved = std::move(memory);
  expect_accessible_up_to_its_length(moved);
  // NOLINTBEGIN(bugprone-use-after-move): the contract of a move
  EXPECT_EQ(code_of(memory.template load<std::uint8_t>(0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template store<std::uint8_t>(0, 1)), ErrorCode::OutOfBounds);
  // NOLINTEND(bugprone-use-after-move)
  // Assigned over a larger memory, it has its own length, not the larger one.
  auto larger = this->make(MemoryType{3, 3, false});
  larger = std::move(moved);
  expect_accessible_up_to_its_length(larger);
  EXPECT_EQ(larger.byte_length(), kWasmPageSize);
}

TYPED_TEST(LinearMemoryUnsharedLength, W3_ASharedMemoryStillChecksEveryAccessAgainstItsSize) {
  auto memory = this->make(shared_type(1, 2));
  expect_accessible_up_to_its_length(memory);
  ASSERT_EQ(memory.grow(1).value_or(99), 1u);
  expect_accessible_up_to_its_length(memory);
}

}  // namespace
}  // namespace wrt::platform::linear_memory_testing
