#include "run/wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>

#include "memory/descriptor_passing.hpp"

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

// One byte says which slots hold a descriptor; the descriptors ride with it, in slot order.
bool send_fds(int fd, std::span<const int> fds) {
  if (fds.size() > win::kMaxPassedDescriptors) return false;
  char present = 0;
  std::vector<int> sent;
  for (size_t i = 0; i < fds.size(); ++i)
    if (fds[i] >= 0) {
      present = static_cast<char>(present | (1 << i));
      sent.push_back(fds[i]);
    }
  return win::send_with_descriptors(fd, std::string_view(&present, 1), sent);
}

std::optional<std::vector<int>> receive_fds(int fd, size_t slots) {
  if (slots > win::kMaxPassedDescriptors) return std::nullopt;
  auto got = win::receive_with_descriptors(fd, 1, slots);
  if (!got) return std::nullopt;
  const auto present = static_cast<unsigned char>(got->data[0]);
  if ((present >> slots) != 0 || static_cast<size_t>(std::popcount(present)) != got->fds.size()) {
    for (int f : got->fds) ::close(f);
    return std::nullopt;
  }
  std::vector<int> out(slots, -1);
  for (size_t i = 0, next = 0; i < slots; ++i)
    if (present & (1u << i)) out[i] = got->fds[next++];
  return out;
}

}  // namespace pemap::run::wire
