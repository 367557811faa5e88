# Fails when a Catch2 test name would break catch_discover_tests: CMake reads the discovered names
# as a list, and a name with an unbalanced '[' or ']' swallows every test after it into one
# (so those tests silently never run under CTest). Run as:
#   cmake -DTEST_BINARY=<mlsd_tests> -P check_test_names.cmake
# Catch2 v2 exits with the number of tests listed, so the output is checked instead of the status.
execute_process(COMMAND "${TEST_BINARY}" --list-test-names-only OUTPUT_VARIABLE names)
if(names STREQUAL "")
  message(FATAL_ERROR "${TEST_BINARY} --list-test-names-only listed nothing")
endif()
string(REPLACE "\n" ";" lines "${names}")
set(bad "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  math(EXPR count "${count} + 1")
  string(REGEX REPLACE "[^[]" "" opening "${line}")
  string(REGEX REPLACE "[^]]" "" closing "${line}")
  string(LENGTH "${opening}" n_open)
  string(LENGTH "${closing}" n_close)
  if(NOT n_open EQUAL n_close)
    string(APPEND bad "\n  ${line}")
  endif()
endforeach()
if(NOT bad STREQUAL "")
  message(FATAL_ERROR "test names with unbalanced brackets (CTest would merge the tests after them):${bad}")
endif()
message(STATUS "${count} test names, all safe for catch_discover_tests")
