// C3: the conformance kit against a deliberately naive implementation of
// the layer, which must fail exactly the clauses that implementation
// breaks, by ID. The naive memory reallocates on grow (by hand: a new
// block, a copy, the old one freed, so the base always moves, as realloc
// may); its waits, and the naive futex, sleep and poll (50 us), and a
// poll that sees the word changed returns Woken. Otherwise the naive
// adapter is careful (bounds and W4 order, exact wake counts per address,
// no lost wake-up). It breaks W2 (the base moves) and W5 (a store without
// a notify wakes a waiter); F5 allows that spurious Woken for the futex.
//
// Run by ctest as C3_NaiveAdapterBreaksExactlyW2AndW5: the kit's own test
// failures are expected; the exit status says whether the kit reported
// exactly {W2, W5}.
#include <gtest/gtest.h>

#include <wrt/platform.hpp>
#include <wrt/platform/conformance.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace wp = wrt::platform;
namespace conformance = wrt::platform::conformance;
using wp::ErrorCode;
using wp::Result;
using wp::WaitResult;

constexpr std::uint64_t kPage = wp::kWasmPageSize;
constexpr auto kPoll = std::chrono::microseconds(50);

tl::unexpected<wp::Error> fail(ErrorCode code) { return tl::unexpected(wp::Error(code, "naive")); }

// Waiters and pending wake-ups of one address; exact counts, any order.
struct Queue {
  std::uint32_t waiting = 0;
  std::uint32_t pending = 0;
};

// The sleep-and-poll wait of both naive kinds: `load` reads the word.
template <typename Load>
WaitResult poll_wait(std::mutex& mutex, Queue& queue, Load load, std::uint64_t expected,
                     std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    std::this_thread::sleep_for(kPoll);
    const std::lock_guard lock(mutex);
    if (queue.pending > 0 || load() != expected) {  // the naive part: a change means a wake-up
      if (queue.pending > 0) --queue.pending;
      --queue.waiting;
      return WaitResult::Woken;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      --queue.waiting;
      return WaitResult::TimedOut;
    }
  }
}

std::uint32_t wake(Queue& queue, std::uint32_t count) {
  const std::uint32_t woken = std::min(count, queue.waiting - queue.pending);
  queue.pending += woken;
  return woken;
}

std::chrono::steady_clock::time_point deadline_after(std::int64_t timeout_ns) {
  if (timeout_ns < 0) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() +
         std::chrono::nanoseconds(std::min<std::int64_t>(timeout_ns, std::int64_t{1} << 50));
}

class NaiveMemory final : public conformance::Memory {
 public:
  NaiveMemory(std::byte* bytes, std::uint64_t pages, std::uint64_t maximum, bool shared)
      : bytes_(bytes), pages_(pages), maximum_(maximum), shared_(shared) {}
  ~NaiveMemory() override { std::free(bytes_); }

  std::uint64_t size() const override { return pages_.load(); }
  std::byte* data() const override {
    const std::lock_guard lock(mutex_);
    return bytes_;
  }
  Result<std::uint64_t> grow(std::uint64_t delta) override {
    const std::lock_guard lock(mutex_);
    const std::uint64_t previous = pages_.load();
    if (delta > maximum_ - previous) return fail(ErrorCode::CapacityExceeded);
    if (delta == 0) return previous;
    const std::size_t old_bytes = previous * kPage;
    const std::size_t new_bytes = (previous + delta) * kPage;
    auto* moved = static_cast<std::byte*>(std::malloc(new_bytes));
    if (moved == nullptr) return fail(ErrorCode::OutOfMemory);
    std::memcpy(moved, bytes_, old_bytes);
    std::memset(moved + old_bytes, 0, new_bytes - old_bytes);
    std::free(bytes_);
    bytes_ = moved;
    pages_.store(previous + delta);
    return previous;
  }
  Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const override {
    const std::lock_guard lock(mutex_);
    if (!in_bounds(address, bytes.size())) return fail(ErrorCode::OutOfBounds);
    if (!bytes.empty()) std::memcpy(bytes.data(), bytes_ + address, bytes.size());
    return {};
  }
  Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) override {
    const std::lock_guard lock(mutex_);
    if (!in_bounds(address, bytes.size())) return fail(ErrorCode::OutOfBounds);
    if (!bytes.empty()) std::memcpy(bytes_ + address, bytes.data(), bytes.size());
    return {};
  }
  Result<WaitResult> wait32(std::uint64_t address, std::uint32_t expected,
                            std::int64_t timeout_ns) override {
    return wait<std::uint32_t>(address, expected, timeout_ns);
  }
  Result<WaitResult> wait64(std::uint64_t address, std::uint64_t expected,
                            std::int64_t timeout_ns) override {
    return wait<std::uint64_t>(address, expected, timeout_ns);
  }
  Result<std::uint32_t> notify(std::uint64_t address, std::uint32_t count) override {
    const std::lock_guard lock(mutex_);
    if (address % 4 != 0) return fail(ErrorCode::Misaligned);
    if (!in_bounds(address, 4)) return fail(ErrorCode::OutOfBounds);
    if (!shared_) return 0u;
    return wake(queues_[address], count);
  }

 private:
  bool in_bounds(std::uint64_t address, std::uint64_t size) const {
    const std::uint64_t length = pages_.load() * kPage;
    return address <= length && size <= length - address;
  }

  template <typename T>
  Result<WaitResult> wait(std::uint64_t address, T expected, std::int64_t timeout_ns) {
    const auto load = [this, address] {
      return std::atomic_ref<T>(*reinterpret_cast<T*>(bytes_ + address)).load();
    };
    {
      const std::lock_guard lock(mutex_);
      if (address % sizeof(T) != 0) return fail(ErrorCode::Misaligned);
      if (!in_bounds(address, sizeof(T))) return fail(ErrorCode::OutOfBounds);
      if (!shared_) return fail(ErrorCode::NotShared);
      if (load() != expected) return WaitResult::NotEqual;
      if (timeout_ns == 0) return WaitResult::TimedOut;
      ++queues_[address].waiting;
    }
    return poll_wait(mutex_, queues_[address], load, expected, deadline_after(timeout_ns));
  }

  mutable std::mutex mutex_;  // bytes_, the queues; grow against everything
  std::byte* bytes_;
  std::atomic<std::uint64_t> pages_;
  std::uint64_t maximum_;
  bool shared_;
  std::map<std::uint64_t, Queue> queues_;  // node-based: references stay valid
};

