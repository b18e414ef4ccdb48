// Every access of LinearMemory (docs/SPEC.md, E1-E7) against a byte-array
// model, with both index types, both page sizes, shared and unshared. The
// input decodes into:
// 1. two memories A and B of one flavour (I32/I64, 64 KiB or 1-byte pages;
//    sizes at 0, near 64 KiB multiples and in between), each with a model:
//    a std::vector of its bytes;
// 2. a sequence of load / store (7 value types) / atomic load, store, rmw,
//    cmpxchg (4 widths) / fill / copy / copy_from (A<->B) / init / read /
//    write / grow / wait / notify, at addresses picked at the edges of the
//    address space (0, byte_length() - width ± 3, the allocator page end,
//    2^32, 2^48, UINT64_MAX - 3 ...). After each: the error is exactly what
//    E3-E5 / W4 predict (Misaligned before OutOfBounds for atomics; a
//    failed bulk operation or store changes no byte), a load returns the
//    model's little-endian bytes, an atomic its old value, the size is
//    the model's; after the sequence, each memory equals its model and the
//    bytes between byte_length() and the end of the committed allocator
//    page are still zero (E6);
// 3. shared memories: 2-3 threads run more ops concurrently without grows:
//    errors as predicted, racing plain accesses anywhere past a counter
//    word, atomic adds on the counter whose final value is the sum (TSan
//    checks that no access is a C++ data race).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "check.hpp"
#include "linear_memory_model.hpp"
#include "pick.hpp"
#include "workers.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

using namespace wrt::platform;

namespace {

using Memory = LinearMemory<MmapPageAllocator>;
using Model = std::vector<std::uint8_t>;
constexpr std::uint32_t kAllocatorPages = 2;
constexpr std::uint64_t kMaximumBytes = std::uint64_t{kAllocatorPages} * kWasmPageSize;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

using models::atomic_error;
using models::fits;
using models::load_le;
using models::store_le;

template <typename T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// An address at an edge of `memory` for an access of `width` bytes.
std::uint64_t pick_address(FuzzedDataProvider& in, const Memory& memory, std::uint64_t width) {
  const std::uint64_t length = memory.byte_length();
  const std::uint64_t committed = (length + kWasmPageSize - 1) / kWasmPageSize * kWasmPageSize;
  const std::uint64_t anchors[] = {0,
                                   length,
                                   length - width,
                                   committed,
                                   committed - width,
                                   std::uint64_t{1} << 32,
                                   (std::uint64_t{1} << 32) - width,
                                   std::uint64_t{1} << 48,
                                   kU64Max - width,
                                   in.ConsumeIntegralInRange<std::uint64_t>(0, length)};
  const std::uint64_t anchor =
      anchors[in.ConsumeIntegralInRange<std::size_t>(0, std::size(anchors) - 1)];
  return fuzz::pick_near<std::uint64_t>(in, anchor);
}
std::uint64_t pick_length(FuzzedDataProvider& in, const Memory& memory) {
  return fuzz::pick_near<std::uint64_t>(in, in.ConsumeBool()
                                                ? in.ConsumeIntegralInRange<std::uint64_t>(0, 300)
                                                : memory.byte_length());
}

template <typename T>
void check_error(const Result<T>& result, std::optional<ErrorCode> expected) {
  if (expected) {
    FUZZ_CHECK(!result.has_value() && result.error().code() == *expected);
  } else {
    FUZZ_CHECK(result.has_value());
  }
}

std::optional<ErrorCode> plain_error(std::uint64_t address, std::uint64_t width,
                                     std::uint64_t length) {
  if (!fits(address, width, length)) return ErrorCode::OutOfBounds;
  return std::nullopt;
}

struct Side {
  Memory& memory;
  Model& model;
};

// --- phase 2: one op, exactly against the model ---

template <typename T>
void plain_op(FuzzedDataProvider& in, Side s) {
  const std::uint64_t address = pick_address(in, s.memory, sizeof(T));
  const auto expected = plain_error(address, sizeof(T), s.model.size());
  if (in.ConsumeBool()) {
    const auto loaded = s.memory.load<T>(address);
    check_error(loaded, expected);
    if (!expected) FUZZ_CHECK(same_bits(*loaded, load_le<T>(s.model, address)));
  } else {
    std::array<std::uint8_t, sizeof(T)> bytes;
    for (auto& b : bytes) b = in.ConsumeIntegral<std::uint8_t>();
    const T value = std::bit_cast<T>(bytes);
    check_error(s.memory.store(address, value), expected);
    if (!expected) store_le(s.model, address, value);
  }
}

template <typename T>
void atomic_op(FuzzedDataProvider& in, Side s) {
  const std::uint64_t address = pick_address(in, s.memory, sizeof(T));
  const auto expected = atomic_error(address, sizeof(T), s.model.size());
  const T value = in.ConsumeIntegral<T>();
  const T old = expected ? T{0} : load_le<T>(s.model, address);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: {
      const auto loaded = s.memory.atomic_load<T>(address);
      check_error(loaded, expected);
      if (!expected) FUZZ_CHECK(*loaded == old);
      return;
    }
    case 1:
      check_error(s.memory.atomic_store(address, value), expected);
      if (!expected) store_le(s.model, address, value);
      return;
    case 2: {
      const auto op = static_cast<RmwOp>(in.ConsumeIntegralInRange(0, 5));
      const auto result = s.memory.atomic_rmw<T>(op, address, value);
      check_error(result, expected);
      if (expected) return;
      FUZZ_CHECK(*result == models::rmw(s.model, address, op, value));
      return;
    }
    default: {
      const T compare = in.ConsumeBool() ? old : in.ConsumeIntegral<T>();
      const auto result = s.memory.atomic_cmpxchg<T>(address, compare, value);
      check_error(result, expected);
      if (expected) return;
      FUZZ_CHECK(*result == models::cmpxchg(s.model, address, compare, value));
    }
  }
}

