// The memory pool's system calls (Linux): returning pages to the OS, mapping
// over a slot with MAP_FIXED, and the memory files that hold images. Errors
// as in os_memory.hpp: ENOMEM -> OutOfMemory, anything else -> SystemError,
// with the errno. docs/SAFETY.md lists the invariants each call site upholds.
#pragma once

#include <cstddef>
#include <span>

#include "wrt/platform/error.hpp"

namespace wrt::platform::prim {

// madvise(MADV_DONTNEED) on [p, p + bytes) (OS-page aligned, inside a slot):
// the pages leave the resident set; private anonymous pages read zero
// afterwards, private file pages read the file again.
Result<void> discard(std::byte* p, std::size_t bytes) noexcept;

// mprotect(PROT_NONE) on [p, p + bytes): the pages fault on access again but
// keep their contents (and stay resident).
Result<void> decommit(std::byte* p, std::size_t bytes) noexcept;

// Maps the first `bytes` of the file `fd` at p, replacing what was mapped
// there (MAP_FIXED), readable and writable, private: writes go to the
// process's own copy of a page (copy-on-write), never to the file.
Result<void> map_file_private(std::byte* p, std::size_t bytes, int fd) noexcept;

// Maps fresh inaccessible anonymous address space at p (MAP_FIXED,
// PROT_NONE, MAP_NORESERVE), dropping whatever was mapped there: the range
// is a plain part of the reservation again.
Result<void> map_reserved(std::byte* p, std::size_t bytes) noexcept;

// A memory file (memfd) of `file_bytes` bytes, zero but for `data` at
// `data_offset`, sealed against writes, resizing and further sealing
// (F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL). Returns its
// descriptor (close-on-exec); on failure nothing is left open. A system
// without memfd_create fails with errno ENOSYS.
Result<int> create_image_file(std::span<const std::byte> data, std::size_t data_offset,
                              std::size_t file_bytes) noexcept;

// A run of OS pages [begin, end) that a scan found mapped.
struct PageRun {
  std::byte* begin;
  std::byte* end;
  // The run maps the shared zero page (what a read of anonymous memory
  // maps): it reads zero and holds no memory of its own.
  bool zero_page;
};

// What one scan found: `runs` runs, in address order, and the address the
// scan reached (the runs cover every possibly non-zero page before it).
struct ScanResult {
  std::size_t runs;
  std::byte* reached;
};

// Finds the pages of [begin, end) (OS-page aligned, private mappings:
// anonymous or of a file) that are mapped other than as the file's own
// pages: present (the zero page is flagged) or swapped out
// (ioctl(PAGEMAP_SCAN), Linux 6.7+). Every page it does not report reads
// what the OS gives afresh (zero, or the file) and holds no memory of its
// own; a reported page that is not the zero page may hold anything. Stops
// early when `runs` is full. Fails (errno ENOTTY or EINVAL where the kernel
// lacks the ioctl) when it cannot tell: the caller then treats every page as
// written. docs/SAFETY.md, "Memory pool".
Result<ScanResult> scan_dirty_pages(std::byte* begin, std::byte* end,
                                    std::span<PageRun> runs) noexcept;

// Closes a descriptor from create_image_file().
void close_file(int fd) noexcept;

}  // namespace wrt::platform::prim
