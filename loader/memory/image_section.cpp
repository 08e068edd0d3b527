// Laying out an image in anonymous memfds, once per file, and mapping views of it.
#include "memory/image_section.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "memory/image_rules.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"

namespace pemap::win {
namespace {

Error os_error(std::string structure, const std::string& what, Win32Error code) {
  return make_error(Status::success, std::move(structure), Location{},
                    fmt::format("{}: {} ({})", what, std::strerror(errno), win32_error_name(code)), code);
}

bool write_all(int fd, pemap::Bytes bytes, uint64_t at) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  return true;
}

// The image objects alive in this process, by file identity: a second section of the same file is the
// same object, as in Windows. A forked child inherits the map but not necessarily the descriptors behind it
// (run::Child closes them): an entry counts only in the process that made it.
using Identity = std::tuple<dev_t, ino_t, off_t, int64_t>;
std::mutex g_cache_mutex;
ImageObjectBroker* g_broker = nullptr;
std::map<Identity, std::weak_ptr<ImageSection>>& cache() {
  static std::map<Identity, std::weak_ptr<ImageSection>> c;
  return c;
}

}  // namespace

Result<std::shared_ptr<ImageSection>> ImageSection::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return os_error("file", "cannot open " + path,
                    errno == ENOENT || errno == ENOTDIR ? Win32Error::file_not_found : Win32Error::access_denied);
  auto section = create_from_fd(fd, path);
  ::close(fd);
  return section;
}

Result<std::shared_ptr<ImageSection>> ImageSection::create_from_fd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("file", "cannot stat " + path, Win32Error::access_denied);
  if (!S_ISREG(st.st_mode)) {
    return make_error(Status::invalid_file_for_section, "file", Location{},
                      path + " is not a regular file (ERROR_BAD_EXE_FORMAT)", Win32Error::bad_exe_format);
  }
  const Identity id{st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  auto lookup = [&]() -> std::shared_ptr<ImageSection> {
    auto it = cache().find(id);
    if (it == cache().end()) return nullptr;
    if (auto alive = it->second.lock(); alive && alive->owner_pid_ == ::getpid()) return alive;
    cache().erase(it);
    return nullptr;
  };
  {
    const std::lock_guard lock(g_cache_mutex);
    if (auto alive = lookup()) return alive;
  }
  auto file = MappedFile::from_fd(fd, path);
  if (!file) {
    return file.take_error().set_win32(Win32Error::access_denied);
  }
  auto image = pe::Image::parse(file->bytes());
  if (!image) {
    Error e = image.take_error().set_win32(Win32Error::bad_exe_format);
    e.message += " (ERROR_BAD_EXE_FORMAT)";
    return e;
  }
  if (auto refused = check_image_for_mapping(*image)) return *refused;
  std::shared_ptr<ImageSection> section(new ImageSection(std::move(*file), std::move(*image)));
  section->path_ = path;
  const std::string identity = fmt::format("{:x}-{:x}-{:x}-{:x}", st.st_dev, st.st_ino, st.st_size, std::get<3>(id));
  // (device, inode, size, mtime) names the file's contents for as long as pemap runs.
  if (auto built = section->build(identity); !built) return built.take_error();
  // Another thread may have built the same file meanwhile: the first one in is the image object.
  const std::lock_guard lock(g_cache_mutex);
  if (auto alive = lookup()) return alive;
  // Entries of image objects that are gone go too, swept whenever the cache has doubled (amortized constant):
  // otherwise every file ever mapped (a memfd per fuzz input, each its own inode) leaves one behind and the cache
  // grows for the life of the process.
  static size_t sweep_at = 64;
  if (cache().size() >= sweep_at) {
    std::erase_if(cache(), [](const auto& entry) { return entry.second.expired(); });
    sweep_at = 2 * cache().size() + 64;
  }
  cache()[id] = section;
  return section;
}

std::vector<std::byte> ImageSection::read(uint64_t rva, uint64_t len) const {
  std::vector<std::byte> out(static_cast<size_t>(std::min(len, size_ - std::min(rva, size_))));
  // Regions are in RVA order: start at the last one that begins at or before `rva`.
  auto first = std::upper_bound(regions_.begin(), regions_.end(), rva,
                                [](uint64_t v, const ImageRegion& r) { return v < r.rva; });
  if (first != regions_.begin()) --first;
  for (auto i = static_cast<size_t>(first - regions_.begin()); i < regions_.size(); ++i) {
    const auto& r = regions_[i];
    if (r.rva >= rva + out.size()) break;
    const uint64_t lo = std::max(rva, r.rva), hi = std::min(rva + out.size(), r.rva + r.size);
    if (lo >= hi) continue;
    const ssize_t n =
        ::pread(backing_fd(i), out.data() + (lo - rva), hi - lo, static_cast<off_t>(r.object_offset + (lo - r.rva)));
    (void)n;  // bytes the memfd does not hold (past its size) stay zero
  }
  return out;
}

