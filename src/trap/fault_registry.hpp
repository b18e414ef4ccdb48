// The registry of live reservations: which address ranges are MmapPageAllocator
// or PooledPageAllocator memories, and where each one's committed bytes end.
// Allocators update it (the same way: memory_registration.hpp); the fault
// handler reads it from a signal handler, so reading takes no lock,
// allocates nothing and never waits (docs/SAFETY.md, "Traps").
//
// A fixed table of kRegistryCapacity entries, each a seqlock over plain
// atomics. An entry is owned by one allocator from claim_slot() to
// release_slot() (only the owner writes it); it is *live* between publish()
// and retract(). A reader accepts an entry only when it saw the same odd
// (live) version before and after reading the fields, so it never mixes two
// owners' ranges. Allocators retract before munmap (a pool: before the
// slot's reset) and publish after mmap (after allocate's calls), so a
// released range is never reported, even when a later memory reuses the
// addresses before it publishes. Platform-free: no OS call here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace wrt::platform::trap {

// How many memories can be live at once (a 64-bit address space holds about
// 16k memories of 4 GiB + 4 GiB guard, so 4096 covers every realistic runtime).
inline constexpr std::uint32_t kRegistryCapacity = 4096;

// One live reservation: [begin, end) is the memory's reservation plus its
// guard; [begin, committed_end) is accessible.
struct ReservationView {
  std::uintptr_t begin;
  std::uintptr_t committed_end;
  std::uintptr_t end;
};

// Takes a free entry for a new memory; nullopt when all are taken.
std::optional<std::uint32_t> claim_slot() noexcept;
// Makes `slot` live with `view` (after the range is mapped and committed).
void publish(std::uint32_t slot, const ReservationView& view) noexcept;
// Moves a live entry's committed end (after the new pages are committed).
void publish_committed_end(std::uint32_t slot, std::uintptr_t committed_end) noexcept;
// Makes `slot` not live (before its range is released).
void retract(std::uint32_t slot) noexcept;
// Gives a not-live `slot` back.
void release_slot(std::uint32_t slot) noexcept;

// The live entry whose [begin, end) holds `address`, if any. Async-signal-safe
// and wait-free: the fault handler's only question to the registry.
std::optional<ReservationView> find_live(std::uintptr_t address) noexcept;

}  // namespace wrt::platform::trap
