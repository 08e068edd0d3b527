// Facts as LIEF 0.9 states them, gathered in a child process.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <fmt/format.h>
#include <LIEF/PE.hpp>
#include <nlohmann/json.hpp>

#include "json_text.hpp"
#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

Facts gather(const std::string& path) {
  Facts f;
  try {
    std::unique_ptr<LIEF::PE::Binary> b = LIEF::PE::Parser::parse(path);
    if (!b) {
      f.error = "LIEF returned no binary";
      return f;
    }
    f.image_base = b->optional_header().imagebase();
    f.entry_point = b->optional_header().addressof_entrypoint();
    for (const auto& s : b->sections())
      f.sections.push_back({printable(s.name()),
                            {},
                            static_cast<uint32_t>(s.virtual_address()),
                            s.virtual_size(),
                            s.pointerto_raw_data(),
                            s.sizeof_raw_data(),
                            s.characteristics()});
    // LIEF 0.9 raises has_imports() and friends only when a whole table parsed; what it did read before
    // stopping is still in the lists, and that is what it states about the file.
    for (const auto& r : b->relocations())
      for (const auto& e : r.entries())
        f.relocs.push_back(
            {static_cast<uint32_t>(r.virtual_address() + (e.data() & 0xfffu)), static_cast<uint8_t>(e.data() >> 12)});
    for (const auto& im : b->imports()) {
      Facts::Module m{printable(im.name()), {}};
      for (const auto& e : im.entries()) {
        const bool ord = e.is_ordinal();
        m.entries.push_back({ord ? std::string() : printable(e.name()), ord, ord ? e.ordinal() : uint16_t{0},
                             ord ? uint16_t{0} : e.hint(), static_cast<uint32_t>(e.iat_address())});
      }
      f.imports.push_back(std::move(m));
    }
    if (b->has_exports())
      for (const auto& e : b->get_export().entries())
        f.exports.push_back({e.ordinal(), e.address(), printable(e.name()), {}});
    if (b->has_tls()) f.tls_callbacks = b->tls().callbacks();
    if (b->has_configuration()) f.security_cookie = b->load_configuration().security_cookie();
  } catch (const std::exception& e) {
    f = Facts{};
    f.error = std::string("LIEF threw: ") + e.what();
  }
  return f;
}

Facts failed(std::string why) {
  Facts f;
  f.error = std::move(why);
  return f;
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Facts facts_from_lief(const std::string& path, int timeout_seconds) {
  int fds[2];
  if (::pipe(fds) != 0) return failed("cannot create a pipe for the LIEF child");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return failed("cannot fork the LIEF child");
  }
  if (pid == 0) {
    ::close(fds[0]);
    const nlohmann::json j = gather(path);
    _exit(write_all(fds[1], j.dump()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string data;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {  // timeout, or poll failed: either way the child must not be waited on unbounded
      timed_out = true;
      break;
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) return failed(fmt::format("LIEF did not finish within {} s", timeout_seconds));
  if (WIFSIGNALED(status)) return failed(fmt::format("LIEF crashed (signal {})", WTERMSIG(status)));
  try {
    return nlohmann::json::parse(data).get<Facts>();
  } catch (const std::exception& e) {
    return failed(std::string("unreadable answer from the LIEF child: ") + e.what());
  }
}

}  // namespace pemap::inspect
