# Cross-build for 64-bit ARM Linux (preset aarch64, clause X2): Debian's
# aarch64 cross compiler, the arm64 multiarch builds of GoogleTest and
# RapidCheck (/usr/lib/aarch64-linux-gnu), and qemu-user to run the tests:
# ctest and gtest_discover_tests prefix every test binary with the emulator.
# -L points qemu at the cross C/C++ runtime (ld-linux-aarch64.so.1,
# libstdc++.so.6) that the cross compiler links against.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)  # the C ABI's tests (tests/c)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
