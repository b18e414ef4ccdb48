// The C ABI's page allocators, pools and images (include/wrt/platform.h).
#include <cstddef>
#include <optional>
#include <span>
#include <utility>

#include "capi/capi.hpp"

#if defined(__linux__)
struct wrt_pool {
  wrt::platform::MemoryPool pool;
};
struct wrt_image {
  wrt::platform::MemoryImage image;
};
#else
struct wrt_pool {};
struct wrt_image {};
#endif

namespace wrt::platform::capi {
namespace {

PageAllocatorConfig config_or_default(const wrt_allocator_config* config) noexcept {
  if (config == nullptr) return {};
  return {config->maximum_pages, config->guard_bytes, config->reservation_bytes};
}

// Moves `backend` into a new handle; OutOfMemory when the heap is full.
wrt_status new_allocator(AnyPageAllocator::Backend backend, wrt_allocator** out) noexcept {
  auto* handle = prim::heap_new<wrt_allocator>(AnyPageAllocator(std::move(backend)));
  if (handle == nullptr)
    return fail(Error(ErrorCode::OutOfMemory, "wrt allocator: no heap for the handle"));
  *out = handle;
  return WRT_OK;
}

// A handle for a C++ object created by `result`, or its error.
template <typename Handle, typename T>
wrt_status new_handle(Result<T>&& result, Handle** out) noexcept {
  if (!result) return fail(result.error());
  auto* handle = prim::heap_new<Handle>(std::move(*result));
  if (handle == nullptr) return fail(Error(ErrorCode::OutOfMemory, "wrt: no heap for the handle"));
  *out = handle;
  return WRT_OK;
}

}  // namespace
}  // namespace wrt::platform::capi

using namespace wrt::platform;
using capi::fail;
using capi::invalid;

