// The kernel's own view of this process's mappings (/proc/self/maps), to check protections against.
#pragma once

#include <string>

namespace pemap::test {

/// "rwxp"/"rwxs" of the kernel mapping that holds `addr`, or "free" when none does.
std::string kernel_perms(const void* addr);

}  // namespace pemap::test
