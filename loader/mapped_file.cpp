// mmap-backed file ownership.
#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace pemap {
namespace {

// What NtCreateFile says for the same failure: a missing file or directory and a refusal have their own status
// (and Win32 error), anything else is an I/O error.
Error io_error(const std::string& what, const std::string& path = {}) {
  const int err = errno;
  Status status = Status::io_error;
  Win32Error win32 = Win32Error::success;
  if (err == ENOENT) status = Status::object_name_not_found, win32 = Win32Error::file_not_found;
  std::error_code ec;
  if (err == ENOENT && !path.empty() && std::filesystem::path(path).has_parent_path() &&
      !std::filesystem::is_directory(std::filesystem::path(path).parent_path(), ec))
    status = Status::object_path_not_found, win32 = Win32Error::path_not_found;  // the directory is not there
  if (err == ENOTDIR) status = Status::object_path_not_found, win32 = Win32Error::path_not_found;
  if (err == EACCES || err == EPERM) status = Status::access_denied, win32 = Win32Error::access_denied;
  return make_error(status, "file", Location{}, what + ": " + std::strerror(err), win32);
}

}  // namespace

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<MappedFile> MappedFile::open(const std::string& path) {
  const Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return io_error("cannot open", path);
  return from_fd(file.fd, path);
}

Result<MappedFile> MappedFile::from_fd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot stat");
  if (!S_ISREG(st.st_mode)) return make_error(Status::io_error, "file", Location{}, "not a regular file");
  MappedFile f;
  f.path_ = path;
  f.size_ = static_cast<size_t>(st.st_size);
  if (f.size_ != 0) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return io_error("cannot map");
    f.data_ = p;
  }
  return f;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace pemap
