// What the processes that run image code leave behind when they end, by any path: nothing. Image objects are
// anonymous memfds that the kernel frees with the last process holding them, so neither a child killed with
// SIGKILL nor a parent killed with SIGKILL leaves a name in /dev/shm or memory held until reboot.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "process/process_support.hpp"
#include "run/child.hpp"
#include "support/files.hpp"

namespace pemap::run {
namespace {

using ldr::test::bin;

size_t open_descriptors() {
  return static_cast<size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator()));
}

ChildOptions library() {
  ChildOptions o;
  o.library = true;
  return o;
}

// Dead: reaped, or a zombie waiting for whoever reaps orphans here (its memory is already freed).
bool gone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Leaks, ChildrenThatExitOrAreKilledLeaveNothing) {
  const auto before = test::pemap_shm_names();
  const size_t fds = open_descriptors();
  {
    std::vector<Child> children;
    for (int k = 0; k < 3; ++k) {
      auto child = Child::create(bin("x64", "shared.dll"), library());
      ASSERT_TRUE(child) << child.error().to_string();
      ASSERT_TRUE(child->initialize());
      children.push_back(std::move(*child));
    }
    EXPECT_EQ(test::pemap_shm_names(), before);
    ::kill(children[0].pid(), SIGKILL);  // dies holding its views
    auto ended = children[0].call("shared.dll", "shared_count");
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended->kind, Outcome::Kind::fault) << "a child killed by a signal is reported as stopped";
    auto exited = children[1].exit_process(7);
    ASSERT_TRUE(exited);
    EXPECT_EQ(exited->kind, Outcome::Kind::exited);
    // children[2] is killed by its destructor.
  }
  EXPECT_EQ(test::pemap_shm_names(), before);
  EXPECT_EQ(open_descriptors(), fds) << "the parent still holds image objects after its last child";
}

// A pemap process killed with SIGKILL runs no destructor: its children die with it (PR_SET_PDEATHSIG) and the
// kernel frees what they all held.
TEST(Leaks, AParentKilledWithSigkillLeavesNothing) {
  const auto before = test::pemap_shm_names();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    ::close(ready[0]);
    std::vector<Child> children;
    for (int k = 0; k < 2; ++k) {
      auto child = Child::create(bin("x64", "shared.dll"), library());
      if (!child || !child->initialize()) ::_exit(3);
      children.push_back(std::move(*child));
    }
    pid_t pids[2] = {children[0].pid(), children[1].pid()};
    if (::write(ready[1], pids, sizeof pids) != sizeof pids) ::_exit(4);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  pid_t pids[2] = {};
  const bool started = ::read(ready[0], pids, sizeof pids) == sizeof pids;
  ::close(ready[0]);
  ::kill(parent, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  ASSERT_TRUE(started) << "the parent could not start its children";
  EXPECT_TRUE(gone(pids[0]) && gone(pids[1])) << "the children outlived their parent";
  EXPECT_EQ(test::pemap_shm_names(), before);
}

}  // namespace
}  // namespace pemap::run
