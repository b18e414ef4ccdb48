/* The C ABI of wrt-platform (docs/SPEC.md C1): page allocators (mmap,
 * static, pooled with images), linear memories with every access of
 * section E, memory.atomic.wait32/wait64/notify, traps and the futex, for
 * runtimes written in C. C11; no C++ type or exception crosses it.
 *
 * Conventions, for every function:
 * - It returns a wrt_status: WRT_OK, or one value per C++ ErrorCode with the
 *   same meaning (docs/SPEC.md); results are written through out-parameters,
 *   and only on WRT_OK.
 * - A null handle, a null pointer where one is required, or an enum value
 *   outside its type is WRT_INVALID_ARGUMENT, checked before anything else;
 *   nothing is changed then.
 * - On a status other than WRT_OK, wrt_last_error() on the same thread
 *   describes that failure (the failing operation and the OS errno, if the
 *   OS refused) until the thread's next failing call; WRT_OK leaves it alone.
 * - Handles are owned by the caller, who destroys each exactly once, after
 *   every other use of it has returned. A handle may be used from several
 *   threads where the C++ object may (a shared memory: every call but
 *   destroy; an allocator: one thread at a time; a pool: any).
 *
 * Example:
 *   wrt_allocator* allocator;
 *   wrt_memory* memory;
 *   wrt_memory_type type = {1, 16, true, true, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
 *   if (wrt_mmap_allocator_create(NULL, &allocator) != WRT_OK) ...
 *   if (wrt_memory_create(&allocator, &type, &memory) != WRT_OK) ...
 *   uint32_t word;
 *   wrt_status status = wrt_memory_load_u32(memory, 65536, &word);
 *   // status == WRT_OUT_OF_BOUNDS: puts(wrt_error_message(status))
 */
