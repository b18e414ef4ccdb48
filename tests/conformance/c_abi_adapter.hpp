// The conformance kit's adapter over the library's C ABI (wrt/platform.h):
// the same memories, futex and traps as library_adapter.hpp, reached only
// through wrt_* calls, so the kit checks what a C runtime gets (C1, C3).
// Every case must pass. A status is turned back into the ErrorCode it was
// made from (wrt_status = ErrorCode + 1, C1), with the thread's last error.
#pragma once

#include <wrt/platform.h>
#include <wrt/platform/conformance.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "library_adapter.hpp"

namespace wrt::platform::conformance_test {

// `value` when `status` is WRT_OK, else the C ABI's error as an Error.
template <typename T>
Result<T> from_c(wrt_status status, T value) {
  if (status == WRT_OK) return value;
  wrt_error last{};
  wrt_last_error(&last);
  return tl::unexpected(Error(static_cast<ErrorCode>(status - 1), last.operation, last.os_errno));
}
inline Result<void> from_c(wrt_status status) {
  return from_c(status, true).map([](bool) {});
}
inline Result<WaitResult> from_c(wrt_status status, wrt_wait_result result) {
  return from_c(status, static_cast<WaitResult>(result));
}

class CAbiMemory final : public conformance::Memory {
 public:
  explicit CAbiMemory(wrt_memory* memory) : memory_(memory) {}
  ~CAbiMemory() override { wrt_memory_destroy(memory_); }
  CAbiMemory(const CAbiMemory&) = delete;
  CAbiMemory& operator=(const CAbiMemory&) = delete;

  std::uint64_t size() const override {
    std::uint64_t pages = 0;
    wrt_memory_size(memory_, &pages);
    return pages;
  }
  std::byte* data() const override {
    void* base = nullptr;
    wrt_memory_data(memory_, &base);
    return static_cast<std::byte*>(base);
  }
  Result<std::uint64_t> grow(std::uint64_t delta_pages) override {
    std::uint64_t previous = 0;
    const wrt_status status = wrt_memory_grow(memory_, delta_pages, &previous);
    return from_c(status, previous);
  }
  Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const override {
    return from_c(wrt_memory_read(memory_, address, bytes.data(), bytes.size()));
  }
  Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) override {
    return from_c(wrt_memory_write(memory_, address, bytes.data(), bytes.size()));
  }
  Result<WaitResult> wait32(std::uint64_t address, std::uint32_t expected,
                            std::int64_t timeout_ns) override {
    wrt_wait_result result{};
    const wrt_status status = wrt_memory_wait32(memory_, address, expected, timeout_ns, &result);
    return from_c(status, result);
  }
  Result<WaitResult> wait64(std::uint64_t address, std::uint64_t expected,
                            std::int64_t timeout_ns) override {
    wrt_wait_result result{};
    const wrt_status status = wrt_memory_wait64(memory_, address, expected, timeout_ns, &result);
    return from_c(status, result);
  }
  Result<std::uint32_t> notify(std::uint64_t address, std::uint32_t count) override {
    std::uint32_t woken = 0;
    const wrt_status status = wrt_memory_notify(memory_, address, count, &woken);
    return from_c(status, woken);
  }

 private:
  wrt_memory* memory_;
};

// A futex word that only wrt_futex_wait / wrt_futex_wake sleep and wake on.
class CAbiFutex final : public conformance::Futex {
 public:
  explicit CAbiFutex(std::uint32_t initial) : word_(initial) {}

  void store(std::uint32_t value) override { std::atomic_ref(word_).store(value); }
  Result<WaitResult> wait(std::uint32_t expected,
                          std::optional<std::chrono::nanoseconds> timeout) override {
    // C++: no timeout waits forever, a negative one checks once (F3); C: a
    // negative timeout_ns waits forever, 0 checks once.
    const std::int64_t timeout_ns = timeout ? std::max<std::int64_t>(timeout->count(), 0) : -1;
    wrt_wait_result result{};
    const wrt_status status = wrt_futex_wait(&word_, expected, timeout_ns, &result);
    return from_c(status, result);
  }
  Result<std::uint32_t> wake(std::uint32_t count) override {
    std::uint32_t woken = 0;
    const wrt_status status = wrt_futex_wake(&word_, count, &woken);
    return from_c(status, woken);
  }

 private:
  std::uint32_t word_;
};

class CAbiAdapter final : public conformance::Adapter {
 public:
  conformance::Capabilities capabilities() const override { return kLibraryCapabilities; }
  Result<std::unique_ptr<conformance::Memory>> create_memory(const MemoryType& type) override {
    const wrt_allocator_config config{
        .maximum_pages = 1024, .guard_bytes = kGuardBytes, .reservation_bytes = 0};
    wrt_allocator* allocator = nullptr;
    if (const wrt_status status = wrt_mmap_allocator_create(&config, &allocator); status != WRT_OK)
      return tl::unexpected(from_c(status).error());
    const wrt_memory_type c_type{
        .initial_pages = type.initial_pages,
        .maximum_pages = type.maximum_pages.value_or(0),
        .has_maximum = type.maximum_pages.has_value(),
        .shared = type.shared,
        .index = type.index == IndexType::I64 ? WRT_INDEX_I64 : WRT_INDEX_I32,
        .page_size = type.page_size};
    wrt_memory* memory = nullptr;
    if (const wrt_status status = wrt_memory_create(&allocator, &c_type, &memory); status != WRT_OK)
      return tl::unexpected(from_c(status).error());
    return std::make_unique<CAbiMemory>(memory);
  }
  std::unique_ptr<conformance::Futex> create_futex(std::uint32_t initial) override {
    return std::make_unique<CAbiFutex>(initial);
  }
  std::optional<Trap> catch_traps(void (*body)(void*), void* context) override {
    if (wrt_install_trap_handler() != WRT_OK) return Trap{TrapKind::HandlerNotInstalled, nullptr};
    wrt_trap trap{};
    if (wrt_catch_traps(body, context, &trap) != WRT_OK || trap.kind == WRT_TRAP_NONE)
      return std::nullopt;
    return Trap{trap.kind == WRT_TRAP_MEMORY_OUT_OF_BOUNDS ? TrapKind::MemoryOutOfBounds
                : trap.kind == WRT_TRAP_STACK_OVERFLOW     ? TrapKind::StackOverflow
                                                           : TrapKind::HandlerNotInstalled,
                trap.address};
  }
};

}  // namespace wrt::platform::conformance_test
