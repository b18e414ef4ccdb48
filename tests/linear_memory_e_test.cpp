// LinearMemory<A> as a Wasm 3.0 memory (docs/SPEC.md, E1-E7): memory64,
// 1-byte pages, the loads, stores, atomics and bulk operations of an
// interpreter, typed over every page allocator backend and run over every
// index type and page size.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "linear_memory_model.hpp"
#include "linear_memory_test_support.hpp"

namespace wrt::platform::linear_memory_testing {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kLimitBytes = std::uint64_t{kLimitPages} * kWasmPageSize;

// One index type and page size; every test below runs over all four.
struct Flavour {
  IndexType index;
  std::uint32_t page_size;
};
constexpr Flavour kFlavours[] = {{IndexType::I32, kWasmPageSize},
                                 {IndexType::I64, kWasmPageSize},
                                 {IndexType::I32, 1},
                                 {IndexType::I64, 1}};

std::string name(const Flavour& f) {
  return std::string(f.index == IndexType::I32 ? "i32" : "i64") + "/page " +
         std::to_string(f.page_size);
}

// A memory type of `initial_bytes` and `maximum_bytes` (whole pages of the flavour).
MemoryType bytes_type(const Flavour& f, std::uint64_t initial_bytes,
                      std::optional<std::uint64_t> maximum_bytes, bool shared) {
  MemoryType type{initial_bytes / f.page_size, std::nullopt, shared, f.index, f.page_size};
  if (maximum_bytes) type.maximum_pages = *maximum_bytes / f.page_size;
  return type;
}

using models::fits;

// Addresses around the interesting edges of a memory of `length` bytes.
std::vector<std::uint64_t> edge_addresses(std::uint64_t length) {
  std::vector<std::uint64_t> out;
  for (const std::uint64_t base : {std::uint64_t{0}, length, std::uint64_t{1} << 32,
                                   std::uint64_t{1} << 48, std::uint64_t{1} << 63, kU64Max})
    for (std::uint64_t d = 0; d < 20; ++d) {
      if (d <= kU64Max - base) out.push_back(base + d);
      if (d <= base) out.push_back(base - d);
    }
  return out;
}

template <typename M>
std::vector<std::byte> snapshot(const M& memory) {
  return std::vector<std::byte>(memory.data(), memory.data() + memory.byte_length());
}

template <typename A>
using LinearMemoryE = LinearMemoryTest<A>;
TYPED_TEST_SUITE(LinearMemoryE, Backends, BackendName);

// --- E1: limits ---

static_assert(page_limit(IndexType::I32, kWasmPageSize) == 65536);
static_assert(page_limit(IndexType::I32, 1) == UINT32_MAX);
static_assert(page_limit(IndexType::I64, kWasmPageSize) == std::uint64_t{1} << 48);
static_assert(page_limit(IndexType::I64, 1) == kU64Max);

TYPED_TEST(LinearMemoryE, E1_PageSizeIsOneOr65536) {
  for (const std::uint32_t page_size : {0u, 2u, 4096u, 65535u, 65537u, 131072u, UINT32_MAX}) {
    SCOPED_TRACE(page_size);
    EXPECT_EQ(code_of(this->try_make(MemoryType{1, 1, false, IndexType::I32, page_size})),
              ErrorCode::InvalidArgument);
  }
  EXPECT_TRUE(this->try_make(MemoryType{1, 1, false, IndexType::I32, 1}).has_value());
  EXPECT_TRUE(this->try_make(MemoryType{1, 1, false, IndexType::I64, 65536}).has_value());
}

TYPED_TEST(LinearMemoryE, E1_ExistingBraceInitialisedTypesAreI32With64KiBPages) {
  const MemoryType type{2, 3, true};
  EXPECT_EQ(type.index, IndexType::I32);
  EXPECT_EQ(type.page_size, kWasmPageSize);
  auto memory = this->make(type);
  EXPECT_EQ(memory.index_type(), IndexType::I32);
  EXPECT_EQ(memory.page_size(), kWasmPageSize);
  static_assert(std::is_same_v<decltype(memory.size()), std::uint64_t>);
  static_assert(std::is_same_v<decltype(memory.grow(1)), Result<std::uint64_t>>);
}

// The answer E1 predicts for create({initial, maximum}): InvalidArgument
// above the index type's limit, CapacityExceeded past the allocator's
// kLimitPages of 64 KiB, else a memory.
std::optional<ErrorCode> predicted_create(const Flavour& f, std::uint64_t initial,
                                          std::optional<std::uint64_t> maximum) {
  const std::uint64_t limit = page_limit(f.index, f.page_size);
  if (initial > limit || maximum.value_or(0) > limit) return ErrorCode::InvalidArgument;
  if (maximum && *maximum < initial) return ErrorCode::InvalidArgument;
  const auto too_big = [&](std::uint64_t pages) {
    const std::uint64_t bytes_per_page = f.page_size;
    return pages > kLimitBytes / bytes_per_page;
  };
  if (too_big(initial) || (maximum && too_big(*maximum))) return ErrorCode::CapacityExceeded;
  return std::nullopt;
}

const std::uint64_t kEdgeCounts[] = {0,
                                     1,
                                     8,
                                     9,
                                     65535,
                                     65536,
                                     65537,
                                     kLimitBytes,
                                     kLimitBytes + 1,
                                     UINT32_MAX,
                                     std::uint64_t{1} << 32,
                                     (std::uint64_t{1} << 48) - 1,
                                     std::uint64_t{1} << 48,
                                     (std::uint64_t{1} << 48) + 1,
                                     std::uint64_t{1} << 63,
                                     kU64Max - 1,
                                     kU64Max};

TEST(LinearMemoryELimits, E1_EveryLimitGivesTheResultE1Predicts) {
  Backend<MmapPageAllocator> backend;
  for (const Flavour& f : kFlavours)
    for (const std::uint64_t initial : kEdgeCounts)
      for (const std::uint64_t maximum : kEdgeCounts) {
        SCOPED_TRACE(name(f) + " initial " + std::to_string(initial) + " maximum " +
                     std::to_string(maximum));
        const auto result = LinearMemory<MmapPageAllocator>::create(
            backend.make(), MemoryType{initial, maximum, false, f.index, f.page_size});
        if (const auto expected = predicted_create(f, initial, maximum)) {
          EXPECT_EQ(code_of(result), *expected);
        } else {
          ASSERT_TRUE(result.has_value());
          EXPECT_EQ(result->size(), initial);
          EXPECT_EQ(result->byte_length(), initial * f.page_size);
        }
      }
}

TEST(LinearMemoryELimits, E1_GrowByAny64BitDeltaGivesTheResultE1PredictsAndChangesNothingOnError) {
  Backend<MmapPageAllocator> backend;
  for (const Flavour& f : kFlavours)
    for (const bool declared : {false, true})
      for (const std::uint64_t delta : kEdgeCounts) {
        SCOPED_TRACE(name(f) + (declared ? " with maximum, delta " : " delta ") +
                     std::to_string(delta));
        const std::uint64_t initial = kWasmPageSize / f.page_size;
        // A declared maximum one page below the allocator's limit.
        const std::uint64_t maximum =
            declared ? kLimitBytes / f.page_size - 1
                     : std::min(page_limit(f.index, f.page_size), kLimitBytes / f.page_size);
        auto created = LinearMemory<MmapPageAllocator>::create(
            backend.make(), MemoryType{initial, declared ? std::optional(maximum) : std::nullopt,
                                       false, f.index, f.page_size});
        auto& memory = value_or_throw(created);
        ASSERT_TRUE(memory.store(0, std::uint64_t{42}).has_value());
        const auto grown = memory.grow(delta);
        if (fits(initial, delta, maximum)) {
          EXPECT_EQ(grown, initial);
          EXPECT_EQ(memory.size(), initial + delta);
        } else {
          EXPECT_EQ(code_of(grown), ErrorCode::CapacityExceeded);
          EXPECT_EQ(memory.size(), initial);
        }
        EXPECT_EQ(memory.template load<std::uint64_t>(0), 42u);
      }
}

TYPED_TEST(LinearMemoryE, E1_AnI32MemoryOfOneBytePagesStopsBelow4GiB) {
  // Its limit is 2^32 - 1 pages whatever the allocator could hold.
  EXPECT_EQ(
      code_of(this->try_make(MemoryType{1, std::uint64_t{1} << 32, false, IndexType::I32, 1})),
      ErrorCode::InvalidArgument);
  auto memory = this->make(MemoryType{1, std::nullopt, false, IndexType::I32, 1});
  EXPECT_EQ(code_of(memory.grow(UINT32_MAX)), ErrorCode::CapacityExceeded);
  EXPECT_EQ(code_of(memory.grow(kU64Max)), ErrorCode::CapacityExceeded);
  EXPECT_EQ(memory.size(), 1u);
}

// --- E2: one bounds-check elision predicate ---

constexpr MemoryType kI32{0, std::nullopt, false, IndexType::I32, kWasmPageSize};
constexpr std::uint64_t k4GiB = std::uint64_t{1} << 32;

TEST(LinearMemoryEPredicate, E2_S3RuleIsThePredicateAtTheLargestOffsetAndWidth) {
  // A 32-bit index plus a 32-bit offset and a 16-byte access: 2^33 + 14.
  static_assert(elides_bounds_check(kI32, 2 * k4GiB + 14, UINT32_MAX, 16));
  static_assert(!elides_bounds_check(kI32, 2 * k4GiB + 13, UINT32_MAX, 16));
  // 4 GiB reservation + 4 GiB guard is not enough (S3).
  EXPECT_FALSE(elides_bounds_check(kI32, 2 * k4GiB, UINT32_MAX, 16));
}

TEST(LinearMemoryEPredicate, E2_EveryByteTheAccessCanTouchMustBeCovered) {
  for (const std::uint32_t width : {1u, 2u, 4u, 8u, 16u})
    for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{4096},
                                       std::uint64_t{UINT32_MAX}, k4GiB, std::uint64_t{1} << 40}) {
      SCOPED_TRACE(std::to_string(width) + " at +" + std::to_string(offset));
      const std::uint64_t needed = UINT32_MAX + offset + width;
      EXPECT_TRUE(elides_bounds_check(kI32, needed, offset, width));
      EXPECT_TRUE(elides_bounds_check(kI32, kU64Max, offset, width));
      EXPECT_FALSE(elides_bounds_check(kI32, needed - 1, offset, width));
      EXPECT_FALSE(elides_bounds_check(kI32, 0, offset, width));
    }
}

