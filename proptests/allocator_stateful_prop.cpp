// Model-based (rc::state) tests of every page allocator backend: random
// sequences of allocate / grow / deallocate / writes (and, in the
// fault-injection build, OS failures), each checked against AllocatorModel
// (allocator_model.hpp) after every command: page counts, base stability,
// zero-filled new pages, preserved bytes, exact errors, and no change at all
// on any failure.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <utility>

#include "allocator_model.hpp"
#include "generators.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/static_page_allocator.hpp"

namespace wrt::platform::proptest {
namespace {

template <typename A>
struct AllocatorSut {
  explicit AllocatorSut(Backend<A> b) : backend(std::move(b)), allocator(backend.make()) {}

  Backend<A> backend;
  A allocator;
  std::byte* base_at_allocate = nullptr;  // to check that base never moves
};

template <typename A>
using AllocatorCommand = rc::state::Command<AllocatorModel, AllocatorSut<A>>;

// Runs a call on the model and on the allocator: same outcome, and the
// allocator matches the model afterwards.
template <typename A, typename Result>
void expect_same(const Outcome& expected, const Result& got, const AllocatorModel& next,
                 const AllocatorSut<A>& sut) {
  RC_ASSERT(describe(got) == describe(expected));
  check_matches(next, sut.allocator, sut.base_at_allocate, sut.backend);
}

template <typename A>
struct Allocate : AllocatorCommand<A> {
  AllocateRequest request;

  explicit Allocate(const AllocatorModel& m) : request(AllocateRequest::generate(m)) {}

  void apply(AllocatorModel& m) const override {
    (void)model_allocate(m, request.initial, request.maximum);
  }
  void run(const AllocatorModel& m, AllocatorSut<A>& sut) const override {
    AllocatorModel next = m;
    const Outcome expected = model_allocate(next, request.initial, request.maximum);
    const auto got = sut.allocator.allocate(request.initial, request.maximum);
    if (got) {
      RC_ASSERT(got->base == sut.allocator.base());
      RC_ASSERT(got->committed_bytes == next.committed_bytes());
      sut.base_at_allocate = got->base;
    }
    expect_same(expected, got, next, sut);
  }
  void show(std::ostream& os) const override { os << "allocate(" << request << ")"; }
};

template <typename A>
struct Grow : AllocatorCommand<A> {
  std::uint32_t current;
  std::uint32_t additional;

  explicit Grow(const AllocatorModel& m)
      : current(*rc::gen::weightedOneOf<std::uint32_t>(
            {{3, rc::gen::just(m.committed_pages)}, {1, pages_near(m.committed_pages)}})),
        additional(*rc::gen::weightedOneOf<std::uint32_t>(
            {{3, pages_near(m.reserved_pages - m.committed_pages)},
             {1, pages_near(kU32Max - current)}})) {}

  void apply(AllocatorModel& m) const override { (void)model_grow(m, current, additional); }
  void run(const AllocatorModel& m, AllocatorSut<A>& sut) const override {
    AllocatorModel next = m;
    const Outcome expected = model_grow(next, current, additional);
    expect_same(expected, sut.allocator.grow(current, additional), next, sut);
  }
  void show(std::ostream& os) const override {
    os << "grow(" << current << ", " << additional << ")";
  }
};

template <typename A>
struct Deallocate : AllocatorCommand<A> {
  // Offsets from base() and committed_bytes(); 0 is the right one.
  std::ptrdiff_t pointer_delta = *rc::gen::weightedOneOf<std::ptrdiff_t>(
      {{3, rc::gen::just(std::ptrdiff_t{0})},
       {1, rc::gen::element<std::ptrdiff_t>(1, kWasmPageSize, -std::ptrdiff_t{kWasmPageSize})}});
  std::ptrdiff_t size_delta = *rc::gen::weightedOneOf<std::ptrdiff_t>(
      {{3, rc::gen::just(std::ptrdiff_t{0})},
       {1, rc::gen::element<std::ptrdiff_t>(1, -1, kWasmPageSize)}});

