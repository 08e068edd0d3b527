# Warning and sanitizer flags shared by every pemap target.
add_library(pemap_flags INTERFACE)
target_compile_options(pemap_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                       $<$<BOOL:${PEMAP_WERROR}>:-Werror>)
# C++20 designated initializers leave the other members at their defaults, on purpose; GCC 12 still warns.
target_compile_options(pemap_flags INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-missing-field-initializers>)
if(PEMAP_SANITIZE)
  target_compile_options(pemap_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(pemap_flags INTERFACE -fsanitize=address,undefined)
endif()
if(PEMAP_FUZZ)
  # Coverage instrumentation and sanitizers for the library the fuzz targets drive.
  target_compile_options(pemap_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(pemap_flags INTERFACE -fsanitize=address,undefined)
endif()