#ifndef WRT_PLATFORM_H_
#define WRT_PLATFORM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
/* For C++ callers: no function of the C ABI throws. */
#define WRT_NOEXCEPT noexcept
extern "C" {
#else
#define WRT_NOEXCEPT
#endif

/* Status */

typedef enum wrt_status {
  WRT_OK = 0,
  WRT_INVALID_ARGUMENT = 1,  /* an argument outside its documented domain, or null */
  WRT_ALREADY_ALLOCATED = 2, /* allocate on an allocator that holds a memory */
  WRT_NOT_ALLOCATED = 3,     /* grow/deallocate on an allocator that holds none */
  WRT_STATE_MISMATCH = 4,    /* the caller's view (current_pages) differs */
  WRT_POINTER_MISMATCH = 5,  /* deallocate with a pointer or size not handed out */
  WRT_CAPACITY_EXCEEDED = 6, /* a request beyond a limit */
  WRT_OUT_OF_BOUNDS = 7,     /* an access past the memory's byte length */
  WRT_MISALIGNED = 8,        /* an address without the required alignment */
  WRT_OUT_OF_MEMORY = 9,     /* the OS answered ENOMEM */
  WRT_SYSTEM_ERROR = 10,     /* the OS failed with another errno */
  WRT_UNSUPPORTED = 11,      /* the platform cannot do this */
  WRT_NOT_SHARED = 12        /* memory.atomic.wait on an unshared memory */
} wrt_status;

/* The status's name ("OK", "InvalidArgument", "OutOfBounds", ...), static;
 * "unknown wrt_status" for a value outside the enum. Never null. The one
 * function that returns something other than a wrt_status. */
const char* wrt_error_message(wrt_status status) WRT_NOEXCEPT;

/* The calling thread's last failure. */
typedef struct wrt_error {
  wrt_status status;
  int os_errno;          /* the failing OS call's error number (C++ Error::os_errno); 0 if none */
  const char* operation; /* static text naming the failing operation; never null */
} wrt_error;

/* Writes the calling thread's last failure (status WRT_OK, "no error" before
 * any). WRT_INVALID_ARGUMENT for a null `out`, which does not change it. */
wrt_status wrt_last_error(wrt_error* out) WRT_NOEXCEPT;

/* Page allocators: one linear memory each (docs/SPEC.md section A) */

#define WRT_WASM_PAGE_SIZE 65536u

typedef struct wrt_allocator wrt_allocator;

typedef struct wrt_allocator_config {
  uint32_t maximum_pages;   /* the most pages a memory may reserve (default 65536) */
  size_t guard_bytes;       /* inaccessible bytes after the reservation (default 0) */
  size_t reservation_bytes; /* reserve at least this many bytes (default 0) */
} wrt_allocator_config;

typedef struct wrt_allocation {
  void* base;             /* the memory; never moves while allocated */
  size_t committed_bytes; /* readable, writable, zero when committed */
} wrt_allocation;

typedef struct wrt_allocator_info {
  void* base; /* null when not allocated */
  uint32_t committed_pages;
  size_t committed_bytes;
  size_t reserved_bytes;
  bool is_allocated;
} wrt_allocator_info;

/* An allocator in virtual memory (MmapPageAllocator): reserves the maximum
 * plus the guard, commits on allocate/grow; its inaccessible bytes trap
 * inside wrt_catch_traps. `config` may be null: the defaults. */
wrt_status wrt_mmap_allocator_create(const wrt_allocator_config* config,
                                     wrt_allocator** out) WRT_NOEXCEPT;

/* An allocator inside `buffer` (StaticPageAllocator), for targets without an
 * MMU; `buffer` must be 65536-byte aligned (WRT_MISALIGNED), hold whole
 * pages (WRT_INVALID_ARGUMENT) and outlive the allocator. `config` may be
 * null. */
wrt_status wrt_static_allocator_create(void* buffer, size_t size,
                                       const wrt_allocator_config* config,
                                       wrt_allocator** out) WRT_NOEXCEPT;

/* Commits `initial_pages` (zeroed), reserving `*maximum_pages` (null: the
 * allocator's limit). Errors: WRT_INVALID_ARGUMENT, WRT_CAPACITY_EXCEEDED,
 * WRT_ALREADY_ALLOCATED, WRT_OUT_OF_BOUNDS (pooled: image too large),
 * WRT_OUT_OF_MEMORY, WRT_SYSTEM_ERROR. */
wrt_status wrt_allocator_allocate(wrt_allocator* allocator, uint32_t initial_pages,
                                  const uint32_t* maximum_pages, wrt_allocation* out) WRT_NOEXCEPT;
/* Commits `additional_pages` after the `current_pages` committed. Errors:
 * WRT_NOT_ALLOCATED, WRT_STATE_MISMATCH, WRT_CAPACITY_EXCEEDED,
 * WRT_OUT_OF_MEMORY, WRT_SYSTEM_ERROR; nothing changes on error. */
wrt_status wrt_allocator_grow(wrt_allocator* allocator, uint32_t current_pages,
                              uint32_t additional_pages) WRT_NOEXCEPT;
/* Releases the memory; `ptr`, `size` must be its base and committed bytes.
 * Errors: WRT_NOT_ALLOCATED, WRT_POINTER_MISMATCH, WRT_SYSTEM_ERROR. */
wrt_status wrt_allocator_deallocate(wrt_allocator* allocator, void* ptr, size_t size) WRT_NOEXCEPT;
wrt_status wrt_allocator_info_get(const wrt_allocator* allocator,
                                  wrt_allocator_info* out) WRT_NOEXCEPT;
/* Releases the memory, if any (a pooled allocator's slot goes back to its
 * pool), and the handle. */
wrt_status wrt_allocator_destroy(wrt_allocator* allocator) WRT_NOEXCEPT;

/* Memory pools and images (docs/SPEC.md section M; Linux only: elsewhere
 * wrt_pool_create and wrt_image_create return WRT_UNSUPPORTED) */

typedef struct wrt_pool wrt_pool;
typedef struct wrt_image wrt_image;

typedef struct wrt_pool_config {
  uint32_t slots;             /* memories held at once, at least 1 */
  uint32_t maximum_pages;     /* the most pages any memory of the pool reserves */
  size_t guard_bytes;         /* inaccessible bytes after every slot */
  size_t keep_resident_bytes; /* bytes a reset zeroes in place and keeps */
  size_t reservation_bytes;   /* every slot reserves at least this many bytes */
} wrt_pool_config;

/* Reserves every slot. Errors: WRT_INVALID_ARGUMENT (slots == 0),
 * WRT_CAPACITY_EXCEEDED, WRT_UNSUPPORTED, WRT_OUT_OF_MEMORY, WRT_SYSTEM_ERROR. */
wrt_status wrt_pool_create(const wrt_pool_config* config, wrt_pool** out) WRT_NOEXCEPT;
/* Takes a free slot, without a system call: `*out` is an allocator whose
 * every allocate starts from `image` (may be null: zeros). Errors:
 * WRT_CAPACITY_EXCEEDED (every slot in use). Thread-safe. */
wrt_status wrt_pool_acquire(wrt_pool* pool, const wrt_image* image,
                            wrt_allocator** out) WRT_NOEXCEPT;
/* Slots free to acquire now. */
wrt_status wrt_pool_available_slots(const wrt_pool* pool, uint32_t* out) WRT_NOEXCEPT;
/* Whether a runtime may drop every bounds check on the pool's memories (S3). */
wrt_status wrt_pool_elides_bounds_checks(const wrt_pool* pool, bool* out) WRT_NOEXCEPT;
/* Allocators acquired from the pool stay valid: the reservation goes when
 * the last of them is destroyed. */
wrt_status wrt_pool_destroy(wrt_pool* pool) WRT_NOEXCEPT;

/* A memory's initial contents: `size` bytes copied from `bytes` (may be
 * null when size is 0), placed at `offset`, zero elsewhere. Errors:
 * WRT_OUT_OF_BOUNDS (offset + size past 4 GiB), WRT_OUT_OF_MEMORY,
 * WRT_SYSTEM_ERROR, WRT_UNSUPPORTED. */
wrt_status wrt_image_create(const void* bytes, size_t size, uint64_t offset,
                            wrt_image** out) WRT_NOEXCEPT;
/* True when allocate maps the image copy-on-write rather than copying it. */
wrt_status wrt_image_copy_on_write(const wrt_image* image, bool* out) WRT_NOEXCEPT;
/* Allocators acquired with the image keep its bytes alive. */
wrt_status wrt_image_destroy(wrt_image* image) WRT_NOEXCEPT;

/* Linear memories (docs/SPEC.md sections W and E) */

typedef struct wrt_memory wrt_memory;

typedef enum wrt_index_type { WRT_INDEX_I32 = 0, WRT_INDEX_I64 = 1 } wrt_index_type;

typedef struct wrt_memory_type {
  uint64_t initial_pages;
  uint64_t maximum_pages; /* read only when has_maximum */
  bool has_maximum;       /* a shared memory must have one */
  bool shared;
  wrt_index_type index;
  uint32_t page_size; /* 1 or WRT_WASM_PAGE_SIZE */
} wrt_memory_type;

typedef struct wrt_v128 {
  uint8_t bytes[16]; /* in memory order */
} wrt_v128;

typedef enum wrt_rmw_op {
  WRT_RMW_ADD = 0,
  WRT_RMW_SUB = 1,
  WRT_RMW_AND = 2,
  WRT_RMW_OR = 3,
  WRT_RMW_XOR = 4,
  WRT_RMW_XCHG = 5
} wrt_rmw_op;

typedef enum wrt_wait_result {
  WRT_WAIT_WOKEN = 0,
  WRT_WAIT_NOT_EQUAL = 1,
  WRT_WAIT_TIMED_OUT = 2
} wrt_wait_result;

/* Creates a memory of `type` (initial pages zeroed) over `*allocator`, which
 * it takes: on return, success or not, `*allocator` is null and the caller
 * must not destroy it (except after WRT_INVALID_ARGUMENT for a null
 * argument or an index outside wrt_index_type: then nothing was taken).
 * Errors: WRT_INVALID_ARGUMENT (the type: E1, W1), WRT_CAPACITY_EXCEEDED,
 * then the allocator's. */
wrt_status wrt_memory_create(wrt_allocator** allocator, const wrt_memory_type* type,
                             wrt_memory** out) WRT_NOEXCEPT;
/* Aborts the program when a thread still waits on the memory (S7). */
wrt_status wrt_memory_destroy(wrt_memory* memory) WRT_NOEXCEPT;

/* memory.size in pages; never decreases. */
wrt_status wrt_memory_size(const wrt_memory* memory, uint64_t* out) WRT_NOEXCEPT;
/* The size in bytes, which every access is checked against. */
wrt_status wrt_memory_byte_length(const wrt_memory* memory, uint64_t* out) WRT_NOEXCEPT;
/* The memory's first byte; never moves. */
wrt_status wrt_memory_data(const wrt_memory* memory, void** out) WRT_NOEXCEPT;
/* memory.grow: writes the size before (W2). Errors: WRT_CAPACITY_EXCEEDED
 * past the maximum, then the allocator's; nothing changes on error. Shared
 * memories serialise concurrent grows. */
wrt_status wrt_memory_grow(wrt_memory* memory, uint64_t delta_pages,
                           uint64_t* previous_pages) WRT_NOEXCEPT;

/* Bounds-checked copies; all-or-nothing (WRT_OUT_OF_BOUNDS, nothing
 * copied). `bytes` may be null only when size is 0. */
wrt_status wrt_memory_read(const wrt_memory* memory, uint64_t address, void* bytes,
                           size_t size) WRT_NOEXCEPT;
wrt_status wrt_memory_write(wrt_memory* memory, uint64_t address, const void* bytes,
                            size_t size) WRT_NOEXCEPT;

/* E3 loads and stores, little-endian, any alignment. WRT_OUT_OF_BOUNDS
 * unless address + width <= byte length; a failed store writes nothing. */
wrt_status wrt_memory_load_u8(const wrt_memory* memory, uint64_t address,
                              uint8_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_u16(const wrt_memory* memory, uint64_t address,
                               uint16_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_u32(const wrt_memory* memory, uint64_t address,
                               uint32_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_u64(const wrt_memory* memory, uint64_t address,
                               uint64_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_f32(const wrt_memory* memory, uint64_t address, float* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_f64(const wrt_memory* memory, uint64_t address,
                               double* out) WRT_NOEXCEPT;
wrt_status wrt_memory_load_v128(const wrt_memory* memory, uint64_t address,
                                wrt_v128* out) WRT_NOEXCEPT;
wrt_status wrt_memory_store_u8(wrt_memory* memory, uint64_t address, uint8_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_u16(wrt_memory* memory, uint64_t address, uint16_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_u32(wrt_memory* memory, uint64_t address, uint32_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_u64(wrt_memory* memory, uint64_t address, uint64_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_f32(wrt_memory* memory, uint64_t address, float value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_f64(wrt_memory* memory, uint64_t address, double value) WRT_NOEXCEPT;
wrt_status wrt_memory_store_v128(wrt_memory* memory, uint64_t address,
                                 const wrt_v128* value) WRT_NOEXCEPT;

/* E4 atomics, on shared and unshared memories, sequentially consistent.
 * Errors (W4, in order): WRT_MISALIGNED (address % width != 0),
 * WRT_OUT_OF_BOUNDS. rmw and cmpxchg write the value before into `*old`. */
wrt_status wrt_memory_atomic_load_u8(const wrt_memory* memory, uint64_t address,
                                     uint8_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_load_u16(const wrt_memory* memory, uint64_t address,
                                      uint16_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_load_u32(const wrt_memory* memory, uint64_t address,
                                      uint32_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_load_u64(const wrt_memory* memory, uint64_t address,
                                      uint64_t* out) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_store_u8(wrt_memory* memory, uint64_t address,
                                      uint8_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_store_u16(wrt_memory* memory, uint64_t address,
                                       uint16_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_store_u32(wrt_memory* memory, uint64_t address,
                                       uint32_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_store_u64(wrt_memory* memory, uint64_t address,
                                       uint64_t value) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_rmw_u8(wrt_memory* memory, wrt_rmw_op op, uint64_t address,
                                    uint8_t value, uint8_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_rmw_u16(wrt_memory* memory, wrt_rmw_op op, uint64_t address,
                                     uint16_t value, uint16_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_rmw_u32(wrt_memory* memory, wrt_rmw_op op, uint64_t address,
                                     uint32_t value, uint32_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_rmw_u64(wrt_memory* memory, wrt_rmw_op op, uint64_t address,
                                     uint64_t value, uint64_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_cmpxchg_u8(wrt_memory* memory, uint64_t address, uint8_t expected,
                                        uint8_t replacement, uint8_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_cmpxchg_u16(wrt_memory* memory, uint64_t address, uint16_t expected,
                                         uint16_t replacement, uint16_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_cmpxchg_u32(wrt_memory* memory, uint64_t address, uint32_t expected,
                                         uint32_t replacement, uint32_t* old) WRT_NOEXCEPT;
wrt_status wrt_memory_atomic_cmpxchg_u64(wrt_memory* memory, uint64_t address, uint64_t expected,
                                         uint64_t replacement, uint64_t* old) WRT_NOEXCEPT;

/* E5 bulk memory: WRT_OUT_OF_BOUNDS, before any byte is written, when a
 * range is. copy handles overlap as memmove; copy_from copies from
 * `source_memory` (may be `memory`); init copies
 * segment[segment_offset, segment_offset + length). */
wrt_status wrt_memory_fill(wrt_memory* memory, uint64_t address, uint8_t value,
                           uint64_t length) WRT_NOEXCEPT;
wrt_status wrt_memory_copy(wrt_memory* memory, uint64_t destination, uint64_t source,
                           uint64_t length) WRT_NOEXCEPT;
wrt_status wrt_memory_copy_from(wrt_memory* memory, const wrt_memory* source_memory,
                                uint64_t destination, uint64_t source,
                                uint64_t length) WRT_NOEXCEPT;
wrt_status wrt_memory_init(wrt_memory* memory, uint64_t destination, const void* segment,
                           size_t segment_size, uint64_t segment_offset,
                           uint64_t length) WRT_NOEXCEPT;

/* memory.atomic.wait32/wait64: sleeps while the word at `address` equals
 * `expected`, at most `timeout_ns` (< 0: forever). Errors (W4): WRT_MISALIGNED,
 * WRT_OUT_OF_BOUNDS, WRT_NOT_SHARED. Results (W5): WRT_WAIT_NOT_EQUAL,
 * WRT_WAIT_TIMED_OUT, WRT_WAIT_WOKEN only when a notify chose this waiter. */
wrt_status wrt_memory_wait32(wrt_memory* memory, uint64_t address, uint32_t expected,
                             int64_t timeout_ns, wrt_wait_result* out) WRT_NOEXCEPT;
wrt_status wrt_memory_wait64(wrt_memory* memory, uint64_t address, uint64_t expected,
                             int64_t timeout_ns, wrt_wait_result* out) WRT_NOEXCEPT;
/* memory.atomic.notify: wakes up to `count` waiters on `address`, oldest
 * first, and writes how many it woke (0 on an unshared memory). Errors:
 * WRT_MISALIGNED, WRT_OUT_OF_BOUNDS. */
wrt_status wrt_memory_notify(wrt_memory* memory, uint64_t address, uint32_t count,
                             uint32_t* woken) WRT_NOEXCEPT;

/* Traps (docs/SPEC.md section T) */

typedef enum wrt_trap_kind {
  WRT_TRAP_NONE = 0, /* the body returned normally */
  WRT_TRAP_MEMORY_OUT_OF_BOUNDS = 1,
  WRT_TRAP_HANDLER_NOT_INSTALLED = 2, /* the body did not run */
  WRT_TRAP_STACK_OVERFLOW = 3
} wrt_trap_kind;

typedef struct wrt_trap {
  wrt_trap_kind kind;
  const void* address; /* the faulting address; null for NONE and HANDLER_NOT_INSTALLED */
} wrt_trap;

/* Installs the process-wide fault handler; idempotent, thread-safe. Errors:
 * WRT_SYSTEM_ERROR (nothing installed; a later call may try again). */
wrt_status wrt_install_trap_handler(void) WRT_NOEXCEPT;

/* Runs body(context) on the calling thread and writes how it ended to
 * `*out`: an access to an inaccessible byte of a live memory's reservation,
 * or a stack overflow, abandons the body (no cleanup runs in its frames;
 * see trap.hpp for the rules) and is reported as a trap. WRT_OK whenever
 * the arguments are valid, trapped or not. */
wrt_status wrt_catch_traps(void (*body)(void*), void* context, wrt_trap* out) WRT_NOEXCEPT;

/* Futex (docs/SPEC.md section F) on any 4-byte-aligned 32-bit word that
 * every thread accesses atomically */

/* Sleeps while `*word == expected`, at most `timeout_ns` (< 0: forever;
 * 0: check once). WRT_WAIT_WOKEN may be spurious: re-check the word.
 * Errors: WRT_INVALID_ARGUMENT (null), WRT_MISALIGNED, WRT_SYSTEM_ERROR. */
wrt_status wrt_futex_wait(const uint32_t* word, uint32_t expected, int64_t timeout_ns,
                          wrt_wait_result* out) WRT_NOEXCEPT;
/* Wakes at most `count` threads waiting on `word` (UINT32_MAX: all) and
 * writes how many it woke. */
wrt_status wrt_futex_wake(const uint32_t* word, uint32_t count, uint32_t* woken) WRT_NOEXCEPT;

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // WRT_PLATFORM_H_
