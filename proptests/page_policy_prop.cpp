// Properties of the pure allocator policy (src/allocator/page_policy.hpp) against
// reference models written from docs/SPEC.md with 128-bit arithmetic, so a
// wrap in the 64-bit code cannot hide in the expectation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "generators.hpp"
#include "allocator/page_policy.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::proptest {
namespace {

// __extension__: __int128 is a GCC/Clang extension that -Wpedantic flags.
__extension__ typedef unsigned __int128 u128;
using detail::LinearMemoryState;

// The reference answer of a policy check: an error code or success.
using Verdict = std::optional<ErrorCode>;

// The first error whose condition holds, in the order the clauses give them.
Verdict first_violation(std::initializer_list<std::pair<bool, ErrorCode>> checks) {
  for (const auto& [violated, code] : checks)
    if (violated) return code;
  return std::nullopt;
}

template <typename T>
Verdict verdict_of(const Result<T>& result) {
  if (result) return std::nullopt;
  return result.error().code();
}

// A non-null base for "allocated" states; the policy never dereferences it.
alignas(64) std::byte fake_memory[1];

LinearMemoryState state_of(bool allocated, std::uint32_t committed, std::uint32_t reserved) {
  if (!allocated) return {};
  return {fake_memory, committed, reserved};
}

RC_GTEST_PROP(PagePolicy, A5_CheckedAddNeverWraps, ()) {
  const auto a = *bytes_near(kSizeMax / 2);
  const auto b = *bytes_near(kSizeMax / 2);
  const u128 sum = u128{a} + b;
  const auto got = detail::checked_add(a, b);
  RC_ASSERT(got.has_value() == (sum <= kSizeMax));
  if (got) RC_ASSERT(u128{*got} == sum);
}

RC_GTEST_PROP(PagePolicy, A5_PagesToBytesNeverWraps, ()) {
  const auto pages = *rc::gen::weightedOneOf<std::uint64_t>({
      {2, rc::gen::inRange<std::uint64_t>(0, std::uint64_t{kU32Max} + 2)},
      {1, rc::gen::element<std::uint64_t>(kSizeMax / kWasmPageSize, kSizeMax / kWasmPageSize + 1,
                                          std::numeric_limits<std::uint64_t>::max())},
      {1, rc::gen::arbitrary<std::uint64_t>()},
  });
  const u128 bytes = u128{pages} * kWasmPageSize;
  const auto got = detail::pages_to_bytes(pages);
  RC_ASSERT(got.has_value() == (bytes <= kSizeMax));
  if (got) RC_ASSERT(u128{*got} == bytes);
}

RC_GTEST_PROP(PagePolicy, A5_RoundUpIsTheNextMultipleOrNothing, ()) {
  const auto shift = *rc::gen::inRange(0, 64);
  const std::size_t alignment = std::size_t{1} << shift;
  const auto value = *bytes_near(alignment);
  const u128 expected = (u128{value} + alignment - 1) / alignment * alignment;
  const auto got = detail::round_up(value, alignment);
  RC_ASSERT(got.has_value() == (expected <= kSizeMax));
  if (got) {
    RC_ASSERT(u128{*got} == expected);
    RC_ASSERT(*got % alignment == 0);
  }
}

RC_GTEST_PROP(PagePolicy, A3_A6_PlanAllocateMatchesTheReference, ()) {
  const auto limit = *pages_near(65536);
  const bool allocated = *rc::gen::arbitrary<bool>();
  const auto initial = *pages_near(limit);
  const bool has_maximum = *rc::gen::arbitrary<bool>();
  const auto maximum_value = *rc::gen::oneOf(pages_near(limit), pages_near(initial));
  const std::optional<std::uint32_t> maximum =
      has_maximum ? std::optional(maximum_value) : std::nullopt;

  const std::uint32_t reserved = has_maximum ? maximum_value : limit;  // A4
  const u128 reserved_bytes = u128{reserved} * kWasmPageSize;
  const Verdict expected = first_violation({
      {allocated, ErrorCode::AlreadyAllocated},                              // A6
      {has_maximum && maximum_value < initial, ErrorCode::InvalidArgument},  // A3
      {reserved > limit || initial > limit, ErrorCode::CapacityExceeded},    // A3
      {reserved_bytes > kSizeMax, ErrorCode::CapacityExceeded},              // A5
  });

  const auto plan = detail::plan_allocate(state_of(allocated, 1, 1), initial, maximum, limit);
  RC_ASSERT(verdict_of(plan) == expected);
  if (plan) {
    RC_ASSERT(plan->initial_pages == initial);
    RC_ASSERT(plan->reserved_pages == reserved);
    RC_ASSERT(u128{plan->reserved_bytes} == reserved_bytes);
  }
}

RC_GTEST_PROP(PagePolicy, A7_A9_PlanGrowMatchesTheReference, ()) {
  const bool allocated = *rc::gen::arbitrary<bool>();
  const auto reserved = *pages_near(65536);
  const auto committed = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{reserved} + 1);
  const auto current = *rc::gen::oneOf(rc::gen::just(static_cast<std::uint32_t>(committed)),
                                       pages_near(static_cast<std::uint32_t>(committed)));
  const auto additional = *rc::gen::oneOf(
      pages_near(reserved - static_cast<std::uint32_t>(committed)), pages_near(kU32Max - current));
  const auto state = state_of(allocated, static_cast<std::uint32_t>(committed), reserved);

  const u128 wanted = u128{current} + additional;
  const Verdict expected = first_violation({
      {!allocated, ErrorCode::NotAllocated},                                 // A8
      {current != committed, ErrorCode::StateMismatch},                      // A7
      {wanted > kU32Max || wanted > reserved, ErrorCode::CapacityExceeded},  // A9
  });

  const auto plan = detail::plan_grow(state, current, additional);
  RC_ASSERT(verdict_of(plan) == expected);
  if (plan) RC_ASSERT(u128{*plan} == wanted);
}

RC_GTEST_PROP(PagePolicy, A11_CheckDeallocateMatchesTheReference, ()) {
  const bool allocated = *rc::gen::arbitrary<bool>();
  const auto committed = *pages_near(16);
  const auto state = state_of(allocated, committed, committed);
  const bool right_pointer = *rc::gen::arbitrary<bool>();
  const std::byte* ptr = right_pointer ? state.base : fake_memory + 1;
  const auto size =
      *rc::gen::oneOf(rc::gen::just(state.committed_bytes()), bytes_near(state.committed_bytes()));

  const Verdict expected = first_violation({
      {!allocated, ErrorCode::NotAllocated},
      {!right_pointer || size != u128{committed} * kWasmPageSize, ErrorCode::PointerMismatch},
  });
  RC_ASSERT(verdict_of(detail::check_deallocate(state, ptr, size)) == expected);
}

}  // namespace
}  // namespace wrt::platform::proptest
