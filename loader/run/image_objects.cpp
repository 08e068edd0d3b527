// Image objects across the processes of one pemap command: the child's questions and the parent's answers.
#include "run/image_objects.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>

namespace pemap::run {
namespace {

// A child runs foreign code: what it sends is checked like a file. Identities are short ("dev-ino-size-mtime" in
// hex), and a child cannot make its parent hold more than this many objects.
constexpr size_t kMaxIdentity = 128;
constexpr size_t kMaxObjects = 4096;

std::array<int, 2> slots(const win::ImageObjects& o) { return {o.image, o.shared}; }

void close_objects(const win::ImageObjects& o) {
  if (o.image >= 0) ::close(o.image);
  if (o.shared >= 0) ::close(o.shared);
}

bool regular(int fd) {
  struct stat st {};
  return fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

win::ImageObjects ParentBroker::find(const std::string& identity) {
  wire::Writer w;
  w.put(wire::Reply::image_find).put(identity);
  if (!wire::send(socket_, w.bytes())) ::_exit(0);  // the parent is gone
  auto fds = wire::receive_fds(socket_, 2);
  if (!fds) ::_exit(0);
  return {(*fds)[0], (*fds)[1]};
}

void ParentBroker::publish(const std::string& identity, win::ImageObjects objects) {
  wire::Writer w;
  w.put(wire::Reply::image_publish).put(identity);
  const auto fds = slots(objects);
  if (!wire::send(socket_, w.bytes()) || !wire::send_fds(socket_, fds)) ::_exit(0);
}

std::shared_ptr<ImageObjectRegistry> ImageObjectRegistry::current() {
  static std::weak_ptr<ImageObjectRegistry> alive;
  auto registry = alive.lock();
  if (!registry) {
    registry = std::make_shared<ImageObjectRegistry>();
    alive = registry;
  }
  return registry;
}

ImageObjectRegistry::~ImageObjectRegistry() {
  for (const auto& [identity, objects] : objects_) close_objects(objects);
}

bool ImageObjectRegistry::serve(int socket, wire::Reply tag, wire::Reader& r) {
  const std::string identity = r.str();
  if (r.failed() || identity.size() > kMaxIdentity) return false;
  if (tag == wire::Reply::image_find) {
    const auto it = objects_.find(identity);
    const auto fds = slots(it == objects_.end() ? win::ImageObjects{} : it->second);
    return wire::send_fds(socket, fds);
  }
  auto fds = wire::receive_fds(socket, 2);
  if (!fds) return false;
  const win::ImageObjects got{(*fds)[0], (*fds)[1]};
  const bool keep = regular(got.image) && (got.shared < 0 || regular(got.shared)) && objects_.size() < kMaxObjects &&
                    !objects_.contains(identity);
  if (keep)
    objects_.emplace(identity, got);
  else
    close_objects(got);
  return true;
}

}  // namespace pemap::run
