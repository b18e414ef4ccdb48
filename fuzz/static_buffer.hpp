// The caller buffer for StaticPageAllocator harnesses: one page-aligned
// static array reused by every execution. Before each run it is filled with
// a non-zero pattern, so a page committed without zeroing shows up.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "check.hpp"
#include "pick.hpp"
#include "wrt/platform/static_page_allocator.hpp"

namespace wrt::platform::fuzz {

inline constexpr std::uint32_t kStaticBufferPages = 16;

// One spare page, so that misaligned and ragged spans stay inside the array.
alignas(kWasmPageSize) inline std::byte static_buffer[(kStaticBufferPages + 1) * kWasmPageSize];

// A buffer of `pages` pages, shaped right or wrong by the input, and the
// error StaticPageAllocator::create must answer for that shape (A15).
struct BufferChoice {
  std::span<std::byte> buffer;
  std::optional<ErrorCode> expected_error;
};

inline BufferChoice pick_static_buffer(FuzzedDataProvider& in, std::uint32_t pages) {
  const std::size_t bytes = std::size_t{pages} * kWasmPageSize;
  std::memset(static_buffer, 0xA5, bytes);
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      return {{}, ErrorCode::InvalidArgument};  // null
    case 1:
      return {{static_buffer, 0}, ErrorCode::InvalidArgument};  // empty
    case 2: {
      const auto shift = in.ConsumeIntegralInRange<std::size_t>(1, kWasmPageSize - 1);
      return {{static_buffer + shift, bytes}, ErrorCode::Misaligned};
    }
    case 3: {
      const auto ragged = in.ConsumeIntegralInRange<std::size_t>(1, kWasmPageSize - 1);
      return {{static_buffer, bytes + ragged}, ErrorCode::InvalidArgument};
    }
    default:
      return {{static_buffer, bytes}, std::nullopt};
  }
}

// Creates the allocator the input asks for; nullopt (after checking the
// error) when the buffer is rejected.
inline std::optional<StaticPageAllocator> create_static_allocator(FuzzedDataProvider& in,
                                                                  std::uint32_t& limit_pages) {
  const auto pages = in.ConsumeIntegralInRange<std::uint32_t>(1, kStaticBufferPages);
  PageAllocatorConfig config;
  config.maximum_pages = pick_near<std::uint32_t>(in, pages);
  config.guard_bytes = in.ConsumeIntegral<std::size_t>();  // no MMU: ignored
  const BufferChoice choice = pick_static_buffer(in, pages);
  auto created = StaticPageAllocator::create(choice.buffer, config);
  if (choice.expected_error) {
    FUZZ_CHECK(!created);
    FUZZ_CHECK(created.error().code() == *choice.expected_error);
    FUZZ_CHECK(created.error().os_errno() == 0);
    return std::nullopt;
  }
  FUZZ_CHECK(created.has_value());
  // The page limit is min(config.maximum_pages, buffer pages).
  limit_pages = config.maximum_pages < pages ? config.maximum_pages : pages;
  return std::move(*created);
}

}  // namespace wrt::platform::fuzz
