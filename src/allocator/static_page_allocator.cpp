#include "wrt/platform/static_page_allocator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "allocator/page_policy.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WRT_PLATFORM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WRT_PLATFORM_ASAN 1
#endif
#ifdef WRT_PLATFORM_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace wrt::platform {
namespace {

// Without an MMU nothing faults on a stray access, so under ASan the bytes
// that are not committed are poisoned: ASan reports what the OS would not.
void make_inaccessible([[maybe_unused]] std::byte* p, [[maybe_unused]] std::size_t bytes) {
#ifdef WRT_PLATFORM_ASAN
  ASAN_POISON_MEMORY_REGION(p, bytes);
#endif
}

void make_accessible([[maybe_unused]] std::byte* p, [[maybe_unused]] std::size_t bytes) {
#ifdef WRT_PLATFORM_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#endif
}

// Commits [p, p + bytes): what the MMU backend gets from fresh OS pages.
void commit_zeroed(std::byte* p, std::size_t bytes) {
  make_accessible(p, bytes);
  std::memset(p, 0, bytes);
}

std::uint32_t whole_pages(std::size_t bytes) {
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(bytes / kWasmPageSize, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

Result<StaticPageAllocator> StaticPageAllocator::create(std::span<std::byte> buffer,
                                                        PageAllocatorConfig config) {
  if (buffer.data() == nullptr || buffer.empty())
    return tl::unexpected(
        Error(ErrorCode::InvalidArgument, "StaticPageAllocator::create: null or empty buffer"));
  if (reinterpret_cast<std::uintptr_t>(buffer.data()) % kWasmPageSize != 0)
    return tl::unexpected(Error(
        ErrorCode::Misaligned, "StaticPageAllocator::create: buffer not aligned to kWasmPageSize"));
  if (buffer.size() % kWasmPageSize != 0)
    return tl::unexpected(Error(ErrorCode::InvalidArgument,
                                "StaticPageAllocator::create: buffer size not whole pages"));
  return StaticPageAllocator(buffer, config);
}

StaticPageAllocator::StaticPageAllocator(std::span<std::byte> buffer,
                                         PageAllocatorConfig config) noexcept
    : buffer_(buffer), config_(config) {
  config_.maximum_pages = std::min(config.maximum_pages, whole_pages(buffer.size()));
  make_inaccessible(buffer_.data(), buffer_.size());
}

StaticPageAllocator::~StaticPageAllocator() {
  // The buffer goes back to its owner usable.
  make_accessible(buffer_.data(), buffer_.size());
}

StaticPageAllocator::StaticPageAllocator(StaticPageAllocator&& other) noexcept
    : buffer_(std::exchange(other.buffer_, {})),
      config_(std::exchange(other.config_, PageAllocatorConfig{0, 0})),
      state_(std::exchange(other.state_, {})) {}

StaticPageAllocator& StaticPageAllocator::operator=(StaticPageAllocator&& other) noexcept {
  if (this != &other) {
    make_accessible(buffer_.data(), buffer_.size());
    buffer_ = std::exchange(other.buffer_, {});
    config_ = std::exchange(other.config_, PageAllocatorConfig{0, 0});
    state_ = std::exchange(other.state_, {});
  }
  return *this;
}

Result<Allocation> StaticPageAllocator::allocate(std::uint32_t initial_pages,
                                                 std::optional<std::uint32_t> maximum_pages) {
  if (buffer_.empty())
    return tl::unexpected(Error(ErrorCode::CapacityExceeded,
                                "StaticPageAllocator::allocate: no buffer (moved from)"));
  const auto plan =
      detail::plan_allocate(state_, initial_pages, maximum_pages, config_.maximum_pages);
  if (!plan) return tl::unexpected(plan.error());
  state_ = {buffer_.data(), initial_pages, plan->reserved_pages};
  commit_zeroed(state_.base, state_.committed_bytes());
  return Allocation{state_.base, state_.committed_bytes()};
}

Result<void> StaticPageAllocator::grow(std::uint32_t current_pages,
                                       std::uint32_t additional_pages) {
  const auto new_pages = detail::plan_grow(state_, current_pages, additional_pages);
  if (!new_pages) return tl::unexpected(new_pages.error());
  commit_zeroed(state_.base + state_.committed_bytes(),
                std::size_t{additional_pages} * kWasmPageSize);
  state_.committed_pages = *new_pages;
  return {};
}

Result<void> StaticPageAllocator::deallocate(std::byte* ptr, std::size_t size) {
  if (auto valid = detail::check_deallocate(state_, ptr, size); !valid)
    return tl::unexpected(valid.error());
  make_inaccessible(state_.base, state_.committed_bytes());
  state_ = {};
  return {};
}

}  // namespace wrt::platform
