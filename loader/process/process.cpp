// Loading a module: find, map, place, relocate, then its imports depth-first, then protections; in Windows' order.
#include "process/process.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "memory/page_writer.hpp"
#include "memory/win32.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"

namespace pemap::ldr {

namespace {

std::string searched_dirs(const ModuleLocator* locator, Bitness bitness, const std::vector<Skipped>& skipped) {
  auto* path = dynamic_cast<const SearchPath*>(locator);
  if (!path) return "the locator's places";
  std::string out;
  for (const auto& e : path->entries(bitness)) out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", e.dir, e.label);
  for (const auto& s : skipped) out += fmt::format("; passed over {}: {}", s.path, s.reason);
  if (path->places().system.for_process(bitness).empty())
    out += bitness == Bitness::pe32
               ? "; there is no PE32 system directory: give one with --syswow64-dir or --system-dir (or "
                 "$PEMAP_SYSWOW64); Wine's 32-bit DLLs come with Debian's libwine:i386"
               : "; there is no system directory: give one with --system-dir (or $PEMAP_SYSTEM32), or install "
                 "Wine's PE DLLs (Debian's libwine)";
  return out;
}

// splitmix64: a cookie that looks random but follows from the seed, so runs can be compared.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

}  // namespace

const ExportLookup& Module::exports() const {
  if (!exports_) {
    auto made = ExportLookup::create(image());
    if (!made) exports_error = made.error().to_string();
    exports_ = std::make_unique<ExportLookup>(made ? std::move(*made) : ExportLookup{});
  }
  return *exports_;
}

std::vector<std::byte> Module::image_bytes() const { return view->bytes(); }

Process::Process(LoadOptions options, EventSink sink)
    : options_(std::move(options)), sink_(std::move(sink)), placer_(options_.placement) {}

Process::~Process() {
  while (!modules_.empty()) modules_.pop_back();  // last loaded, first unmapped
}

void Process::emit(Event e) const {
  if (sink_) sink_(e);
}

Module* Process::find(const ModuleName& name) const {
  for (const auto& m : modules_)
    if (m->name == name) return m.get();
  return nullptr;
}

ModuleName Process::host_name(const ModuleName& dll, std::string_view importer) const {
  if (dll.is_api_set())
    if (auto host = options_.api_sets.resolve(dll.str(), importer); host && !host->host.empty())
      return ModuleName(host->host);
  return dll;
}

std::vector<std::string> LoadOptions::searched_dirs() const {
  std::vector<std::string> out = search_dirs;
  for (const auto* dir : {&system_dirs.system32, &system_dirs.syswow64})
    if (!dir->empty()) out.push_back(*dir);
  return out;
}

std::shared_ptr<ModuleLocator> Process::search_from(const std::string& app_dir) const {
  if (options_.locator) return options_.locator;
  return std::make_shared<SearchPath>(
      SearchPath::Places{app_dir, options_.search_dirs, options_.system_dirs, options_.known_dlls});
}

Bitness Process::bitness() const {
  if (modules_.empty()) return Bitness::any;
  return modules_.front()->section->pe32plus() ? Bitness::pe32plus : Bitness::pe32;
}

Result<Module*> Process::load_executable(const std::string& path) {
  locator_ = search_from(std::filesystem::path(path).parent_path().string());
  return load_top(path, true);
}

Result<Module*> Process::load_library(const std::string& name_or_path) {
  if (!locator_) {
    const bool has_dir = name_or_path.find('/') != std::string::npos;
    locator_ = search_from(!options_.application_dir.empty() ? options_.application_dir
                           : has_dir ? std::filesystem::path(name_or_path).parent_path().string()
                                     : ".");
  }
  return load_top(name_or_path, false);
}

Result<Module*> Process::load_top(const std::string& name_or_path, bool executable) {
  const size_t before = modules_.size();
  std::vector<std::pair<uint32_t, size_t>> was;  // each module's references and dependency count
  for (const auto& m : modules_) was.emplace_back(m->references, m->dependencies.size());
  const bool is_path = name_or_path.find('/') != std::string::npos;
  const ModuleName name(name_or_path);
  auto loaded = load_module(name, "", 0, is_path ? name_or_path : "", executable);
  if (loaded) return loaded;
  Event e{.step = Step::failed, .module = name, .reason = loaded.error().to_string()};
  emit(e);
  // LoadLibrary undoes a failed load: what it mapped goes, what it referenced is as it was, and so are the
  // dependency edges it added (only ever appended), even between modules loaded before it.
  while (modules_.size() > before) modules_.pop_back();
  for (size_t i = 0; i < before; ++i) {
    modules_[i]->references = was[i].first;
    modules_[i]->dependencies.resize(was[i].second);
  }
  return loaded;
}

Error Process::not_found(const ModuleName& name, const std::string& importer, const std::string& searched) {
  std::string reason = fmt::format("not found (searched {}; ERROR_MOD_NOT_FOUND)", searched);
  Error e = make_error(Status::dll_not_found, "module search", Location{},
                       importer.empty() ? fmt::format("{} was {}", name, reason)
                                        : fmt::format("{}, imported by {}, was {}", name, importer, reason),
                       Win32Error::mod_not_found);
  last_miss_ = Miss{name, std::move(reason)};
  return e;
}

std::string Process::search_failure(const Error& e, const ModuleName& dll) const {
  return last_miss_ && last_miss_->name == dll ? last_miss_->reason : e.message;
}

Result<Module*> Process::load_module(const ModuleName& asked, const std::string& importer, unsigned depth,
                                     const std::string& explicit_path, bool executable) {
  ModuleName name = asked;
  if (explicit_path.empty() && name.is_api_set()) {
    auto host = options_.api_sets.resolve(name.str(), importer);
    if (!host || host->host.empty()) {
      Error e = not_found(name, importer, "the API-set schema, which has no host for it");
      emit({.step = Step::apiset, .depth = depth, .module = name, .reason = "no host in the schema", .ok = false});
      return e;
    }
    name = ModuleName(host->host);
    emit({.step = Step::apiset,
          .depth = depth,
          .module = asked,
          .target = name,
          .reason = fmt::format("schema entry {}{} ({})", host->entry,
                                host->exception ? fmt::format(", the exception for {}", importer) : "",
                                options_.api_sets.source())});
  }
  if (Module* existing = find(name)) {
    ++existing->references;
    emit({.step = Step::reference,
          .depth = depth,
          .module = importer,
          .target = existing->name,
          .count = existing->references});
    return existing;
  }

  Located found;
  if (!explicit_path.empty()) {
    found = {explicit_path, "the path given", {}};
  } else {
    found = locator_->locate(name, bitness());
    // Files of the name the search passed over: another bitness's (Windows goes on searching past them).
    for (const auto& skip : found.skipped)
      emit({.step = Step::find,
            .depth = depth,
            .module = name,
            .target = importer,
            .path = skip.path,
            .reason = skip.reason,
            .ok = false});
    if (found.path.empty()) {
      emit({.step = Step::find, .depth = depth, .module = name, .target = importer, .ok = false});
      return not_found(name, importer, searched_dirs(locator_.get(), bitness(), found.skipped));
    }
  }
  emit({.step = Step::find,
        .depth = depth,
        .module = name,
        .target = importer,
        .path = found.path,
        .where = found.where});

  // A dependency's own failure says which file it was and who wanted it.
  auto in_context = [&](Error e) {
    if (!importer.empty())
      e.message = fmt::format("{} ({}), imported by {}: {}", name, found.path, importer, e.message);
    return e;
  };
  auto section = win::ImageSection::create(found.path);
  if (!section) return in_context(section.take_error());
  // One process, one machine: the first module loaded sets it (Windows: ERROR_BAD_EXE_FORMAT for a DLL of another).
  const pe::Image& parsed = (*section)->image();
  if (!modules_.empty() && (parsed.file_header().Machine != modules_.front()->section->image().file_header().Machine ||
                            parsed.is_pe32plus() != modules_.front()->section->pe32plus())) {
    const pe::Image& first = modules_.front()->section->image();
    return in_context(make_error(
        Status::invalid_image_format, "COFF file header", Location::offset(parsed.nt_offset() + 4),
        fmt::format("machine {:#x} ({}) is not the process's {:#x} ({}, set by {}; ERROR_BAD_EXE_FORMAT)",
                    parsed.file_header().Machine, parsed.is_pe32plus() ? "PE32+" : "PE32", first.file_header().Machine,
                    first.is_pe32plus() ? "PE32+" : "PE32", modules_.front()->name),
        Win32Error::bad_exe_format));
  }
  auto m = std::make_unique<Module>();
  // The module list names a module as its file is named (BaseDllName), whatever case the importer used.
  m->name = explicit_path.empty() ? ModuleName(std::filesystem::path(found.path).filename().string()) : name;
  m->path = found.path;
  m->section = std::move(*section);
  m->executable = executable;
  m->references = 1;
  m->load_order = next_order_++;
  emit({.step = Step::section,
        .depth = depth,
        .module = m->name,
        .size = m->section->size(),
        .count = m->section->image().sections().size()});

  if (auto placed = map_and_relocate(*m, depth); !placed) return in_context(placed.take_error());
  modules_.push_back(std::move(m));
  Module* module = modules_.back().get();
  const bool tls_changed_file_bytes = assign_tls_index(*module, depth);
  if (auto reread = reread_if_changed(*module, tls_changed_file_bytes, depth); !reread) return reread.take_error();
  replace_cookie(*module, depth);
  if (options_.resolve_imports) {
    if (auto bound = bind_imports(*module, depth); !bound) return bound.take_error();
    if (auto bound = bind_delay_imports(*module, depth); !bound) return bound.take_error();
  }
  finish(*module, depth);
  return module;
}

Result<bool> Process::map_and_relocate(Module& m, unsigned depth) {
  const pe::Image& image = m.section->image();
  std::optional<uint64_t> forced;
  if (auto it = options_.forced_bases.find(m.name.key()); it != options_.forced_bases.end()) forced = it->second;
  auto placement = placer_.place(m.section, forced);
  if (!placement) return placement.take_error();
  m.view.emplace(std::move(placement->view));
  m.base = reinterpret_cast<uint64_t>(m.view->base());
  m.preferred_base = m.section->preferred_base();
  m.placed = placement->how;
  m.displaced = placement->reason;
  const bool preferred_usable = placement->preferred_usable;
  emit({.step = Step::map,
        .depth = depth,
        .module = m.name,
        .how = m.placed,
        .reason = m.displaced,
        .preferred = m.preferred_base,
        .address = m.base,
        .size = m.section->size()});

  const auto delta = static_cast<int64_t>(m.base - m.preferred_base);
  Event done{.step = Step::relocate, .depth = depth, .module = m.name, .address = m.base, .delta = delta};
  if (delta == 0) {
    done.reason = "at its preferred base: nothing to relocate";
  } else if (!image.used_directory(pe::kDirBaseReloc) &&
             !(image.file_header().Characteristics & pe::file_flag::relocs_stripped)) {
    m.relocation_note = done.reason = "no relocation directory, and not marked stripped: loaded unrelocated";
  } else {
    auto relocs = pe::parse_relocations(image);
    if (!relocs) return relocs.take_error();
    auto stats = apply_relocations(*m.section, m.view->base(), *relocs, delta, preferred_usable);
    if (!stats) {
      emit({.step = Step::relocate, .depth = depth, .module = m.name, .reason = stats.error().message, .ok = false});
      return stats.take_error();
    }
    m.relocations = std::move(*stats);
    m.relocated = true;
    if (image.file_header().Characteristics & pe::file_flag::relocs_stripped)
      m.relocation_note = done.how =
          "RELOCS_STRIPPED is set, but the preferred base could never be had: relocated "
          "anyway, as Windows does";
    for (const auto& [type, n] : m.relocations.per_type) {
      done.counts[std::string(pe::reloc_type_name(type, image.file_header().Machine))] = n;
      done.value += n;
    }
    done.count = m.relocations.pages_made_private;
  }
  if (delta != 0) {
    // The mapped header says where the image is now.
    win::PageWriter header(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
    header.write(image.image_base_offset(), m.base, image.pointer_size());
  }
  emit(std::move(done));
  return true;
}

bool Process::assign_tls_index(Module& m, unsigned depth) {
  const pe::Image& image = m.section->image();
  auto tls = pe::parse_tls(image);
  if (!tls || !tls->present) return false;
  // AddressOfIndex is a VA; the loader writes the slot number there before it walks the imports.
  const uint64_t rva = tls->address_of_index - image.image_base();
  win::PageWriter writer(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
  const auto before = writer.peek(rva, 4);
  const uint32_t index = next_tls_index_;
  if (!before || !writer.write(rva, index, 4)) {
    emit({.step = Step::tls_index,
          .depth = depth,
          .module = m.name,
          .reason = fmt::format("AddressOfIndex {:#x} is not in the image's mapped pages: no index written",
                                tls->address_of_index),
          .ok = false});
    return false;
  }
  ++next_tls_index_;
  emit({.step = Step::tls_index, .depth = depth, .module = m.name, .address = m.base + rva, .value = index});
  return *before != index && image.rva_to_offset(rva).has_value();
}

Result<bool> Process::reread_if_changed(Module& m, bool tls_changed_file_bytes, unsigned depth) {
  const pe::Image& file = m.section->image();
  const auto& regions = m.section->regions();
  std::byte* base = m.view->base();
  // Relocations reach the headers only in crafted files: compare the mapped headers with the file's, their
  // ImageBase (which the loader rewrote) aside. Only the header bytes: a flat image's first region is all of it.
  bool headers_changed = false;
  if (m.relocated && !regions.empty() && regions.front().rva == 0) {
    const uint64_t n = std::min<uint64_t>({file.header_size(), regions.front().size, m.section->size()});
    std::vector<std::byte> original = m.section->read(0, n);
    const uint64_t field = file.image_base_offset();
    if (field + file.pointer_size() <= original.size())
      std::memcpy(original.data() + field, base + field, file.pointer_size());
    headers_changed = original.size() == n && std::memcmp(original.data(), base, n) != 0;
  }
  if (!headers_changed && !tls_changed_file_bytes) return true;
  // The file with every file-backed byte of the view written back: no more than the file's own size. The headers
  // go last, so that a section mapping file offset 0 too does not undo what the loader changed in them.
  const Bytes bytes = file.file();
  m.reread_file.assign(bytes.begin(), bytes.end());
  auto copy_back = [&](const win::ImageRegion& r) {
    if (r.rva >= m.section->size() || r.file_offset >= m.reread_file.size()) return;
    const uint64_t n = std::min(
        {r.file_bytes, r.size, m.section->size() - r.rva, static_cast<uint64_t>(m.reread_file.size()) - r.file_offset});
    m.view->copy_out(r.rva, m.reread_file.data() + r.file_offset, n);
  };
  for (const auto& r : regions)
    if (r.rva != 0) copy_back(r);
  for (const auto& r : regions)
    if (r.rva == 0) copy_back(r);
  // The module is mapped, so its layout is the memory manager's whatever the rewritten headers now say.
  auto parsed = pe::Image::parse(Bytes(m.reread_file.data(), m.reread_file.size()), pe::Layout::memory_manager);
  if (!parsed) return parsed.take_error();
  m.reread.emplace(std::move(*parsed));
  emit({.step = Step::reread,
        .depth = depth,
        .module = m.name,
        .reason = headers_changed ? "relocation changed its headers" : "the TLS index landed in a table"});
  return true;
}

void Process::replace_cookie(Module& m, unsigned depth) {
  const pe::Image& image = m.image();
  auto config = pe::parse_load_config(image);
  if (!config) return;
  const auto va = config->security_cookie();
  // The image's own ImageBase: the file's, or the relocated one when the headers were read again.
  if (!va || *va < image.image_base() || *va - image.image_base() >= m.section->size()) return;
  const uint64_t rva = *va - image.image_base();
  // The compilers' defaults: a cookie still holding one was never set, and the loader sets it.
  const uint64_t standard = image.is_pe32plus() ? 0x00002B992DDFA232 : 0xBB40E64E;
  win::PageWriter writer(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
  if (writer.peek(rva, image.pointer_size()) != standard) return;
  uint64_t cookie = mix(options_.placement.aslr_seed.value_or(0) ^ m.base);
  cookie &= image.is_pe32plus() ? 0x0000'ffff'ffff'ffff : 0xffff'ffff;  // x64: the top 16 bits stay clear
  if (cookie == standard || cookie == 0) cookie ^= 0x1234;
  writer.write(rva, cookie, image.pointer_size());
  emit({.step = Step::cookie, .depth = depth, .module = m.name, .address = m.base + rva, .value = cookie});
}

void Process::finish(Module& m, unsigned depth) {
  const pe::Image& image = m.image();
  const auto& regions = m.section->regions();
  for (const auto& r : regions) {
    if (r.rva >= m.section->size() || r.size > m.section->size() - r.rva) continue;
    if (r.protect == win::PAGE_EXECUTE_READWRITE || r.protect == win::PAGE_EXECUTE_WRITECOPY)
      m.wx_regions.push_back(r.name);
  }
  std::string wx;
  for (const auto& n : m.wx_regions) wx += (wx.empty() ? "" : ", ") + n;
  emit({.step = Step::protect, .depth = depth, .module = m.name, .reason = wx, .count = regions.size()});

  // TLS callbacks as the relocated image holds them: the directory's AddressOfCallBacks, then the array.
  if (auto tls = pe::parse_tls(image); tls && tls->present && !tls->callbacks.empty()) {
    win::PageWriter view(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
    const unsigned ptr = image.pointer_size();
    const uint64_t dir = image.used_directory(pe::kDirTls)->VirtualAddress;
    if (auto array = view.peek(dir + image.tls_callbacks_field(), ptr); array && *array - m.base < m.section->size()) {
      for (size_t i = 0; i < tls->callbacks.size(); ++i) {
        auto cb = view.peek(*array - m.base + i * ptr, ptr);
        if (!cb || *cb == 0) break;
        m.tls_callbacks.push_back(*cb);
      }
    }
    emit({.step = Step::tls,
          .depth = depth,
          .module = m.name,
          .address = m.tls_callbacks.empty() ? 0 : m.tls_callbacks.front(),
          .count = m.tls_callbacks.size()});
  }
  const uint32_t entry = image.optional_header().address_of_entry_point;
  if (entry != 0 || m.executable) m.entry_point = m.base + entry;
  emit({.step = Step::entry, .depth = depth, .module = m.name, .address = m.entry_point});
  emit({.step = Step::loaded, .depth = depth, .module = m.name, .address = m.base, .count = m.references});
}

Result<bool> Process::free_library(const ModuleName& name, const std::function<void(const Module&)>& before_unmap) {
  Module* m = find(name);
  if (!m) {
    return make_error(Status::dll_not_found, "FreeLibrary", Location{}, fmt::format("{} is not loaded", name),
                      Win32Error::mod_not_found);
  }
  // The executable's LoadCount is pinned (0xffff in the XP-era loader, -1 since): FreeLibrary on its handle
  // succeeds and changes nothing.
  if (m->executable) {
    emit({.step = Step::unload,
          .module = m->name,
          .reason = "the executable is pinned",
          .address = m->base,
          .ok = false});
    return true;
  }
  release(m, before_unmap);
  return true;
}

void Process::release(Module* m, const std::function<void(const Module&)>& before_unmap) {
  if (--m->references > 0) return;
  if (before_unmap) before_unmap(*m);
  emit({.step = Step::unload, .module = m->name, .address = m->base});
  const auto deps = m->dependencies;
  auto it = std::find_if(modules_.begin(), modules_.end(), [&](const auto& p) { return p.get() == m; });
  // Others that list it (a cycle) forget it before it goes.
  for (auto& other : modules_) std::erase(other->dependencies, m);
  modules_.erase(it);
  for (auto d = deps.rbegin(); d != deps.rend(); ++d)
    if (std::any_of(modules_.begin(), modules_.end(), [&](const auto& p) { return p.get() == *d; }))
      release(*d, before_unmap);
}

std::vector<Unresolved> Process::unresolved() const {
  std::vector<Unresolved> out;
  size_t count = 0;
  for (const auto& m : modules_)
    count += static_cast<size_t>(
        std::count_if(m->bindings.begin(), m->bindings.end(), [](const Binding& b) { return b.how == How::trap; }));
  out.reserve(count);
  for (const auto& m : modules_)
    for (size_t i = 0; i < m->bindings.size(); ++i)
      if (m->bindings[i].how == How::trap) out.push_back({m.get(), i});
  return out;
}

std::vector<const Module*> Process::initialization_order() const {
  std::vector<const Module*> order;
  std::set<const Module*> seen;
  auto visit = [&](auto&& self, const Module* m) -> void {
    if (!seen.insert(m).second) return;
    for (const Module* d : m->dependencies) self(self, d);
    order.push_back(m);
  };
  for (const auto& m : modules_) visit(visit, m.get());
  return order;
}

}  // namespace pemap::ldr
