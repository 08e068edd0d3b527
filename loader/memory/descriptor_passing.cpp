// SCM_RIGHTS over Unix sockets, whole messages in and out.
#include "memory/descriptor_passing.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pemap::win {
namespace {

constexpr size_t kControlSize = CMSG_SPACE(kMaxPassedDescriptors * sizeof(int));

void close_all(const std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
}

}  // namespace

bool send_with_descriptors(int socket, std::string_view data, std::span<const int> fds) {
  if (data.empty() || fds.size() > kMaxPassedDescriptors) return false;
  alignas(cmsghdr) char control[kControlSize] = {};
  for (size_t sent = 0; sent < data.size();) {
    iovec io{const_cast<char*>(data.data() + sent), data.size() - sent};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    if (sent == 0 && !fds.empty()) {  // the descriptors ride on the first byte
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
      std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    }
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::optional<Received> receive_with_descriptors(int socket, size_t data_size, size_t max_fds) {
  Received out;
  out.data.resize(data_size);
  bool too_many = false;
  for (size_t got = 0; got < data_size;) {
    alignas(cmsghdr) char control[kControlSize] = {};
    iovec io{out.data.data() + got, data_size - got};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const size_t at = out.fds.size();
      out.fds.resize(at + count);
      std::memcpy(out.fds.data() + at, CMSG_DATA(c), count * sizeof(int));
    }
    if (n > 0 && (msg.msg_flags & MSG_CTRUNC)) too_many = true;
    if (n <= 0 || too_many || out.fds.size() > max_fds) {
      close_all(out.fds);
      return std::nullopt;
    }
    got += static_cast<size_t>(n);
  }
  return out;
}

}  // namespace pemap::win
