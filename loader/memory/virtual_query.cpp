// VirtualQuery from /proc/self/maps, with the registries of views, image views and reservations.
#include "memory/virtual_query.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "memory/section.hpp"

namespace pemap::win {
namespace {

#if defined(__x86_64__)
constexpr uint64_t kUserLimit = 0x7ffffffff000;  // TASK_SIZE with 4-level paging; [vsyscall] sits above it
#else
constexpr uint64_t kUserLimit = uint64_t{1} << 48;
#endif

Error win32_error(Win32Error code, std::string_view message) { return win::win32_error(code, "VirtualQuery", message); }

uint64_t page_floor(uint64_t a) { return a & ~(kPageSize - 1); }
uint64_t page_round_up(uint64_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

/// One line of /proc/self/maps.
struct Vma {
  uint64_t start = 0, end = 0;
  bool read = false, write = false, exec = false, shared = false;
  uint64_t inode = 0;
};

bool parse_hex(std::string_view& s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}

/// "start-end perms offset dev inode path"
std::optional<Vma> parse_line(std::string_view line) {
  Vma v;
  if (!parse_hex(line, v.start) || line.empty() || line[0] != '-') return std::nullopt;
  line.remove_prefix(1);
  if (!parse_hex(line, v.end) || line.size() < 5 || line[0] != ' ') return std::nullopt;
  v.read = line[1] == 'r';
  v.write = line[2] == 'w';
  v.exec = line[3] == 'x';
  v.shared = line[4] == 's';
  line.remove_prefix(5);
  // offset, dev, inode
  for (int field = 0; field < 3; ++field) {
    while (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    if (field == 2) {
      auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), v.inode, 10);
      if (ec != std::errc()) return std::nullopt;
    } else {
      const size_t space = line.find(' ');
      if (space == std::string_view::npos) return std::nullopt;
      line.remove_prefix(space);
    }
  }
  return v;
}

Result<std::string> read_proc(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return win32_error(Win32Error::access_denied, std::string(path) + ": " + std::strerror(errno));
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

Result<std::vector<Vma>> read_maps() {
  auto text = read_proc("/proc/self/maps");
  if (!text) return text.take_error();
  std::vector<Vma> vmas;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (auto v = parse_line(line); v && v->start < kUserLimit) vmas.push_back(*v);
  }
  return vmas;
}

struct ImageView {
  uint64_t size = 0;
  std::shared_ptr<const std::vector<ImageRegionInfo>> regions;  // shared with the queries that read them
  std::shared_ptr<const void> keepalive;
};
struct Reservation {
  uint64_t size = 0;
  uint32_t protect = PAGE_NOACCESS;
};
struct Registry {
  std::mutex mutex;
  std::map<uint64_t, ImageView> images;
  std::map<uint64_t, Reservation> reservations;
};
Registry& registry() {
  static auto* r = new Registry;  // never destroyed: views may be queried during static destruction
  return *r;
}

template <class Map>
auto find_containing(Map& map, uint64_t a) -> decltype(map.begin()) {
  auto it = map.upper_bound(a);
  if (it == map.begin()) return map.end();
  --it;
  return a < it->first + it->second.size ? it : map.end();
}

/// What a registered allocation says about the pages of an address.
struct Owner {
  enum class Kind : uint8_t { none, image, view, reservation };
  Kind kind = Kind::none;
  uint64_t allocation_base = 0;
  uint32_t allocation_protect = 0;
  uint64_t clip_end = UINT64_MAX;  ///< a region stays below this address: the allocation's end
  bool copy_on_write = false;      ///< private writable file pages are PAGE_WRITECOPY
  std::shared_ptr<const std::vector<ImageRegionInfo>> regions;  ///< of an image view, by RVA
};

/// The run of an allocation's pages from `a` that one answer can describe as far as the owner knows: in an image
/// view, to the end of the PE section (or of the gap between two) holding `a`; elsewhere, the whole allocation.
struct Piece {
  uint64_t end = 0;
  bool section_gap = false;  ///< in an image view, between its regions
  std::string_view section;  ///< the region's name, when in one
};

Piece piece_at(const Owner& o, uint64_t a) {
  if (o.kind != Owner::Kind::image) return {o.clip_end, false, {}};
  const uint64_t rva = a - o.allocation_base;
  const auto& regions = *o.regions;
  auto after = std::upper_bound(regions.begin(), regions.end(), rva,
                                [](uint64_t x, const ImageRegionInfo& r) { return x < r.rva; });
  if (after != regions.begin()) {
    const auto& r = *std::prev(after);
    if (rva - r.rva < r.size) return {std::min(o.clip_end, o.allocation_base + r.rva + r.size), false, r.section};
  }
  return {after == regions.end() ? o.clip_end : std::min(o.clip_end, o.allocation_base + after->rva), true, {}};
}

Owner find_owner(uint64_t a) {
  Owner o;
  {
    std::lock_guard lock(registry().mutex);
    auto& images = registry().images;
    if (auto it = find_containing(images, a); it != images.end()) {
      o.kind = Owner::Kind::image;
      o.allocation_base = it->first;
      o.allocation_protect = PAGE_EXECUTE_WRITECOPY;
      o.copy_on_write = true;
      o.clip_end = it->first + it->second.size;
      o.regions = it->second.regions;  // sorted by RVA (register_image_view)
      return o;
    }
  }
  if (auto view = find_view(reinterpret_cast<const void*>(a))) {
    o.kind = Owner::Kind::view;
    o.allocation_base = view->base;
    o.allocation_protect = view->protect;
    o.copy_on_write = view->protect == PAGE_WRITECOPY || view->protect == PAGE_EXECUTE_WRITECOPY;
    o.clip_end = view->base + page_round_up(view->size);
    return o;
  }
  std::lock_guard lock(registry().mutex);
  auto& reservations = registry().reservations;
  if (auto it = find_containing(reservations, a); it != reservations.end()) {
    o.kind = Owner::Kind::reservation;
    o.allocation_base = it->first;
    o.allocation_protect = it->second.protect;
    o.clip_end = it->first + it->second.size;
  }
  return o;
}

uint32_t protect_of(const Vma& v, bool copy_on_write) {
  const bool writecopy = copy_on_write && v.write && !v.shared && v.inode != 0;
  if (v.exec) {
    if (v.write) return writecopy ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READWRITE;
    return v.read ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  }
  if (v.write) return writecopy ? PAGE_WRITECOPY : PAGE_READWRITE;  // x86 has no write-only pages
  return v.read ? PAGE_READONLY : PAGE_NOACCESS;
}

struct Attributes {
  uint32_t state = 0, protect = 0;
  bool operator==(const Attributes&) const = default;
};
Attributes attributes_of(const Vma& v, const Owner& o, const Piece& piece) {
  // PROT_NONE anonymous pages of a reservation, or of an image view between its sections, are reserved.
  const bool none = !v.read && !v.write && !v.exec;
  if (none && (o.kind == Owner::Kind::reservation || (o.kind == Owner::Kind::image && piece.section_gap)))
    return {MEM_RESERVE, 0};
  return {MEM_COMMIT, protect_of(v, o.copy_on_write)};
}

uint32_t type_of(Owner::Kind kind) {
  switch (kind) {
    case Owner::Kind::image:
      return MEM_IMAGE;
    case Owner::Kind::view:
      return MEM_MAPPED;
    default:
      return MEM_PRIVATE;
  }
}

}  // namespace

namespace {

// The answer for `a` from one reading of /proc/self/maps, so a range is queried with one read.
MemoryBasicInformation query_in(uint64_t a, const std::vector<Vma>& vmas);

}  // namespace

Result<MemoryBasicInformation> virtual_query(const void* address) {
  const auto a = reinterpret_cast<uint64_t>(address);
  if (a >= kUserLimit) {
    return win32_error(Win32Error::invalid_parameter, fmt::format("{:#x} is above user space", a));
  }
  auto maps = read_maps();
  if (!maps) return maps.take_error();
  return query_in(a, *maps);
}

namespace {

MemoryBasicInformation query_in(uint64_t a, const std::vector<Vma>& vmas) {
  auto next = std::upper_bound(vmas.begin(), vmas.end(), a, [](uint64_t x, const Vma& v) { return x < v.start; });

  MemoryBasicInformation info;
  info.base = page_floor(a);
  if (next == vmas.begin() || std::prev(next)->end <= a) {
    info.state = MEM_FREE;
    info.protect = PAGE_NOACCESS;
    info.region_size = (next == vmas.end() ? kUserLimit : next->start) - info.base;
    return info;
  }
  auto it = std::prev(next);
  const Owner owner = find_owner(a);
  // As Windows answers: the run of pages from `a` with the same state, protection, type and allocation base, even
  // where the kernel keeps several VMAs or the image several sections (.rdata .pdata .xdata are one region).
  // Memory pemap did not allocate is answered a VMA at a time.
  Piece piece = piece_at(owner, a);
  const Attributes attributes = attributes_of(*it, owner, piece);
  uint64_t end = info.base, named_up_to = 0;
  for (;;) {
    // A section the kernel keeps in several VMAs is named once (its end tells it from a neighbour of one name).
    if (owner.kind == Owner::Kind::image && !piece.section_gap && piece.end != named_up_to)
      info.sections.emplace_back(piece.section), named_up_to = piece.end;
    end = std::min(it->end, piece.end);
    if (owner.kind == Owner::Kind::none || end >= owner.clip_end) break;
    if (end == it->end && (++it == vmas.end() || it->start != end)) break;
    piece = piece_at(owner, end);
    if (!(attributes_of(*it, owner, piece) == attributes)) break;
  }
  info.region_size = end - info.base;
  info.state = attributes.state;
  info.protect = attributes.protect;
  info.type = type_of(owner.kind);
  info.allocation_base = owner.kind == Owner::Kind::none ? it->start : owner.allocation_base;
  info.allocation_protect = owner.kind == Owner::Kind::none ? attributes.protect : owner.allocation_protect;
  return info;
}

}  // namespace

Result<uint64_t> dirty_bytes(const void* address) {
  const auto a = reinterpret_cast<uint64_t>(address);
  auto text = read_proc("/proc/self/smaps");
  if (!text) return text.take_error();
  // Each mapping: its maps line, then "Field:   N kB" lines; the dirty counts of the one holding `a`.
  std::string_view rest = *text;
  bool inside = false, found = false;
  uint64_t kib = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (auto v = parse_line(line)) {
      if (found) break;
      inside = found = v->start <= a && a < v->end;
      continue;
    }
    if (!inside || !(line.starts_with("Shared_Dirty:") || line.starts_with("Private_Dirty:"))) continue;
    std::string_view value = line.substr(line.find(':') + 1);
    while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    uint64_t n = 0;
    std::from_chars(value.data(), value.data() + value.size(), n);
    kib += n;
  }
  if (!found) return win32_error(Win32Error::invalid_address, fmt::format("{:#x} is not mapped", a));
  return kib * 1024;
}

