# cmake -DOBJDUMP=... -DOBJECT=... -P check_prefetch.cmake: OBJECT (tests/codegen/prefetch_probe.cpp)
# must contain a prefetch instruction, inlined into the probe or in factorization_machine::prefetch
# called from it. When the compiler drops the call, neither is there: the probe is a bare `ret`.
execute_process(COMMAND "${OBJDUMP}" -d --no-show-raw-insn "${OBJECT}" OUTPUT_VARIABLE asm
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -d ${OBJECT} failed (${rc})")
endif()
if(NOT asm MATCHES "mlsd_probe_fm_prefetch")
  message(FATAL_ERROR "mlsd_probe_fm_prefetch: not found in ${OBJECT}")
endif()
if(NOT asm MATCHES "\tprefetch")
  message(FATAL_ERROR "${OBJECT} has no prefetch instruction: the compiler dropped the call to "
                      "factorization_machine::prefetch. The disassembly:\n${asm}")
endif()
message(STATUS "${OBJECT} keeps the prefetch of factorization_machine::prefetch")