void bulk_op(FuzzedDataProvider& in, Side a, Side b, std::span<const std::byte> segment) {
  const std::uint64_t length = pick_length(in, a.memory);
  const std::uint64_t destination = pick_address(in, a.memory, length);
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: {
      const auto value = in.ConsumeIntegral<std::uint8_t>();
      const bool ok = fits(destination, length, a.model.size());
      check_error(a.memory.fill(destination, value, length),
                  ok ? std::nullopt : std::optional(ErrorCode::OutOfBounds));
      if (ok)
        std::fill_n(a.model.begin() + static_cast<std::ptrdiff_t>(destination), length, value);
      return;
    }
    case 1:
    case 2: {
      // copy within A, or copy_from B into A.
      const bool within = in.ConsumeBool();
      Side& from = within ? a : b;
      const std::uint64_t source = pick_address(in, from.memory, length);
      const bool ok =
          fits(destination, length, a.model.size()) && fits(source, length, from.model.size());
      check_error(within ? a.memory.copy(destination, source, length)
                         : a.memory.copy_from(b.memory, destination, source, length),
                  ok ? std::nullopt : std::optional(ErrorCode::OutOfBounds));
      if (ok && length > 0)
        std::memmove(a.model.data() + destination, from.model.data() + source, length);
      return;
    }
    case 3: {
      const std::uint64_t offset = fuzz::pick_near<std::uint64_t>(in, segment.size() / 2);
      const bool ok =
          fits(destination, length, a.model.size()) && fits(offset, length, segment.size());
      check_error(a.memory.init(destination, segment, offset, length),
                  ok ? std::nullopt : std::optional(ErrorCode::OutOfBounds));
      if (ok && length > 0)
        std::memcpy(a.model.data() + destination, segment.data() + offset, length);
      return;
    }
    default: {
      // read / write with a buffer of up to 300 bytes.
      std::vector<std::byte> buffer(std::min<std::uint64_t>(length, 300), std::byte{0x5c});
      const bool ok = fits(destination, buffer.size(), a.model.size());
      const auto expected = ok ? std::nullopt : std::optional(ErrorCode::OutOfBounds);
      if (in.ConsumeBool()) {
        check_error(a.memory.read(destination, buffer), expected);
        for (std::size_t i = 0; i < buffer.size(); ++i)
          FUZZ_CHECK(buffer[i] == (ok ? std::byte{a.model[destination + i]} : std::byte{0x5c}));
      } else {
        check_error(a.memory.write(destination, buffer), expected);
        if (ok)
          std::fill_n(a.model.begin() + static_cast<std::ptrdiff_t>(destination), buffer.size(),
                      0x5c);
      }
    }
  }
}

