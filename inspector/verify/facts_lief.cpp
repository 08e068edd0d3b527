// Facts as LIEF 0.9 states them: the pemap-lief helper's answer, read from its stdout.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

Facts failed(std::string why) {
  Facts f;
  f.error = std::move(why);
  return f;
}

}  // namespace

std::string lief_helper_path() {
  if (const char* env = std::getenv("PEMAP_LIEF_HELPER"); env && *env) return env;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const fs::path& p : {dir / "pemap-lief", dir / ".." / "libexec" / "pemap" / "pemap-lief"})
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  return {};
}

Facts facts_from_lief(const std::string& path, int timeout_seconds) {
  const std::string helper = lief_helper_path();
  if (helper.empty())
    return failed("the LIEF helper pemap-lief is not beside pemap nor in ../libexec/pemap (set PEMAP_LIEF_HELPER)");
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
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[1]);
    ::execl(helper.c_str(), helper.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
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
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return failed(fmt::format("cannot run {}", helper));
  try {
    return nlohmann::json::parse(data).get<Facts>();
  } catch (const std::exception& e) {
    return failed(std::string("unreadable answer from the LIEF child: ") + e.what());
  }
}

}  // namespace pemap::inspect
