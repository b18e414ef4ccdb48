// The registry of live reservations: which address ranges are MmapPageAllocator
// or PooledPageAllocator memories, and where each one's committed bytes end.
// Allocators update it (the same way: memory_registration.hpp); the fault
// handler reads it from a signal handler, so reading takes no lock,
// allocates nothing and never waits (docs/SPEC.md S1, S2, S9; docs/SAFETY.md,
// "Traps"). Platform-free: no OS call here.
//
// Capacity is the address space: one heap Entry per memory, no table.
//
// Structure. The live entries sit in an immutable AVL tree keyed by `begin`
// (live ranges never overlap, so the entry holding an address is the one
// with the greatest begin <= address). Writers (publish, retract; serialised
// by a mutex) never change a node that a reader may reach: they copy the path
// from the root to the change (and the few nodes a rotation moves), and swap
// the root pointer. A lookup is one root-to-leaf walk: at most
// 1.44 log2(n + 2) nodes (the AVL height bound), wait-free, no lock, no
// allocation. publish_committed_end() only stores into the Entry, which
// every copy of a node points to.
//
// Why a reader never reads freed memory (the reclamation argument). A
// reader brackets its walk with a count in one of two counters:
//   e = epoch.load(); readers[e & 1].fetch_add(1); root.load(); walk;
//   readers[e & 1].fetch_sub(1)   // before find_live returns: the handler
//                                  // chains or siglongjmps only afterwards
// A writer, after storing the new root, flips the epoch and waits until
// readers[old parity] is 0, twice (so it has waited on both counters after
// its root store), and only then recycles the nodes it replaced (or, for
// retract, lets release_entry free the Entry). All five operations are
// seq_cst, so they lie in one total order S. Take a reader R and one of the
// writer's waits on R's counter. Either that wait's load came after R's
// increment in S: then it saw R counted and returned only after R's
// decrement, so R's walk happened before the recycling (the decrement is a
// release, the load an acquire). Or it came before R's increment: then R's
// root load comes after the writer's root store in S and returns the new
// root or a later one, none of which reaches a replaced node. Nodes are
// only freed after such waits, so every node and Entry a reader reaches
// stays allocated until it is done. The flips are for progress only: new
// readers count in the other counter, so the one waited on drains (a
// reader that read the epoch before a flip adds at most one late count).
//
// Why a reader sees complete fields (S9). Every field the walk reads (a
// node's key, children and entry, an Entry's begin and end) is written
// before the root store that makes it reachable, and never again while
// reachable; the root store is seq_cst (a release) and the reader's root
// load seq_cst (an acquire), so those writes happen before the reads in the
// C++ memory model, not only on x86. committed_end is the one field that
// changes while live: an atomic, stored with release after the grow's pages
// are accessible and loaded with acquire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace wrt::platform::trap {

// One memory's registration (opaque; fault_registry.cpp).
struct Entry;

// One live reservation: [begin, end) is the memory's reservation plus its
// guard; [begin, committed_end) is accessible.
struct ReservationView {
  std::uintptr_t begin;
  std::uintptr_t committed_end;
  std::uintptr_t end;

  friend bool operator==(const ReservationView&, const ReservationView&) = default;
};

// A new, not-live entry for a memory about to be allocated, holding every
// byte its later publish and retract will need (so those cannot fail).
// nullptr when the heap is exhausted; nothing else happened then.
Entry* claim_entry() noexcept;
// Makes `entry` live with `view` (after the range is mapped and committed).
// `entry` is not live; its range overlaps no live range.
void publish(Entry* entry, const ReservationView& view) noexcept;
// Moves a live entry's committed end (after the new pages are committed).
void publish_committed_end(Entry* entry, std::uintptr_t committed_end) noexcept;
// Makes a live `entry` not live. On return no lookup still reads it: the
// range may be released and the entry published again or released.
void retract(Entry* entry) noexcept;
// Frees a not-live `entry` (from claim_entry).
void release_entry(Entry* entry) noexcept;

// The live entry whose [begin, end) holds `address`, if any, copied out.
// Async-signal-safe and wait-free: the fault handler's only question to the
// registry.
std::optional<ReservationView> find_live(std::uintptr_t address) noexcept;

// For tests (S1, S2): how many entries are claimed and not released; how
// many tree nodes find_live(address) visits; how many nodes the latest
// publish or retract wrote.
std::size_t claimed_entries() noexcept;
std::size_t lookup_visits(std::uintptr_t address) noexcept;
std::size_t last_update_writes() noexcept;

}  // namespace wrt::platform::trap
