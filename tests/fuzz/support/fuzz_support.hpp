// Helpers shared by the libFuzzer targets: the input in a memfd, and a check that an address range is free.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace pemap::fuzz {

/// A memfd holding `data` (the fuzz input as a file); aborts when the system cannot give one.
inline int memfd_with(const uint8_t* data, size_t size) {
  const int fd = ::memfd_create("pemap-fuzz-input", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  return fd;
}

/// Aborts unless [base, base + size) is wholly unmapped again (a reservation the loader forgot to release).
inline void expect_free(uint64_t base, uint64_t size, const char* what) {
  if (base == 0 || size == 0) return;
  void* want = reinterpret_cast<void*>(base);
  void* p = ::mmap(want, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == want) {
    ::munmap(p, size);
    return;
  }
  if (p != MAP_FAILED) ::munmap(p, size);
  std::fprintf(stderr, "fuzz: %s at %#llx (%#llx bytes) is still mapped after it was released\n", what,
               static_cast<unsigned long long>(base), static_cast<unsigned long long>(size));
  std::abort();
}

}  // namespace pemap::fuzz
