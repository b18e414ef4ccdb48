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

// A wait timeout in ns from 2^k to 2^(k+1) - 1, k from 0 to max_exponent,
// evenly spread over the scales: many waits time out right as another
// thread's wake comes (the races), few sleep long. A wait nobody wakes
// sleeps to its timeout, so uniform timeouts up to a millisecond or two
// took most of a threaded harness's time.
inline std::int64_t pick_timeout_ns(FuzzedDataProvider& in, int max_exponent) {
  const std::int64_t low = std::int64_t{1} << in.ConsumeIntegralInRange(0, max_exponent);
  return in.ConsumeIntegralInRange<std::int64_t>(low, 2 * low - 1);
}

}  // namespace wrt::platform::fuzz
