// Decoding helpers shared by the harnesses: turn fuzzer bytes into the
// numbers most likely to break arithmetic (0, limits, one past a limit,
// values next to the type's maximum) more often than uniform draws would.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <limits>

namespace wrt::platform::fuzz {

// A value of T near `anchor` (the interesting boundary of the call under
// test), near 0, near T's maximum, or anything at all.
template <typename T>
T pick_near(FuzzedDataProvider& in, T anchor) {
  constexpr T kMax = std::numeric_limits<T>::max();
  const T delta = in.ConsumeIntegralInRange<T>(0, 3);
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
      return anchor;
    case 1:
      return anchor + delta;  // wraps for anchor near kMax: also interesting
    case 2:
      return anchor - delta;
    case 3:
      return delta;
    case 4:
      return kMax - delta;
    default:
      return in.ConsumeIntegral<T>();
  }
}

}  // namespace wrt::platform::fuzz