void grow_op(FuzzedDataProvider& in, Side s) {
  const std::uint32_t page_size = s.memory.page_size();
  const std::uint64_t pages = s.model.size() / page_size;
  const std::uint64_t delta = fuzz::pick_near<std::uint64_t>(
      in, in.ConsumeIntegralInRange<std::uint64_t>(0, kMaximumBytes / page_size - pages));
  const auto grown = s.memory.grow(delta);
  if (fits(pages, delta, kMaximumBytes / page_size)) {
    FUZZ_CHECK(grown.has_value() && *grown == pages);
    s.model.resize(static_cast<std::size_t>((pages + delta) * page_size), 0);
  } else {
    check_error(grown, ErrorCode::CapacityExceeded);
  }
}

void wait_notify_op(FuzzedDataProvider& in, Side s) {
  const std::uint64_t width = in.ConsumeBool() ? 8 : 4;
  const std::uint64_t address = pick_address(in, s.memory, width);
  const std::uint64_t length = s.model.size();
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      check_error(s.memory.atomic_notify(address, in.ConsumeIntegral<std::uint32_t>()),
                  atomic_error(address, 4, length));
      return;
    case 1:
      check_error(s.memory.atomic_wait32(address, in.ConsumeIntegral<std::uint32_t>(), 0),
                  models::wait_error(address, 4, length, s.memory.shared()));
      return;
    default:
      check_error(s.memory.atomic_wait64(address, in.ConsumeIntegral<std::uint64_t>(), 0),
                  models::wait_error(address, 8, length, s.memory.shared()));
  }
}

void one_op(FuzzedDataProvider& in, Side a, Side b, std::span<const std::byte> segment) {
  switch (in.ConsumeIntegralInRange(0, 13)) {
    case 0:
      return plain_op<std::uint8_t>(in, a);
    case 1:
      return plain_op<std::uint16_t>(in, a);
    case 2:
      return plain_op<std::uint32_t>(in, a);
    case 3:
      return plain_op<std::uint64_t>(in, a);
    case 4:
      return plain_op<float>(in, a);
    case 5:
      return plain_op<double>(in, a);
    case 6:
      return plain_op<V128>(in, a);
    case 7:
      return atomic_op<std::uint8_t>(in, a);
    case 8:
      return atomic_op<std::uint16_t>(in, a);
    case 9:
      return atomic_op<std::uint32_t>(in, a);
    case 10:
      return atomic_op<std::uint64_t>(in, a);
    case 11:
      return bulk_op(in, a, b, segment);
    case 12:
      return grow_op(in, a);
    default:
      return wait_notify_op(in, a);
  }
}

// The memory has its model's size.
void check_size(const Side& s) {
  FUZZ_CHECK(s.memory.byte_length() == s.model.size());
  FUZZ_CHECK(s.memory.size() == s.model.size() / s.memory.page_size());
}

// The memory equals its model, and nothing past byte_length() in the last
// committed allocator page was written (E6). Up to 256 KiB of compares:
// checked once per input, not after every operation (under TSan comparing
// after every operation was 90% of the run), which still catches every
// wrong byte, only without naming the operation that wrote it.
void check_memory(const Side& s) {
  check_size(s);
  FUZZ_CHECK(s.model.empty() || std::memcmp(s.memory.data(), s.model.data(), s.model.size()) == 0);
  static const std::array<std::byte, kWasmPageSize> kZeros{};
  const std::size_t committed =
      (s.model.size() + kWasmPageSize - 1) / kWasmPageSize * kWasmPageSize;
  FUZZ_CHECK(std::memcmp(s.memory.data() + s.model.size(), kZeros.data(),
                         committed - s.model.size()) == 0);
}

// --- phase 3: shared memories from several threads ---

constexpr std::uint64_t kCounter = 0;  // a u64 only atomic adds touch
constexpr std::uint64_t kRacing = 16;  // plain accesses race from here on
constexpr std::size_t kWorkers = 2;    // with the fuzzing thread: up to 3 threads

