// What a child process's code writes, caught in a memory file: the run tests read it back.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace pemap::run::test {

// What the child's code writes to stdout or stderr (OutputDebugStringA goes to stderr), in a memory file.
class Captured {
 public:
  Captured() : fd_(::memfd_create("pemap-child-output", MFD_CLOEXEC)) {}
  ~Captured() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string text() const {
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(fd_, buf, sizeof buf, at);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
      at += n;
    }
  }
  /// The lines in `text` that contain one of `marks`, reduced to the mark, in order.
  std::vector<std::string> marks(const std::vector<std::string>& marks) const {
    std::vector<std::string> out;
    const std::string t = text();
    size_t start = 0;
    while (start < t.size()) {
      size_t end = t.find('\n', start);
      if (end == std::string::npos) end = t.size();
      const std::string line = t.substr(start, end - start);
      for (const auto& m : marks)
        if (line.size() >= m.size() && line.compare(line.size() - m.size(), m.size(), m) == 0) out.push_back(m);
      start = end + 1;
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace pemap::run::test
