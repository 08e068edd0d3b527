// Passing kernel objects between processes: descriptors sent over a Unix socket (SCM_RIGHTS). What a section name
// or a parent hands another process is the object itself, never a name left in a file system.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pemap::win {

/// At most this many descriptors go with one message.
inline constexpr size_t kMaxPassedDescriptors = 8;

/// Sends `data` (at least one byte) on the Unix socket `socket` with `fds` attached; false when the other side is
/// gone or there are too many descriptors.
bool send_with_descriptors(int socket, std::string_view data, std::span<const int> fds);

struct Received {
  std::string data;
  std::vector<int> fds;  ///< close-on-exec, the caller's to close
};
/// Receives exactly `data_size` bytes and whatever descriptors came with them: nullopt (and nothing left open) when
/// the other side is gone first, or sent more than `max_fds` descriptors.
std::optional<Received> receive_with_descriptors(int socket, size_t data_size, size_t max_fds);

}  // namespace pemap::win