  void apply(AllocatorModel& m) const override {
    (void)model_deallocate(m, pointer_delta == 0, size_delta == 0);
  }
  void run(const AllocatorModel& m, AllocatorSut<A>& sut) const override {
    AllocatorModel next = m;
    const Outcome expected = model_deallocate(next, pointer_delta == 0, size_delta == 0);
    // Address arithmetic only: a wrong pointer is never dereferenced.
    auto* ptr =
        reinterpret_cast<std::byte*>(reinterpret_cast<std::uintptr_t>(sut.allocator.base()) +
                                     static_cast<std::uintptr_t>(pointer_delta));
    const std::size_t size = sut.allocator.committed_bytes() + static_cast<std::size_t>(size_delta);
    expect_same(expected, sut.allocator.deallocate(ptr, size), next, sut);
  }
  void show(std::ostream& os) const override {
    os << "deallocate(base" << (pointer_delta < 0 ? "" : "+") << pointer_delta << ", committed"
       << (size_delta < 0 ? "" : "+") << size_delta << ")";
  }
};

// Writes through base(): gives grow and the failure paths bytes to preserve.
template <typename A>
struct Write : AllocatorCommand<A> {
  InBoundsWrite write;

  explicit Write(const AllocatorModel& m) : write(InBoundsWrite::generate(m)) {}

  void checkPreconditions(const AllocatorModel& m) const override {
    RC_PRE(model_in_bounds(m, write.offset, write.bytes.size()) && m.allocated);
  }
  void apply(AllocatorModel& m) const override { model_write(m, write.offset, write.bytes); }
  void run(const AllocatorModel& m, AllocatorSut<A>& sut) const override {
    std::memcpy(sut.allocator.base() + write.offset, write.bytes.data(), write.bytes.size());
    AllocatorModel next = m;
    model_write(next, write.offset, write.bytes);
    check_matches(next, sut.allocator, sut.base_at_allocate, sut.backend);
  }
  void show(std::ostream& os) const override {
    os << "write " << write.bytes.size() << " bytes at " << write.offset;
  }
};

// Moves the allocator out and back (A13): the moved-from allocator is empty,
// the memory and its bytes go with the move.
template <typename A>
struct MoveOutAndBack : AllocatorCommand<A> {
  void run(const AllocatorModel& m, AllocatorSut<A>& sut) const override {
    A moved(std::move(sut.allocator));
    RC_ASSERT(!sut.allocator.is_allocated());
    RC_ASSERT(sut.allocator.base() == nullptr);
    RC_ASSERT(sut.allocator.committed_bytes() == 0u);
    check_matches(m, moved, sut.base_at_allocate, sut.backend);
    sut.allocator = std::move(moved);
    check_matches(m, sut.allocator, sut.base_at_allocate, sut.backend);
  }
  void show(std::ostream& os) const override { os << "move out and back"; }
};

template <typename A, typename... ExtraCommands>
void check_against_model() {
  AllocatorSut<A> sut(Backend<A>::generate());
  const AllocatorModel model = initial_model(sut.backend);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  const FaultReset fault_reset;  // after sut: disarmed before sut's destructor runs
#endif
  rc::state::check(model, sut,
                   rc::state::gen::execOneOfWithArgs<Allocate<A>, Grow<A>, Deallocate<A>, Write<A>,
                                                     MoveOutAndBack<A>, ExtraCommands...>());
}

RC_GTEST_PROP(MmapPageAllocatorModel, A1_A2_A3_A4_A6_A7_A8_A9_A11_A13_A14_StatefulMatchesTheModel,
              ()) {
  check_against_model<MmapPageAllocator>();
}

RC_GTEST_PROP(StaticPageAllocatorModel, A15_StatefulMatchesTheModel, ()) {
  check_against_model<StaticPageAllocator>();
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
RC_GTEST_PROP(MmapPageAllocatorModel, A12_StatefulStrongGuaranteeUnderOsFailures, ()) {
  check_against_model<MmapPageAllocator, FailNextOsCall<AllocatorSut<MmapPageAllocator>>>();
}

// Armed OS failures never fire: the static backend makes no OS call (A15).
RC_GTEST_PROP(StaticPageAllocatorModel, A12_A15_StatefulNeverCallsTheOs, ()) {
  check_against_model<StaticPageAllocator, FailNextOsCall<AllocatorSut<StaticPageAllocator>>>();
}
#endif

}  // namespace
}  // namespace wrt::platform::proptest
