# AddressSanitizer + UndefinedBehaviorSanitizer for the whole build (preset asan).
if(CQ_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer needs coverage instrumentation in the code under test, not only in the target.
if(CQ_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
