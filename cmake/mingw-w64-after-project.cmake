# See toolchain-mingw-w64.cmake: system include directories (/usr/include
# for tl-expected) come after mingw's headers, for C++ and for the C ABI's
# C tests (tests/c), which inherit the directory from wrt_platform.
set(CMAKE_INCLUDE_SYSTEM_FLAG_CXX "-idirafter ")
set(CMAKE_INCLUDE_SYSTEM_FLAG_C "-idirafter ")