std::vector<MemoryBasicInformation> query_range(const void* base, size_t size) {
  std::vector<MemoryBasicInformation> out;
  const auto start = reinterpret_cast<uint64_t>(base);
  const uint64_t end = size > kUserLimit - std::min(start, kUserLimit) ? kUserLimit : start + size;
  auto maps = read_maps();
  if (!maps) return out;
  for (uint64_t a = start; a < end;) {
    auto info = query_in(a, *maps);
    if (info.region_size == 0) break;
    a = info.base + info.region_size;
    out.push_back(std::move(info));
  }
  return out;
}

void register_image_view(const void* base, size_t size, std::vector<ImageRegionInfo> regions,
                         std::shared_ptr<const void> keepalive) {
  std::sort(regions.begin(), regions.end(), [](const auto& x, const auto& y) { return x.rva < y.rva; });
  std::lock_guard lock(registry().mutex);
  registry().images[reinterpret_cast<uint64_t>(base)] =
      ImageView{size, std::make_shared<const std::vector<ImageRegionInfo>>(std::move(regions)), std::move(keepalive)};
}

void unregister_image_view(const void* base) {
  ImageView dropped;  // released after the lock: the keepalive may unmap and query
  {
    std::lock_guard lock(registry().mutex);
    auto it = registry().images.find(reinterpret_cast<uint64_t>(base));
    if (it == registry().images.end()) return;
    dropped = std::move(it->second);
    registry().images.erase(it);
  }
}

void register_reservation(const void* base, size_t size, uint32_t allocation_protect) {
  std::lock_guard lock(registry().mutex);
  registry().reservations[reinterpret_cast<uint64_t>(base)] = Reservation{size, allocation_protect};
}

void unregister_reservation(const void* base) {
  std::lock_guard lock(registry().mutex);
  registry().reservations.erase(reinterpret_cast<uint64_t>(base));
}

}  // namespace pemap::win
