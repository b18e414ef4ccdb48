// A small guest run the way a WebAssembly runtime runs one, using only the
// installed public API: two threads share a LinearMemory and hand work to
// each other through a mailbox with memory.atomic.wait32/notify, a third
// grows the memory while they work, and an access past the end, made without
// a bounds check as compiled code would make it, comes back as a trap. On
// Linux, two tenants then share a MemoryPool whose slots allow dropping
// bounds checks: one's farthest unchecked access traps in its own slot while
// the other keeps running. Prints what happened; exits non-zero on the first
// surprise.
#include <wrt/platform.hpp>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <utility>

namespace wp = wrt::platform;
using Memory = wp::LinearMemory<wp::MmapPageAllocator>;

namespace {

// The guest's mailbox, in linear memory.
constexpr std::uint64_t kState = 0;     // u32: one of the states below
constexpr std::uint64_t kArgument = 4;  // u32: the job's argument
constexpr std::uint64_t kResult = 8;    // u64: the job's result
enum State : std::uint32_t { kEmpty, kPosted, kDone, kQuit };

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

int failed(const char* what) {
  std::fprintf(stderr, "shared_guest: %s\n", what);
  return 1;
}

// The guest's "compute" function: the sum of the squares 1..n.
std::uint64_t sum_of_squares(std::uint32_t n) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 1; i <= n; ++i) sum += i * i;
  return sum;
}

// Waits (memory.atomic.wait32, no timeout) until the state leaves `from`.
std::uint32_t wait_while(Memory& memory, std::uint32_t from) {
  for (;;) {
    const std::uint32_t state = memory.atomic_load<std::uint32_t>(kState).value_or(kQuit);
    if (state != from) return state;
    (void)memory.atomic_wait32(kState, from, -1);  // NotEqual or Woken: look again
  }
}

void set_state(Memory& memory, std::uint32_t state) {
  (void)memory.atomic_store(kState, state);
  (void)memory.atomic_notify(kState, 1);
}

// Thread 2: answers each job posted in the mailbox until told to quit.
void worker(Memory& memory) {
  for (std::uint32_t state = kEmpty;;) {
    state = wait_while(memory, state);
    if (state == kQuit) return;
    if (state != kPosted) continue;
    const std::uint32_t n = memory.load<std::uint32_t>(kArgument).value_or(0);
    (void)memory.store(kResult, sum_of_squares(n));
    set_state(memory, kDone);
    state = kDone;
  }
}

// An unchecked 32-bit load, as code relying on the guard region makes it.
std::uint32_t unchecked_load(const Memory& memory, std::uint64_t address) {
  return *reinterpret_cast<const volatile std::uint32_t*>(memory.data() + address);
}

#ifdef __linux__
using Tenant = wp::LinearMemory<wp::PooledPageAllocator>;

// Two tenants in one pool. Each slot reserves 4 GiB and a guard of 4 GiB
// plus a page, so the pool lets compiled code drop every bounds check: no
// byte of any 32-bit access (index + offset + 16 bytes) leaves its slot.
// Tenant A counts in its memory on its own thread; tenant B makes the
// farthest access a guest can, unchecked; it traps in B's slot, and A goes
// on counting.
int run_tenants() {
  auto pool = wp::MemoryPool::create({.slots = 2,
                                      .maximum_pages = 16,
                                      .guard_bytes = 4 * kGiB + wp::kWasmPageSize,
                                      .reservation_bytes = 4 * kGiB});
  if (!pool) return failed(pool.error().message());
  if (!pool->elides_bounds_checks()) return failed("the pool does not allow unchecked accesses");
  auto slot_a = pool->acquire();
  auto slot_b = pool->acquire();
  if (!slot_a || !slot_b) return failed("acquire");
  auto a =
      Tenant::create(std::move(*slot_a), wp::MemoryType{.initial_pages = 1, .maximum_pages = 16});
  auto b =
      Tenant::create(std::move(*slot_b), wp::MemoryType{.initial_pages = 1, .maximum_pages = 16});
  if (!a || !b) return failed("a tenant's memory");

  std::atomic<std::uint32_t> rounds{0};
  std::atomic<bool> stop{false};
  std::thread neighbour([&] {
    while (!stop.load()) {
      const std::uint32_t n = rounds.load() + 1;
      *reinterpret_cast<volatile std::uint32_t*>(a->data()) = n;  // unchecked, in bounds
      rounds.store(n);
    }
  });
  while (rounds.load() == 0) std::this_thread::yield();

  // i32 index 0xffffffff, static offset 0xffffffff, a 16-byte v128.store:
  // its last byte, as a runtime that splits the store would write it.
  const std::uint64_t farthest = 0xffff'ffffull + 0xffff'ffffull + 15;
  const std::uint32_t before = rounds.load();
  const auto trap =
      wp::catch_traps([&] { *reinterpret_cast<volatile std::uint8_t*>(b->data() + farthest) = 1; });
  const auto stride = static_cast<std::uint64_t>(pool->slot_base(1) - pool->slot_base(0));
  const bool in_own_slot = trap && trap->address == b->data() + farthest && farthest < stride;
  while (rounds.load() < before + 1000) std::this_thread::yield();  // A still runs
  stop.store(true);
  neighbour.join();
  if (!trap || trap->kind != wp::TrapKind::MemoryOutOfBounds || !in_own_slot)
    return failed("tenant B's farthest access did not trap in its own slot");
  std::printf(
      "guest: tenant B: v128.store at 0xffffffff+0xffffffff -> trap in its own slot "
      "(byte %" PRIu64 " of a %" PRIu64 "-byte slot)\n",
      farthest, stride);
  const std::uint32_t last = *reinterpret_cast<const std::uint32_t*>(a->data());
  if (last != rounds.load()) return failed("tenant A's memory lost its count");
  std::printf("guest: tenant A: kept running, %" PRIu32 " rounds\n", last);
  return 0;
}
#endif

}  // namespace

