// The OS-failure plan of the fault-injection harness: the input picks which
// memory call fails (mmap, mprotect or munmap), with which errno, after how
// many successful calls and how many times. The plan reads the seam's call
// counters around each allocator call to know whether an injected failure
// hit it, so the driver can demand the strong guarantee (A12) exactly then.
// Only built with WRT_PLATFORM_FAULT_INJECTION.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>

#include "check.hpp"
#include "os/fault_injection.hpp"

namespace wrt::platform::fuzz {

class OsFaultPlan {
 public:
  static constexpr bool kCanFail = true;
  static constexpr std::array kMemoryCalls = {fault::OsCall::Mmap, fault::OsCall::Mprotect,
                                              fault::OsCall::Munmap};

  // Call counters before an allocator call.
  struct Window {
    std::array<std::uint64_t, kMemoryCalls.size()> calls_before;
  };

  OsFaultPlan() { fault::reset(); }
  // The allocator's destructor must really release the memory.
  ~OsFaultPlan() { fault::reset(); }
  OsFaultPlan(const OsFaultPlan&) = delete;
  OsFaultPlan& operator=(const OsFaultPlan&) = delete;

  // Arms one failing call kind at a time: with two kinds armed, a failed
  // commit's rollback munmap could be failed too, and the mapping it should
  // have released would leak for the rest of the fuzzing run.
  void arm(FuzzedDataProvider& in) {
    static constexpr std::array kErrnos = {ENOMEM, EINVAL, EACCES, EAGAIN, EPERM, EFAULT, EBADF};
    call_index_ = in.ConsumeIntegralInRange<std::size_t>(0, kMemoryCalls.size() - 1);
    errno_ = in.ConsumeBool()
                 ? kErrnos[in.ConsumeIntegralInRange<std::size_t>(0, kErrnos.size() - 1)]
                 : in.ConsumeIntegralInRange<int>(1, 4095);
    const auto skip = in.ConsumeIntegralInRange<std::uint32_t>(0, 3);
    const auto times = in.ConsumeIntegralInRange<std::uint32_t>(1, 3);
    fault::reset();
    fault::fail(kMemoryCalls[call_index_], errno_, skip, times);
    // As documented in fault_injection.hpp: after `skip` calls, `times` fail.
    fail_from_ = std::uint64_t{skip} + 1;
    fail_until_ = fail_from_ + times;
  }

  Window begin() const {
    Window window{};
    for (std::size_t i = 0; i < kMemoryCalls.size(); ++i)
      window.calls_before[i] = fault::calls(kMemoryCalls[i]);
    return window;
  }

  // The errno of the injected failure that hit a call since `window`, if any.
  std::optional<int> injected_errno(const Window& window) const {
    if (failed_calls(window) == 0) return std::nullopt;
    return errno_;
  }

  // Arguments the contract rejects never reach the OS.
  void check_no_os_calls(const Window& window) const {
    for (std::size_t i = 0; i < kMemoryCalls.size(); ++i)
      FUZZ_CHECK(fault::calls(kMemoryCalls[i]) == window.calls_before[i]);
  }

  // A failed allocate leaves nothing mapped: every mapping that succeeded
  // since `window` was unmapped again (by a munmap that succeeded).
  void check_nothing_left_mapped(const Window& window) const {
    const auto succeeded = [&](std::size_t i) {
      const std::uint64_t attempted = fault::calls(kMemoryCalls[i]) - window.calls_before[i];
      return attempted - (i == call_index_ ? failed_calls(window) : 0);
    };
    FUZZ_CHECK(succeeded(0) == succeeded(2));
  }

 private:
  // How many calls of the armed kind since `window` fell in the failing range.
  std::uint64_t failed_calls(const Window& window) const {
    const std::uint64_t first = window.calls_before[call_index_] + 1;
    const std::uint64_t end = fault::calls(kMemoryCalls[call_index_]) + 1;
    const std::uint64_t from = first > fail_from_ ? first : fail_from_;
    const std::uint64_t until = end < fail_until_ ? end : fail_until_;
    return until > from ? until - from : 0;
  }

  std::size_t call_index_ = 0;
  int errno_ = 0;
  std::uint64_t fail_from_ = 0;
  std::uint64_t fail_until_ = 0;  // nothing armed until arm()
};

}  // namespace wrt::platform::fuzz
