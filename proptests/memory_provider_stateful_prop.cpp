// Model-based (rc::state) tests of PalMemoryProvider over every backend:
// random create / grow / destroy / write / read / atomic_u32 sequences at
// offsets in and out of bounds and at the edges (and, in the fault-injection
// build, OS failures), each checked against AllocatorModel after every
// command. P2: a failed access touches not a byte of the memory and not a
// byte of the caller's buffer. P3: grow returns the previous page count.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "allocator_model.hpp"
#include "generators.hpp"
#include "wrt/platform/memory_provider.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/static_page_allocator.hpp"

namespace wrt::platform::proptest {
namespace {

template <typename A>
struct ProviderSut {
  Backend<A> backend;
  std::optional<PalMemoryProvider<A>> provider;
  std::byte* data_at_create = nullptr;  // to check that data() never moves
};

template <typename A>
using ProviderCommand = rc::state::Command<AllocatorModel, ProviderSut<A>>;

// The provider's view matches the model: capacity() and pages() are the
// committed memory (P1), data() is stable, and every committed byte is what
// was written or zero.
template <typename A>
void check_provider(const AllocatorModel& m, const ProviderSut<A>& sut) {
  RC_ASSERT(sut.provider.has_value() == m.allocated);
  if (!sut.provider) return;
  const auto& provider = *sut.provider;
  RC_ASSERT(provider.capacity() == m.committed_bytes());
  RC_ASSERT(provider.pages() == m.committed_pages);
  RC_ASSERT(provider.data() == sut.data_at_create);
  check_matches(m, provider.allocator(), sut.data_at_create, sut.backend);
}

template <typename A, typename Result>
void expect_same(const Outcome& expected, const Result& got, const AllocatorModel& next,
                 const ProviderSut<A>& sut) {
  RC_ASSERT(describe(got) == describe(expected));
  check_provider(next, sut);
}

// An access at an offset near the end of the memory, near SIZE_MAX, or
// anywhere; `length` bytes long (0 included).
struct Access {
  std::size_t offset;
  std::size_t length;

  static Access generate(const AllocatorModel& m) {
    const std::size_t capacity = m.committed_bytes();
    const auto length =
        *rc::gen::weightedOneOf<std::size_t>({{1, rc::gen::element<std::size_t>(0, 1, 4, 16)},
                                              {2, rc::gen::inRange<std::size_t>(0, 257)}});
    const auto offset = *rc::gen::weightedOneOf<std::size_t>({
        {3, rc::gen::element(std::size_t{0}, shifted(capacity, -static_cast<int>(length)),
                             shifted(capacity, 1 - static_cast<int>(length)), capacity,
                             shifted(capacity, 1), shifted(kSizeMax, 1 - static_cast<int>(length)),
                             kSizeMax)},
        {3, rc::gen::inRange<std::size_t>(0, capacity + 1)},
        {1, bytes_near(capacity)},
    });
    return {offset, length};
  }
};

inline std::ostream& operator<<(std::ostream& os, const Access& a) {
  return os << a.length << " bytes at " << a.offset;
}

// The model's outcome of a read or write: P2.
inline Outcome model_access(const AllocatorModel& m, const Access& a) {
  return model_in_bounds(m, a.offset, a.length) ? Outcome{} : fails(ErrorCode::OutOfBounds);
}

template <typename A>
struct Create : ProviderCommand<A> {
  AllocateRequest request;

  explicit Create(const AllocatorModel& m) : request(AllocateRequest::generate(m)) {}

  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(!m.allocated); }
  void apply(AllocatorModel& m) const override {
    (void)model_allocate(m, request.initial, request.maximum);
  }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    AllocatorModel next = m;
    const Outcome expected = model_allocate(next, request.initial, request.maximum);
    auto got = PalMemoryProvider<A>::create(sut.backend.make(), request.initial, request.maximum);
    const std::string outcome = describe(got);
    if (got) {
      sut.provider.emplace(std::move(*got));
      sut.data_at_create = sut.provider->data();
    }
    RC_ASSERT(outcome == describe(expected));
    check_provider(next, sut);
  }
  void show(std::ostream& os) const override { os << "create(" << request << ")"; }
};

template <typename A>
struct Destroy : ProviderCommand<A> {
  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(m.allocated); }
  void apply(AllocatorModel& m) const override { model_destroy(m); }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    sut.provider.reset();
    AllocatorModel next = m;
    model_destroy(next);
    check_provider(next, sut);
  }
  void show(std::ostream& os) const override { os << "destroy"; }
};

template <typename A>
struct Grow : ProviderCommand<A> {
  std::uint32_t additional;

  explicit Grow(const AllocatorModel& m)
      : additional(*rc::gen::weightedOneOf<std::uint32_t>(
            {{3, pages_near(m.reserved_pages - m.committed_pages)},
             {1, pages_near(kU32Max - m.committed_pages)}})) {}

  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(m.allocated); }
  void apply(AllocatorModel& m) const override {
    (void)model_grow(m, m.committed_pages, additional);
  }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    AllocatorModel next = m;
    const Outcome expected = model_grow(next, m.committed_pages, additional);
    const auto got = sut.provider->grow(additional);
    if (got) RC_ASSERT(*got == m.committed_pages);  // memory.grow: the previous size
    expect_same(expected, got, next, sut);
  }
  void show(std::ostream& os) const override { os << "grow(" << additional << ")"; }
};

