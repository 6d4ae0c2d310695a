# Test wiring. Files are discovered by name so adding a test needs no CMake edit:
#   tests/unit/test_<name>.c         -> cq-ut-<name>      (label unit)
#   tests/integration/it_<name>.c    -> cq-it-<name>      (label integration, real servers)
#   tests/integration/it_<name>.sh   -> it.<name>         (label integration; CLI end to end)
#   tests/fuzz/fz_<name>.c           -> replay of tests/fuzz/corpus/<name>/ (label fuzz)
# Integration tests need the fixture cq_it: it.up starts throwaway servers with itenv.sh
# (or uses external ones named in CQ_IT_* variables) and it.down stops them. A test exits
# 77 (skipped) when its server is unavailable, except under CI=true where that fails.

set(CQ_IT_DIR ${CMAKE_BINARY_DIR}/itenv)
set(CQ_TEST_ENV "CQ_IT_ENV_FILE=${CQ_IT_DIR}/env" "CLARIQ_BIN=$<TARGET_FILE:clariq>"
                "CQ_SOURCE_DIR=${CMAKE_SOURCE_DIR}" "CQ_TEST_TMP=${CMAKE_BINARY_DIR}/testtmp")
if(CQ_SANITIZE)
  list(APPEND CQ_TEST_ENV "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
                          "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endif()

# The in-process HTTP test server (support/httpmock.c) is built on libmicrohttpd; its own
# prefix keeps it apart from any MHD lookup the server code does in Deps.cmake.
pkg_check_modules(CQ_TEST_MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
file(GLOB CQ_IT_SUPPORT CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/support/*.c)
add_library(cq_testsupport STATIC ${CQ_IT_SUPPORT})
target_include_directories(cq_testsupport PUBLIC ${CMAKE_SOURCE_DIR}/tests/support)
target_link_libraries(cq_testsupport PUBLIC clariq_core PkgConfig::CMOCKA PkgConfig::CQ_TEST_MHD
                      cq_warnings)
# Where helpers find scripts such as smtpsink.py when CQ_SOURCE_DIR is not set.
target_compile_definitions(cq_testsupport PRIVATE
                           CQ_TEST_SUPPORT_DIR="${CMAKE_SOURCE_DIR}/tests/support")

file(GLOB unit_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src IN LISTS unit_tests)
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "test_" "" name ${name})
  add_executable(cq-ut-${name} ${src})
  target_link_libraries(cq-ut-${name} PRIVATE cq_testsupport)
  add_test(NAME unit.${name} COMMAND cq-ut-${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit ENVIRONMENT "${CQ_TEST_ENV}")
endforeach()

add_test(NAME it.up COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/itenv.sh up ${CQ_IT_DIR})
add_test(NAME it.down COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/itenv.sh down ${CQ_IT_DIR})
set_tests_properties(it.up PROPERTIES FIXTURES_SETUP cq_it LABELS integration)
set_tests_properties(it.down PROPERTIES FIXTURES_CLEANUP cq_it LABELS integration)

file(GLOB it_tests CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/it_*.c)
foreach(src IN LISTS it_tests)
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "it_" "" name ${name})
  add_executable(cq-it-${name} ${src})
  target_link_libraries(cq-it-${name} PRIVATE cq_testsupport)
  add_test(NAME it.${name} COMMAND cq-it-${name})
  set_tests_properties(it.${name} PROPERTIES LABELS integration FIXTURES_REQUIRED cq_it
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${CQ_TEST_ENV}" RUN_SERIAL ON
                       TIMEOUT 600)
endforeach()

file(GLOB it_scripts CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/it_*.sh)
foreach(src IN LISTS it_scripts)
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "it_" "" name ${name})
  add_test(NAME it.${name} COMMAND bash ${src})
  set_tests_properties(it.${name} PROPERTIES LABELS integration FIXTURES_REQUIRED cq_it
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${CQ_TEST_ENV}" RUN_SERIAL ON
                       TIMEOUT 600)
endforeach()

# Fuzz targets: always built as corpus replays (replay_main.c); with CQ_FUZZ also as
# libFuzzer binaries (make fuzz).
file(GLOB fuzz_targets CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fz_*.c)
foreach(src IN LISTS fuzz_targets)
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "fz_" "" name ${name})
  add_executable(cq-fzr-${name} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_link_libraries(cq-fzr-${name} PRIVATE clariq_core cq_warnings)
  add_test(NAME fuzz.${name} COMMAND cq-fzr-${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz ENVIRONMENT "${CQ_TEST_ENV}")
  if(CQ_FUZZ)
    add_executable(cq-fuzz-${name} ${src})
    target_compile_options(cq-fuzz-${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(cq-fuzz-${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(cq-fuzz-${name} PRIVATE clariq_core)
  endif()
endforeach()
