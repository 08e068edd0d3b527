// Expanding a command's file arguments: directories walked, streams spooled to anonymous files, non-PE files met
// in a walk counted instead of reported one by one.
#include "inputs.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

namespace pemap::inspect {
namespace fs = std::filesystem;
namespace {

bool is_stream(const std::string& arg) {
  if (arg == "-") return true;
  struct stat st {};
  return ::stat(arg.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

// Copies everything readable from `from` into `to`; false (errno set) if a read or write fails.
bool copy_all(int from, int to) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno != EINTR) return false;
      if (w > 0) done += w;
    }
  }
}

}  // namespace

Inputs::Inputs(Inputs&& other) noexcept
    : files_(std::move(other.files_)),
      directories_(std::move(other.directories_)),
      skipped_(std::move(other.skipped_)),
      streams_(std::exchange(other.streams_, {})),
      unusable_(other.unusable_),
      verbose_(other.verbose_) {}

Inputs::~Inputs() {
  for (const int fd : streams_) ::close(fd);
}

void Inputs::add_stream(const std::string& name) {
  const int fd = ::memfd_create("pemap.stdin", MFD_CLOEXEC);
  const int source = name == "-" ? STDIN_FILENO : ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && source >= 0 && copy_all(source, fd);
  const int err = errno;
  if (source >= 0 && source != STDIN_FILENO) ::close(source);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    std::cerr << fmt::format("pemap: {}: cannot read the stream: {}\n", name, std::strerror(err));
    unusable_ = true;
    return;
  }
  streams_.push_back(fd);
  // Through /proc with our pid, not /proc/self: a helper child (pemap-lief) opens the same path.
  files_.push_back({name, fmt::format("/proc/{}/fd/{}", ::getpid(), fd)});
}

Inputs Inputs::expand(const std::vector<std::string>& args, bool verbose) {
  Inputs out;
  out.verbose_ = verbose;
  for (const auto& arg : args) {
    std::error_code ec;
    if (is_stream(arg)) {
      out.add_stream(arg);
      continue;
    }
    if (!fs::is_directory(arg, ec)) {
      out.files_.push_back({arg, arg});
      continue;
    }
    const int index = static_cast<int>(out.directories_.size());
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(arg, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) found.push_back(it->path().string());
    std::sort(found.begin(), found.end());
    if (ec) {
      std::cerr << fmt::format("pemap: {}: cannot list directory: {}\n", arg, ec.message());
      out.unusable_ = true;
    } else if (found.empty()) {
      std::cerr << fmt::format("pemap: {}: no files (the directory and its subdirectories hold no regular file)\n",
                               arg);
      out.unusable_ = true;
    }
    out.directories_.push_back({arg, found.size()});
    for (auto& f : found) out.files_.push_back({f, f, index});
  }
  return out;
}

bool not_a_pe_image(const Error& error) {
  return error.status == Status::invalid_image_not_mz || error.status == Status::invalid_file_for_section;
}

bool Inputs::skips(const Input& in, const Error& error) const { return in.directory >= 0 && not_a_pe_image(error); }

int Inputs::refuse(const Input& in, const Error& error) {
  if (skips(in, error)) {
    ++directories_[static_cast<size_t>(in.directory)].skipped;
    skipped_.push_back(in.name);
    return exit_ok;
  }
  std::cerr << "pemap: " << in.name << ": " << error.to_string() << "\n";
  return exit_unusable;
}

int Inputs::finish() {
  if (!skipped_.empty()) {
    const bool one = skipped_.size() == 1;
    std::cerr << fmt::format("pemap: skipped {} {} not {}{}\n", skipped_.size(),
                             one ? "file that is" : "files that are", one ? "a PE image" : "PE images",
                             verbose_ ? ":" : " (--verbose lists them)");
    if (verbose_)
      for (const auto& name : skipped_) std::cerr << "  " << name << "\n";
  }
  bool unusable = unusable_;
  for (const auto& d : directories_)
    if (d.files != 0 && d.skipped == d.files) {
      std::cerr << fmt::format("pemap: {}: no PE image among the {} file{} under it\n", d.name, d.files,
                               d.files == 1 ? "" : "s");
      unusable = true;
    }
  return unusable ? exit_unusable : exit_ok;
}

}  // namespace pemap::inspect
