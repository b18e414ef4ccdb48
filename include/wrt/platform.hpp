// Every public header of wrt-platform.
#pragma once

#include "wrt/platform/bounds_check.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"
#include "wrt/platform/linear_memory.hpp"
#include "wrt/platform/memory_pool.hpp"
#include "wrt/platform/memory_provider.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/page_allocator.hpp"
#include "wrt/platform/static_page_allocator.hpp"
#include "wrt/platform/trap.hpp"