template <typename A>
struct Write : ProviderCommand<A> {
  Access access;
  std::vector<std::byte> bytes;

  explicit Write(const AllocatorModel& m) : access(Access::generate(m)), bytes(access.length) {
    for (auto& b : bytes) b = std::byte{*rc::gen::arbitrary<std::uint8_t>()};
  }

  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(m.allocated); }
  void apply(AllocatorModel& m) const override {
    if (!model_access(m, access)) model_write(m, access.offset, bytes);
  }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    AllocatorModel next = m;
    apply(next);
    expect_same(model_access(m, access), sut.provider->write(access.offset, bytes), next, sut);
  }
  void show(std::ostream& os) const override { os << "write " << access; }
};

template <typename A>
struct Read : ProviderCommand<A> {
  Access access;

  explicit Read(const AllocatorModel& m) : access(Access::generate(m)) {}

  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(m.allocated); }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    constexpr std::byte kUntouched{0xa5};
    std::vector<std::byte> out(access.length, kUntouched);
    const Outcome expected = model_access(m, access);
    expect_same(expected, sut.provider->read(access.offset, out), m, sut);
    for (std::size_t i = 0; i < out.size(); ++i)
      RC_ASSERT(out[i] == (expected ? kUntouched : model_byte(m, access.offset + i)));
  }
  void show(std::ostream& os) const override { os << "read " << access; }
};

// atomic_u32 then an atomic exchange through std::atomic_ref (P4).
template <typename A>
struct ExchangeWord : ProviderCommand<A> {
  std::size_t offset;
  std::uint32_t value = *rc::gen::arbitrary<std::uint32_t>();

  explicit ExchangeWord(const AllocatorModel& m)
      : offset(*rc::gen::weightedOneOf<std::size_t>(
            {{3, rc::gen::map(rc::gen::inRange<std::size_t>(0, m.committed_bytes() / 4 + 2),
                              [](std::size_t word) { return word * 4; })},
             {1, rc::gen::just(shifted(m.committed_bytes(), -4))},
             {1, rc::gen::just(Access::generate(m).offset)}})) {}

  Outcome expected(const AllocatorModel& m) const {
    if (offset % 4 != 0) return fails(ErrorCode::Misaligned);
    if (!model_in_bounds(m, offset, 4)) return fails(ErrorCode::OutOfBounds);
    return std::nullopt;
  }
  std::array<std::byte, 4> value_bytes() const {
    std::array<std::byte, 4> bytes;
    std::memcpy(bytes.data(), &value, bytes.size());
    return bytes;
  }

  void checkPreconditions(const AllocatorModel& m) const override { RC_PRE(m.allocated); }
  void apply(AllocatorModel& m) const override {
    if (!expected(m)) model_write(m, offset, value_bytes());
  }
  void run(const AllocatorModel& m, ProviderSut<A>& sut) const override {
    const auto word = sut.provider->atomic_u32(offset);
    AllocatorModel next = m;
    apply(next);
    if (word) {
      std::array<std::byte, 4> old_bytes;
      for (std::size_t i = 0; i < old_bytes.size(); ++i) old_bytes[i] = model_byte(m, offset + i);
      std::uint32_t old_value = 0;
      std::memcpy(&old_value, old_bytes.data(), sizeof old_value);
      RC_ASSERT(reinterpret_cast<std::byte*>(*word) == sut.provider->data() + offset);
      RC_ASSERT(std::atomic_ref<std::uint32_t>(**word).exchange(value) == old_value);
    }
    expect_same(expected(m), word, next, sut);
  }
  void show(std::ostream& os) const override {
    os << "atomic_u32(" << offset << ").exchange(" << value << ")";
  }
};

template <typename A, typename... ExtraCommands>
void check_against_model() {
  ProviderSut<A> sut{Backend<A>::generate(), std::nullopt, nullptr};
  const AllocatorModel model = initial_model(sut.backend);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  const FaultReset fault_reset;  // after sut: disarmed before sut's destructor runs
#endif
  rc::state::check(model, sut,
                   rc::state::gen::execOneOfWithArgs<Create<A>, Destroy<A>, Grow<A>, Write<A>,
                                                     Read<A>, ExchangeWord<A>, ExtraCommands...>());
}

RC_GTEST_PROP(MmapMemoryProviderModel, P1_P2_P3_P4_StatefulMatchesTheModel, ()) {
  check_against_model<MmapPageAllocator>();
}

RC_GTEST_PROP(StaticMemoryProviderModel, P1_P2_P3_P4_StatefulMatchesTheModel, ()) {
  check_against_model<StaticPageAllocator>();
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
RC_GTEST_PROP(MmapMemoryProviderModel, P1_P2_P3_A12_StatefulUnderOsFailures, ()) {
  check_against_model<MmapPageAllocator, FailNextOsCall<ProviderSut<MmapPageAllocator>>>();
}
#endif

}  // namespace
}  // namespace wrt::platform::proptest
