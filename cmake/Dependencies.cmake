# SPDX-License-Identifier: MIT
# Finds LibTorch (with a version check), HDF5 (C API only), nlohmann-json, CLI11 and cairo.
find_package(Torch REQUIRED)
if(Torch_VERSION AND Torch_VERSION VERSION_LESS 1.13)
  message(FATAL_ERROR "latdyn needs LibTorch >= 1.13 (found ${Torch_VERSION}); on Debian run scripts/setup_debian.sh")
endif()
if(Torch_VERSION AND Torch_VERSION VERSION_GREATER_EQUAL 2.6)
  message(WARNING "LibTorch ${Torch_VERSION} is newer than the newest tested version (2.5)")
endif()
# Torch's CMake config appends its own flags; keep -D_GLIBCXX_USE_CXX11_ABI consistent with it.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")

find_package(HDF5 REQUIRED COMPONENTS C)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)
