// The one owner of file bytes: a read-only, move-only memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <string>

#include "pe/bytes.hpp"
#include "pe/error.hpp"

namespace pemap {

class MappedFile {
 public:
  /// Maps `path` read-only. An empty file gives an empty span (mmap cannot map 0 bytes).
  static Result<MappedFile> open(const std::string& path);
  /// Maps the regular file open on `fd` (which stays the caller's); `path` only names it in errors.
  static Result<MappedFile> from_fd(int fd, const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  /// Valid while this object lives; every parser view points into it.
  Bytes bytes() const { return {static_cast<const std::byte*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace pemap
