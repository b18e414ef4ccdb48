// The pure fault policy (trap/fault_policy.hpp) for the addresses a core may
// report: S10 (an access straddling the committed end traps whichever of its
// bytes is reported) and S4 (a fault in this thread's stack guard). No
// signal is raised here.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "trap/fault_policy.hpp"

namespace wrt::platform::trap {
namespace {

constexpr ReservationView kView{0x10000, 0x30000, 0x50000};
constexpr std::uintptr_t kCommittedEnd = kView.committed_end;

FaultFacts inside_catch_at(std::uintptr_t address) { return {address, true, true, kView, false}; }

// What the handler ends with for an access whose every fault reports
// `address`: it retries while the policy says Retry (the access is run
// again and faults again, since nothing grows here). Fails if it loops.
FaultVerdict settled_verdict(std::uintptr_t address) {
  FaultFacts facts = inside_catch_at(address);
  for (int faults = 1; faults <= 2; ++faults) {
    const FaultVerdict verdict = classify_fault(facts);
    if (verdict != FaultVerdict::Retry) return verdict;
    facts.already_retried_here = true;
  }
  ADD_FAILURE() << "retried more than once at " << std::hex << address;
  return FaultVerdict::Retry;
}

// Every access of 2 to 16 bytes that straddles the committed end, with
// every byte of it that a core may report as the fault address (an ARM core
// may report its first byte, or the first byte of the half it split off).
TEST(TrapPolicyS10, S10_StraddlingAccessTrapsWhicheverByteIsReported) {
  for (std::uintptr_t width = 2; width <= kWidestAccess; ++width) {
    for (std::uintptr_t start = kCommittedEnd - width + 1; start < kCommittedEnd; ++start) {
      for (std::uintptr_t reported = start; reported < start + width; ++reported) {
        SCOPED_TRACE(::testing::Message() << "width " << width << " start " << std::hex << start
                                          << " reported " << reported);
        EXPECT_EQ(settled_verdict(reported), FaultVerdict::Trap);
      }
    }
  }
}

// The first fault below the committed end is still retried once (a grow may
// have committed the bytes since), so an access racing a grow is not
// reported as a trap early.
TEST(TrapPolicyS10, S10_FirstFaultBelowTheCommittedEndIsRetriedEvenNearIt) {
  for (std::uintptr_t below = 1; below < kWidestAccess; ++below)
    EXPECT_EQ(classify_fault(inside_catch_at(kCommittedEnd - below)), FaultVerdict::Retry);
}

// No access of at most kWidestAccess bytes that starts this far below the
// committed end reaches it: a second fault there is foreign, as before.
TEST(TrapPolicyS10, S10_SecondFaultFartherBelowStaysForeign) {
  EXPECT_EQ(settled_verdict(kCommittedEnd - kWidestAccess), FaultVerdict::Foreign);
  EXPECT_EQ(settled_verdict(kCommittedEnd - 4096), FaultVerdict::Foreign);
  EXPECT_EQ(settled_verdict(kView.begin), FaultVerdict::Foreign);
}

// S10 widens nothing outside a live reservation inside catch_traps.
TEST(TrapPolicyS10, S10_NearTheCommittedEndButNotOursStaysForeign) {
  auto outside = inside_catch_at(kCommittedEnd - 1);
  outside.already_retried_here = true;
  auto sent = outside;
  outside.inside_catch = false;
  EXPECT_EQ(classify_fault(outside), FaultVerdict::Foreign);
  sent.raised_by_access = false;
  EXPECT_EQ(classify_fault(sent), FaultVerdict::Foreign);
  auto unregistered = inside_catch_at(kCommittedEnd - 1);
  unregistered.reservation = std::nullopt;
  unregistered.already_retried_here = true;
  EXPECT_EQ(classify_fault(unregistered), FaultVerdict::Foreign);
}

TEST(TrapPolicyS10, S4_FaultInTheStackGuardInsideCatchTrapsIsAStackOverflow) {
  FaultFacts guard{0x7000, true, true, std::nullopt, false, true};
  EXPECT_EQ(classify_fault(guard), FaultVerdict::StackOverflow);
  auto outside = guard;
  outside.inside_catch = false;
  EXPECT_EQ(classify_fault(outside), FaultVerdict::Foreign);
  auto sent = guard;
  sent.raised_by_access = false;
  EXPECT_EQ(classify_fault(sent), FaultVerdict::Foreign);
  auto elsewhere = guard;
  elsewhere.in_stack_guard = false;
  EXPECT_EQ(classify_fault(elsewhere), FaultVerdict::Foreign);
}

}  // namespace
}  // namespace wrt::platform::trap
