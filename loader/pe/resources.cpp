// Parsing of the resource directory.
#include "pe/resources.hpp"

#include <set>

#include <fmt/format.h>

#include "pe/scan_budget.hpp"
#include "pe/utf16.hpp"

namespace pemap::pe {

std::string ResourceKey::text() const { return named ? name : fmt::format("#{}", id); }

std::string ResourceEntry::path() const {
  const auto type_name = type.named ? std::string_view{} : resource_type_name(type.id);
  return fmt::format("{}/{}/{}", type_name.empty() ? type.text() : std::string(type_name), name.text(),
                     language.text());
}

std::string_view resource_type_name(uint32_t id) {
  static constexpr std::string_view names[] = {
      "",          "RT_CURSOR",       "RT_BITMAP",       "RT_ICON", "RT_MENU",
      "RT_DIALOG", "RT_STRING",       "RT_FONTDIR",      "RT_FONT", "RT_ACCELERATOR",
      "RT_RCDATA", "RT_MESSAGETABLE", "RT_GROUP_CURSOR", "",        "RT_GROUP_ICON",
      "",          "RT_VERSION",      "RT_DLGINCLUDE",   "",        "RT_PLUGPLAY",
      "RT_VXD",    "RT_ANICURSOR",    "RT_ANIICON",      "RT_HTML", "RT_MANIFEST"};
  return id < std::size(names) ? names[id] : std::string_view{};
}

namespace {

constexpr uint32_t kHighBit = 0x80000000;
constexpr const char* kLevel[] = {"type", "name", "language"};

// One walk of the tree. Every offset in it is from the directory's start, except a data entry's OffsetToData.
class TreeWalk {
 public:
  TreeWalk(const Image& image, uint64_t base, Resources& out)
      : image_(image), base_(base), out_(out), budget_(entry_budget(image)), names_(image) {}

  void directory(uint32_t offset, unsigned level, std::array<ResourceKey, 3>& keys) {
    const uint64_t rva = base_ + offset;
    if (!seen_.insert(offset).second) {
      warn(rva, fmt::format("the {} directory at offset {:#x} is reached a second time (a loop, or a subtree shared); "
                            "not walked again",
                            kLevel[level], offset));
      return;
    }
    if (auto cut = image_.cut_short(rva, sizeof(ResourceDirectory), "resource directory")) return warn(std::move(*cut));
    auto dir = image_.read_rva<ResourceDirectory>(rva, "resource directory");
    if (!dir) return warn(dir.take_error());
    if (level == 0) {
      out_.time_date_stamp = dir->TimeDateStamp;
      out_.major_version = dir->MajorVersion;
      out_.minor_version = dir->MinorVersion;
    }
    const uint32_t n = uint32_t{dir->NumberOfNamedEntries} + dir->NumberOfIdEntries;
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t at = rva + sizeof(ResourceDirectory) + uint64_t{i} * sizeof(ResourceDirectoryEntry);
      if (stopped_) return;
      if (++visited_ > budget_) return stop(at, "more entries than this file can hold; the walk stops here");
      if (auto cut = image_.cut_short(at, sizeof(ResourceDirectoryEntry), "resource directory entry"))
        return warn(std::move(*cut));
      auto e = image_.read_rva<ResourceDirectoryEntry>(at, "resource directory entry");
      if (!e) return warn(e.take_error());
      auto key = read_key(*e, at);
      if (!key) continue;
      keys[level] = std::move(*key);
      const uint32_t target = e->OffsetToData & ~kHighBit;
      if (e->OffsetToData & kHighBit) {
        if (level == 2)
          warn(at, fmt::format("entry {} points to a subdirectory below the language level; FindResource stops at "
                               "three levels, and so does this walk",
                               i));
        else
          directory(target, level + 1, keys);
      } else if (level != 2) {
        warn(at, fmt::format("entry {} at the {} level points to data, not to a {} directory; not listed", i,
                             kLevel[level], kLevel[level + 1]));
      } else {
        leaf(target, keys);
      }
    }
  }

  void finish() { entry_warnings_.finish(out_.warnings, "resource directory"); }

 private:
  void warn(Error e) { entry_warnings_.add(out_.warnings, std::move(e)); }
  // Why the walk ends early: said whatever the count of warnings before it, which entry_warnings_ caps.
  void stop(uint64_t rva, std::string message) {
    stopped_ = true;
    out_.warnings.push_back(make_error(Status::success, "resource directory", Location::rva(rva), std::move(message)));
  }
  void warn(uint64_t rva, std::string message) {
    warn(make_error(Status::success, "resource directory", Location::rva(rva), std::move(message)));
  }

