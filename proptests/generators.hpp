// RapidCheck generators biased towards the values where page and byte
// arithmetic goes wrong: zero, the limits, one either side of them, and the
// top of the integer range.
#pragma once

#include <rapidcheck.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace wrt::platform::proptest {

inline constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();

// The reference models' exact arithmetic: an unsigned type at least twice
// as wide as size_t, so a sum of two size_t values, or a page count times the
// page size, never wraps in a model. A 32-bit size_t (i686, clause X1) needs
// only uint64_t, and 32-bit targets have no __int128; 64-bit hosts use the
// GCC/Clang 128-bit extension (__extension__: -Wpedantic flags it).
#if SIZE_MAX < UINT64_MAX
using WideSize = std::uint64_t;
#else
__extension__ typedef unsigned __int128 WideSize;
#endif

// `value + delta`, wrapping like unsigned arithmetic: a neighbour of an edge.
template <typename T>
T shifted(T value, int delta) {
  return static_cast<T>(value + static_cast<T>(delta));
}

// A page count: usually near `edge` (a limit, a current count), sometimes
// anywhere in [0, 2 * edge + 2], sometimes anywhere in u32.
inline rc::Gen<std::uint32_t> pages_near(std::uint32_t edge) {
  const std::uint32_t small_end = edge > kU32Max / 2 - 2 ? kU32Max : 2 * edge + 2;
  return rc::gen::weightedOneOf<std::uint32_t>({
      {4, rc::gen::element(0u, 1u, shifted(edge, -1), edge, shifted(edge, 1), kU32Max,
                           shifted(kU32Max, -1))},
      {4, rc::gen::inRange<std::uint32_t>(0, small_end)},
      {1, rc::gen::arbitrary<std::uint32_t>()},
  });
}

// A byte offset or size: near `edge`, small, or anywhere up to SIZE_MAX.
inline rc::Gen<std::size_t> bytes_near(std::size_t edge) {
  return rc::gen::weightedOneOf<std::size_t>({
      {4, rc::gen::element<std::size_t>(0, 1, shifted(edge, -1), edge, shifted(edge, 1), kSizeMax,
                                        shifted(kSizeMax, -1), shifted(kSizeMax, -3))},
      {4, rc::gen::inRange<std::size_t>(0, edge < kSizeMax / 2 ? 2 * edge + 2 : kSizeMax)},
      {1, rc::gen::arbitrary<std::size_t>()},
  });
}

// Either nothing or a page count near `edge`.
inline rc::Gen<std::optional<std::uint32_t>> optional_pages_near(std::uint32_t edge) {
  return rc::gen::weightedOneOf<std::optional<std::uint32_t>>({
      {1, rc::gen::just(std::optional<std::uint32_t>{})},
      {3, rc::gen::map(pages_near(edge), [](std::uint32_t p) { return std::optional(p); })},
  });
}

}  // namespace wrt::platform::proptest
