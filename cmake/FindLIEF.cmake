# Debian's liblief-dev 0.9 ships headers and libLIEF but no CMake package: find them by hand.
find_path(LIEF_INCLUDE_DIR NAMES LIEF/LIEF.hpp)
find_library(LIEF_LIBRARY NAMES LIEF)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LIEF
  REQUIRED_VARS LIEF_LIBRARY LIEF_INCLUDE_DIR
  FAIL_MESSAGE "LIEF not found: install Debian's liblief-dev (scripts/setup.sh does)")
if(LIEF_FOUND AND NOT TARGET LIEF::LIEF)
  add_library(LIEF::LIEF UNKNOWN IMPORTED)
  # Its headers are not warning-clean: mark them as system headers.
  set_target_properties(LIEF::LIEF PROPERTIES IMPORTED_LOCATION "${LIEF_LIBRARY}"
                        INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${LIEF_INCLUDE_DIR}")
endif()
mark_as_advanced(LIEF_INCLUDE_DIR LIEF_LIBRARY)
