// A named file-backed section opened by name from another, unrelated process (OpenFileMapping).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "memory/section.hpp"

namespace pemap::win {
namespace {

std::string run_probe(const std::string& name) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execl(PEMAP_OPEN_NAMED_PROBE, "pemap_open_named_probe", name.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[128];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

TEST(NamedFileSections, AnotherProcessOpensThemByNameAndSeesTheFile) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / ("pemap-named-" + std::to_string(getpid()));
  std::ofstream(path) << "hello from a named file section";
  const std::string name = "pemap-test-file-" + std::to_string(getpid());
  {
    auto file = FileHandle::open(path.string(), false);
    ASSERT_TRUE(file.has_value());
    auto section = create_file_mapping(&*file, PAGE_READONLY, 0, name);
    ASSERT_TRUE(section.has_value()) << section.error().to_string();
    // The creator renames the file: the other process still gets the section's file, as in Windows.
    const auto moved = dir / ("pemap-named-moved-" + std::to_string(getpid()));
    std::filesystem::rename(path, moved);
    EXPECT_EQ(run_probe(name), "hello from a named file section\n");
    std::filesystem::remove(moved);
  }
  // The name goes with the last handle of its creator.
  EXPECT_EQ(run_probe(name), "error 2\n");  // ERROR_FILE_NOT_FOUND
}

}  // namespace
}  // namespace pemap::win