TEST(LinearMemoryEPredicate, E2_NoOverflowForAny64BitOffset) {
  const std::uint64_t last = kU64Max - UINT32_MAX - 16;  // 2^32 - 1 + last + 16 == UINT64_MAX
  EXPECT_TRUE(elides_bounds_check(kI32, kU64Max, last, 16));
  EXPECT_FALSE(elides_bounds_check(kI32, kU64Max, last + 1, 16));
  // 2^32 - 1 + offset + width wraps for each of these.
  for (const std::uint64_t offset : {kU64Max - UINT32_MAX, kU64Max - 15, kU64Max})
    for (const std::uint32_t width : {1u, 16u, UINT32_MAX}) {
      SCOPED_TRACE(offset);
      EXPECT_FALSE(elides_bounds_check(kI32, kU64Max, offset, width));
      EXPECT_FALSE(elides_bounds_check(kI32, 2 * k4GiB + 14, offset, width));
    }
}

TEST(LinearMemoryEPredicate, E2_NeverForI64MemoriesOrOneBytePages) {
  for (const Flavour& f : kFlavours) {
    if (f.index == IndexType::I32 && f.page_size == kWasmPageSize) continue;
    SCOPED_TRACE(name(f));
    const MemoryType type{0, std::nullopt, false, f.index, f.page_size};
    for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{UINT32_MAX}})
      EXPECT_FALSE(elides_bounds_check(type, kU64Max, offset, 1));
  }
}

