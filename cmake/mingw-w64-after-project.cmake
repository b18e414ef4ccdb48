# See toolchain-mingw-w64.cmake: system include directories (/usr/include
# for tl-expected) come after mingw's headers.
set(CMAKE_INCLUDE_SYSTEM_FLAG_CXX "-idirafter ")
