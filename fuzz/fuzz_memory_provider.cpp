// PalMemoryProvider over both backends with overflow-prone offsets and
// lengths (near the capacity, near SIZE_MAX): every access is checked
// against a byte-exact shadow of the memory, all-or-nothing (P2), and
// grow/atomic_u32 against the contract's answers (P3, P4).
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "allocator_model.hpp"
#include "check.hpp"
#include "pick.hpp"
#include "static_buffer.hpp"
#include "wrt/platform/memory_provider.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

using namespace wrt::platform;

namespace {

// Bytes around an access that a rejected call must not have touched either.
constexpr std::size_t kNeighbourhood = 64;
constexpr std::byte kUntouched{0x5A};

// Buffers reused by every execution (their capacity stays): a fresh
// megabyte-sized vector per access costs a page fault per 4 KiB, which was
// most of the harness's time.
std::vector<std::byte>& reused_buffer(std::size_t which) {
  static std::array<std::vector<std::byte>, 2> buffers;
  return buffers[which];
}
// `length` bytes of `fill` in a reused buffer.
std::span<std::byte> scratch(std::size_t length, std::byte fill) {
  std::vector<std::byte>& buffer = reused_buffer(1);
  buffer.assign(length, fill);
  return buffer;
}

template <PageAllocator A>
class ProviderDriver {
 public:
  ProviderDriver(PalMemoryProvider<A>& memory, std::uint32_t reserved_pages)
      : memory_(memory), reserved_pages_(reserved_pages), shadow_(reused_buffer(0)) {
    shadow_.assign(memory.capacity(), std::byte{0});
  }

  void run(FuzzedDataProvider& in) {
    base_ = memory_.data();
    verify_all();  // P1: the initial pages are committed and zero
    while (in.remaining_bytes() > 0) {
      switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
          write(in);
          break;
        case 1:
          read(in);
          break;
        case 2:
          grow(in);
          break;
        default:
          atomic_word(in);
          break;
      }
      FUZZ_CHECK(memory_.capacity() == shadow_.size());
      FUZZ_CHECK(memory_.pages() * kWasmPageSize == shadow_.size());
      FUZZ_CHECK(memory_.data() == base_);
    }
    verify_all();
  }