// --- E3: plain loads and stores ---

template <typename T>
T from_bytes(std::initializer_list<std::uint8_t> little_endian) {
  std::array<std::byte, sizeof(T)> bytes{};
  std::size_t i = 0;
  for (const std::uint8_t b : little_endian) bytes[i++] = std::byte{b};
  return std::bit_cast<T>(bytes);  // the test host is little-endian
}

TYPED_TEST(LinearMemoryE, E3_StoresAreLittleEndianAtAnyAlignmentAndLoadsReadThemBack) {
  for (const Flavour& f : kFlavours)
    for (const bool shared : {false, true}) {
      SCOPED_TRACE(name(f) + (shared ? " shared" : ""));
      auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, shared));
      for (const std::uint64_t at : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3},
                                     std::uint64_t{7}, std::uint64_t{8}, std::uint64_t{13}}) {
        SCOPED_TRACE(at);
        ASSERT_TRUE(memory.store(at, std::uint32_t{0x11223344}).has_value());
        std::byte bytes[4];
        ASSERT_TRUE(memory.read(at, bytes).has_value());
        EXPECT_EQ(bytes[0], std::byte{0x44});
        EXPECT_EQ(bytes[3], std::byte{0x11});
        EXPECT_EQ(memory.template load<std::uint16_t>(at + 1), 0x2233u);
        EXPECT_EQ(memory.template load<std::uint8_t>(at + 3), 0x11u);
        const std::uint64_t wide = 0x0102'0304'0506'0708;
        ASSERT_TRUE(memory.store(at, wide).has_value());
        EXPECT_EQ(memory.template load<std::uint64_t>(at), wide);
        EXPECT_EQ(memory.template load<std::uint32_t>(at + 4), 0x0102'0304u);
        // Floats keep their bits, NaN payloads included. On x87 (i686 without
        // SSE2 math) a double passed by value goes through an FPU register,
        // which quiets a signaling NaN: the ABI, not the library; there the
        // check uses a quiet NaN (interpreters load such bits as integers).
#if defined(__i386__) && !defined(__SSE2_MATH__)
        constexpr std::uint64_t kNanBits = 0x7ff8'0000'0000'0001;
#else
        constexpr std::uint64_t kNanBits = 0x7ff0'0000'0000'0001;
#endif
        ASSERT_TRUE(memory.store(at, std::bit_cast<double>(kNanBits)).has_value());
        EXPECT_EQ(std::bit_cast<std::uint64_t>(*memory.template load<double>(at)), kNanBits);
        ASSERT_TRUE(memory.store(at, 1.5f).has_value());
        EXPECT_EQ(memory.template load<std::uint32_t>(at), 0x3fc0'0000u);
        EXPECT_EQ(memory.template load<float>(at), 1.5f);
        V128 v{};
        for (int i = 0; i < 16; ++i) v.bytes[i] = std::byte(0xa0 + i);
        ASSERT_TRUE(memory.store(at, v).has_value());
        EXPECT_EQ(memory.template load<V128>(at), v);
        EXPECT_EQ(memory.template load<std::uint32_t>(at + 12),
                  from_bytes<std::uint32_t>({0xac, 0xad, 0xae, 0xaf}));
      }
    }
}