void concurrent_phase(FuzzedDataProvider& in, Memory& memory) {
  const std::uint64_t length = memory.byte_length();
  if (length < 64) return;
  FUZZ_CHECK(memory.atomic_store<std::uint64_t>(kCounter, 0).has_value());
  struct Op {
    int kind;
    std::uint64_t address;
    std::uint64_t value;
  };
  const std::size_t thread_count = in.ConsumeIntegralInRange<std::size_t>(2, kWorkers + 1);
  std::vector<std::vector<Op>> scripts(thread_count);
  std::uint64_t sum = 0;
  for (auto& script : scripts)
    for (std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, 12); i > 0; --i) {
      Op op{in.ConsumeIntegralInRange(0, 5), pick_address(in, memory, 8),
            in.ConsumeIntegral<std::uint64_t>()};
      if (op.kind != 0 && op.address < kRacing) op.address += kRacing;  // keep off the counter
      if (op.kind == 0) sum += op.value;
      script.push_back(op);
    }
  fuzz::run_together(fuzz::workers<kWorkers>(), thread_count, [&](std::size_t t) {
    for (const Op& op : scripts[t]) {
      switch (op.kind) {
        case 0:
          FUZZ_CHECK(memory.atomic_rmw<std::uint64_t>(RmwOp::Add, kCounter, op.value).has_value());
          break;
        case 1:
          check_error(memory.store<std::uint32_t>(op.address, static_cast<std::uint32_t>(op.value)),
                      plain_error(op.address, 4, length));
          break;
        case 2:
          check_error(memory.load<V128>(op.address), plain_error(op.address, 16, length));
          break;
        case 3:
          check_error(memory.fill(op.address, static_cast<std::uint8_t>(op.value), op.value % 200),
                      plain_error(op.address, op.value % 200, length));
          break;
        case 4: {
          const std::uint64_t source = std::max(kRacing, op.value % length);
          check_error(memory.copy(op.address, source, op.value % 100),
                      fits(source, op.value % 100, length)
                          ? plain_error(op.address, op.value % 100, length)
                          : std::optional(ErrorCode::OutOfBounds));
          break;
        }
        default:
          check_error(memory.atomic_rmw<std::uint32_t>(RmwOp::Xor, op.address,
                                                       static_cast<std::uint32_t>(op.value)),
                      atomic_error(op.address, 4, length));
      }
    }
  });
  FUZZ_CHECK(memory.atomic_load<std::uint64_t>(kCounter) == sum);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const IndexType index = in.ConsumeBool() ? IndexType::I64 : IndexType::I32;
  const std::uint32_t page_size = in.ConsumeBool() ? 1 : kWasmPageSize;
  const bool shared = in.ConsumeBool();
  const std::uint64_t limit_pages = kMaximumBytes / page_size;
  const auto pick_pages = [&] {
    const std::uint64_t anchor =
        page_size == 1 ? in.ConsumeIntegralInRange<std::uint64_t>(0, 2) * kWasmPageSize : 1;
    return std::min(fuzz::pick_near<std::uint64_t>(in, anchor), limit_pages);
  };
  std::optional<Memory> memories[2];
  Model models[2];
  for (int m = 0; m < 2; ++m) {
    const std::uint64_t initial = pick_pages();
    auto created = Memory::create(MmapPageAllocator(PageAllocatorConfig{kAllocatorPages, 0}),
                                  MemoryType{initial, limit_pages, shared, index, page_size});
    FUZZ_CHECK(created.has_value());
    memories[m].emplace(std::move(*created));
    models[m].assign(static_cast<std::size_t>(initial * page_size), 0);
  }
  std::vector<std::byte> segment(in.ConsumeIntegralInRange<std::size_t>(0, 64));
  for (auto& b : segment) b = std::byte{in.ConsumeIntegral<std::uint8_t>()};

  const std::size_t ops = in.ConsumeIntegralInRange<std::size_t>(0, 40);
  for (std::size_t i = 0; i < ops && in.remaining_bytes() > 0; ++i) {
    const int m = in.ConsumeIntegralInRange(0, 1);  // which memory is A
    one_op(in, Side{*memories[m], models[m]}, Side{*memories[1 - m], models[1 - m]}, segment);
    check_size(Side{*memories[m], models[m]});  // only A changes
  }
  for (int m = 0; m < 2; ++m) check_memory(Side{*memories[m], models[m]});
  if (shared) concurrent_phase(in, *memories[0]);
  return 0;
}
