// The C ABI's linear memories (include/wrt/platform.h): each accessor is one
// null check and one call into the header-only C++ accessor, inlined here.
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include "capi/capi.hpp"

using namespace wrt::platform;
using capi::deliver;
using capi::fail;
using capi::invalid;
using capi::status_of;

// The per-access entry points inline the whole C++ accessor (the compiler
// would otherwise keep e.g. detail::load_bytes out of line, shared by several
// wrappers): the C ABI's goal is <= 1.05x the C++ call (docs/BENCHMARKS.md).
#define WRT_CAPI_ACCESSOR [[gnu::flatten]]

namespace {

// The operation, if `op` (from the caller, see raw_value) is one.
std::optional<RmwOp> rmw_op(const wrt_rmw_op& op) noexcept {
  const auto raw = capi::raw_value(op);
  if (raw < WRT_RMW_ADD || raw > WRT_RMW_XCHG) return std::nullopt;
  return static_cast<RmwOp>(raw);
}

std::optional<MemoryType> memory_type(const wrt_memory_type& type) noexcept {
  const auto index = capi::raw_value(type.index);
  if (index != WRT_INDEX_I32 && index != WRT_INDEX_I64) return std::nullopt;
  MemoryType result;
  result.initial_pages = type.initial_pages;
  if (type.has_maximum) result.maximum_pages = type.maximum_pages;
  result.shared = type.shared;
  result.index = index == WRT_INDEX_I32 ? IndexType::I32 : IndexType::I64;
  result.page_size = type.page_size;
  return result;
}

wrt_status deliver_wait(const Result<WaitResult>& result, wrt_wait_result* out) noexcept {
  if (!result) [[unlikely]]
    return fail(result.error());
  *out = static_cast<wrt_wait_result>(*result);
  return WRT_OK;
}
static_assert(static_cast<int>(WaitResult::Woken) == WRT_WAIT_WOKEN &&
              static_cast<int>(WaitResult::NotEqual) == WRT_WAIT_NOT_EQUAL &&
              static_cast<int>(WaitResult::TimedOut) == WRT_WAIT_TIMED_OUT);

}  // namespace

