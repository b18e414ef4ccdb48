// The conformance kit's adapter over the library's own C++ API:
// LinearMemory<MmapPageAllocator> (with a guard), Futex and catch_traps.
// The kit must pass everything against it (C3). Public headers only: the
// installed-package check builds it too (tests/package/conformance).
#pragma once

#include <wrt/platform.hpp>
#include <wrt/platform/conformance.hpp>

#include <memory>
#include <utility>

namespace wrt::platform::conformance_test {

namespace conformance = wrt::platform::conformance;

// One page of guard after every memory's maximum (A10).
inline constexpr std::size_t kGuardBytes = kWasmPageSize;

// The capabilities of this library on this platform: wake counts are exact
// except on Windows and macOS (an upper bound there, docs/SPEC.md F9).
inline constexpr conformance::Capabilities kLibraryCapabilities = {
    .traps = true,
    .guard_bytes = kGuardBytes,
#if defined(_WIN32) || defined(__APPLE__)
    .exact_wake_count = false,
#else
    .exact_wake_count = true,
#endif
};

class LibraryMemory final : public conformance::Memory {
 public:
  explicit LibraryMemory(LinearMemory<MmapPageAllocator> memory) : memory_(std::move(memory)) {}

  std::uint64_t size() const override { return memory_.size(); }
  std::byte* data() const override { return memory_.data(); }
  Result<std::uint64_t> grow(std::uint64_t delta_pages) override {
    return memory_.grow(delta_pages);
  }
  Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const override {
    return memory_.read(address, bytes);
  }
  Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) override {
    return memory_.write(address, bytes);
  }
  Result<WaitResult> wait32(std::uint64_t address, std::uint32_t expected,
                            std::int64_t timeout_ns) override {
    return memory_.atomic_wait32(address, expected, timeout_ns);
  }
  Result<WaitResult> wait64(std::uint64_t address, std::uint64_t expected,
                            std::int64_t timeout_ns) override {
    return memory_.atomic_wait64(address, expected, timeout_ns);
  }
  Result<std::uint32_t> notify(std::uint64_t address, std::uint32_t count) override {
    return memory_.atomic_notify(address, count);
  }

 private:
  LinearMemory<MmapPageAllocator> memory_;
};

class LibraryFutex final : public conformance::Futex {
 public:
  explicit LibraryFutex(std::uint32_t initial) : futex_(initial) {}

  void store(std::uint32_t value) override { futex_.word().store(value); }
  Result<WaitResult> wait(std::uint32_t expected,
                          std::optional<std::chrono::nanoseconds> timeout) override {
    return futex_.wait(expected, timeout);
  }
  Result<std::uint32_t> wake(std::uint32_t count) override { return futex_.wake(count); }

 private:
  wrt::platform::Futex futex_;
};

class LibraryAdapter final : public conformance::Adapter {
 public:
  conformance::Capabilities capabilities() const override { return kLibraryCapabilities; }
  Result<std::unique_ptr<conformance::Memory>> create_memory(const MemoryType& type) override {
    auto memory = LinearMemory<MmapPageAllocator>::create(
        MmapPageAllocator({.maximum_pages = 1024, .guard_bytes = kGuardBytes}), type);
    if (!memory) return tl::unexpected(memory.error());
    return std::make_unique<LibraryMemory>(std::move(*memory));
  }
  std::unique_ptr<conformance::Futex> create_futex(std::uint32_t initial) override {
    return std::make_unique<LibraryFutex>(initial);
  }
  std::optional<Trap> catch_traps(void (*body)(void*), void* context) override {
    if (auto installed = install_trap_handler(); !installed)
      return Trap{TrapKind::HandlerNotInstalled, nullptr};
    return wrt::platform::catch_traps([&] { body(context); });
  }
};

}  // namespace wrt::platform::conformance_test
