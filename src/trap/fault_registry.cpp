#include "trap/fault_registry.hpp"

#include <array>
#include <atomic>

namespace wrt::platform::trap {
namespace {

struct Entry {
  std::atomic<bool> claimed{false};
  // Odd while live. The owner bumps it on publish and retract; readers
  // compare it before and after reading the fields.
  std::atomic<std::uint64_t> version{0};
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> committed_end{0};
  std::atomic<std::uintptr_t> end{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uintptr_t>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free,
              "the fault handler may only read lock-free atomics");

std::array<Entry, kRegistryCapacity> entries;
// One past the highest slot ever claimed: readers scan only that far.
std::atomic<std::uint32_t> slots_in_use{0};

// Makes slots_in_use at least `count` (a CAS loop: claims may race).
void raise_slots_in_use(std::uint32_t count) noexcept {
  std::uint32_t seen = slots_in_use.load(std::memory_order_relaxed);
  do {
    if (seen >= count) return;
  } while (!slots_in_use.compare_exchange_weak(seen, count, std::memory_order_release));
}

}  // namespace

std::optional<std::uint32_t> claim_slot() noexcept {
  for (std::uint32_t slot = 0; slot < kRegistryCapacity; ++slot) {
    bool expected = false;
    if (entries[slot].claimed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      raise_slots_in_use(slot + 1);
      return slot;
    }
  }
  return std::nullopt;
}

void publish(std::uint32_t slot, const ReservationView& view) noexcept {
  Entry& e = entries[slot];
  // Not live (even version): readers skip the entry while the fields change.
  e.begin.store(view.begin, std::memory_order_relaxed);
  e.committed_end.store(view.committed_end, std::memory_order_relaxed);
  e.end.store(view.end, std::memory_order_relaxed);
  e.version.fetch_add(1, std::memory_order_release);
}

void publish_committed_end(std::uint32_t slot, std::uintptr_t committed_end) noexcept {
  entries[slot].committed_end.store(committed_end, std::memory_order_release);
}

void retract(std::uint32_t slot) noexcept {
  // seq_cst: the range's release (munmap) comes after this in every thread's view.
  entries[slot].version.fetch_add(1, std::memory_order_seq_cst);
}

void release_slot(std::uint32_t slot) noexcept {
  entries[slot].claimed.store(false, std::memory_order_release);
}

std::optional<ReservationView> find_live(std::uintptr_t address) noexcept {
  const std::uint32_t used = slots_in_use.load(std::memory_order_acquire);
  for (std::uint32_t slot = 0; slot < used; ++slot) {
    const Entry& e = entries[slot];
    const std::uint64_t before = e.version.load(std::memory_order_acquire);
    if (before % 2 == 0) continue;
    const ReservationView view{e.begin.load(std::memory_order_relaxed),
                               e.committed_end.load(std::memory_order_acquire),
                               e.end.load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    // Changed while we read: retracted (and maybe republished by a new
    // owner) meanwhile, so this snapshot may mix two owners. A memory being
    // accessed cannot be retracted (deallocating it would be the caller's
    // use-after-free), so skipping never hides the memory that faulted.
    if (e.version.load(std::memory_order_relaxed) != before) continue;
    if (address >= view.begin && address < view.end) return view;
  }
  return std::nullopt;
}

}  // namespace wrt::platform::trap
