// The framing and encoding of the messages between pemap and a child process it drives (run/child.hpp): a frame
// is a 32-bit length and that many bytes; inside, little-endian integers and length-prefixed strings. The parent
// decodes what a child sends with the same bounds checks as a file: the child runs foreign code.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pemap::run::wire {

/// What the parent asks of the child, the first field of its frames.
enum class Op : uint8_t { initialize, call, load_library, free_library, run_entry, exit_process, read };
/// What the child sends: a reply to the request, or, in the middle of one, a question of its own about image
/// objects (run/image_objects.hpp) that the parent answers before it reads on.
enum class Reply : uint8_t { report, value, error, fault, bytes, image_find, image_publish };

/// No frame is larger: an image dump is asked for in pieces of at most this size.
inline constexpr uint32_t kMaxFrame = 64u << 20;

class Writer {
 public:
  template <class T>
  requires std::is_integral_v<T> || std::is_enum_v<T> Writer& put(T v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(u >> (8 * i)));
    return *this;
  }
  Writer& put(std::string_view s) {
    put(s.size());
    out_.append(s);
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

/// Reads what a Writer wrote; any read past the end sets failed() and returns zero or empty.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  requires std::is_integral_v<T> || std::is_enum_v<T> T get() {
    uint64_t u = 0;
    if (in_.size() - at_ < 8) {
      failed_ = true;
      return T{};
    }
    for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>(in_[at_ + i])} << (8 * i);
    at_ += 8;
    return static_cast<T>(u);
  }
  std::string str() {
    const auto n = get<uint64_t>();
    if (failed_ || n > in_.size() - at_) {
      failed_ = true;
      return {};
    }
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  /// A count of items that each take at least `min_bytes`: more than what is left is a failure, not a huge vector.
  uint64_t count(uint64_t min_bytes) {
    const auto n = get<uint64_t>();
    if (failed_ || n > (in_.size() - at_) / (min_bytes ? min_bytes : 1)) {
      failed_ = true;
      return 0;
    }
    return n;
  }
  bool failed() const { return failed_; }

 private:
  std::string_view in_;
  size_t at_ = 0;
  bool failed_ = false;
};

/// Writes one frame to the socket `fd`; false when the other side is gone.
bool send(int fd, std::string_view payload);
/// Reads one frame; nullopt at end of file, on an error, or for a frame over kMaxFrame.
std::optional<std::string> receive(int fd);

/// Passes descriptors (SCM_RIGHTS) in one message, at most 8 slots; a slot of -1 sends nothing and arrives as -1.
bool send_fds(int fd, std::span<const int> fds);
/// Receives what send_fds sent into `slots` slots (the descriptors are the caller's, close-on-exec); nullopt when
/// the other side is gone or sent something else.
std::optional<std::vector<int>> receive_fds(int fd, size_t slots);

}  // namespace pemap::run::wire
