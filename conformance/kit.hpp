// The kit's internals: its test cases, grouped by section, and the helpers
// they share. Not installed.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "kit_deadline.hpp"
#include "wrt/platform/conformance.hpp"

namespace wrt::platform::conformance::kit {

// What a case needs of Capabilities: nothing, traps, or traps and a guard.
enum class Needs { Nothing, Traps, Guard };

// One test of the kit: its name (starting with the clause ID), what it
// needs, and its body.
struct Case {
  const char* name;
  Needs needs;
  void (*run)(Adapter&);
};

std::span<const Case> memory_cases();
std::span<const Case> futex_cases();
std::span<const Case> trap_cases();

inline constexpr std::uint64_t kPage = kWasmPageSize;
// The timeout of a wait that a notify is expected to end: as long as the
// deadline helpers' patience, so a thread never outlives its test by more.
inline constexpr std::int64_t kLongWaitNs =
    std::chrono::duration_cast<std::chrono::nanoseconds>(kPatience).count();

// adapter.create_memory(type), or a test failure naming the error and null.
std::unique_ptr<Memory> make_memory(Adapter& adapter, const MemoryType& type);

// The aligned word at `address` of `memory`, accessed atomically.
template <typename T>
std::atomic_ref<T> word(const Memory& memory, std::uint64_t address) {
  return std::atomic_ref<T>(*reinterpret_cast<T*>(memory.data() + address));
}

// Every byte of the memory, through Memory::read.
std::vector<std::byte> read_all(const Memory& memory);

// A thread running `body` whose end the test awaits with a deadline.
class Worker {
 public:
  explicit Worker(std::function<void()> body)
      : thread_([this, body = std::move(body)] {
          body();
          done_.store(true);
        }) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    if (thread_.joinable()) thread_.join();
  }

  bool done() const noexcept { return done_.load(); }
  // Waits up to kPatience for the body to return (a test failure naming
  // `what` otherwise), then joins: every wait the kit makes has a finite
  // timeout, so the join is bounded too.
  bool finish(const char* what) {
    const bool returned = expect_eventually([this] { return done(); }, what);
    thread_.join();
    return returned;
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: starts once done_ exists
};

}  // namespace wrt::platform::conformance::kit
