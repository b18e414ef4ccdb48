// The conformance kit (docs/SPEC.md C3, docs/CONFORMANCE.md): the clauses
// of sections A, F, W, T and S that any implementation of this layer can
// meet, as GoogleTest suites that run against it through a small adapter.
//
// An implementation implements `Adapter` (and its `Memory` and `Futex`)
// over its own calls, registers the kit with a factory of adapters before
// RUN_ALL_TESTS, and reads the clause IDs that failed afterwards:
//
//   int main(int argc, char** argv) {
//     testing::InitGoogleTest(&argc, argv);
//     wrt::platform::conformance::register_conformance_tests(
//         [] { return std::make_unique<MyAdapter>(); }, "MyRuntime");
//     const int status = RUN_ALL_TESTS();
//     for (const auto& id : wrt::platform::conformance::failed_clauses("MyRuntime"))
//       std::printf("breaks %s\n", id.c_str());
//     return status;
//   }
//
// Link `wrt_platform::conformance` (installed with the CMake package when
// GoogleTest was found). Every test name starts with its clause ID
// ("W2_GrowNeverMovesTheBase"); every wait on another thread has a deadline.
// This header does not include GoogleTest.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"
#include "wrt/platform/memory_type.hpp"
#include "wrt/platform/trap.hpp"

namespace wrt::platform::conformance {

// What an implementation can do. Set to false what it lacks: the kit then
// skips (GTEST_SKIP, saying why) the tests that need it.
struct Capabilities {
  // An access to an inaccessible byte of a memory (past its committed end,
  // below its maximum) inside Adapter::catch_traps is reported as a trap
  // (T1, T2, T4).
  bool traps = true;
  // Bytes directly after a memory's maximum that are never accessible, so
  // that an access there traps (A10's guard region; T1 touches the first
  // and the last). 0: no guard, and the kit touches no byte past a maximum.
  std::size_t guard_bytes = 0;
  // Futex::wake returns exactly how many threads it woke (F6). False where
  // the OS does not say and the count is an upper bound (Windows
  // WakeByAddress*, macOS __ulock_wake: docs/SPEC.md F9): the kit then checks
  // that wakes wake, not that the count never exceeds who woke.
  bool exact_wake_count = true;
};

// One linear memory, as LinearMemory<A> (section W). The kit creates
// memories of 64 KiB pages with 32-bit indexes only, and accesses their
// words atomically through data() (std::atomic_ref), so data() must be the
// host address of byte 0. Shared memories are used from several threads.
class Memory {
 public:
  virtual ~Memory() = default;

  // memory.size in pages.
  virtual std::uint64_t size() const = 0;
  // Host address of byte 0 (the kit checks that it never moves, W2).
  virtual std::byte* data() const = 0;
  // memory.grow: the previous size in pages, or the error (W2, A7-A9).
  virtual Result<std::uint64_t> grow(std::uint64_t delta_pages) = 0;
  // All-or-nothing copies out of and into the memory (OutOfBounds).
  virtual Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const = 0;
  virtual Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) = 0;
  // memory.atomic.wait32 / wait64 / notify (W4-W8); timeout_ns < 0 waits
  // forever (the kit always passes a finite one or zero).
  virtual Result<WaitResult> wait32(std::uint64_t address, std::uint32_t expected,
                                    std::int64_t timeout_ns) = 0;
  virtual Result<WaitResult> wait64(std::uint64_t address, std::uint64_t expected,
                                    std::int64_t timeout_ns) = 0;
  virtual Result<std::uint32_t> notify(std::uint64_t address, std::uint32_t count) = 0;
};

// One futex word, as wrt::platform::Futex (section F).
class Futex {
 public:
  virtual ~Futex() = default;

  // Sets the word (seq_cst), as another thread of the runtime would.
  virtual void store(std::uint32_t value) = 0;
  // F2-F5: NotEqual at once when the word differs, else Woken (may be
  // spurious) or TimedOut; nullopt waits forever (the kit never passes it).
  virtual Result<WaitResult> wait(std::uint32_t expected,
                                  std::optional<std::chrono::nanoseconds> timeout) = 0;
  // F6: wakes at most `count` waiters and returns how many it woke.
  virtual Result<std::uint32_t> wake(std::uint32_t count) = 0;
};

// The implementation under test. The kit makes one adapter per test (from
// the factory) and uses it on the test's threads only.
class Adapter {
 public:
  virtual ~Adapter() = default;

  virtual Capabilities capabilities() const { return {}; }
  // A new memory of `type` (W1); the errors as LinearMemory::create.
  virtual Result<std::unique_ptr<Memory>> create_memory(const MemoryType& type) = 0;
  // A new futex word holding `initial`.
  virtual std::unique_ptr<Futex> create_futex(std::uint32_t initial) = 0;
  // As wrt::platform::catch_traps (installing the handler if needed): runs
  // body(context) and returns the trap it raised, or nullopt when it
  // returned normally. Called only when capabilities().traps.
  virtual std::optional<Trap> catch_traps(void (*body)(void*), void* context) = 0;
};

using AdapterFactory = std::function<std::unique_ptr<Adapter>()>;

// Registers every test of the kit as `suite_name`.<ClauseID>_<What> with
// GoogleTest (testing::RegisterTest); call it before RUN_ALL_TESTS, once per
// implementation (different suite names). `factory` is called once per test
// and must return a non-null adapter.
void register_conformance_tests(AdapterFactory factory, std::string_view suite_name);

// After RUN_ALL_TESTS: the clause IDs ("W2", "W5", ...) of the tests of
// `suite_name` that failed, sorted and without repetitions. Skipped and
// filtered-out tests count as passed.
std::vector<std::string> failed_clauses(std::string_view suite_name);

// The clause ID a test name starts with ("W5" for "W5_AStore..."): the
// capital letters and digits before the first '_'; empty when there are none.
std::string_view clause_of(std::string_view test_name) noexcept;

}  // namespace wrt::platform::conformance
