#include "wrt/platform/trap.hpp"

#include <atomic>
#include <mutex>

#include "os/os_traps.hpp"

namespace wrt::platform {
namespace {

std::mutex install_mutex;
std::atomic<bool> installed{false};

}  // namespace

Result<void> install_trap_handler() noexcept {
  // Installing twice would make our handler its own "previous" action.
  std::lock_guard lock(install_mutex);
  if (installed.load(std::memory_order_relaxed)) return {};
  if (auto done = prim::install_fault_handlers(); !done) return done;
  installed.store(true, std::memory_order_release);
  return {};
}

std::optional<Trap> detail::run_catching(void (*body)(void*), void* context) noexcept {
  if (!installed.load(std::memory_order_acquire))
    return Trap{TrapKind::HandlerNotInstalled, nullptr};
  return prim::run_with_trap_target(body, context);
}

}  // namespace wrt::platform