template <typename T, typename M>
void expect_bounds_for(M& memory) {
  const std::uint64_t end = memory.byte_length();
  const auto before = snapshot(memory);
  for (const std::uint64_t address : edge_addresses(end)) {
    SCOPED_TRACE(address);
    const bool in = fits(address, sizeof(T), end);
    const auto loaded = memory.template load<T>(address);
    EXPECT_EQ(loaded.has_value(), in);
    if (!in) {
      EXPECT_EQ(code_of(loaded), ErrorCode::OutOfBounds);
      EXPECT_EQ(code_of(memory.store(address, T{})), ErrorCode::OutOfBounds);
    }
  }
  EXPECT_EQ(snapshot(memory), before);  // no failed store wrote a byte
  EXPECT_TRUE(memory.template load<T>(end - sizeof(T)).has_value());
  EXPECT_EQ(code_of(memory.template load<T>(end - sizeof(T) + 1)), ErrorCode::OutOfBounds);
}

TYPED_TEST(LinearMemoryE, E3_AnAccessIsInBoundsExactlyWhenAddressPlusSizeIsAtMostByteLength) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    // Not a whole number of 64 KiB pages with 1-byte pages.
    auto memory = this->make(
        bytes_type(f, kWasmPageSize + (f.page_size == 1 ? 100 : 0), kLimitBytes, f.page_size == 1));
    ASSERT_TRUE(memory.fill(0, 0x5a, memory.byte_length()).has_value());
    expect_bounds_for<std::uint8_t>(memory);
    expect_bounds_for<std::uint16_t>(memory);
    expect_bounds_for<std::uint32_t>(memory);
    expect_bounds_for<std::uint64_t>(memory);
    expect_bounds_for<float>(memory);
    expect_bounds_for<double>(memory);
    expect_bounds_for<V128>(memory);
  }
}

// --- E4: atomics ---

