# Runs one must-not-compile test (see tests/compile_fail/CMakeLists.txt):
#
#   cmake -DBINARY_DIR=<build tree> [-DCONFIG=<config>] [-DCONTROL_TARGET=<target>]
#         -DTARGET=<target> -DSOURCE=<file.cpp> -DEXPECTED=<regex>
#         -P expect_compile_failure.cmake
#
# 1. Builds CONTROL_TARGET (the correct variant, normally up to date already): it must compile.
# 2. Builds TARGET (the broken variant) with `cmake --build BINARY_DIR --target TARGET`. Passes only
#    if that build fails, its output matches EXPECTED, and its output names SOURCE's file at the
#    line that holds the marker `// compile_fail: error here` (g++: "<file>:<line>:<col>:   required
#    from here", clang: "<file>:<line>:<col>: note: in instantiation of ... requested here").
#    Otherwise prints what was expected and the full build output, and fails.
cmake_minimum_required(VERSION 3.20)

foreach(var IN ITEMS BINARY_DIR TARGET SOURCE EXPECTED)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "expect_compile_failure.cmake: -D${var}=... is required")
  endif()
endforeach()

set(build_args --build "${BINARY_DIR}")
if(DEFINED CONFIG AND NOT "${CONFIG}" STREQUAL "")
  list(APPEND build_args --config "${CONFIG}")
endif()

# The line of SOURCE that must be named in the diagnostics: the one with the marker, exactly once.
set(marker "// compile_fail: error here")
file(READ "${SOURCE}" source_text)
string(FIND "${source_text}" "${marker}" marker_at)
string(FIND "${source_text}" "${marker}" last_marker_at REVERSE)
if(marker_at EQUAL -1 OR NOT marker_at EQUAL last_marker_at)
  message(FATAL_ERROR "${SOURCE}: needs exactly one line with the marker '${marker}'")
endif()
string(SUBSTRING "${source_text}" 0 ${marker_at} before_marker)
string(REGEX MATCHALL "\n" newlines "${before_marker}")
list(LENGTH newlines marker_line)
math(EXPR marker_line "${marker_line} + 1")
get_filename_component(source_name "${SOURCE}" NAME)
string(REGEX REPLACE "([][+.*?()^$|\\\\{}])" "\\\\\\1" source_name_regex "${source_name}")
# <file>:<line>: (GCC, Clang) or <file>(<line>) / <file>(<line>,<col>) (MSVC-style).
set(location_regex "(^|[^A-Za-z0-9_])${source_name_regex}(:${marker_line}:|\\(${marker_line}[,)])")

string(ASCII 27 escape)
function(run_build target out_result out_output)
  execute_process(COMMAND "${CMAKE_COMMAND}" ${build_args} --target "${target}"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  # Colour codes, if the build asks the compiler for coloured diagnostics.
  string(REGEX REPLACE "${escape}\\[[0-9;]*[mK]" "" output "${output}")
  set(${out_result} "${result}" PARENT_SCOPE)
  set(${out_output} "${output}" PARENT_SCOPE)
endfunction()

if(DEFINED CONTROL_TARGET AND NOT "${CONTROL_TARGET}" STREQUAL "")
  run_build("${CONTROL_TARGET}" control_result control_output)
  if(NOT control_result EQUAL 0)
    message(NOTICE "---- full build output of ${CONTROL_TARGET} ----\n${control_output}"
                   "---- end of build output ----")
    message(FATAL_ERROR
      "The control variant ${CONTROL_TARGET} (${source_name} with MLSD_COMPILE_FAIL_CONTROL) "
      "does not compile (build output above), so the failure of ${TARGET} would prove nothing.")
  endif()
endif()

run_build("${TARGET}" result output)

set(problems)
if(result EQUAL 0)
  list(APPEND problems "the build succeeded, but ${source_name} must not compile")
else()
  if(NOT output MATCHES "${EXPECTED}")
    list(APPEND problems "the build output does not match the expected message regex")
  endif()
  if(NOT output MATCHES "${location_regex}")
    list(APPEND problems
      "the build output does not name ${source_name} at line ${marker_line} (the marked line)")
  endif()
endif()

if(problems)
  # The compiler's output verbatim (message(FATAL_ERROR) would re-wrap its lines), then why.
  message(NOTICE "---- full build output of ${TARGET} ----\n${output}"
                 "---- end of build output ----")
  list(JOIN problems "\n   - " problem_text)
  list(JOIN build_args " " build_command)
  message(FATAL_ERROR
    "compile_fail test for ${SOURCE} (target ${TARGET}) FAILED:\n"
    "   - ${problem_text}\n"
    "Expected: the build fails, its output (above) matches the regex\n"
    "   ${EXPECTED}\n"
    "and names ${source_name} at line ${marker_line} (the line marked '${marker}'), matching\n"
    "   ${location_regex}\n"
    "Build command: ${CMAKE_COMMAND} ${build_command} --target ${TARGET} (exit status ${result})")
endif()
message(STATUS "ok: ${TARGET} does not compile; the message matches '${EXPECTED}' and is "
               "reported at ${source_name}:${marker_line}")