  std::optional<ResourceKey> read_key(const ResourceDirectoryEntry& e, uint64_t at) {
    ResourceKey key;
    if (!(e.Name & kHighBit)) {
      key.id = e.Name;
      return key;
    }
    key.named = true;
    const uint64_t rva = base_ + (e.Name & ~kHighBit);
    auto length = image_.read_rva<uint16_t>(rva, "resource name");
    if (!length) return warn(length.take_error()), std::nullopt;
    if (auto cut = image_.cut_short(rva, 2 + uint64_t{*length} * 2, "resource name"))
      return warn(std::move(*cut)), std::nullopt;
    if (!names_.charge(2 + uint64_t{*length} * 2))
      return warn(at, "resource names scanned exceed the file's size; the name is not read"), std::nullopt;
    auto units = image_.copy_range(rva + 2, uint64_t{*length} * 2, "resource name");
    if (!units) return warn(units.take_error()), std::nullopt;
    key.name = utf16_to_utf8(*units);
    return key;
  }

  void leaf(uint32_t offset, const std::array<ResourceKey, 3>& keys) {
    const uint64_t rva = base_ + offset;
    if (auto cut = image_.cut_short(rva, sizeof(ResourceDataEntry), "resource data entry"))
      return warn(std::move(*cut));
    auto d = image_.read_rva<ResourceDataEntry>(rva, "resource data entry");
    if (!d) return warn(d.take_error());
    // Each entry holds its three keys' names: a long name shared by thousands of entries is charged for each copy,
    // so that what the entries hold stays within the names budget, as what the walk reads does.
    if (!names_.charge(keys[0].name.size() + keys[1].name.size() + keys[2].name.size()))
      return stop(rva,
                  "the entries' names would exceed the file's names budget (8 times its size); the walk stops "
                  "here");
    ResourceEntry entry{keys[0], keys[1], keys[2], static_cast<uint32_t>(rva), d->OffsetToData, d->Size, d->CodePage};
    if (uint64_t{d->OffsetToData} + d->Size > image_.optional_header().size_of_image)
      warn(rva, fmt::format("{}: data at RVA {:#x}, {:#x} bytes, runs past SizeOfImage {:#x}", entry.path(),
                            d->OffsetToData, d->Size, image_.optional_header().size_of_image));
    else if (!image_.region_at(d->OffsetToData))
      warn(rva, fmt::format("{}: data at RVA {:#x} lies in no section: the image holds nothing there", entry.path(),
                            d->OffsetToData));
    else if (auto cut = image_.cut_short(d->OffsetToData, d->Size, "resource data " + entry.path()))
      warn(std::move(*cut));
    out_.entries.push_back(std::move(entry));
  }

  const Image& image_;
  uint64_t base_;
  Resources& out_;
  uint64_t budget_, visited_ = 0;
  bool stopped_ = false;
  ScanBudget names_;  // names of many entries may overlap: charged as read
  std::set<uint32_t> seen_;
  EntryWarnings entry_warnings_;
};

}  // namespace

Result<Resources> parse_resources(const Image& image) {
  Resources out;
  const auto used = image.used_directory(kDirResource);
  if (!used) return out;
  out.present = true;
  // A file cut short inside the directory's bytes (the tree, names and data alike) still lists what lies before
  // the cut: each record the walk cannot read says so, and so does the directory as a whole. Only a root that is
  // not there, or that zero fill alone backs, ends the walk before it starts.
  auto whole_cut = image.cut_short(used->VirtualAddress, std::max<uint32_t>(used->Size, 1), "resource directory");
  auto unreadable = whole_cut
                        ? image.cut_short(used->VirtualAddress, sizeof(ResourceDirectory), "resource directory")
                        : image.directory_unreadable(kDirResource, "resource directory", sizeof(ResourceDirectory));
  if (unreadable) {
    out.warnings.push_back(std::move(*unreadable));
    return out;
  }
  TreeWalk walk(image, used->VirtualAddress, out);
  std::array<ResourceKey, 3> keys;
  walk.directory(0, 0, keys);
  walk.finish();
  if (whole_cut) out.warnings.push_back(std::move(*whole_cut));
  return out;
}

Result<std::vector<std::byte>> resource_bytes(const Image& image, const ResourceEntry& entry) {
  if (uint64_t{entry.rva} + entry.size > image.optional_header().size_of_image)
    return make_error(
        Status::success, "resource data " + entry.path(), Location::rva(entry.rva),
        fmt::format("{:#x} bytes run past SizeOfImage {:#x}", entry.size, image.optional_header().size_of_image));
  return image.copy_range(entry.rva, entry.size, "resource data " + entry.path());
}

}  // namespace pemap::pe
