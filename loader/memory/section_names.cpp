// Named sections between processes: abstract Unix socket addresses, one thread per process that answers them.
#include "memory/section_names.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "memory/descriptor_passing.hpp"
#include "memory/section.hpp"
#include "memory/win32.hpp"

namespace pemap::win {
namespace {

// Abstract addresses have no permissions: the address carries the user id so users do not collide, and the
// server hands a section only to a peer of its own user.
sockaddr_un address_of(std::string_view name, socklen_t& length) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  // Long names (up to 200 bytes) do not fit: they go by a hash, and the server compares the whole name.
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
  const std::string text = name.size() <= 80 ? fmt::format("pemap-section-{}-{}", ::getuid(), name)
                                             : fmt::format("pemap-section-{}-#{:016x}", ::getuid(), hash);
  std::memcpy(a.sun_path + 1, text.data(), text.size());  // sun_path[0] == 0: the abstract namespace
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + text.size());
  return a;
}

// What a client asks: [want_write][name length][name], and what it is told: the section's facts and descriptor.
struct Answer {
  uint32_t protect;
  uint8_t writable, file, pad[2];
  uint64_t size;
};
static_assert(sizeof(Answer) == 16);

struct Entry {
  std::string name;
  std::weak_ptr<SectionObject> object;
};

// The names this process publishes, by listening socket, and the thread that answers them. A forked child has no
// such thread: it closes what it inherited (pthread_atfork), so a name never outlives the publisher in a child that
// would not answer.
class Server {
 public:
  static Server& get() {
    static auto* server = new Server;  // never destroyed: sections may outlive static destruction
    return *server;
  }
  Result<bool> add(int socket, Entry entry) {
    std::lock_guard lock(mutex_);
    if (epoll_ < 0) {
      epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
      if (epoll_ < 0) return win32_error(Win32Error::not_enough_memory, "CreateFileMapping", "epoll_create1");
      std::thread([this, e = epoll_] { run(e); }).detach();
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = socket;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, socket, &ev) != 0)
      return win32_error(Win32Error::not_enough_memory, "CreateFileMapping", "epoll_ctl");
    entries_[socket] = std::move(entry);
    return true;
  }
  // Closing the socket releases the address at once (epoll holds no reference to it).
  void remove(int socket) {
    std::lock_guard lock(mutex_);
    if (entries_.erase(socket) > 0) ::close(socket);
  }

 private:
  Server() {
    ::pthread_atfork([] { get().mutex_.lock(); }, [] { get().mutex_.unlock(); },
                     [] {
                       Server& s = get();
                       for (const auto& [socket, entry] : s.entries_) ::close(socket);
                       s.entries_.clear();
                       if (s.epoll_ >= 0) ::close(s.epoll_);
                       s.epoll_ = -1;
                       s.mutex_.unlock();
                     });
  }

  [[noreturn]] void run(int epoll) {
    for (;;) {
      epoll_event events[16];
      const int n = ::epoll_wait(epoll, events, 16, -1);
      for (int i = 0; i < n; ++i) {
        Entry entry;
        {
          std::lock_guard lock(mutex_);
          auto it = entries_.find(events[i].data.fd);
          if (it == entries_.end()) continue;
          entry = it->second;
        }
        for (;;) {
          const int client = ::accept4(events[i].data.fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (client < 0) break;
          answer(client, entry);
          ::close(client);
        }
      }
    }
  }

  static void answer(int client, const Entry& entry) {
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::getuid()) return;
    const timeval timeout{1, 0};  // a client that asks nothing does not hold the thread up
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    auto head = receive_with_descriptors(client, 2, 0);
    if (!head) return;
    auto name = receive_with_descriptors(client, static_cast<unsigned char>(head->data[1]), 0);
    auto object = entry.object.lock();
    if (!name || name->data != entry.name || !object) return;
    const bool want_write = head->data[0] != 0;
    const bool writable = want_write && object->fd_writable;
    // A reader gets a read-only descriptor of the same object, opened anew through /proc.
    const int fd =
        writable ? object->fd : ::open(fmt::format("/proc/self/fd/{}", object->fd).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    Answer a{object->protect, writable, object->backing == SectionObject::Backing::file, {}, object->size};
    const int fds[1] = {fd};
    (void)send_with_descriptors(client, std::string_view(reinterpret_cast<const char*>(&a), sizeof a), fds);
    if (fd != object->fd) ::close(fd);
  }

  std::mutex mutex_;
  int epoll_ = -1;
  std::map<int, Entry> entries_;
};

}  // namespace

NamePublication::~NamePublication() { Server::get().remove(socket_); }

Result<std::unique_ptr<NamePublication>> publish_section_name(std::string_view name,
                                                              std::weak_ptr<SectionObject> object) {
  constexpr std::string_view call = "CreateFileMapping";
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return win32_error(Win32Error::not_enough_memory, call, fmt::format("socket: {}", std::strerror(errno)));
  socklen_t length = 0;
  const sockaddr_un a = address_of(name, length);
  if (::bind(s, reinterpret_cast<const sockaddr*>(&a), length) != 0) {
    const int err = errno;
    ::close(s);
    if (err == EADDRINUSE) return std::unique_ptr<NamePublication>();
    return win32_error(Win32Error::access_denied, call, fmt::format("{}: bind: {}", name, std::strerror(err)));
  }
  if (::listen(s, 64) != 0) {
    ::close(s);
    return win32_error(Win32Error::not_enough_memory, call, fmt::format("listen: {}", std::strerror(errno)));
  }
  if (auto added = Server::get().add(s, Entry{std::string(name), std::move(object)}); !added) {
    ::close(s);
    return added.take_error();
  }
  return std::make_unique<NamePublication>(s);
}

Result<std::optional<PublishedSection>> open_published_section(std::string_view name, bool want_write) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return win32_error(Win32Error::not_enough_memory, "OpenFileMapping",
                       fmt::format("socket: {}", std::strerror(errno)));
  const timeval timeout{5, 0};  // a publisher that stopped answering is an error, not a hang
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  socklen_t length = 0;
  const sockaddr_un a = address_of(name, length);
  std::optional<PublishedSection> out;
  const char head[2] = {static_cast<char>(want_write), static_cast<char>(name.size())};
  if (::connect(s, reinterpret_cast<const sockaddr*>(&a), length) == 0 &&
      send_with_descriptors(s, std::string_view(head, 2), {}) && send_with_descriptors(s, name, {})) {
    if (auto got = receive_with_descriptors(s, sizeof(Answer), 1); got && got->fds.size() == 1) {
      Answer answer{};
      std::memcpy(&answer, got->data.data(), sizeof answer);
      out = PublishedSection{got->fds[0], answer.writable != 0, answer.file != 0, answer.protect, answer.size};
    } else if (got) {
      for (int fd : got->fds) ::close(fd);
    }
  }
  ::close(s);
  return out;  // no answer: nobody holds the name (or it went while we asked)
}

}  // namespace pemap::win
