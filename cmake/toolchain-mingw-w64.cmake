# Cross-build for 64-bit Windows (preset windows, clause X3): Debian's
# mingw-w64 g++ with the posix thread model (std::thread, std::mutex), linked
# statically so the test binaries need no DLL, and run under Wine: ctest and
# gtest_discover_tests prefix every test binary with the emulator (wine-run.sh:
# Wine, and one more run when Wine, not the test, lost its server).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)  # googletest and tests/c (the C ABI)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/wine-run.sh)
# tl-expected is header-only and Debian installs it in /usr/include: search
# system directories after mingw's own headers, so that glibc's headers there
# never shadow the Windows C library's. Set after each project() call, where
# the platform files have set the flag.
set(CMAKE_PROJECT_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/mingw-w64-after-project.cmake)
