// The C ABI's traps and futex (include/wrt/platform.h).
#include <chrono>
#include <optional>

#include "capi/capi.hpp"
#include "wrt/platform/futex.hpp"
#include "wrt/platform/trap.hpp"

using namespace wrt::platform;
using capi::fail;
using capi::invalid;

namespace {

// wrt_trap_kind is TrapKind shifted by one (WRT_TRAP_NONE = 0), as
// wrt_status is ErrorCode shifted by one.
constexpr wrt_trap_kind trap_kind(TrapKind kind) noexcept {
  return static_cast<wrt_trap_kind>(static_cast<int>(kind) + 1);
}
static_assert(trap_kind(TrapKind::MemoryOutOfBounds) == WRT_TRAP_MEMORY_OUT_OF_BOUNDS);
static_assert(trap_kind(TrapKind::HandlerNotInstalled) == WRT_TRAP_HANDLER_NOT_INSTALLED);
static_assert(trap_kind(TrapKind::StackOverflow) == WRT_TRAP_STACK_OVERFLOW);

// < 0: no timeout, as memory.atomic.wait.
std::optional<std::chrono::nanoseconds> timeout_of(int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) return std::nullopt;
  return std::chrono::nanoseconds(timeout_ns);
}

}  // namespace

extern "C" {

wrt_status wrt_install_trap_handler(void) WRT_NOEXCEPT {
  return capi::status_of(install_trap_handler());
}

wrt_status wrt_catch_traps(void (*body)(void*), void* context, wrt_trap* out) WRT_NOEXCEPT {
  if (body == nullptr || out == nullptr) return invalid("wrt_catch_traps: null");
  const auto trap = detail::run_catching(body, context);
  *out = trap ? wrt_trap{trap_kind(trap->kind), trap->address} : wrt_trap{WRT_TRAP_NONE, nullptr};
  return WRT_OK;
}

wrt_status wrt_futex_wait(const uint32_t* word, uint32_t expected, int64_t timeout_ns,
                          wrt_wait_result* out) WRT_NOEXCEPT {
  if (word == nullptr || out == nullptr) return invalid("wrt_futex_wait: null");
  const auto result = wait_on_address(word, expected, timeout_of(timeout_ns));
  if (!result) return fail(result.error());
  *out = static_cast<wrt_wait_result>(*result);
  return WRT_OK;
}

wrt_status wrt_futex_wake(const uint32_t* word, uint32_t count, uint32_t* woken) WRT_NOEXCEPT {
  if (word == nullptr || woken == nullptr) return invalid("wrt_futex_wake: null");
  return capi::deliver(wake_address(word, count), woken);
}

}  // extern "C"