class NaiveFutex final : public conformance::Futex {
 public:
  explicit NaiveFutex(std::uint32_t initial) : word_(initial) {}

  void store(std::uint32_t value) override { word_.store(value); }
  Result<WaitResult> wait(std::uint32_t expected,
                          std::optional<std::chrono::nanoseconds> timeout) override {
    {
      const std::lock_guard lock(mutex_);
      if (word_.load() != expected) return WaitResult::NotEqual;
      if (timeout && timeout->count() <= 0) return WaitResult::TimedOut;
      ++queue_.waiting;
    }
    const auto load = [this] { return std::uint64_t{word_.load()}; };
    return poll_wait(mutex_, queue_, load, expected,
                     deadline_after(timeout ? timeout->count() : -1));
  }
  Result<std::uint32_t> wake(std::uint32_t count) override {
    const std::lock_guard lock(mutex_);
    return ::wake(queue_, count);
  }

 private:
  std::atomic<std::uint32_t> word_;
  std::mutex mutex_;
  Queue queue_;
};

class NaiveAdapter final : public conformance::Adapter {
 public:
  conformance::Capabilities capabilities() const override { return {.traps = false}; }
  Result<std::unique_ptr<conformance::Memory>> create_memory(const wp::MemoryType& type) override {
    if ((type.shared && !type.maximum_pages) ||
        type.maximum_pages.value_or(type.initial_pages) < type.initial_pages)
      return fail(ErrorCode::InvalidArgument);
    const std::uint64_t maximum = type.maximum_pages.value_or(1024);
    if (maximum > 1024) return fail(ErrorCode::CapacityExceeded);
    auto* bytes =
        static_cast<std::byte*>(std::calloc(std::max<std::uint64_t>(type.initial_pages, 1), kPage));
    if (bytes == nullptr) return fail(ErrorCode::OutOfMemory);
    return std::make_unique<NaiveMemory>(bytes, type.initial_pages, maximum, type.shared);
  }
  std::unique_ptr<conformance::Futex> create_futex(std::uint32_t initial) override {
    return std::make_unique<NaiveFutex>(initial);
  }
  std::optional<wp::Trap> catch_traps(void (*)(void*), void*) override {
    return wp::Trap{wp::TrapKind::HandlerNotInstalled, nullptr};
  }
};

std::string joined(const std::vector<std::string>& ids) {
  std::string text;
  for (const auto& id : ids) text += (text.empty() ? "" : " ") + id;
  return text.empty() ? "(none)" : text;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  conformance::register_conformance_tests([] { return std::make_unique<NaiveAdapter>(); },
                                          "NaiveAdapter");
  // Failures expected: the report below decides, not RUN_ALL_TESTS's status.
  if (RUN_ALL_TESTS() == 0) std::printf("every case of the kit passed\n");
  const std::vector<std::string> expected{"W2", "W5"};
  const auto failed = conformance::failed_clauses("NaiveAdapter");
  std::printf("C3_NaiveAdapterBreaksExactlyW2AndW5: the kit reported %s, expected %s: %s\n",
              joined(failed).c_str(), joined(expected).c_str(),
              failed == expected ? "PASSED" : "FAILED");
  return failed == expected ? 0 : 1;
}
