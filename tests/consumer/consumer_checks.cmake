# Checks shared by the two consumer projects, included after mlsd::mlsd exists.
# Defines mlsd_add_consumer(<name> <sources...>): an executable linked to mlsd::mlsd, compiled with
# MLSD_CONSUMER_EXPECT_NO_AVX when the consumer's own flags leave AVX off, so that main.cpp can
# check that linking mlsd turned nothing on.

# mlsd must not impose an instruction set: its interface carries no -m flags.
get_target_property(mlsd_options mlsd::mlsd INTERFACE_COMPILE_OPTIONS)
if(mlsd_options MATCHES "-m(arch|tune|cpu|avx|sse|fma|bmi)")
  message(FATAL_ERROR "mlsd::mlsd imposes compile options on its consumers: ${mlsd_options}")
endif()

include(CheckCXXSourceCompiles)
check_cxx_source_compiles("#ifdef __AVX__\n#error AVX\n#endif\nint main() {}"
  MLSD_CONSUMER_BASELINE_HAS_NO_AVX)

function(mlsd_add_consumer name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE mlsd::mlsd)
  target_compile_definitions(${name} PRIVATE
    $<$<BOOL:${MLSD_CONSUMER_BASELINE_HAS_NO_AVX}>:MLSD_CONSUMER_EXPECT_NO_AVX>)
endfunction()