void set_image_object_broker(ImageObjectBroker* broker) { g_broker = broker; }

namespace {

int new_memfd(const char* name, uint64_t size, unsigned flags) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC | flags);
  if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

bool has_size(int fd, uint64_t size) {
  struct stat st {};
  return fd >= 0 && ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == size;
}

void close_objects(ImageObjects& o) {
  if (o.image >= 0) ::close(o.image);
  if (o.shared >= 0) ::close(o.shared);
  o = ImageObjects{};
}

}  // namespace

Result<bool> ImageSection::build(const std::string& identity) {
  const auto& oh = image_.optional_header();
  size_ = image_.mapped_size();
  preferred_base_ = oh.image_base;
  flat_ = image_.is_flat();
  pe32plus_ = image_.is_pe32plus();
  const Bytes file = image_.file();
  owner_pid_ = ::getpid();

  // The layout: each region's file bytes at its RVA, zeros after them. Regions end at SizeOfImage
  // (headers larger than the image are cut there). Shared regions live one after another in the shared object.
  uint64_t shared_size = 0;
  for (const auto& r : image_.regions()) {
    if (r.rva >= size_) continue;
    const uint64_t from = std::min<uint64_t>(r.file_offset, file.size());
    ImageRegion region;
    static_cast<pe::Region&>(region) = r;
    region.size = std::min(align_up(r.size, pe::kPageSize), size_ - r.rva);
    region.file_bytes = std::min<uint64_t>({r.file_size, file.size() - from, r.size, size_ - r.rva});
    region.file_offset = from;
    region.object_offset = r.rva;
    region.name = flat_           ? "(flat image)"
                  : r.section < 0 ? "(headers)"
                                  : std::string(image_.sections()[static_cast<size_t>(r.section)].name);
    if (region.shared()) {  // the shared regions lie one after another in the shared object
      region.object_offset = shared_size;
      shared_size += region.size;
    }
    regions_.push_back(std::move(region));
  }

  // The image object: one per file for every process pemap runs, as Windows keeps it, so a second view costs an
  // mmap and not a copy, and its read-only pages are the same physical pages. pemap copies the file bytes in once
  // (where Windows maps file pages); sections may share raw data, so that copy is bounded and an image that would
  // cost far more than its file is refused.
  const uint64_t copy_budget = 16 * file.size() + (uint64_t{256} << 20);
  uint64_t copied = 0;
  for (const auto& r : regions_) copied += r.file_bytes;
  if (copied > copy_budget) {
    errno = ENOMEM;
    return os_error("image object",
                    fmt::format("its sections copy {} MiB from a {} MiB file, past pemap's limit of 16 times the "
                                "file + 256 MiB (sections sharing raw data)",
                                copied >> 20, file.size() >> 20),
                    Win32Error::not_enough_memory);
  }
  if (g_broker) {
    ImageObjects found = g_broker->find(identity);
    if (has_size(found.image, size_) && (shared_size == 0 ? found.shared < 0 : has_size(found.shared, shared_size))) {
      objects_ = found;
      return true;
    }
    close_objects(found);  // none, or not this layout: build our own
  }
  objects_.image = new_memfd("pemap-image", size_, MFD_ALLOW_SEALING);
  if (objects_.image < 0)
    return os_error("image object", "cannot make the image object", Win32Error::not_enough_memory);
  if (shared_size > 0) {
    objects_.shared = new_memfd("pemap-image-shared", shared_size, 0);
    if (objects_.shared < 0)
      return os_error("image object", "cannot make the shared sections' object", Win32Error::not_enough_memory);
  }
  if (auto filled = fill_objects(); !filled) return filled;
  if (g_broker) g_broker->publish(identity, objects_);
  return true;
}

// Copies each region's file bytes into its object, then seals the image object: from then on no process, not even
// one running hostile image code with the descriptor, can change the pages every view starts from.
Result<bool> ImageSection::fill_objects() {
  const Bytes file = image_.file();
  for (size_t i = 0; i < regions_.size(); ++i) {
    const auto& r = regions_[i];
    if (!write_all(backing_fd(i), file.subspan(r.file_offset, r.file_bytes), r.object_offset))
      return os_error("image object", "cannot write the image object", Win32Error::not_enough_memory);
  }
  constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  if (::fcntl(objects_.image, F_ADD_SEALS, kSeals) != 0)
    return os_error("image object", "cannot seal the image object", Win32Error::not_enough_memory);
  return true;
}

int ImageSection::backing_fd(size_t i) const {
  if (i >= regions_.size()) return -1;
  return regions_[i].shared() ? objects_.shared : objects_.image;
}

ImageSection::~ImageSection() {
  // A forked child that inherited this object shares the parent's descriptors only until it closes them; it never
  // closes numbers that may name something else by now.
  if (::getpid() == owner_pid_) close_objects(objects_);
}

