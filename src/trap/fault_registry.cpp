#include "trap/fault_registry.hpp"

#include "os/seam.hpp"

#include <atomic>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

namespace wrt::platform::trap {

struct Entry {
  // Written by publish while not live, read by lookups while live.
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  std::atomic<std::uintptr_t> committed_end{0};
};

namespace {

// An immutable tree node while reachable from the root. `height`,
// `generation` and `next` are the writers' alone.
struct Node {
  std::uintptr_t begin = 0;
  Entry* entry = nullptr;
  const Node* left = nullptr;
  const Node* right = nullptr;
  int height = 0;
  // The update that built the node: a node of the current update was never
  // reachable, so dropping it recycles it at once.
  std::uint64_t generation = 0;
  Node* next = nullptr;
};

// An AVL tree of n nodes is at most 1.4405 log2(n + 2) high; n < 2^64.
constexpr int kMaxHeight = 93;
// One update writes at most 3 nodes per level (its path and the two a double
// rotation takes apart), plus the new leaf. Always kept on the free list, so
// publish and retract never allocate.
constexpr std::size_t kReserveNodes = 3 * kMaxHeight + 1;

static_assert(std::atomic<const Node*>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free &&
                  std::atomic<std::uintptr_t>::is_always_lock_free,
              "the fault handler may only use lock-free atomics");

// --- What readers touch --------------------------------------------------

std::atomic<const Node*> root{nullptr};
std::atomic<std::uint32_t> epoch{0};
std::atomic<std::uint32_t> readers[2] = {0, 0};

// A lookup's bracket (the header's reclamation argument): nothing it
// reached is recycled before the destructor's decrement.
class ReadSection {
 public:
  ReadSection() noexcept : counter_(readers[epoch.load(std::memory_order_seq_cst) & 1]) {
    counter_.fetch_add(1, std::memory_order_seq_cst);
  }
  ~ReadSection() { counter_.fetch_sub(1, std::memory_order_release); }
  ReadSection(const ReadSection&) = delete;
  ReadSection& operator=(const ReadSection&) = delete;

