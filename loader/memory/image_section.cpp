// Laying out an image in a memfd, once per file, and mapping views of it.
#include "memory/image_section.hpp"

#include <fcntl.h>
#include <sys/file.h>
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
  Error e = make_error(Status::success, std::move(structure), Location{},
                       fmt::format("{}: {} ({})", what, std::strerror(errno), win32_error_name(code)));
  e.win32 = static_cast<uint32_t>(code);
  return e;
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
// same object, as in Windows.
using Identity = std::tuple<dev_t, ino_t, off_t, int64_t>;
std::mutex g_cache_mutex;
std::map<Identity, std::weak_ptr<ImageSection>>& cache() {
  static std::map<Identity, std::weak_ptr<ImageSection>> c;
  return c;
}

}  // namespace

uint32_t section_protection(uint32_t c, bool shared) {
  const bool r = c & pe::scn::mem_read, w = c & pe::scn::mem_write, x = c & pe::scn::mem_execute;
  if (!r && !w && !x) {
    // ReactOS: with no MEM_* flag, code is RX and data RW.
    if (c & pe::scn::cnt_code) return PAGE_EXECUTE_READ;
    if (c & (pe::scn::cnt_initialized_data | pe::scn::cnt_uninitialized_data))
      return shared ? PAGE_READWRITE : PAGE_WRITECOPY;
    return PAGE_NOACCESS;
  }
  if (w)
    return x ? (shared ? PAGE_EXECUTE_READWRITE : PAGE_EXECUTE_WRITECOPY) : (shared ? PAGE_READWRITE : PAGE_WRITECOPY);
  if (x) return r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  return PAGE_READONLY;
}

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
    Error e = make_error(Status::invalid_file_for_section, "file", Location{},
                         path + " is not a regular file (ERROR_BAD_EXE_FORMAT)");
    e.win32 = static_cast<uint32_t>(Win32Error::bad_exe_format);
    return e;
  }
  const Identity id{st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  auto lookup = [&]() -> std::shared_ptr<ImageSection> {
    auto it = cache().find(id);
    if (it == cache().end()) return nullptr;
    if (auto alive = it->second.lock()) return alive;
    cache().erase(it);
    return nullptr;
  };
  {
    const std::lock_guard lock(g_cache_mutex);
    if (auto alive = lookup()) return alive;
  }
  auto file = MappedFile::from_fd(fd, path);
  if (!file) {
    Error e = file.take_error();
    e.win32 = static_cast<uint32_t>(Win32Error::access_denied);
    return e;
  }
  auto image = pe::Image::parse(file->bytes());
  if (!image) {
    Error e = image.take_error();
    e.win32 = static_cast<uint32_t>(Win32Error::bad_exe_format);
    e.message += " (ERROR_BAD_EXE_FORMAT)";
    return e;
  }
  if (auto refused = check_image_for_mapping(*image)) return *refused;
  std::shared_ptr<ImageSection> section(new ImageSection(std::move(*file), std::move(*image)));
  section->path_ = path;
  const std::string identity = fmt::format("{:x}-{:x}-{:x}-{:x}", st.st_dev, st.st_ino, st.st_size, std::get<3>(id));
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
    const bool shared = shared_fds_[i] >= 0;
    const ssize_t n = ::pread(shared ? shared_fds_[i] : image_fd_, out.data() + (lo - rva), hi - lo,
                              static_cast<off_t>(shared ? lo - r.rva : lo));
    (void)n;  // bytes the memfd does not hold (past its size) stay zero
  }
  return out;
}

namespace {

// A cross-process object named `name` (POSIX shm) of `size` bytes, held with a shared flock for as long as
// the fd is open. Whoever first takes the lock exclusively fills it with `init`: its creator, or one that opened
// the name while no one held it (its last holder died, or its creator has not locked it yet: two threads or
// processes can race there, and the creator must then not wait for an exclusive lock the other will never give
// up). Everyone else waits for the shared lock, which the filler's downgrade grants. A name unlinked by its last
// holder while we waited is stale: open again.
template <class Init>
Result<int> open_shared_object(const std::string& name, uint64_t size, Init&& init) {
  for (int attempt = 0;; ++attempt) {
    int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return os_error("image object", "cannot open " + name, Win32Error::not_enough_memory);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      if (::ftruncate(fd, 0) != 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        ::close(fd);
        return os_error("image object", "cannot size " + name, Win32Error::not_enough_memory);
      }
      if (auto done = init(fd); !done) {
        ::shm_unlink(name.c_str());
        ::close(fd);
        return done.take_error();
      }
    }
    if (::flock(fd, LOCK_SH) != 0) {  // waits while another thread or process fills it
      ::close(fd);
      return os_error("image object", "cannot lock " + name, Win32Error::not_enough_memory);
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_nlink == 0 && attempt < 8) {  // removed while we waited: not the name's
      ::close(fd);
      continue;
    }
    return fd;
  }
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
  // (headers larger than the image are cut there).
  for (const auto& r : image_.regions()) {
    if (r.rva >= size_) continue;
    const uint64_t from = std::min<uint64_t>(r.file_offset, file.size());
    ImageRegion region;
    region.rva = r.rva;
    region.size = std::min(align_up(r.size, pe::kPageSize), size_ - r.rva);
    region.file_bytes = std::min<uint64_t>({r.file_size, file.size() - from, r.size, size_ - r.rva});
    region.file_offset = from;
    region.section = r.section;
    if (flat_) {
      region.name = "(flat image)";
      region.protect = PAGE_EXECUTE_WRITECOPY;  // flat images get no per-section protection
    } else if (r.section < 0) {
      region.name = "(headers)";
      region.protect = PAGE_READONLY;
    } else {
      const auto& s = image_.sections()[static_cast<size_t>(r.section)];
      const bool shared = (s.characteristics() & pe::scn::mem_shared) && (s.characteristics() & pe::scn::mem_write);
      region.name = std::string(s.name);
      region.backing = shared ? ImageRegion::Backing::shared : ImageRegion::Backing::copy_on_write;
      region.protect = section_protection(s.characteristics(), shared);
    }
    regions_.push_back(std::move(region));
  }

