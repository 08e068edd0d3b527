// Image objects shared by every process of one pemap command: a child asks its parent for a file's objects over its
// socket, and offers the ones it builds; the parent keeps them while any of its children lives. Nothing has a name:
// the kernel frees each object with the last process that holds it, however that process ends.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "memory/image_section.hpp"
#include "run/wire.hpp"

namespace pemap::run {

/// The child's side: asks the parent on `socket` (memory/image_section.hpp's broker).
class ParentBroker final : public win::ImageObjectBroker {
 public:
  explicit ParentBroker(int socket) : socket_(socket) {}
  win::ImageObjects find(const std::string& identity) override;
  void publish(const std::string& identity, win::ImageObjects objects) override;

 private:
  int socket_;
};

/// The parent's side: the objects its children built, by file identity. One registry serves every Child alive in
/// this process (current()); it closes its descriptors when the last of them goes.
class ImageObjectRegistry {
 public:
  static std::shared_ptr<ImageObjectRegistry> current();
  ImageObjectRegistry() = default;
  ImageObjectRegistry(const ImageObjectRegistry&) = delete;
  ImageObjectRegistry& operator=(const ImageObjectRegistry&) = delete;
  ~ImageObjectRegistry();

  /// Answers a child's Reply::image_find or Reply::image_publish frame, read up to its tag in `r`, on `socket`;
  /// false when the child's message was malformed or the child is gone.
  bool serve(int socket, wire::Reply tag, wire::Reader& r);

 private:
  std::map<std::string, win::ImageObjects, std::less<>> objects_;
};

}  // namespace pemap::run