 private:
  std::atomic<std::uint32_t>& counter_;
};

// The live entry holding `address`: the one with the greatest begin <=
// address, if address is below its end. Counts the nodes visited.
std::optional<ReservationView> walk(std::uintptr_t address, std::size_t& visits) noexcept {
  const ReadSection section;
  const Node* best = nullptr;
  for (const Node* n = root.load(std::memory_order_seq_cst); n != nullptr;) {
    ++visits;
    if (address < n->begin) {
      n = n->left;
    } else {
      best = n;
      n = n->right;
    }
  }
  if (best == nullptr || address >= best->entry->end) return std::nullopt;
  const Entry& e = *best->entry;
  return ReservationView{e.begin, e.committed_end.load(std::memory_order_acquire), e.end};
}

// --- Writers, under writer_mutex -----------------------------------------

std::mutex writer_mutex;
// Nodes owned: on the free list or in the tree. Always at least
// kReserveNodes + claimed, and the tree holds one node per live entry, so
// the free list keeps kReserveNodes for the next update.
std::size_t owned_nodes = 0;
std::size_t claimed = 0;
Node* free_nodes = nullptr;
// Nodes the current update took out of the published tree: recycled after
// the grace period.
Node* retired_nodes = nullptr;
std::uint64_t generation = 0;
std::size_t update_writes = 0;

void push(Node*& list, Node* n) noexcept {
  n->next = list;
  list = n;
}

Node* pop(Node*& list) noexcept {
  Node* n = list;
  list = n->next;
  return n;
}

int height(const Node* n) noexcept { return n != nullptr ? n->height : 0; }

const Node* make(std::uintptr_t begin, Entry* entry, const Node* left, const Node* right) noexcept {
  // Never empty here: kReserveNodes bounds the nodes of one update.
  Node* n = pop(free_nodes);
  *n = Node{begin, entry, left, right, 1 + std::max(height(left), height(right)), generation};
  ++update_writes;
  return n;
}

// `n` is no longer part of the tree being built.
void drop(const Node* n) noexcept {
  Node* node = const_cast<Node*>(n);
  push(node->generation == generation ? free_nodes : retired_nodes, node);
}

// A node for (begin, entry) over `left` and `right`, whose heights differ by
// at most 2, rotated so that they differ by at most 1.
const Node* balance(std::uintptr_t begin, Entry* entry, const Node* left,
                    const Node* right) noexcept {
  if (height(left) > height(right) + 1) {
    if (height(left->left) >= height(left->right)) {
      const Node* top =
          make(left->begin, left->entry, left->left, make(begin, entry, left->right, right));
      drop(left);
      return top;
    }
    const Node* mid = left->right;
    const Node* top =
        make(mid->begin, mid->entry, make(left->begin, left->entry, left->left, mid->left),
             make(begin, entry, mid->right, right));
    drop(left);
    drop(mid);
    return top;
  }
  if (height(right) > height(left) + 1) {
    if (height(right->right) >= height(right->left)) {
      const Node* top =
          make(right->begin, right->entry, make(begin, entry, left, right->left), right->right);
      drop(right);
      return top;
    }
    const Node* mid = right->left;
    const Node* top = make(mid->begin, mid->entry, make(begin, entry, left, mid->left),
                           make(right->begin, right->entry, mid->right, right->right));
    drop(right);
    drop(mid);
    return top;
  }
  return make(begin, entry, left, right);
}

const Node* insert(const Node* t, Entry* entry) noexcept {
  if (t == nullptr) return make(entry->begin, entry, nullptr, nullptr);
  const Node* top = entry->begin < t->begin
                        ? balance(t->begin, t->entry, insert(t->left, entry), t->right)
                        : balance(t->begin, t->entry, t->left, insert(t->right, entry));
  drop(t);
  return top;
}

// `t` without its leftmost node, which goes to `min`.
const Node* remove_min(const Node* t, const Node*& min) noexcept {
  if (t->left == nullptr) {
    min = t;
    return t->right;
  }
  const Node* top = balance(t->begin, t->entry, remove_min(t->left, min), t->right);
  drop(t);
  return top;
}

const Node* erase(const Node* t, std::uintptr_t begin) noexcept {
  // Never null: only a live entry (a key in the tree) is retracted.
  const Node* top = nullptr;
  if (begin < t->begin) {
    top = balance(t->begin, t->entry, erase(t->left, begin), t->right);
  } else if (begin > t->begin) {
    top = balance(t->begin, t->entry, t->left, erase(t->right, begin));
  } else if (t->left == nullptr || t->right == nullptr) {
    top = t->left != nullptr ? t->left : t->right;
  } else {
    const Node* min = nullptr;
    const Node* rest = remove_min(t->right, min);
    top = balance(min->begin, min->entry, t->left, rest);
    drop(min);
  }
  drop(t);
  return top;
}

// Waits until no lookup can still hold a node retired before the call.
void wait_for_readers() noexcept {
  for (int flip = 0; flip < 2; ++flip) {
    const std::uint32_t old = epoch.fetch_add(1, std::memory_order_seq_cst);
    // A reader in its bracket is a few loads from done; it never waits for us.
    while (readers[old & 1].load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }
}

// Publishes the tree built by the current update and recycles what it replaced.
void swap_root(const Node* new_root) noexcept {
  root.store(new_root, std::memory_order_seq_cst);
  wait_for_readers();
  while (retired_nodes != nullptr) push(free_nodes, pop(retired_nodes));
}

void begin_update() noexcept {
  ++generation;
  update_writes = 0;
}

}  // namespace

Entry* claim_entry() noexcept {
  Entry* entry = prim::heap_new<Entry>();
  if (entry == nullptr) return nullptr;
  const std::lock_guard lock(writer_mutex);
  while (owned_nodes < kReserveNodes + claimed + 1) {
    Node* n = prim::heap_new<Node>();
    if (n == nullptr) {
      // The nodes already added stay owned: the next claim needs them.
      delete entry;
      return nullptr;
    }
    push(free_nodes, n);
    ++owned_nodes;
  }
  ++claimed;
  return entry;
}

void publish(Entry* entry, const ReservationView& view) noexcept {
  const std::lock_guard lock(writer_mutex);
  // Not reachable yet (or no longer: retract waited for its readers).
  entry->begin = view.begin;
  entry->end = view.end;
  entry->committed_end.store(view.committed_end, std::memory_order_relaxed);
  begin_update();
  swap_root(insert(root.load(std::memory_order_relaxed), entry));
}

void publish_committed_end(Entry* entry, std::uintptr_t committed_end) noexcept {
  entry->committed_end.store(committed_end, std::memory_order_release);
}

void retract(Entry* entry) noexcept {
  const std::lock_guard lock(writer_mutex);
  begin_update();
  swap_root(erase(root.load(std::memory_order_relaxed), entry->begin));
}

void release_entry(Entry* entry) noexcept {
  delete entry;
  const std::lock_guard lock(writer_mutex);
  --claimed;
  // Give back the node this entry's claim added; the free list keeps
  // kReserveNodes plus one per claimed, not-live entry.
  if (owned_nodes > kReserveNodes + claimed) {
    delete pop(free_nodes);
    --owned_nodes;
  }
}

std::optional<ReservationView> find_live(std::uintptr_t address) noexcept {
  std::size_t visits = 0;
  return walk(address, visits);
}

std::size_t claimed_entries() noexcept {
  const std::lock_guard lock(writer_mutex);
  return claimed;
}

std::size_t lookup_visits(std::uintptr_t address) noexcept {
  std::size_t visits = 0;
  (void)walk(address, visits);
  return visits;
}

std::size_t last_update_writes() noexcept {
  const std::lock_guard lock(writer_mutex);
  return update_writes;
}

}  // namespace wrt::platform::trap
