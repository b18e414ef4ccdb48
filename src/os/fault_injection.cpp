#include "os/fault_injection.hpp"

#include <array>
#include <atomic>

namespace wrt::platform {
namespace {

// One plan per call kind. Atomics, because futex tests hit the seam from
// several threads; a plan is armed before the threads start.
struct Plan {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> fail_from{0};   // first failing call number (1-based)
  std::atomic<std::uint64_t> fail_until{0};  // one past the last failing call
  std::atomic<int> error{0};
  std::atomic<fault::Hook> hook{nullptr};
};

std::array<Plan, prim::kOsCallCount> plans;
std::atomic<fault::Hook> trap_lookup_hook{nullptr};
static_assert(std::atomic<fault::Hook>::is_always_lock_free);  // read in a signal handler

Plan& plan_for(prim::OsCall call) noexcept { return plans[static_cast<unsigned>(call)]; }

}  // namespace

int prim::intercept(OsCall call) noexcept {
  Plan& plan = plan_for(call);
  if (const fault::Hook hook = plan.hook.load()) hook();
  const std::uint64_t n = plan.calls.fetch_add(1) + 1;
  if (n >= plan.fail_from.load() && n < plan.fail_until.load()) return plan.error.load();
  return 0;
}

void fault::fail(OsCall call, int error, std::uint32_t skip, std::uint32_t times) noexcept {
  Plan& plan = plan_for(call);
  const std::uint64_t first = plan.calls.load() + skip + 1;
  plan.error.store(error);
  plan.fail_until.store(0);
  plan.fail_from.store(first);
  plan.fail_until.store(first + times);
}

void fault::reset() noexcept {
  for (Plan& plan : plans) {
    plan.fail_until.store(0);
    plan.fail_from.store(0);
    plan.error.store(0);
    plan.calls.store(0);
    plan.hook.store(nullptr);
  }
  trap_lookup_hook.store(nullptr);
}

std::uint64_t fault::calls(OsCall call) noexcept { return plan_for(call).calls.load(); }

void fault::before(OsCall call, Hook hook) noexcept { plan_for(call).hook.store(hook); }

void fault::before_trap_lookup(Hook hook) noexcept { trap_lookup_hook.store(hook); }

void prim::trap_lookup_pause() noexcept {
  if (const fault::Hook hook = trap_lookup_hook.load()) hook();
}

}  // namespace wrt::platform
