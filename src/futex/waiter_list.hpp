// The queue of one parking-lot bucket, shared by the portable futex backend
// and LinearMemory's wait queue: an intrusive doubly-linked FIFO list of
// waiters that live on their own threads' stacks. Not thread-safe: the
// bucket's mutex guards it.
#pragma once

namespace wrt::platform::detail {

// `Waiter` has `Waiter* prev` and `Waiter* next`, both null while unlinked.
template <typename Waiter>
struct WaiterList {
  Waiter* head = nullptr;  // FIFO: the oldest waiter first
  Waiter* tail = nullptr;

  void push(Waiter* w) noexcept {
    w->prev = tail;
    (tail != nullptr ? tail->next : head) = w;
    tail = w;
  }

  void unlink(Waiter* w) noexcept {
    (w->prev != nullptr ? w->prev->next : head) = w->next;
    (w->next != nullptr ? w->next->prev : tail) = w->prev;
    w->prev = w->next = nullptr;
  }
};

}  // namespace wrt::platform::detail