extern "C" {

wrt_status wrt_memory_create(wrt_allocator** allocator, const wrt_memory_type* type,
                             wrt_memory** out) WRT_NOEXCEPT {
  if (allocator == nullptr || *allocator == nullptr || type == nullptr || out == nullptr)
    return invalid("wrt_memory_create: null");
  const auto cpp_type = memory_type(*type);
  if (!cpp_type) return invalid("wrt_memory_create: index is not an wrt_index_type");
  wrt_allocator* taken = std::exchange(*allocator, nullptr);
  auto memory = capi::Memory::create(std::move(taken->allocator), *cpp_type);
  delete taken;
  if (!memory) return fail(memory.error());
  auto* handle = prim::heap_new<wrt_memory>(std::move(*memory));
  if (handle == nullptr)
    return fail(Error(ErrorCode::OutOfMemory, "wrt_memory_create: no heap for the handle"));
  *out = handle;
  return WRT_OK;
}

wrt_status wrt_memory_destroy(wrt_memory* memory) WRT_NOEXCEPT {
  if (memory == nullptr) return invalid("wrt_memory_destroy: null memory");
  delete memory;
  return WRT_OK;
}

wrt_status wrt_memory_size(const wrt_memory* memory, uint64_t* out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_size: null");
  *out = memory->memory.size();
  return WRT_OK;
}

wrt_status wrt_memory_byte_length(const wrt_memory* memory, uint64_t* out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_byte_length: null");
  *out = memory->memory.byte_length();
  return WRT_OK;
}

wrt_status wrt_memory_data(const wrt_memory* memory, void** out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_data: null");
  *out = memory->memory.data();
  return WRT_OK;
}

wrt_status wrt_memory_grow(wrt_memory* memory, uint64_t delta_pages,
                           uint64_t* previous_pages) WRT_NOEXCEPT {
  if (memory == nullptr || previous_pages == nullptr) return invalid("wrt_memory_grow: null");
  return deliver(memory->memory.grow(delta_pages), previous_pages);
}

wrt_status wrt_memory_read(const wrt_memory* memory, uint64_t address, void* bytes,
                           size_t size) WRT_NOEXCEPT {
  if (memory == nullptr || (bytes == nullptr && size != 0)) return invalid("wrt_memory_read: null");
  return status_of(memory->memory.read(address, std::span(static_cast<std::byte*>(bytes), size)));
}

wrt_status wrt_memory_write(wrt_memory* memory, uint64_t address, const void* bytes,
                            size_t size) WRT_NOEXCEPT {
  if (memory == nullptr || (bytes == nullptr && size != 0))
    return invalid("wrt_memory_write: null");
  return status_of(
      memory->memory.write(address, std::span(static_cast<const std::byte*>(bytes), size)));
}

// One definition per width: the C names differ only in the type's suffix.
#define WRT_PLAIN_ACCESS(suffix, T)                                                              \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_load_##suffix(const wrt_memory* memory,                \
                                                        uint64_t address, T* out) WRT_NOEXCEPT { \
    if (memory == nullptr || out == nullptr) [[unlikely]]                                        \
      return invalid("wrt_memory_load_" #suffix ": null");                                       \
    return deliver(memory->memory.load<T>(address), out);                                        \
  }                                                                                              \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_store_##suffix(wrt_memory* memory, uint64_t address,   \
                                                         T value) WRT_NOEXCEPT {                 \
    if (memory == nullptr) [[unlikely]]                                                          \
      return invalid("wrt_memory_store_" #suffix ": null memory");                               \
    return status_of(memory->memory.store<T>(address, value));                                   \
  }
WRT_PLAIN_ACCESS(u8, uint8_t)
WRT_PLAIN_ACCESS(u16, uint16_t)
WRT_PLAIN_ACCESS(u32, uint32_t)
WRT_PLAIN_ACCESS(u64, uint64_t)
WRT_PLAIN_ACCESS(f32, float)
WRT_PLAIN_ACCESS(f64, double)
#undef WRT_PLAIN_ACCESS

static_assert(sizeof(wrt_v128) == sizeof(V128));

wrt_status wrt_memory_load_v128(const wrt_memory* memory, uint64_t address,
                                wrt_v128* out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_load_v128: null");
  const auto value = memory->memory.load<V128>(address);
  if (!value) return fail(value.error());
  std::memcpy(out->bytes, value->bytes, sizeof(out->bytes));
  return WRT_OK;
}

wrt_status wrt_memory_store_v128(wrt_memory* memory, uint64_t address,
                                 const wrt_v128* value) WRT_NOEXCEPT {
  if (memory == nullptr || value == nullptr) return invalid("wrt_memory_store_v128: null");
  V128 bytes;
  std::memcpy(bytes.bytes, value->bytes, sizeof(bytes.bytes));
  return status_of(memory->memory.store(address, bytes));
}

#define WRT_ATOMIC_ACCESS(suffix, T)                                                          \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_atomic_load_##suffix(                               \
      const wrt_memory* memory, uint64_t address, T* out) WRT_NOEXCEPT {                      \
    if (memory == nullptr || out == nullptr) [[unlikely]]                                     \
      return invalid("wrt_memory_atomic_load_" #suffix ": null");                             \
    return deliver(memory->memory.atomic_load<T>(address), out);                              \
  }                                                                                           \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_atomic_store_##suffix(                              \
      wrt_memory* memory, uint64_t address, T value) WRT_NOEXCEPT {                           \
    if (memory == nullptr) [[unlikely]]                                                       \
      return invalid("wrt_memory_atomic_store_" #suffix ": null memory");                     \
    return status_of(memory->memory.atomic_store<T>(address, value));                         \
  }                                                                                           \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_atomic_rmw_##suffix(                                \
      wrt_memory* memory, wrt_rmw_op op, uint64_t address, T value, T* old) WRT_NOEXCEPT {    \
    const auto cpp_op = rmw_op(op);                                                           \
    if (memory == nullptr || old == nullptr || !cpp_op) [[unlikely]]                          \
      return invalid("wrt_memory_atomic_rmw_" #suffix ": null or not a wrt_rmw_op");          \
    return deliver(memory->memory.atomic_rmw<T>(*cpp_op, address, value), old);               \
  }                                                                                           \
  WRT_CAPI_ACCESSOR wrt_status wrt_memory_atomic_cmpxchg_##suffix(                            \
      wrt_memory* memory, uint64_t address, T expected, T replacement, T* old) WRT_NOEXCEPT { \
    if (memory == nullptr || old == nullptr) [[unlikely]]                                     \
      return invalid("wrt_memory_atomic_cmpxchg_" #suffix ": null");                          \
    return deliver(memory->memory.atomic_cmpxchg<T>(address, expected, replacement), old);    \
  }
WRT_ATOMIC_ACCESS(u8, uint8_t)
WRT_ATOMIC_ACCESS(u16, uint16_t)
WRT_ATOMIC_ACCESS(u32, uint32_t)
WRT_ATOMIC_ACCESS(u64, uint64_t)
#undef WRT_ATOMIC_ACCESS

static_assert(static_cast<int>(RmwOp::Add) == WRT_RMW_ADD &&
              static_cast<int>(RmwOp::Sub) == WRT_RMW_SUB &&
              static_cast<int>(RmwOp::And) == WRT_RMW_AND &&
              static_cast<int>(RmwOp::Or) == WRT_RMW_OR &&
              static_cast<int>(RmwOp::Xor) == WRT_RMW_XOR &&
              static_cast<int>(RmwOp::Xchg) == WRT_RMW_XCHG);

wrt_status wrt_memory_fill(wrt_memory* memory, uint64_t address, uint8_t value,
                           uint64_t length) WRT_NOEXCEPT {
  if (memory == nullptr) return invalid("wrt_memory_fill: null memory");
  return status_of(memory->memory.fill(address, value, length));
}

wrt_status wrt_memory_copy(wrt_memory* memory, uint64_t destination, uint64_t source,
                           uint64_t length) WRT_NOEXCEPT {
  if (memory == nullptr) return invalid("wrt_memory_copy: null memory");
  return status_of(memory->memory.copy(destination, source, length));
}

wrt_status wrt_memory_copy_from(wrt_memory* memory, const wrt_memory* source_memory,
                                uint64_t destination, uint64_t source,
                                uint64_t length) WRT_NOEXCEPT {
  if (memory == nullptr || source_memory == nullptr) return invalid("wrt_memory_copy_from: null");
  return status_of(memory->memory.copy_from(source_memory->memory, destination, source, length));
}

wrt_status wrt_memory_init(wrt_memory* memory, uint64_t destination, const void* segment,
                           size_t segment_size, uint64_t segment_offset,
                           uint64_t length) WRT_NOEXCEPT {
  if (memory == nullptr || (segment == nullptr && segment_size != 0))
    return invalid("wrt_memory_init: null");
  return status_of(memory->memory.init(
      destination, std::span(static_cast<const std::byte*>(segment), segment_size), segment_offset,
      length));
}

wrt_status wrt_memory_wait32(wrt_memory* memory, uint64_t address, uint32_t expected,
                             int64_t timeout_ns, wrt_wait_result* out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_wait32: null");
  return deliver_wait(memory->memory.atomic_wait32(address, expected, timeout_ns), out);
}

wrt_status wrt_memory_wait64(wrt_memory* memory, uint64_t address, uint64_t expected,
                             int64_t timeout_ns, wrt_wait_result* out) WRT_NOEXCEPT {
  if (memory == nullptr || out == nullptr) return invalid("wrt_memory_wait64: null");
  return deliver_wait(memory->memory.atomic_wait64(address, expected, timeout_ns), out);
}

WRT_CAPI_ACCESSOR wrt_status wrt_memory_notify(wrt_memory* memory, uint64_t address, uint32_t count,
                                               uint32_t* woken) WRT_NOEXCEPT {
  if (memory == nullptr || woken == nullptr) [[unlikely]]
    return invalid("wrt_memory_notify: null");
  return deliver(memory->memory.atomic_notify(address, count), woken);
}

}  // extern "C"