extern "C" {

wrt_status wrt_mmap_allocator_create(const wrt_allocator_config* config,
                                     wrt_allocator** out) WRT_NOEXCEPT {
  if (out == nullptr) return invalid("wrt_mmap_allocator_create: null out");
  return capi::new_allocator(MmapPageAllocator(capi::config_or_default(config)), out);
}

wrt_status wrt_static_allocator_create(void* buffer, size_t size,
                                       const wrt_allocator_config* config,
                                       wrt_allocator** out) WRT_NOEXCEPT {
  if (out == nullptr) return invalid("wrt_static_allocator_create: null out");
  auto allocator = StaticPageAllocator::create(
      std::span(static_cast<std::byte*>(buffer), buffer != nullptr ? size : 0),
      capi::config_or_default(config));
  if (!allocator) return fail(allocator.error());
  return capi::new_allocator(std::move(*allocator), out);
}

wrt_status wrt_allocator_allocate(wrt_allocator* allocator, uint32_t initial_pages,
                                  const uint32_t* maximum_pages, wrt_allocation* out) WRT_NOEXCEPT {
  if (allocator == nullptr || out == nullptr) return invalid("wrt_allocator_allocate: null");
  const auto maximum = maximum_pages != nullptr ? std::optional(*maximum_pages) : std::nullopt;
  auto allocation = allocator->allocator.allocate(initial_pages, maximum);
  if (!allocation) return fail(allocation.error());
  *out = {allocation->base, allocation->committed_bytes};
  return WRT_OK;
}

wrt_status wrt_allocator_grow(wrt_allocator* allocator, uint32_t current_pages,
                              uint32_t additional_pages) WRT_NOEXCEPT {
  if (allocator == nullptr) return invalid("wrt_allocator_grow: null allocator");
  return capi::status_of(allocator->allocator.grow(current_pages, additional_pages));
}

wrt_status wrt_allocator_deallocate(wrt_allocator* allocator, void* ptr, size_t size) WRT_NOEXCEPT {
  if (allocator == nullptr) return invalid("wrt_allocator_deallocate: null allocator");
  return capi::status_of(allocator->allocator.deallocate(static_cast<std::byte*>(ptr), size));
}

wrt_status wrt_allocator_info_get(const wrt_allocator* allocator,
                                  wrt_allocator_info* out) WRT_NOEXCEPT {
  if (allocator == nullptr || out == nullptr) return invalid("wrt_allocator_info_get: null");
  const auto& a = allocator->allocator;
  *out = {a.base(), a.committed_pages(), a.committed_bytes(), a.reserved_bytes(), a.is_allocated()};
  return WRT_OK;
}

wrt_status wrt_allocator_destroy(wrt_allocator* allocator) WRT_NOEXCEPT {
  if (allocator == nullptr) return invalid("wrt_allocator_destroy: null allocator");
  delete allocator;
  return WRT_OK;
}

#if defined(__linux__)

wrt_status wrt_pool_create(const wrt_pool_config* config, wrt_pool** out) WRT_NOEXCEPT {
  if (config == nullptr || out == nullptr) return invalid("wrt_pool_create: null");
  return capi::new_handle(
      MemoryPool::create({config->slots, config->maximum_pages, config->guard_bytes,
                          config->keep_resident_bytes, config->reservation_bytes}),
      out);
}

wrt_status wrt_pool_acquire(wrt_pool* pool, const wrt_image* image,
                            wrt_allocator** out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_acquire: null");
  auto allocator = pool->pool.acquire(image != nullptr ? &image->image : nullptr);
  if (!allocator) return fail(allocator.error());
  return capi::new_allocator(std::move(*allocator), out);
}

wrt_status wrt_pool_available_slots(const wrt_pool* pool, uint32_t* out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_available_slots: null");
  *out = pool->pool.available_slots();
  return WRT_OK;
}

wrt_status wrt_pool_elides_bounds_checks(const wrt_pool* pool, bool* out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_elides_bounds_checks: null");
  *out = pool->pool.elides_bounds_checks();
  return WRT_OK;
}

wrt_status wrt_image_create(const void* bytes, size_t size, uint64_t offset,
                            wrt_image** out) WRT_NOEXCEPT {
  if ((bytes == nullptr && size != 0) || out == nullptr) return invalid("wrt_image_create: null");
  return capi::new_handle(
      MemoryImage::create(std::span(static_cast<const std::byte*>(bytes), size), offset), out);
}

wrt_status wrt_image_copy_on_write(const wrt_image* image, bool* out) WRT_NOEXCEPT {
  if (image == nullptr || out == nullptr) return invalid("wrt_image_copy_on_write: null");
  *out = image->image.copy_on_write();
  return WRT_OK;
}

#else  // No pool without Linux (src/CMakeLists.txt): every call is Unsupported.

namespace {
wrt_status no_pool(const char* operation) noexcept {
  return fail(Error(ErrorCode::Unsupported, operation));
}
}  // namespace

wrt_status wrt_pool_create(const wrt_pool_config* config, wrt_pool** out) WRT_NOEXCEPT {
  if (config == nullptr || out == nullptr) return invalid("wrt_pool_create: null");
  return no_pool("wrt_pool_create: memory pools need Linux");
}
wrt_status wrt_pool_acquire(wrt_pool* pool, const wrt_image*, wrt_allocator** out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_acquire: null");
  return no_pool("wrt_pool_acquire: memory pools need Linux");
}
wrt_status wrt_pool_available_slots(const wrt_pool* pool, uint32_t* out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_available_slots: null");
  return no_pool("wrt_pool_available_slots: memory pools need Linux");
}
wrt_status wrt_pool_elides_bounds_checks(const wrt_pool* pool, bool* out) WRT_NOEXCEPT {
  if (pool == nullptr || out == nullptr) return invalid("wrt_pool_elides_bounds_checks: null");
  return no_pool("wrt_pool_elides_bounds_checks: memory pools need Linux");
}
wrt_status wrt_image_create(const void* bytes, size_t size, uint64_t,
                            wrt_image** out) WRT_NOEXCEPT {
  if ((bytes == nullptr && size != 0) || out == nullptr) return invalid("wrt_image_create: null");
  return no_pool("wrt_image_create: memory images need Linux");
}
wrt_status wrt_image_copy_on_write(const wrt_image* image, bool* out) WRT_NOEXCEPT {
  if (image == nullptr || out == nullptr) return invalid("wrt_image_copy_on_write: null");
  return no_pool("wrt_image_copy_on_write: memory images need Linux");
}

#endif

wrt_status wrt_pool_destroy(wrt_pool* pool) WRT_NOEXCEPT {
  if (pool == nullptr) return invalid("wrt_pool_destroy: null pool");
  delete pool;
  return WRT_OK;
}

wrt_status wrt_image_destroy(wrt_image* image) WRT_NOEXCEPT {
  if (image == nullptr) return invalid("wrt_image_destroy: null image");
  delete image;
  return WRT_OK;
}

}  // extern "C"