template <typename T, typename M>
void expect_atomics_for(M& memory) {
  SCOPED_TRACE(sizeof(T));
  const std::uint64_t at = memory.byte_length() - sizeof(T);  // the last aligned word
  const T start = static_cast<T>(0xf0e1'd2c3'b4a5'9687u);
  const T value = static_cast<T>(0x0123'4567'89ab'cdefu);
  for (const RmwOp op : {RmwOp::Add, RmwOp::Sub, RmwOp::And, RmwOp::Or, RmwOp::Xor, RmwOp::Xchg}) {
    ASSERT_TRUE(memory.atomic_store(at, start).has_value());
    EXPECT_EQ(memory.template atomic_rmw<T>(op, at, value), start);
    const T stored = models::rmw_result(op, start, value);
    EXPECT_EQ(memory.template atomic_load<T>(at), stored);
    EXPECT_EQ(memory.template load<T>(at), stored);  // little-endian too
  }
  ASSERT_TRUE(memory.atomic_store(at, start).has_value());
  EXPECT_EQ(memory.template atomic_cmpxchg<T>(at, value, T{7}), start);  // differs: kept
  EXPECT_EQ(memory.template atomic_load<T>(at), models::cmpxchg_result(start, value, T{7}));
  EXPECT_EQ(memory.template atomic_cmpxchg<T>(at, start, T{7}), start);  // equal: replaced
  EXPECT_EQ(memory.template atomic_load<T>(at), models::cmpxchg_result(start, start, T{7}));
}

TYPED_TEST(LinearMemoryE, E4_EachAtomicReturnsTheOldValueAndAppliesItsOp) {
  for (const Flavour& f : kFlavours)
    for (const bool shared : {false, true}) {
      SCOPED_TRACE(name(f) + (shared ? " shared" : " unshared"));
      auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, shared));
      expect_atomics_for<std::uint8_t>(memory);
      expect_atomics_for<std::uint16_t>(memory);
      expect_atomics_for<std::uint32_t>(memory);
      expect_atomics_for<std::uint64_t>(memory);
    }
}

template <typename T, typename M>
void expect_atomic_checks_for(M& memory) {
  SCOPED_TRACE(sizeof(T));
  const std::uint64_t end = memory.byte_length();
  const auto before = snapshot(memory);
  for (const std::uint64_t address : edge_addresses(end)) {
    SCOPED_TRACE(address);
    const auto expected = models::atomic_error(address, sizeof(T), end);
    const auto check = [&](const auto& result) { expect_outcome(result, expected); };
    check(memory.template atomic_load<T>(address));
    if (!expected) continue;  // the writes below would change bytes
    check(memory.template atomic_store<T>(address, T{1}));
    check(memory.template atomic_rmw<T>(RmwOp::Add, address, T{1}));
    check(memory.template atomic_cmpxchg<T>(address, T{0}, T{1}));
  }
  EXPECT_EQ(snapshot(memory), before);
}

TYPED_TEST(LinearMemoryE, E4_MisalignedComesBeforeOutOfBoundsForEveryWidth) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, false));
    expect_atomic_checks_for<std::uint8_t>(memory);
    expect_atomic_checks_for<std::uint16_t>(memory);
    expect_atomic_checks_for<std::uint32_t>(memory);
    expect_atomic_checks_for<std::uint64_t>(memory);
    EXPECT_EQ(code_of(memory.template atomic_load<std::uint32_t>(memory.byte_length() + 2)),
              ErrorCode::Misaligned);
    EXPECT_NE(
        std::strstr(memory.template atomic_load<std::uint16_t>(1).error().message(), "aligned"),
        nullptr);
  }
}

