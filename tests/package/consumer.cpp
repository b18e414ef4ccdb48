// The README's ten lines, built against the installed package with only the
// public names, checking every result: exits non-zero on the first surprise.
#include <wrt/platform.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>

namespace wp = wrt::platform;

namespace {

int failed(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  static_assert(wp::PageAllocator<wp::MmapPageAllocator>);
  static_assert(wp::PageAllocator<wp::StaticPageAllocator>);

  wp::MmapPageAllocator alloc({.maximum_pages = 1024, .guard_bytes = 2u << 30});
  auto memory = wp::PalMemoryProvider<wp::MmapPageAllocator>::create(std::move(alloc), 1, 16);
  if (!memory) return failed(memory.error().message());
  const std::byte hello[5] = {std::byte{'h'}, std::byte{'e'}, std::byte{'l'}, std::byte{'l'},
                              std::byte{'o'}};
  if (!memory->write(0, hello)) return failed("write");
  auto previous_pages = memory->grow(1);
  if (!previous_pages || *previous_pages != 1 || memory->pages() != 2) return failed("grow");
  std::byte back[5] = {};
  if (!memory->read(0, back) || back[4] != std::byte{'o'}) return failed("read after grow");
  if (memory->write(memory->capacity(), hello).error().code() != wp::ErrorCode::OutOfBounds)
    return failed("out-of-bounds write");

  auto word = memory->atomic_u32(64);
  if (!word) return failed("atomic_u32");
  auto waited = wp::wait_on_address(*word, 0, std::chrono::milliseconds(1));
  if (!waited || *waited != wp::WaitResult::TimedOut) return failed("wait_on_address");
  auto woken = wp::wake_address(*word, UINT32_MAX);
  if (!woken || *woken != 0) return failed("wake_address");

  wp::Futex futex(7);
  auto not_equal = futex.wait(8);
  if (!not_equal || *not_equal != wp::WaitResult::NotEqual) return failed("Futex::wait");

  // A shared linear memory (section W): the waiter queue lives in the library.
  auto shared = wp::LinearMemory<wp::MmapPageAllocator>::create(
      wp::MmapPageAllocator(),
      wp::MemoryType{.initial_pages = 1, .maximum_pages = 2, .shared = true});
  if (!shared || shared->grow(1) != 1u || shared->size() != 2) return failed("LinearMemory::grow");
  auto timed_out = shared->atomic_wait64(8, 0, 1000);
  if (!timed_out || *timed_out != wp::WaitResult::TimedOut) return failed("atomic_wait64");
  if (shared->atomic_notify(8, 1) != 0u) return failed("atomic_notify");
  if (shared->atomic_wait32(2, 0, 0).error().code() != wp::ErrorCode::Misaligned)
    return failed("atomic_wait32 misaligned");
  std::puts("consumer: installed package works");
  return 0;
}
