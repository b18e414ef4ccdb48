// What the C ABI's translation units share (include/wrt/platform.h): the
// handles' definitions and the mapping of C++ results to wrt_status. Every
// C entry point is noexcept; the library builds with -fno-exceptions.
#pragma once

#include <cstring>
#include <type_traits>
#include <variant>

#include "os/seam.hpp"
#include "wrt/platform.h"
#include "wrt/platform/error.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/static_page_allocator.hpp"
#if defined(__linux__)
#include "wrt/platform/memory_pool.hpp"
#endif

namespace wrt::platform::capi {

// One PageAllocator over every backend the C ABI hands out, so that one
// LinearMemory type serves them all and its accessors need no dispatch:
// only allocate/grow/deallocate and the observers switch on the backend.
class AnyPageAllocator {
 public:
#if defined(__linux__)
  using Backend = std::variant<MmapPageAllocator, StaticPageAllocator, PooledPageAllocator>;
#else
  using Backend = std::variant<MmapPageAllocator, StaticPageAllocator>;
#endif
  explicit AnyPageAllocator(Backend backend) noexcept : backend_(std::move(backend)) {}
  AnyPageAllocator(AnyPageAllocator&&) noexcept = default;
  AnyPageAllocator& operator=(AnyPageAllocator&&) noexcept = default;

  Result<Allocation> allocate(std::uint32_t initial_pages, std::optional<std::uint32_t> maximum) {
    return std::visit([&](auto& a) { return a.allocate(initial_pages, maximum); }, backend_);
  }
  Result<void> grow(std::uint32_t current_pages, std::uint32_t additional_pages) {
    return std::visit([&](auto& a) { return a.grow(current_pages, additional_pages); }, backend_);
  }
  Result<void> deallocate(std::byte* ptr, std::size_t size) {
    return std::visit([&](auto& a) { return a.deallocate(ptr, size); }, backend_);
  }
  std::byte* base() const noexcept {
    return std::visit([](const auto& a) { return a.base(); }, backend_);
  }
  std::uint32_t committed_pages() const noexcept {
    return std::visit([](const auto& a) { return a.committed_pages(); }, backend_);
  }
  std::size_t committed_bytes() const noexcept {
    return std::visit([](const auto& a) { return a.committed_bytes(); }, backend_);
  }
  std::size_t reserved_bytes() const noexcept {
    return std::visit([](const auto& a) { return a.reserved_bytes(); }, backend_);
  }
  bool is_allocated() const noexcept {
    return std::visit([](const auto& a) { return a.is_allocated(); }, backend_);
  }

 private:
  Backend backend_;
};

static_assert(PageAllocator<AnyPageAllocator>);

using Memory = LinearMemory<AnyPageAllocator>;

// A C enum's value as its underlying integer, read without loading the
// enum: C passes any int in a C enum, and a C++ load of a value outside the
// enumerators' range is undefined (UBSan: invalid-enum-load). Every enum
// that comes from the caller is read through this, then range-checked.
template <typename Enum>
std::underlying_type_t<Enum> raw_value(const Enum& value) noexcept {
  std::underlying_type_t<Enum> raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

// Records `error` as the calling thread's last failure (wrt_last_error) and
// returns its status.
// Out of line and cold, its parts in registers: the accessors' success
// path then needs no stack frame for an Error.
[[gnu::cold]] wrt_status fail(ErrorCode code, const char* message, int os_errno) noexcept;
inline wrt_status fail(const Error& error) noexcept {
  return fail(error.code(), error.message(), error.os_errno());
}
// WRT_INVALID_ARGUMENT for a null handle or pointer, or an enum out of range;
// `operation` names the call (static text).
[[gnu::cold]] wrt_status invalid(const char* operation) noexcept;

// A Result's status, recording the error; the value is the caller's.
template <typename T>
wrt_status status_of(const Result<T>& result) noexcept {
  return result ? WRT_OK : fail(result.error());
}

// Stores a successful result's value through `out`.
template <typename T, typename Out>
wrt_status deliver(const Result<T>& result, Out* out) noexcept {
  if (!result) [[unlikely]]
    return fail(result.error());
  *out = static_cast<Out>(*result);
  return WRT_OK;
}

}  // namespace wrt::platform::capi

struct wrt_allocator {
  wrt::platform::capi::AnyPageAllocator allocator;
};

struct wrt_memory {
  wrt::platform::capi::Memory memory;
};