TYPED_TEST(LinearMemoryE, E4_ConcurrentRmwsOnASharedMemoryAreAtomic) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, true));
    constexpr int kThreads = 4;
    constexpr int kRounds = 5000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&memory] {
        for (int i = 0; i < kRounds; ++i) {
          (void)memory.template atomic_rmw<std::uint32_t>(RmwOp::Add, 64, 1);
          (void)memory.template atomic_rmw<std::uint64_t>(RmwOp::Sub, 128, 1);
          std::uint8_t seen = *memory.template atomic_load<std::uint8_t>(200);
          while (memory.template atomic_cmpxchg<std::uint8_t>(
                     200, seen, static_cast<std::uint8_t>(seen + 1)) != seen)
            seen = *memory.template atomic_load<std::uint8_t>(200);
          // Plain accesses racing on other bytes of the same words are allowed.
          (void)memory.template store<std::uint8_t>(67, 9);
          (void)memory.template load<std::uint64_t>(64);
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(memory.template load<std::uint8_t>(64), std::uint8_t{kThreads * kRounds % 256});
    EXPECT_EQ(memory.template atomic_load<std::uint16_t>(64),
              std::uint16_t{kThreads * kRounds % 65536});
    EXPECT_EQ(memory.template atomic_load<std::uint64_t>(128),
              ~std::uint64_t{0} - (kThreads * kRounds - 1));
    EXPECT_EQ(memory.template atomic_load<std::uint8_t>(200),
              static_cast<std::uint8_t>(kThreads * kRounds));
  }
}

// --- E5: bulk memory ---

TYPED_TEST(LinearMemoryE, E5_FillCopyAndInitEqualMemsetMemmoveAndMemcpy) {
  for (const Flavour& f : kFlavours)
    for (const bool shared : {false, true}) {
      SCOPED_TRACE(name(f) + (shared ? " shared" : ""));
      auto memory = this->make(bytes_type(f, 2 * kWasmPageSize, 2 * kWasmPageSize, shared));
      std::vector<std::byte> model(memory.byte_length());
      for (std::size_t i = 0; i < model.size(); ++i) model[i] = std::byte(i * 7 + i / 251);
      ASSERT_TRUE(memory.write(0, model).has_value());
      ASSERT_TRUE(memory.fill(100, 0xee, 300).has_value());
      std::memset(model.data() + 100, 0xee, 300);
      // Overlapping both ways, and across the 64 KiB boundary.
      for (const auto& [to, from, n] :
           {std::tuple{std::size_t{50}, std::size_t{60}, std::size_t{500}},
            std::tuple{std::size_t{60}, std::size_t{50}, std::size_t{500}},
            std::tuple{kWasmPageSize - 3, std::size_t{5}, std::size_t{9}},
            std::tuple{std::size_t{0}, kWasmPageSize, kWasmPageSize}}) {
        ASSERT_TRUE(memory.copy(to, from, n).has_value());
        std::memmove(model.data() + to, model.data() + from, n);
      }
      std::vector<std::byte> segment(64);
      for (std::size_t i = 0; i < segment.size(); ++i) segment[i] = std::byte(0x80 + i);
      ASSERT_TRUE(memory.init(1000, segment, 10, 40).has_value());
      std::memcpy(model.data() + 1000, segment.data() + 10, 40);
      EXPECT_EQ(snapshot(memory), model);
    }
}

TYPED_TEST(LinearMemoryE, E5_CopyFromAnotherMemoryChecksBothMemories) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto small = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, true));
    auto large = this->make(bytes_type(f, 2 * kWasmPageSize, 2 * kWasmPageSize, false));
    ASSERT_TRUE(large.fill(0, 0x33, large.byte_length()).has_value());
    ASSERT_TRUE(small.copy_from(large, 10, kWasmPageSize + 5, 100).has_value());
    EXPECT_EQ(small.template load<std::uint8_t>(9), 0u);
    EXPECT_EQ(small.template load<std::uint8_t>(10), 0x33u);
    EXPECT_EQ(small.template load<std::uint8_t>(109), 0x33u);
    EXPECT_EQ(small.template load<std::uint8_t>(110), 0u);
    // In bounds of the source but not of the destination, and the reverse.
    const auto before = snapshot(small);
    EXPECT_EQ(code_of(small.copy_from(large, kWasmPageSize - 10, 0, 11)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(large.copy_from(small, 0, kWasmPageSize - 10, 11)), ErrorCode::OutOfBounds);
    EXPECT_EQ(snapshot(small), before);
    EXPECT_TRUE(large.copy_from(small, kWasmPageSize, 0, kWasmPageSize).has_value());
    EXPECT_EQ(large.template load<std::uint8_t>(kWasmPageSize + 10), 0x33u);
  }
}

