# One list of warnings for every target (curl's PickyWarnings idea).
add_library(cq_warnings INTERFACE)
target_compile_options(cq_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wvla -Wcast-qual -Wpointer-arith -Wundef -Wnull-dereference
  -Wimplicit-fallthrough)
if(CQ_WERROR)
  target_compile_options(cq_warnings INTERFACE -Werror)
endif()