int main() {
  if (!wp::install_trap_handler()) return failed("install_trap_handler");

  // 4 GiB reserved and 4 GiB of guard: any 32-bit address plus 32-bit offset
  // lands in the reservation or the guard, so no access needs a bounds check.
  wp::MmapPageAllocator allocator(
      {.maximum_pages = 65536, .guard_bytes = 4 * kGiB, .reservation_bytes = 4 * kGiB});
  auto created =
      Memory::create(std::move(allocator),
                     wp::MemoryType{.initial_pages = 1, .maximum_pages = 16, .shared = true});
  if (!created) return failed(created.error().message());
  Memory& memory = *created;
  std::printf("guest: shared memory of %" PRIu64 " page(s), maximum 16\n", memory.size());

  std::thread consumer(worker, std::ref(memory));
  std::thread grower([&memory] {
    const auto previous = memory.grow(2);
    if (previous) {
      (void)memory.store(*previous * wp::kWasmPageSize, std::uint32_t{0x600d});
    }
    std::printf("guest: grower: memory.grow(2) -> %" PRId64 "\n",
                previous ? static_cast<std::int64_t>(*previous) : -1);
  });

  int status = 0;
  for (const std::uint32_t n : {10u, 100u, 1000u}) {
    if (!memory.store(kArgument, n)) return failed("store argument");
    set_state(memory, kPosted);
    wait_while(memory, kPosted);
    const auto loaded = memory.load<std::uint64_t>(kResult);
    if (!loaded) return failed("load result");
    const std::uint64_t result = *loaded;
    std::printf("guest: worker: sum of squares 1..%" PRIu32 " = %" PRIu64 "\n", n, result);
    if (result != sum_of_squares(n)) status = failed("wrong result from the worker");
    set_state(memory, kEmpty);
  }
  set_state(memory, kQuit);
  consumer.join();
  grower.join();
  if (memory.size() != 3) status = failed("grow did not take effect");

  // Out of bounds: the first byte past the committed pages, then a store deep
  // in the guard. Both come back as traps; the memory stays usable.
  const std::uint64_t past_end = memory.byte_length();
  const auto load_trap = wp::catch_traps([&] { (void)unchecked_load(memory, past_end); });
  if (!load_trap || load_trap->kind != wp::TrapKind::MemoryOutOfBounds ||
      load_trap->address != memory.data() + past_end)
    status = failed("the load past the end did not trap at its address");
  else
    std::printf("guest: i32.load at %" PRIu64 " (byte_length %" PRIu64
                ") -> trap: memory out of bounds\n",
                past_end, memory.byte_length());
  const std::uint64_t in_guard = 4 * kGiB + 12345;
  const auto store_trap = wp::catch_traps(
      [&] { *reinterpret_cast<volatile std::uint8_t*>(memory.data() + in_guard) = 1; });
  if (!store_trap || store_trap->kind != wp::TrapKind::MemoryOutOfBounds)
    status = failed("the store into the guard did not trap");
  else
    std::printf("guest: i32.store8 at %" PRIu64 " (in the guard) -> trap: memory out of bounds\n",
                in_guard);

  if (memory.load<std::uint32_t>(wp::kWasmPageSize) != std::uint32_t{0x600d})
    status = failed("the grown page lost the grower's marker");
#ifdef __linux__
  if (run_tenants() != 0) status = 1;
#endif
  std::printf("guest: %s\n", status == 0 ? "done, every result as expected" : "FAILED");
  return status;
}