  // The image object: one per file in every process, as Windows keeps it, so a second process's view
  // costs an mmap and not a copy, and its read-only pages are the same physical pages. pemap copies the
  // file bytes in once (where Windows maps file pages); sections may share raw data, so that copy is
  // bounded and an image that would cost far more than its file is refused.
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
  image_name_ = fmt::format("/pemap-image-{}", identity);
  auto image_fd = open_shared_object(image_name_, size_, [&](int fd) -> Result<bool> {
    for (const auto& r : regions_)
      if (!write_all(fd, file.subspan(r.file_offset, r.file_bytes), r.rva))
        return os_error("image object", "cannot write the image object", Win32Error::not_enough_memory);
    return true;
  });
  if (!image_fd) return image_fd.take_error();
  image_fd_ = *image_fd;

  // A writable MEM_SHARED section is one object for every view in every process: its own shm object.
  shared_fds_.assign(regions_.size(), -1);
  shared_names_.assign(regions_.size(), {});
  for (size_t i = 0; i < regions_.size(); ++i) {
    const auto& region = regions_[i];
    if (region.backing != ImageRegion::Backing::shared) continue;
    shared_names_[i] = fmt::format("/pemap-image-{}-{}", identity, i);
    auto fd = open_shared_object(shared_names_[i], region.size, [&](int f) -> Result<bool> {
      if (!write_all(f, file.subspan(region.file_offset, region.file_bytes), 0))
        return os_error("image object", "cannot write a shared section", Win32Error::not_enough_memory);
      return true;
    });
    if (!fd) return fd.take_error();
    shared_fds_[i] = *fd;
  }
  return true;
}

int ImageSection::shared_fd(size_t region) const { return region < shared_fds_.size() ? shared_fds_[region] : -1; }

ImageSection::~ImageSection() {
  // Only the process that opened the objects releases them (a forked child shares the same lock); the
  // last holder, who can take the lock exclusively, removes the name.
  const bool owner = ::getpid() == owner_pid_;
  if (image_fd_ >= 0) {
    if (owner && ::flock(image_fd_, LOCK_EX | LOCK_NB) == 0) ::shm_unlink(image_name_.c_str());
    ::close(image_fd_);
  }
  for (size_t i = 0; i < shared_fds_.size(); ++i) {
    const int fd = shared_fds_[i];
    if (fd < 0) continue;
    if (owner && ::flock(fd, LOCK_EX | LOCK_NB) == 0) ::shm_unlink(shared_names_[i].c_str());
    ::close(fd);
  }
}

Result<ImageView> ImageView::map(std::shared_ptr<const ImageSection> section, void* base) {
  const uint64_t size = section->size();
  if (base && reinterpret_cast<uint64_t>(base) % kAllocationGranularity != 0) {
    Error e = make_error(Status::success, "image view", Location{},
                         fmt::format("base {} is not a multiple of 64 KiB (ERROR_MAPPED_ALIGNMENT)", base));
    e.win32 = static_cast<uint32_t>(Win32Error::mapped_alignment);
    return e;
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
    Error e = make_error(Status::conflicting_addresses, "image view", Location{},
                         fmt::format("{:#x} bytes at {} are not free (ERROR_INVALID_ADDRESS)", size, base));
    e.win32 = static_cast<uint32_t>(Win32Error::invalid_address);
    return e;
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
    const bool shared = r.backing == ImageRegion::Backing::shared;
    const int fd = shared ? view.section_->shared_fd(i) : view.section_->image_fd();
    void* p = ::mmap(view.base_ + r.rva, r.size, linux_protection(r.protect),
                     (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd, static_cast<off_t>(shared ? 0 : r.rva));
    if (p == MAP_FAILED) return os_error("image view", "cannot map " + r.name, Win32Error::not_enough_memory);
  }
  // VirtualQuery reports these pages as MEM_IMAGE, with their section.
  std::vector<ImageRegionInfo> info;
  for (const auto& r : regions) info.push_back({r.rva, r.size, r.section < 0 ? std::string() : r.name});
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
