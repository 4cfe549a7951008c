# Cross build for Linux on AArch64 with Debian's cross toolchain (crossbuild-essential-arm64)
# and the arm64 multiarch -dev packages (scripts/setup.sh --arm64). The tests run under
# qemu-user: ctest prefixes every test program with CMAKE_CROSSCOMPILING_EMULATOR, and the
# tests that start other programs (sam2 itself) read the same prefix from SAM2_TEST_EMULATOR.
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# (`make test-arm64` does this and runs the default test tier.)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SAM2_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${SAM2_CROSS_TRIPLE}-gcc)
# Debian installs the arm64 libraries under /usr/lib/aarch64-linux-gnu and their headers under
# /usr/include/aarch64-linux-gnu (multiarch): the host's /usr is the sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/${SAM2_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config answers from the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SAM2_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# The dynamic loader and libraries come from the multiarch packages (/lib/ld-linux-aarch64.so.1),
# so qemu needs no -L.
find_program(SAM2_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(SAM2_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SAM2_QEMU_AARCH64})
endif()
