// Sharing data between processes through a named page-file section (Richter, "Windows via C/C++", ch. 17,
// "Sharing Data Among Processes Using Memory-Mapped Files", and the MMFShare sample).
//
// The writer creates a section backed by the paging file, named so another process can find it, and writes a
// message into it; the reader opens the section by name, prints the message and sets a flag the writer waits for.
//   CreateFileMapping(INVALID_HANDLE_VALUE, PAGE_READWRITE, 4096, name) -> create_file_mapping(nullptr, ...)
//   OpenFileMapping(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name)       -> open_file_mapping(...)
//   MapViewOfFile(FILE_MAP_WRITE), UnmapViewOfFile, CloseHandle
// On Linux the creator publishes the name at an abstract Unix socket address and hands the section's memfd to whoever
// opens it; the name goes away when the creator closes its last handle, or dies.
//
// Usage: example_share write NAME TEXT   create NAME, write TEXT, wait (at most 10 s) for a reader
//        example_share read NAME         open NAME, print the text, tell the writer
//        example_share demo TEXT         both: this process writes, a child process (fork + exec) reads
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/core.h>

#include "memory/section.hpp"
#include "memory/win32.hpp"

namespace win = pemap::win;

namespace {

/// What the writer puts at the start of the section. `magic` is stored last (release) so a reader that sees it
/// also sees the text; `seen` is the reader's answer.
struct Message {
  uint32_t magic;
  uint32_t length;
  char text[256];
  uint32_t seen;  // 0 until the reader has printed the text
};
static_assert(sizeof(Message) <= 4096);

constexpr uint32_t kMagic = 0x4d4d4653;  // "SFMM"
constexpr uint32_t kSectionSize = 4096;
constexpr auto kTimeout = std::chrono::seconds(10);
constexpr auto kPoll = std::chrono::milliseconds(10);

int fail(const pemap::Error& e) {
  fmt::print(stderr, "example_share: {}\n", e.to_string());
  return 1;
}

pemap::Error share_error(std::string structure, std::string message) {
  pemap::Error e;
  e.status = pemap::Status::success;  // not an image-loader failure: nothing in parentheses
  e.structure = std::move(structure);
  e.message = std::move(message);
  return e;
}

/// Polls `word` until it holds `value` or kTimeout passes; never waits forever for the other process.
bool wait_for(uint32_t& word, uint32_t value) {
  const std::atomic_ref<uint32_t> ref(word);
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (ref.load(std::memory_order_acquire) != value) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

/// The writer's side up to the message: create the section, map it, write the text. The section and the view are
/// returned so the caller can wait on them.
pemap::Result<win::SectionHandle> create_and_write(std::string_view name, std::string_view text, Message*& message) {
  auto section = win::create_file_mapping(nullptr, win::PAGE_READWRITE, kSectionSize, name);
  if (!section) return section.take_error();
  if (section->existed()) {
    // GetLastError() == ERROR_ALREADY_EXISTS: someone else's section; do not scribble over it.
    return share_error("CreateFileMapping",
                       fmt::format("ERROR_ALREADY_EXISTS: a section named {} already exists", name));
  }
  auto view = win::map_view_of_file(*section, win::FILE_MAP_WRITE, 0, 0);
  if (!view) return view.take_error();
  message = static_cast<Message*>(*view);  // a new page-file section starts zeroed
  const auto length = static_cast<uint32_t>(std::min(text.size(), sizeof(message->text) - 1));
  std::memcpy(message->text, text.data(), length);
  message->text[length] = '\0';
  message->length = length;
  std::atomic_ref<uint32_t>(message->magic).store(kMagic, std::memory_order_release);
  fmt::print("writer {}: created page-file section \"{}\" ({} bytes) and wrote {} bytes: \"{}\"\n", getpid(), name,
             kSectionSize, length, std::string_view(message->text, length));
  std::fflush(stdout);
  return section;
}

/// The writer waits for the reader's flag, then unmaps and closes (the last handle removes the name).
int wait_and_close(win::SectionHandle& section, Message* message) {
  const bool seen = wait_for(message->seen, 1);
  if (auto unmapped = win::unmap_view_of_file(message); !unmapped) return fail(unmapped.error());
  section.close();
  if (!seen) return fail(share_error("writer", fmt::format("no reader set the flag within {} s", kTimeout.count())));
  fmt::print("writer {}: the reader saw the text; section closed\n", getpid());
  return 0;
}

int write_side(std::string_view name, std::string_view text) {
  Message* message = nullptr;
  auto section = create_and_write(name, text, message);
  if (!section) return fail(section.error());
  fmt::print("writer {}: waiting up to {} s for `example_share read {}`\n", getpid(), kTimeout.count(), name);
  std::fflush(stdout);
  return wait_and_close(*section, message);
}

int read_side(std::string_view name) {
  // OpenFileMapping: FILE_MAP_WRITE as well as FILE_MAP_READ, since the reader writes its flag.
  auto section = win::open_file_mapping(win::FILE_MAP_READ | win::FILE_MAP_WRITE, name);
  if (!section) return fail(section.error());
  auto view = win::map_view_of_file(*section, win::FILE_MAP_WRITE, 0, 0);
  if (!view) return fail(view.error());
  auto* message = static_cast<Message*>(*view);
  // The writer may have created the section but not yet written into it.
  if (!wait_for(message->magic, kMagic)) {
    (void)win::unmap_view_of_file(message);
    return fail(
        share_error("reader", fmt::format("section \"{}\" holds no message after {} s", name, kTimeout.count())));
  }
  const auto length = std::min<uint32_t>(message->length, sizeof(message->text) - 1);
  fmt::print("reader {}: opened section \"{}\" and read {} bytes: \"{}\"\n", getpid(), name, length,
             std::string_view(message->text, length));
  std::fflush(stdout);
  std::atomic_ref<uint32_t>(message->seen).store(1, std::memory_order_release);
  if (auto unmapped = win::unmap_view_of_file(message); !unmapped) return fail(unmapped.error());
  section->close();
  return 0;
}

/// Writer here, reader in a child: fork, then exec this program again as `read NAME`, so the child is a fresh
/// process that finds the section by its name only (nothing inherited from the writer).
int demo(std::string_view text) {
  const std::string name = fmt::format("example-share-{}", getpid());
  Message* message = nullptr;
  auto section = create_and_write(name, text, message);
  if (!section) return fail(section.error());

  const pid_t child = fork();
  if (child < 0) return fail(share_error("fork", std::strerror(errno)));
  if (child == 0) {
    char read_arg[] = "read";
    char* args[] = {const_cast<char*>("example_share"), read_arg, const_cast<char*>(name.c_str()), nullptr};
    execv("/proc/self/exe", args);
    fmt::print(stderr, "example_share: exec /proc/self/exe: {}\n", std::strerror(errno));
    _exit(127);
  }
  const int rc = wait_and_close(*section, message);
  int status = 0;
  if (waitpid(child, &status, 0) != child) return fail(share_error("waitpid", std::strerror(errno)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(share_error("demo", fmt::format("the reader process failed (wait status {:#x})", status)));
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && argc == 4) return write_side(argv[2], argv[3]);
  if (mode == "read" && argc == 3) return read_side(argv[2]);
  if (mode == "demo" && argc == 3) return demo(argv[2]);
  fmt::print(stderr,
             "usage: example_share write NAME TEXT\n"
             "       example_share read NAME\n"
             "       example_share demo TEXT\n");
  return 2;
}
