// The public futex API over the default backend. See docs/SPEC.md, "F".
#include "wrt/platform/futex.hpp"

#include <array>

#include "futex/futex_core.hpp"

namespace wrt::platform {
namespace detail {
namespace {

// One cache line per stripe, so that waiters on unrelated words do not
// contend for the counter's line.
struct alignas(64) Stripe {
  WaiterCount waiters{0};
};

constexpr std::size_t kStripes = 256;
std::array<Stripe, kStripes> stripes;

}  // namespace

WaiterCount& address_waiters(const void* addr) noexcept {
  return stripes[address_slot(reinterpret_cast<std::uintptr_t>(addr), kStripes)].waiters;
}

}  // namespace detail

using detail::DefaultFutexCore;

Result<WaitResult> wait_on_address(const std::uint32_t* loc, std::uint32_t expected,
                                   std::optional<std::chrono::nanoseconds> timeout) {
  return DefaultFutexCore::wait(loc, expected, timeout, detail::address_waiters(loc));
}

Result<WaitResult> wait_on_address(const std::atomic<std::uint32_t>& loc, std::uint32_t expected,
                                   std::optional<std::chrono::nanoseconds> timeout) {
  return wait_on_address(detail::word_address(loc), expected, timeout);
}

Result<std::uint32_t> wake_address(const std::uint32_t* loc, std::uint32_t count) {
  return DefaultFutexCore::wake(loc, count, detail::address_waiters(loc));
}

Result<std::uint32_t> wake_address(const std::atomic<std::uint32_t>& loc, std::uint32_t count) {
  return wake_address(detail::word_address(loc), count);
}

// A Futex is a word like any other: it shares the address-keyed accounting,
// so Futex::wake reaches threads in wait_on_address(word()) and vice versa.
Result<WaitResult> Futex::wait(std::uint32_t expected,
                               std::optional<std::chrono::nanoseconds> timeout) {
  return wait_on_address(word_, expected, timeout);
}

Result<std::uint32_t> Futex::wake(std::uint32_t count) { return wake_address(word_, count); }

}  // namespace wrt::platform