TYPED_TEST(LinearMemoryE, E5_AnOutOfBoundsBulkOperationWritesNoByte) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, false));
    for (std::uint64_t i = 0; i < memory.byte_length(); i += 8)
      ASSERT_TRUE(memory.store(i, i * 0x9e37'79b9u).has_value());
    const std::uint64_t end = memory.byte_length();
    const auto before = snapshot(memory);
    const std::vector<std::byte> segment(32, std::byte{0xff});
    for (const std::uint64_t address : edge_addresses(end))
      for (const std::uint64_t length :
           {std::uint64_t{1}, std::uint64_t{16}, end, kU64Max, kU64Max - address}) {
        if (fits(address, length, end)) continue;
        SCOPED_TRACE(std::to_string(address) + " + " + std::to_string(length));
        EXPECT_EQ(code_of(memory.fill(address, 0xff, length)), ErrorCode::OutOfBounds);
        EXPECT_EQ(code_of(memory.copy(address, 0, length)), ErrorCode::OutOfBounds);
        EXPECT_EQ(code_of(memory.copy(0, address, length)), ErrorCode::OutOfBounds);
        EXPECT_EQ(code_of(memory.copy(end - 1, address, length)), ErrorCode::OutOfBounds);
        EXPECT_EQ(code_of(memory.copy_from(memory, address, 0, length)), ErrorCode::OutOfBounds);
        const std::uint64_t from_segment = std::min<std::uint64_t>(length, segment.size());
        if (!fits(address, from_segment, end)) {  // the segment range is in bounds
          EXPECT_EQ(code_of(memory.init(address, segment, 0, from_segment)),
                    ErrorCode::OutOfBounds);
        }
        EXPECT_EQ(code_of(memory.init(0, segment, address, length)), ErrorCode::OutOfBounds);
      }
    // A segment range past its end, with the memory range in bounds.
    EXPECT_EQ(code_of(memory.init(0, segment, 1, 32)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.init(0, segment, 33, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(snapshot(memory), before);
  }
}

TYPED_TEST(LinearMemoryE, E5_ZeroLengthAtByteLengthSucceedsAndOnePastFails) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(bytes_type(f, kWasmPageSize, kWasmPageSize, false));
    const std::uint64_t end = memory.byte_length();
    const std::vector<std::byte> segment(8);
    EXPECT_TRUE(memory.fill(end, 1, 0).has_value());
    EXPECT_TRUE(memory.copy(end, end, 0).has_value());
    EXPECT_TRUE(memory.copy_from(memory, end, end, 0).has_value());
    EXPECT_TRUE(memory.init(end, segment, segment.size(), 0).has_value());
    EXPECT_EQ(code_of(memory.fill(end + 1, 1, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.copy(end + 1, 0, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.copy(0, end + 1, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.init(end + 1, segment, 0, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.init(0, segment, segment.size() + 1, 0)), ErrorCode::OutOfBounds);
  }
}

// --- E6: 1-byte pages ---

TYPED_TEST(LinearMemoryE, E6_ByteLengthIsThePageCount) {
  for (const IndexType index : {IndexType::I32, IndexType::I64}) {
    auto memory = this->make(MemoryType{10, 100'000, false, index, 1});
    EXPECT_EQ(memory.size(), 10u);
    EXPECT_EQ(memory.byte_length(), 10u);
    EXPECT_EQ(memory.grow(65'530), 10u);  // into a second allocator page
    EXPECT_EQ(memory.size(), 65'540u);
    EXPECT_EQ(memory.byte_length(), 65'540u);
    EXPECT_EQ(memory.template load<std::uint32_t>(65'536), 0u);
    EXPECT_EQ(code_of(memory.grow(100'000 - 65'540 + 1)), ErrorCode::CapacityExceeded);
    EXPECT_EQ(memory.grow(100'000 - 65'540), 65'540u);
  }
}

TYPED_TEST(LinearMemoryE, E6_BytesPastByteLengthInTheCommittedPageAreNeverAccessible) {
  auto memory = this->make(MemoryType{10, 20, true, IndexType::I64, 1});
  ASSERT_TRUE(memory.fill(0, 0x11, 10).has_value());
  std::byte buffer[4] = {};
  EXPECT_EQ(code_of(memory.template load<std::uint8_t>(10)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template load<std::uint32_t>(7)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template store<std::uint8_t>(10, 1)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template store<V128>(0, V128{})), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.read(8, buffer)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.write(8, buffer)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.fill(9, 0, 2)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.copy(0, 5, 6)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template atomic_load<std::uint32_t>(8)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.template atomic_load<std::uint8_t>(10)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_wait32(8, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_wait64(8, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_notify(8, 1)), ErrorCode::OutOfBounds);
  EXPECT_EQ(memory.atomic_notify(4, 1), 0u);  // the last word
  EXPECT_EQ(memory.atomic_wait32(4, 0x11111111, 0), WaitResult::TimedOut);
  // Nothing past byte 10 was written.
  EXPECT_TRUE(std::all_of(memory.data() + 10, memory.data() + kWasmPageSize,
                          [](std::byte b) { return b == std::byte{0}; }));
}

TYPED_TEST(LinearMemoryE, E6_NewBytesReadZeroEvenInAnAlreadyCommittedPage) {
  for (const bool shared : {false, true}) {
    auto memory = this->make(MemoryType{10, 200, shared, IndexType::I32, 1});
    // data() hands out the committed page; a host may have written past
    // byte_length. Growing must not expose that.
    std::memset(memory.data() + 10, 0x77, 100);
    EXPECT_EQ(memory.grow(50), 10u);
    for (std::uint64_t i = 10; i < 60; ++i)
      EXPECT_EQ(memory.template load<std::uint8_t>(i), 0u) << i;
    EXPECT_EQ(code_of(memory.template load<std::uint8_t>(60)), ErrorCode::OutOfBounds);
    EXPECT_EQ(memory.grow(0), 60u);
    EXPECT_EQ(memory.grow(100), 60u);
    EXPECT_EQ(memory.template load<std::uint64_t>(100), 0u);
    EXPECT_EQ(memory.template load<std::uint8_t>(159), 0u);
  }
}

// --- E7: W holds for I64 memories and 1-byte pages ---

TYPED_TEST(LinearMemoryE, E7_W4_W9_EveryAddressGivesTheResultW4Predicts) {
  for (const Flavour& f : kFlavours)
    for (const bool shared : {false, true}) {
      SCOPED_TRACE(name(f) + (shared ? " shared" : ""));
      auto memory = this->make(
          bytes_type(f, kWasmPageSize + (f.page_size == 1 ? 12 : 0), 2 * kWasmPageSize, shared));
      for (const std::uint64_t address : edge_addresses(memory.byte_length())) {
        SCOPED_TRACE(address);
        expect_wait_and_notify_follow_w4(memory, address, shared);
      }
    }
}

TYPED_TEST(LinearMemoryE, E7_W7_Wait64ComparesAll64BitsAtA64BitAddress) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(bytes_type(f, 2 * kWasmPageSize, 2 * kWasmPageSize, true));
    const std::uint64_t at = kWasmPageSize + 8;
    const std::uint64_t value = 0x1234'5678'9abc'def0;
    ASSERT_TRUE(memory.atomic_store(at, value).has_value());
    EXPECT_EQ(memory.atomic_wait64(at, value ^ (std::uint64_t{1} << 63), -1), WaitResult::NotEqual);
    EXPECT_EQ(memory.atomic_wait64(at, value ^ 1, -1), WaitResult::NotEqual);
    EXPECT_EQ(memory.atomic_wait64(at, value, 0), WaitResult::TimedOut);
    EXPECT_EQ(memory.atomic_wait32(at + 4, 0x1234'5678, 0), WaitResult::TimedOut);
  }
}

#if !defined(_WIN32)
TYPED_TEST(LinearMemoryE, E7_W5_W6_ANotifyWakesAWaiterInEveryKindOfMemory) {
  for (const Flavour& f : kFlavours) {
    SCOPED_TRACE(name(f));
    auto memory = this->make(
        bytes_type(f, 2 * kWasmPageSize + (f.page_size == 1 ? 104 : 0), 3 * kWasmPageSize, true));
    // The last word of the memory (with 1-byte pages: mid allocator page).
    const std::uint64_t at = memory.byte_length() - 8;
    for (const bool wide : {false, true}) {
      auto waiter = start_waiter(memory, at, wide, 0, -1);
      ASSERT_TRUE(eventually_asleep(memory, at, 1, {waiter.get()}));
      EXPECT_EQ(memory.atomic_notify(at + 4, kAllValues), 0u);  // another address
      EXPECT_EQ(memory.atomic_notify(at, 1), 1u);
      EXPECT_EQ(waiter->join(), WaitResult::Woken);
    }
  }
}
#endif

}  // namespace
}  // namespace wrt::platform::linear_memory_testing