 private:
  std::size_t pick_offset(FuzzedDataProvider& in) const {
    return fuzz::pick_near<std::size_t>(in, in.ConsumeBool() ? shadow_.size() : 0);
  }
  std::size_t pick_length(FuzzedDataProvider& in, std::size_t offset) const {
    const std::size_t room = offset < shadow_.size() ? shadow_.size() - offset : 0;
    return in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 256)
                            : fuzz::pick_near<std::size_t>(in, room);
  }
  // offset + length <= capacity, in 128-bit arithmetic.
  bool fits(std::size_t offset, std::size_t length) const {
    return fuzz::u128{offset} + length <= shadow_.size();
  }

  void write(FuzzedDataProvider& in) {
    const std::size_t offset = pick_offset(in);
    const std::size_t length = pick_length(in, offset);
    const auto fill = in.ConsumeIntegral<std::uint8_t>();
    if (!fits(offset, length)) {
      // Rejected without reading the source: a span longer than its buffer
      // is how a huge length reaches the bounds check at all.
      const std::array<std::byte, 1> source{};
      const auto result = memory_.write(offset, std::span<const std::byte>(source.data(), length));
      FUZZ_CHECK(!result && result.error().code() == ErrorCode::OutOfBounds);
      verify_near(offset);
      return;
    }
    const std::span<std::byte> bytes = scratch(length, std::byte{fill});
    for (std::size_t i = 0; i < length; i += 97) bytes[i] = std::byte(i);
    FUZZ_CHECK(memory_.write(offset, bytes).has_value());
    if (length > 0) std::memcpy(shadow_.data() + offset, bytes.data(), length);
    verify_range(offset, length);
    verify_near(offset);
    verify_near(offset + length);
  }

  void read(FuzzedDataProvider& in) {
    const std::size_t offset = pick_offset(in);
    const std::size_t length = pick_length(in, offset);
    if (!fits(offset, length)) {
      std::array<std::byte, kNeighbourhood> target;
      target.fill(kUntouched);
      const auto result = memory_.read(offset, std::span<std::byte>(target.data(), length));
      FUZZ_CHECK(!result && result.error().code() == ErrorCode::OutOfBounds);
      for (const std::byte b : target) FUZZ_CHECK(b == kUntouched);
      return;
    }
    const std::span<std::byte> target = scratch(length, kUntouched);
    FUZZ_CHECK(memory_.read(offset, target).has_value());
    FUZZ_CHECK(length == 0 || std::memcmp(target.data(), shadow_.data() + offset, length) == 0);
  }

  // P3: memory.grow returns the previous page count; new pages read zero.
  void grow(FuzzedDataProvider& in) {
    const std::uint32_t pages = memory_.pages();
    const std::uint32_t additional = fuzz::pick_near<std::uint32_t>(in, reserved_pages_ - pages);
    const auto result = memory_.grow(additional);
    if (std::uint64_t{pages} + additional > reserved_pages_) {
      FUZZ_CHECK(!result && result.error().code() == ErrorCode::CapacityExceeded);
      return;
    }
    FUZZ_CHECK(result.has_value() && *result == pages);
    const std::size_t old_size = shadow_.size();
    shadow_.resize(old_size + std::size_t{additional} * kWasmPageSize);
    verify_range(old_size, shadow_.size() - old_size);
  }

  // P4: Misaligned unless offset % 4 == 0, then OutOfBounds unless
  // offset + 4 <= capacity; the word is the memory's own bytes.
  void atomic_word(FuzzedDataProvider& in) {
    const std::size_t offset = pick_offset(in);
    const auto result = memory_.atomic_u32(offset);
    if (offset % 4 != 0) {
      FUZZ_CHECK(!result && result.error().code() == ErrorCode::Misaligned);
      return;
    }
    if (!fits(offset, 4)) {
      FUZZ_CHECK(!result && result.error().code() == ErrorCode::OutOfBounds);
      return;
    }
    FUZZ_CHECK(result.has_value() && reinterpret_cast<std::byte*>(*result) == base_ + offset);
    std::atomic_ref<std::uint32_t> word(**result);
    std::uint32_t expected = 0;
    std::memcpy(&expected, shadow_.data() + offset, 4);
    FUZZ_CHECK(word.load() == expected);
    const auto value = in.ConsumeIntegral<std::uint32_t>();
    word.store(value);
    std::memcpy(shadow_.data() + offset, &value, 4);
    verify_range(offset, 4);
  }

  void verify_range(std::size_t offset, std::size_t length) const {
    const std::span<std::byte> actual = scratch(length, kUntouched);
    FUZZ_CHECK(memory_.read(offset, actual).has_value());
    FUZZ_CHECK(length == 0 || std::memcmp(actual.data(), shadow_.data() + offset, length) == 0);
  }
  // The committed bytes within kNeighbourhood of `offset` match the shadow.
  void verify_near(std::size_t offset) const {
    const std::size_t size = shadow_.size();
    const std::size_t from = offset < size ? offset : size;
    const std::size_t start = from > kNeighbourhood ? from - kNeighbourhood : 0;
    const std::size_t end = size - from > kNeighbourhood ? from + kNeighbourhood : size;
    FUZZ_CHECK(end == start ||
               std::memcmp(base_ + start, shadow_.data() + start, end - start) == 0);
  }
  void verify_all() const {
    FUZZ_CHECK(shadow_.empty() || std::memcmp(base_, shadow_.data(), shadow_.size()) == 0);
  }

  PalMemoryProvider<A>& memory_;
  const std::uint32_t reserved_pages_;
  std::vector<std::byte>& shadow_;  // zero-initialised, like fresh pages
  std::byte* base_ = nullptr;
};

// P1: create() forwards the allocator's answer; then run the accesses.
template <PageAllocator A>
void fuzz_provider(FuzzedDataProvider& in, A allocator, std::uint32_t limit_pages) {
  const std::uint32_t initial = fuzz::pick_near<std::uint32_t>(in, 1);
  std::optional<std::uint32_t> maximum;
  if (in.ConsumeBool()) maximum = fuzz::pick_near<std::uint32_t>(in, limit_pages);
  auto memory = PalMemoryProvider<A>::create(std::move(allocator), initial, maximum);
  if (const auto error = fuzz::expected_allocate_error(false, initial, maximum, limit_pages)) {
    FUZZ_CHECK(!memory && memory.error().code() == *error);
    return;
  }
  FUZZ_CHECK(memory.has_value() && memory->pages() == initial);
  ProviderDriver<A>(*memory, maximum.value_or(limit_pages)).run(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    std::uint32_t limit_pages = 0;
    auto allocator = fuzz::create_static_allocator(in, limit_pages);
    if (allocator) fuzz_provider(in, std::move(*allocator), limit_pages);
  } else {
    PageAllocatorConfig config;
    config.maximum_pages = in.ConsumeIntegralInRange<std::uint32_t>(0, 16);
    fuzz_provider(in, MmapPageAllocator(config), config.maximum_pages);
  }
  return 0;
}