Result<ImageView> ImageView::map(std::shared_ptr<const ImageSection> section, void* base) {
  const uint64_t size = section->size();
  if (base && reinterpret_cast<uint64_t>(base) % kAllocationGranularity != 0) {
    return make_error(Status::success, "image view", Location{},
                      fmt::format("base {} is not a multiple of 64 KiB (ERROR_MAPPED_ALIGNMENT)", base),
                      Win32Error::mapped_alignment);
  }
  // Reserve the whole image first: exactly at the base asked for, or the preferred base if free.
  // Windows never maps below 64 KiB: a preferred base there counts as taken (never mmap FIXED at 0).
  void* want = base ? base : reinterpret_cast<void*>(section->preferred_base());
  void* at = MAP_FAILED;
  if (reinterpret_cast<uint64_t>(want) >= kAllocationGranularity) {
    at = ::mmap(want, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (at != MAP_FAILED && at != want) {  // a kernel without MAP_FIXED_NOREPLACE took it as a hint
      ::munmap(at, size);
      at = MAP_FAILED;
    }
  }
  if (at == MAP_FAILED && base) {
    return make_error(Status::conflicting_addresses, "image view", Location{},
                      fmt::format("{:#x} bytes at {} are not free (ERROR_INVALID_ADDRESS)", size, base),
                      Win32Error::invalid_address);
  }
  if (at == MAP_FAILED) {
    // Anywhere, on a 64 KiB boundary: reserve a granule more and trim.
    void* any =
        ::mmap(nullptr, size + kAllocationGranularity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (any == MAP_FAILED) return os_error("image view", "cannot reserve the image", Win32Error::not_enough_memory);
    const auto lo = reinterpret_cast<uint64_t>(any);
    const uint64_t aligned = align_up(lo, kAllocationGranularity);
    if (aligned > lo) ::munmap(any, aligned - lo);
    if (aligned + size < lo + size + kAllocationGranularity)
      ::munmap(reinterpret_cast<void*>(aligned + size), lo + size + kAllocationGranularity - aligned - size);
    at = reinterpret_cast<void*>(aligned);
  }
  ImageView view;
  view.section_ = std::move(section);
  view.base_ = static_cast<std::byte*>(at);
  // Then each region over the reservation: copy-on-write pages of the image object, or the shared object.
  const auto& regions = view.section_->regions();
  for (size_t i = 0; i < regions.size(); ++i) {
    const auto& r = regions[i];
    if (r.rva >= size || r.size > size - r.rva) continue;  // never MAP_FIXED past our own reservation
    const bool shared = r.shared();
    void* p =
        ::mmap(view.base_ + r.rva, r.size, linux_protection(r.protect), (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
               view.section_->backing_fd(i), static_cast<off_t>(r.object_offset));
    if (p == MAP_FAILED) return os_error("image view", "cannot map " + r.name, Win32Error::not_enough_memory);
  }
  // VirtualQuery reports these pages as MEM_IMAGE, with their section.
  std::vector<ImageRegionInfo> info;
  for (const auto& r : regions) info.push_back({r.rva, r.size, r.name});
  register_image_view(view.base_, view.section_->size(), std::move(info), view.section_);
  return view;
}

void ImageView::copy_out(uint64_t rva, std::byte* out, uint64_t len) const {
  const uint64_t size = this->size();
  if (rva >= size) return;
  const uint64_t end = rva + std::min(len, size - rva);
  for (const auto& r : section_->regions()) {
    if (r.rva >= size || r.size > size - r.rva) continue;  // never mapped (ImageView::map skips it too)
    const uint64_t lo = std::max(rva, r.rva), hi = std::min(end, r.rva + r.size);
    if (lo >= hi) continue;
    const int prot = linux_protection(r.protect);
    if (!(prot & PROT_READ)) ::mprotect(base_ + r.rva, r.size, prot | PROT_READ);
    std::memcpy(out + (lo - rva), base_ + lo, hi - lo);
    if (!(prot & PROT_READ)) ::mprotect(base_ + r.rva, r.size, prot);
  }
}

std::vector<std::byte> ImageView::bytes() const {
  std::vector<std::byte> out(size());
  copy_out(0, out.data(), out.size());
  return out;
}

ImageView::ImageView(ImageView&& other) noexcept
    : section_(std::move(other.section_)), base_(std::exchange(other.base_, nullptr)) {}

ImageView& ImageView::operator=(ImageView&& other) noexcept {
  if (this != &other) {
    if (base_ && section_) {
      unregister_image_view(base_);
      ::munmap(base_, section_->size());
    }
    section_ = std::move(other.section_);
    base_ = std::exchange(other.base_, nullptr);
  }
  return *this;
}

ImageView::~ImageView() {
  if (base_ && section_) {
    unregister_image_view(base_);
    ::munmap(base_, section_->size());
  }
}

}  // namespace pemap::win
