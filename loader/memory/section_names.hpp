// Section names across processes, as Windows' \BaseNamedObjects holds them. The process that creates a named section
// publishes it at an abstract Unix socket address and hands the section's descriptor (SCM_RIGHTS) to any process of
// the same user that opens the name. The kernel drops an abstract address with its last socket, so a name exists
// exactly while the process that published it holds the section, however that process ends, and nothing is ever
// written to /dev/shm.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "pe/error.hpp"

namespace pemap::win {

struct SectionObject;

/// A name this process publishes; withdrawn when destroyed.
class NamePublication {
 public:
  explicit NamePublication(int socket) : socket_(socket) {}
  NamePublication(const NamePublication&) = delete;
  NamePublication& operator=(const NamePublication&) = delete;
  ~NamePublication();

 private:
  int socket_;
};

/// Publishes `object` under `name`. nullptr when another process holds the name already (open it instead).
Result<std::unique_ptr<NamePublication>> publish_section_name(std::string_view name,
                                                              std::weak_ptr<SectionObject> object);

/// What the process that holds a name hands over.
struct PublishedSection {
  int fd = -1;            ///< the section's backing (a memfd, or the file), read-only unless asked and allowed
  bool writable = false;  ///< fd is open for writing
  bool file = false;      ///< backed by a file, not the page file
  uint32_t protect = 0;   ///< PAGE_* of its CreateFileMapping
  uint64_t size = 0;
};

/// The section another process published under `name`; nullopt when no process holds that name.
Result<std::optional<PublishedSection>> open_published_section(std::string_view name, bool want_write);

}  // namespace pemap::win
