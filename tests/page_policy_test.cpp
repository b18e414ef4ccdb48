// Pinned edges of the allocator policy (src/allocator/page_policy.hpp) that the random
// properties of proptests/page_policy_prop.cpp check only by chance: the
// exact 65536-page and size_t limits (evaluated at compile time, which also
// proves the policy usable in constant expressions), and what the properties
// do not look at: every policy error names its operation and carries no errno.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "allocator/page_policy.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::detail {
namespace {

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kPage = kWasmPageSize;

#if SIZE_MAX > UINT32_MAX
// A5: 65536 pages is 2^32 bytes (the Rust crate's u32 arithmetic wraps here).
static_assert(pages_to_bytes(65536) == std::size_t{1} << 32);
static_assert(pages_to_bytes(kU32Max) == std::size_t{kU32Max} * kPage);
#else
// X1: with a 32-bit size_t, 65535 pages are the most whose bytes fit, and
// 65536 pages (2^32 bytes) do not: nothing wraps to 0.
static_assert(pages_to_bytes(65535) == std::size_t{0xffff0000u});
static_assert(!pages_to_bytes(65536));
static_assert(!pages_to_bytes(kU32Max));
#endif
// A5: the last page count whose bytes fit size_t, and the first that does not.
static_assert(pages_to_bytes(kSizeMax / kPage) == kSizeMax / kPage * kPage);
static_assert(!pages_to_bytes(kSizeMax / kPage + 1));
static_assert(checked_add(kSizeMax, 0) == kSizeMax);
static_assert(!checked_add(kSizeMax, 1));
static_assert(!checked_add(1, kSizeMax));
// A10: the guard is rounded up to the OS page; rounding never wraps.
static_assert(round_up(0, 4096) == 0);
static_assert(round_up(1, 4096) == 4096);
static_assert(round_up(kSizeMax - 4095, 4096) == kSizeMax - 4095);
static_assert(!round_up(kSizeMax - 4094, 4096));
static_assert(round_up(kSizeMax, 1) == kSizeMax);

// A1/A10: a memory of 4 GiB + a 2 GiB guard (the benchmark's) maps a whole
// number of 2 MiB, so that Linux aligns the mapping and base is its start,
// and holds at least kWasmPageSize of slack for an OS that aligns only to
// its page. A5: rounding the length up to the granule is overflow-checked.
#if SIZE_MAX > UINT32_MAX
constexpr std::size_t kGiB = std::size_t{1} << 30;
constexpr std::size_t kMiB = std::size_t{1} << 20;
static_assert(kMappingGranule == 2 * kMiB);
constexpr auto kBenchLayout = plan_mapping(4 * kGiB, 0, 2 * kGiB, 4096);
static_assert((*kBenchLayout).reservation_bytes == 4 * kGiB);
static_assert((*kBenchLayout).guarded_bytes == 6 * kGiB);
static_assert((*kBenchLayout).mapping_bytes == 6 * kGiB + 2 * kMiB);
// Fits with the slack, wraps when rounded up to 2 MiB.
static_assert(!plan_mapping(0, 0, kSizeMax - 2 * kPage + 1, 4096));
#else
// X1: no rounding where size_t has 32 bits (Linux does not align there).
static_assert(kMappingGranule == 1);
static_assert((*plan_mapping(kPage, 0, 4096, 4096)).mapping_bytes == 2 * kPage + 4096);
#endif
static_assert(!plan_mapping(0, 0, kSizeMax - kPage + 2, 4096));
static_assert(!plan_mapping(0, kSizeMax, 0, 4096));
// A1: base is the mapping's start when the OS aligned it, else the next
// kWasmPageSize boundary (at most kWasmPageSize - one OS page further).
static_assert(base_offset(0) == 0);
static_assert(base_offset(5 * kPage) == 0);
static_assert(base_offset(5 * kPage + 4096) == kPage - 4096);
static_assert(base_offset(6 * kPage - 4096) == 4096);

// A4/A5: a memory without a maximum reserves the whole 65536-page limit.
constexpr LinearMemoryState kNotAllocated{};
constexpr auto kWithoutMaximum = plan_allocate(kNotAllocated, 0, std::nullopt, 65536);
#if SIZE_MAX > UINT32_MAX
static_assert((*kWithoutMaximum).reserved_pages == 65536);
static_assert((*kWithoutMaximum).reserved_bytes == std::size_t{1} << 32);
#else
static_assert(!kWithoutMaximum.has_value());  // X1: see the X1_ tests below
#endif

// A non-null base for "allocated" states; the policy never dereferences it.
alignas(64) std::byte fake_memory[1];

// `result` failed with `code`, no errno, and a message naming `operation`.
template <typename T>
::testing::AssertionResult policy_error(const Result<T>& result, ErrorCode code,
                                        const char* operation) {
  if (result) return ::testing::AssertionFailure() << "succeeded";
  const Error& e = result.error();
  if (e.code() != code)
    return ::testing::AssertionFailure()
           << "code " << error_code_name(e.code()) << ", expected " << error_code_name(code);
  if (e.os_errno() != 0) return ::testing::AssertionFailure() << "errno " << e.os_errno();
  if (std::strncmp(e.message(), operation, std::strlen(operation)) != 0)
    return ::testing::AssertionFailure()
           << "message \"" << e.message() << "\" does not name " << operation;
  return ::testing::AssertionSuccess();
}

TEST(PagePolicy, A3_A5_A6_AllocateErrorsNameAllocate) {
  const LinearMemoryState allocated{fake_memory, 1, 1};
  EXPECT_TRUE(
      policy_error(plan_allocate(allocated, 1, 1, 8), ErrorCode::AlreadyAllocated, "allocate:"));
  EXPECT_TRUE(
      policy_error(plan_allocate(kNotAllocated, 2, 1, 8), ErrorCode::InvalidArgument, "allocate:"));
  EXPECT_TRUE(policy_error(plan_allocate(kNotAllocated, 9, std::nullopt, 8),
                           ErrorCode::CapacityExceeded, "allocate:"));
  EXPECT_TRUE(policy_error(plan_allocate(kNotAllocated, 0, kU32Max, 65536),
                           ErrorCode::CapacityExceeded, "allocate:"));
}

// A9 at the very top of u32: reaching kU32Max pages is arithmetic that fits;
// one more wraps and is refused.
TEST(PagePolicy, A7_A8_A9_GrowErrorsNameGrowUpToTheU32Edge) {
  const LinearMemoryState top{fake_memory, kU32Max - 1, kU32Max};
  const auto fits = plan_grow(top, kU32Max - 1, 1);
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(*fits, kU32Max);
  EXPECT_TRUE(policy_error(plan_grow(top, kU32Max - 1, 2), ErrorCode::CapacityExceeded, "grow:"));
  EXPECT_TRUE(
      policy_error(plan_grow(top, kU32Max - 1, kU32Max), ErrorCode::CapacityExceeded, "grow:"));
  EXPECT_TRUE(policy_error(plan_grow(top, kU32Max, 0), ErrorCode::StateMismatch, "grow:"));
  EXPECT_TRUE(policy_error(plan_grow(kNotAllocated, 0, 0), ErrorCode::NotAllocated, "grow:"));
}

// X1: where size_t has 32 bits, the byte size of a reservation is checked
// (page_policy.hpp compiles that check only there): 65536 pages, or any count
// past 65535, is CapacityExceeded, and 65535 pages give their exact size.
TEST(PagePolicy, X1_ReservationBytesThatOverflowA32BitSizeTAreCapacityExceeded) {
  if constexpr (SIZE_MAX > UINT32_MAX)
    GTEST_SKIP() << "size_t has 64 bits here: 65536 pages fit (A5 tests); runs in the i686 preset";
  EXPECT_TRUE(policy_error(plan_allocate(kNotAllocated, 0, 65536, 65536),
                           ErrorCode::CapacityExceeded, "allocate:"));
  EXPECT_TRUE(policy_error(plan_allocate(kNotAllocated, 1, std::nullopt, 65536),
                           ErrorCode::CapacityExceeded, "allocate:"));
  EXPECT_TRUE(policy_error(plan_allocate(kNotAllocated, 0, kU32Max, kU32Max),
                           ErrorCode::CapacityExceeded, "allocate:"));
  const auto largest = plan_allocate(kNotAllocated, 0, 65535, 65536);
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->reserved_pages, 65535u);
  EXPECT_EQ(largest->reserved_bytes, kSizeMax - kPage + 1);
}

TEST(PagePolicy, A11_DeallocateErrorsNameDeallocate) {
  const LinearMemoryState state{fake_memory, 1, 2};
  EXPECT_TRUE(check_deallocate(state, fake_memory, kPage).has_value());
  EXPECT_TRUE(policy_error(check_deallocate(state, fake_memory, 2 * kPage),
                           ErrorCode::PointerMismatch, "deallocate:"));
  EXPECT_TRUE(policy_error(check_deallocate(state, nullptr, kPage), ErrorCode::PointerMismatch,
                           "deallocate:"));
  EXPECT_TRUE(policy_error(check_deallocate(kNotAllocated, nullptr, 0), ErrorCode::NotAllocated,
                           "deallocate:"));
}

}  // namespace
}  // namespace wrt::platform::detail
