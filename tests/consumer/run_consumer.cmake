# Builds and runs one of the consumer projects in tests/consumer/, the way a user of mlsd would.
#
#   cmake -DMODE=find_package|add_subdirectory -DMLSD_SOURCE_DIR=<repo> -DMLSD_BINARY_DIR=<build>
#         -DWORK_DIR=<scratch dir> -DGENERATOR=<generator> [-DMAKE_PROGRAM=...] [-DCXX_COMPILER=...]
#         [-DCXX_FLAGS=...] [-DBUILD_TYPE=...] -P run_consumer.cmake
#
# find_package:     installs MLSD_BINARY_DIR into WORK_DIR/prefix, then builds the consumer against
#                   that prefix only.
# add_subdirectory: builds the consumer, which adds MLSD_SOURCE_DIR as a subdirectory.
# The consumer gets the compiler and flags of the enclosing build but no -march: mlsd must not need
# one, and must not add one.
cmake_minimum_required(VERSION 3.20)

foreach(var MODE MLSD_SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

function(run)
  string(REPLACE ";" " " printable "${ARGN}")
  message(STATUS "run: ${printable}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "consumer_${MODE}: command failed (${result}): ${printable}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

set(configure_args
  -S "${MLSD_SOURCE_DIR}/tests/consumer/${MODE}" -B "${build}" -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()

if(MODE STREQUAL "find_package")
  if(NOT MLSD_BINARY_DIR)
    message(FATAL_ERROR "run_consumer.cmake: find_package mode needs -DMLSD_BINARY_DIR=...")
  endif()
  run("${CMAKE_COMMAND}" --install "${MLSD_BINARY_DIR}" --config "${BUILD_TYPE}" --prefix "${prefix}")
  # Only the fresh prefix: neither the package registry nor the system may supply mlsd.
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DMLSD_SOURCE_DIR=${MLSD_SOURCE_DIR}")
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

run("${CMAKE_COMMAND}" ${configure_args})

if(MODE STREQUAL "find_package")
  # The package must have come from the prefix just installed, not from anywhere else.
  file(STRINGS "${build}/CMakeCache.txt" mlsd_dir REGEX "^mlsd_DIR:")
  string(REGEX REPLACE "^mlsd_DIR:[A-Z]+=" "" mlsd_dir "${mlsd_dir}")
  file(REAL_PATH "${prefix}" real_prefix)
  file(REAL_PATH "${mlsd_dir}" real_mlsd_dir)
  string(FIND "${real_mlsd_dir}" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "consumer_find_package: mlsd was found in '${mlsd_dir}', not under '${prefix}'")
  endif()
endif()

run("${CMAKE_COMMAND}" --build "${build}" --config "${BUILD_TYPE}")
run("${CMAKE_CTEST_COMMAND}" --test-dir "${build}" -C "${BUILD_TYPE}" --output-on-failure
  --no-tests=error)
