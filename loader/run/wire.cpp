#include "run/wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace pemap::run::wire {

namespace {
bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);  // a child that died is an error here, not SIGPIPE
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
bool read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
}  // namespace

bool send(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrame) return false;
  const auto n = static_cast<uint32_t>(payload.size());
  const char head[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 24)};
  return write_all(fd, head, 4) && write_all(fd, payload.data(), payload.size());
}

std::optional<std::string> receive(int fd) {
  unsigned char head[4];
  if (!read_all(fd, reinterpret_cast<char*>(head), 4)) return std::nullopt;
  const uint32_t n = head[0] | head[1] << 8 | head[2] << 16 | uint32_t{head[3]} << 24;
  if (n > kMaxFrame) return std::nullopt;
  std::string payload(n, '\0');
  if (!read_all(fd, payload.data(), n)) return std::nullopt;
  return payload;
}

}  // namespace pemap::run::wire
