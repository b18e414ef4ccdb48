// The memory pool's system calls on Linux. See docs/SAFETY.md, "Memory pool".
#include "os/os_pool.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

#include "os/posix/os_call.hpp"

// PAGEMAP_SCAN (Linux 6.7): older headers (Debian 12's) lack it. The values
// are the kernel's uapi, include/uapi/linux/fs.h ("Pagemap ioctl"): ABI,
// never changed once released; a kernel without the ioctl answers ENOTTY
// (or EINVAL), and the reset falls back to zeroing everything.
#ifndef PAGEMAP_SCAN
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
struct page_region {
  __u64 start;
  __u64 end;
  __u64 categories;
};
struct pm_scan_arg {
  __u64 size;
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end;
  __u64 vec;
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

namespace wrt::platform::prim {

Result<void> discard(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Madvise, [&] { return madvise(p, bytes, MADV_DONTNEED) == 0; });
  if (error != 0) return tl::unexpected(os_error(error, "madvise: returning pages failed"));
  return {};
}

Result<void> decommit(std::byte* p, std::size_t bytes) noexcept {
  const int error = os_call(OsCall::Mprotect, [&] { return mprotect(p, bytes, PROT_NONE) == 0; });
  if (error != 0) return tl::unexpected(os_error(error, "mprotect: decommitting pages failed"));
  return {};
}

namespace {

Result<void> map_fixed(std::byte* p, std::size_t bytes, int protection, int flags, int fd,
                       const char* message) noexcept {
  const int error = os_call(OsCall::MapFixed, [&] {
    return mmap(p, bytes, protection, MAP_PRIVATE | MAP_FIXED | flags, fd, 0) != MAP_FAILED;
  });
  if (error != 0) return tl::unexpected(os_error(error, message));
  return {};
}

}  // namespace

Result<void> map_file_private(std::byte* p, std::size_t bytes, int fd) noexcept {
  return map_fixed(p, bytes, PROT_READ | PROT_WRITE, 0, fd, "mmap: mapping an image failed");
}

Result<void> map_reserved(std::byte* p, std::size_t bytes) noexcept {
  return map_fixed(p, bytes, PROT_NONE, MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   "mmap: restoring a slot's reservation failed");
}

Result<int> create_image_file(std::span<const std::byte> data, std::size_t data_offset,
                              std::size_t file_bytes) noexcept {
  int fd = -1;
  int error = os_call(OsCall::MemfdCreate, [&] {
    fd = memfd_create("wrt-memory-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd >= 0;
  });
  if (error != 0) return tl::unexpected(os_error(error, "memfd_create: creating an image failed"));
  error = os_call(OsCall::Ftruncate,
                  [&] { return ftruncate(fd, static_cast<off_t>(file_bytes)) == 0; });
  const char* message = "ftruncate: sizing an image failed";
  // tmpfs writes are not interrupted by signals; a short write only moves on.
  for (std::size_t written = 0; error == 0 && written < data.size();) {
    ssize_t n = -1;
    error = os_call(OsCall::Pwrite, [&] {
      n = pwrite(fd, data.data() + written, data.size() - written,
                 static_cast<off_t>(data_offset + written));
      return n >= 0;
    });
    message = "pwrite: filling an image failed";
    if (error == 0) written += static_cast<std::size_t>(n);
  }
  // Sealed once full (S7): no one, not even a holder of the descriptor, can
  // change or resize what live memories map. No shared writable mapping of
  // the file exists (F_SEAL_WRITE would fail with EBUSY): it was filled with
  // pwrite and is only ever mapped MAP_PRIVATE.
  if (error == 0) {
    error = os_call(OsCall::AddSeals, [&] {
      return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
    });
    message = "fcntl: sealing an image failed";
  }
  if (error != 0) {
    close_file(fd);
    return tl::unexpected(os_error(error, message));
  }
  return fd;
}

void close_file(int fd) noexcept { (void)close(fd); }

namespace {

// The process's /proc/self/pagemap, opened on first use. The descriptor
// names the address space of the process that opened it: a child of fork()
// must not scan its parent's page tables (it would miss its own dirty
// pages), so the child forgets it and opens its own.
std::atomic<int> pagemap_fd{-1};

void forget_pagemap_in_child() noexcept {
  const int fd = pagemap_fd.exchange(-1);
  if (fd >= 0) (void)close(fd);
}

Result<int> pagemap() noexcept {
  if (const int fd = pagemap_fd.load(std::memory_order_acquire); fd >= 0) return fd;
  static const bool fork_safe = pthread_atfork(nullptr, nullptr, &forget_pagemap_in_child) == 0;
  if (!fork_safe) return tl::unexpected(os_error(ENOMEM, "pthread_atfork failed"));
  int fd = -1;
  const int error = os_call(OsCall::PagemapScan, [&] {
    fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
  });
  if (error != 0) return tl::unexpected(os_error(error, "open: /proc/self/pagemap failed"));
  int expected = -1;
  if (pagemap_fd.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) return fd;
  (void)close(fd);  // another thread's is in place
  return expected;
}

}  // namespace

Result<ScanResult> scan_dirty_pages(std::byte* begin, std::byte* end,
                                    std::span<PageRun> runs) noexcept {
  const auto fd = pagemap();
  if (!fd) return tl::unexpected(fd.error());
  // At most 16 runs per call: the page_region array lives on the stack.
  page_region found[16];
  pm_scan_arg arg{};
  arg.size = sizeof(arg);
  arg.start = reinterpret_cast<std::uintptr_t>(begin);
  arg.end = reinterpret_cast<std::uintptr_t>(end);
  arg.vec = reinterpret_cast<std::uintptr_t>(found);
  arg.vec_len = std::min(runs.size(), std::size(found));
  // A page of a private mapping differs from what the OS gives afresh only
  // if it is present and is neither the shared zero page (what a read of
  // anonymous memory maps) nor the file's own page (what a read of a
  // private file mapping maps; a write copies it into an anonymous page), or
  // is swapped out. The zero page is reported, flagged, so that the caller
  // can unmap it too. PAGE_IS_WRITTEN would tell writes since the last reset
  // but needs a userfaultfd in async write-protect mode over the range:
  // docs/SPEC.md M7.
  arg.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
  arg.category_inverted = PAGE_IS_FILE;
  arg.category_mask = PAGE_IS_FILE;
  arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO;
  int count = -1;
  const int error = os_call(OsCall::PagemapScan, [&] {
    count = ioctl(*fd, PAGEMAP_SCAN, &arg);
    return count >= 0;
  });
  if (error != 0) return tl::unexpected(os_error(error, "ioctl: PAGEMAP_SCAN failed"));
  // The kernel's addresses are 64-bit fields; ours fit uintptr_t (X1).
  const auto address = [](__u64 value) {
    return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(value));
  };
  const auto n = std::min(static_cast<std::size_t>(count), static_cast<std::size_t>(arg.vec_len));
  for (std::size_t i = 0; i < n; ++i)
    runs[i] = {address(found[i].start), address(found[i].end),
               (found[i].categories & PAGE_IS_PFNZERO) != 0};
  return ScanResult{n, address(arg.walk_end)};
}

}  // namespace wrt::platform::prim
