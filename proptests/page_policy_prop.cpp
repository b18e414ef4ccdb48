// Properties of the pure allocator policy (src/allocator/page_policy.hpp) against
// reference models written from docs/SPEC.md with 128-bit arithmetic, so a
// wrap in the 64-bit code cannot hide in the expectation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "allocator/page_policy.hpp"
#include "generators.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::proptest {
namespace {

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
  const WideSize sum = WideSize{a} + b;
  const auto got = detail::checked_add(a, b);
  RC_ASSERT(got.has_value() == (sum <= kSizeMax));
  if (got) RC_ASSERT(WideSize{*got} == sum);
}

RC_GTEST_PROP(PagePolicy, A5_PagesToBytesNeverWraps, ()) {
  const auto pages = *rc::gen::weightedOneOf<std::uint64_t>({
      {2, rc::gen::inRange<std::uint64_t>(0, std::uint64_t{kU32Max} + 2)},
      {1, rc::gen::element<std::uint64_t>(kSizeMax / kWasmPageSize, kSizeMax / kWasmPageSize + 1,
                                          std::numeric_limits<std::uint64_t>::max())},
      {1, rc::gen::arbitrary<std::uint64_t>()},
  });
  // pages * page size <= SIZE_MAX exactly when pages <= floor(SIZE_MAX / page
  // size); a u64 page count times the page size may exceed even WideSize.
  const bool fits = pages <= kSizeMax / kWasmPageSize;
  const auto got = detail::pages_to_bytes(pages);
  RC_ASSERT(got.has_value() == fits);
  if (got) RC_ASSERT(WideSize{*got} == WideSize{pages} * kWasmPageSize);
}

RC_GTEST_PROP(PagePolicy, A5_RoundUpIsTheNextMultipleOrNothing, ()) {
  const auto shift = *rc::gen::inRange(0, std::numeric_limits<std::size_t>::digits);
  const std::size_t alignment = std::size_t{1} << shift;
  const auto value = *bytes_near(alignment);
  const WideSize expected = (WideSize{value} + alignment - 1) / alignment * alignment;
  const auto got = detail::round_up(value, alignment);
  RC_ASSERT(got.has_value() == (expected <= kSizeMax));
  if (got) {
    RC_ASSERT(WideSize{*got} == expected);
    RC_ASSERT(*got % alignment == 0);
  }
}

// A1/A5/A10: the mapping holds the reservation (at least the maximum and
// the rounded floor) and the guard after a kWasmPageSize-aligned base,
// wherever the OS puts it: at a kMappingGranule boundary (Linux aligns a
// mapping whose length is a multiple of it; base is then the start) or at any
// OS page (other kernels, 32-bit, qemu-user). Sizes that wrap are refused.
RC_GTEST_PROP(PagePolicy, A1_A10_MappingHoldsAnAlignedBaseWhereverTheOsPutsIt, ()) {
  const std::size_t os_page = *rc::gen::element<std::size_t>(4096, 16384, 65536);
  const auto maximum = detail::pages_to_bytes(*pages_near(65536));
  RC_PRE(maximum.has_value());
  const std::size_t edge = std::size_t{1} << (std::numeric_limits<std::size_t>::digits - 2);
  const auto floor = *rc::gen::oneOf(bytes_near(kWasmPageSize), bytes_near(edge));
  const auto guard = *rc::gen::oneOf(bytes_near(os_page), bytes_near(edge));

  const auto up = [](WideSize value, WideSize to) { return (value + to - 1) / to * to; };
  const WideSize reservation = std::max(WideSize{*maximum}, up(floor, kWasmPageSize));
  const WideSize guarded = reservation + up(guard, os_page);
  const WideSize mapping = up(guarded + kWasmPageSize, detail::kMappingGranule);

  const auto layout = detail::plan_mapping(*maximum, floor, guard, os_page);
  RC_ASSERT(layout.has_value() == (mapping <= kSizeMax));
  if (!layout) return;
  RC_ASSERT(WideSize{layout->reservation_bytes} == reservation);
  RC_ASSERT(WideSize{layout->guarded_bytes} == guarded);
  RC_ASSERT(WideSize{layout->mapping_bytes} == mapping);
  RC_ASSERT(layout->mapping_bytes % detail::kMappingGranule == 0);
  RC_ASSERT(layout->mapping_bytes % os_page == 0);

  // Where the OS put the mapping, in an address space of 2^47 bytes (2^31
  // where size_t has 32 bits); only the low bits matter to the offset.
  const bool aligned = *rc::gen::arbitrary<bool>();
  const std::uintptr_t unit = aligned ? std::max(detail::kMappingGranule, kWasmPageSize) : os_page;
  const std::uintptr_t top = sizeof(std::uintptr_t) >= 8 ? std::uintptr_t{1} << 47 : 1u << 31;
  const std::uintptr_t address = *rc::gen::inRange<std::uintptr_t>(0, top / unit) * unit;
  const std::size_t offset = detail::base_offset(address);
  RC_ASSERT((address + offset) % kWasmPageSize == 0);
  RC_ASSERT(offset < kWasmPageSize);
  RC_ASSERT(WideSize{offset} + layout->guarded_bytes <= layout->mapping_bytes);
  if (aligned) RC_ASSERT(offset == 0u);
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
  const WideSize reserved_bytes = WideSize{reserved} * kWasmPageSize;
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
    RC_ASSERT(WideSize{plan->reserved_bytes} == reserved_bytes);
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

  const WideSize wanted = WideSize{current} + additional;
  const Verdict expected = first_violation({
      {!allocated, ErrorCode::NotAllocated},                                 // A8
      {current != committed, ErrorCode::StateMismatch},                      // A7
      {wanted > kU32Max || wanted > reserved, ErrorCode::CapacityExceeded},  // A9
  });

  const auto plan = detail::plan_grow(state, current, additional);
  RC_ASSERT(verdict_of(plan) == expected);
  if (plan) RC_ASSERT(WideSize{*plan} == wanted);
}

RC_GTEST_PROP(PagePolicy, A11_CheckDeallocateMatchesTheReference, ()) {
  const bool allocated = *rc::gen::arbitrary<bool>();
  const auto committed = *pages_near(16);
  // No allocator holds more committed bytes than size_t counts (with a 32-bit
  // size_t, plan_allocate refuses such a reservation: clause X1).
  RC_PRE(WideSize{committed} * kWasmPageSize <= kSizeMax);
  const auto state = state_of(allocated, committed, committed);
  const bool right_pointer = *rc::gen::arbitrary<bool>();
  const std::byte* ptr = right_pointer ? state.base : fake_memory + 1;
  const auto size =
      *rc::gen::oneOf(rc::gen::just(state.committed_bytes()), bytes_near(state.committed_bytes()));

  const Verdict expected = first_violation({
      {!allocated, ErrorCode::NotAllocated},
      {!right_pointer || size != WideSize{committed} * kWasmPageSize, ErrorCode::PointerMismatch},
  });
  RC_ASSERT(verdict_of(detail::check_deallocate(state, ptr, size)) == expected);
}

}  // namespace
}  // namespace wrt::platform::proptest
