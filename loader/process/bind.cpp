// Import binding: each descriptor's module loaded (depth-first), each IAT slot resolved through the export table
// and any forwarders, bound imports kept while they are still true, delay-load imports bound only when asked.
#include <algorithm>
#include <set>
#include <type_traits>
#include <unordered_set>

#include <fmt/format.h>

#include "memory/page_writer.hpp"
#include "pe/imports.hpp"
#include "pe/scan_budget.hpp"
#include "process/process.hpp"

namespace pemap::ldr {

/// One descriptor as the first walk of a table found it: its module as the file names it and normalized (held by
/// the importer), its TimeDateStamp, how many slots it has, and where they go: a loaded module, the host, or
/// nowhere (why is its `missing`).
struct Dependency {
  std::string_view named;
  const ModuleName* dll = nullptr;
  Module* module = nullptr;
  const Resolution* missing = nullptr;
  size_t count = 0;
  uint32_t stamp = 0;
  bool host = false;
};

namespace {

constexpr size_t kMaxForwarders = 64;  // a chain longer than this is treated as a loop
// What a record keeps of a forwarder chain (Binding::chain, a failure's message): up to this many steps. A longer
// chain keeps its first and last steps around a count, so that one IAT slot records a bounded amount whatever the
// export tables hold: a 64-step loop of 250-character names imported 5,000 times through one hint/name entry made
// 90 MB of messages from a 135 KB file (tests/process/bounds_test.cpp).
constexpr size_t kRecordedSteps = 8;

std::vector<std::string> recorded(std::vector<std::string> chain) {
  if (chain.size() <= kRecordedSteps) return chain;
  const size_t head = kRecordedSteps / 2, tail = kRecordedSteps - head - 1;
  std::vector<std::string> out(std::make_move_iterator(chain.begin()), std::make_move_iterator(chain.begin() + head));
  out.push_back(fmt::format("({} more forwarders)", chain.size() - head - tail));
  out.insert(out.end(), std::make_move_iterator(chain.end() - tail), std::make_move_iterator(chain.end()));
  return out;
}

/// The first walk: each descriptor with its count of entries, none of the entries kept.
template <class M>
Result<std::vector<Dependency>> descriptors(const pe::Image& image) {
  std::vector<Dependency> out;
  pe::ImportReader<M> reader(image);
  while (auto m = reader.next_module()) {
    out.push_back({.named = m->dll.substr(0, 256)});
    if constexpr (std::is_same_v<M, pe::ImportModule>) out.back().stamp = m->descriptor.TimeDateStamp;
    while (reader.next_entry()) ++out.back().count;
  }
  if (auto walked = reader.finish(); !walked) return walked.take_error();
  return out;
}

}  // namespace

const Resolution& Resolution::none() {
  static const Resolution nothing;
  return nothing;
}

std::string Binding::function() const { return by_ordinal ? fmt::format("#{}", ordinal) : std::string(name()); }

/// The importer's resolutions, each held once however many slots point at it.
class ResolutionSet {
 public:
  explicit ResolutionSet(std::deque<Resolution>& store) : store_(store) {}
  const Resolution* operator()(Resolution r) {
    if (auto it = index_.find(&r); it != index_.end()) return *it;
    const Resolution* held = &store_.emplace_back(std::move(r));
    index_.insert(held);
    return held;
  }

 private:
  struct Hash {
    size_t operator()(const Resolution* r) const {
      size_t h = std::hash<std::string>{}(r->target) * 31 + std::hash<std::string>{}(r->reason);
      for (const auto& c : r->chain) h = h * 31 + std::hash<std::string>{}(c);
      return h * 31 + static_cast<size_t>(r->status);
    }
  };
  struct Same {
    bool operator()(const Resolution* a, const Resolution* b) const { return *a == *b; }
  };
  std::deque<Resolution>& store_;
  std::unordered_set<const Resolution*, Hash, Same> index_;
};

Result<Module*> Process::depend(Module& from, const ModuleName& dll, unsigned depth, std::string why) {
  const ModuleName host = host_name(dll, from.name.str());
  if (from.name == host) return &from;  // a module's imports or forwarders into itself
  for (Module* d : from.dependencies)
    if (d->name == host) return d;
  emit({.step = Step::dependency, .depth = depth - 1, .module = from.name, .target = dll, .reason = std::move(why)});
  auto loaded = load_module(dll, from.name, depth);
  if (!loaded) return loaded;
  if (*loaded != &from) from.dependencies.push_back(*loaded);
  return loaded;
}

std::optional<Result<Process::Export>> Process::from_host(const ModuleName& dll, std::string_view importer,
                                                          bool by_ordinal, uint32_t ordinal, std::string_view name) {
  const ModuleName module = host_name(dll, importer);
  if (!options_.host || !options_.host->serves(module)) return std::nullopt;
  const std::string what = by_ordinal ? fmt::format("#{}", ordinal) : std::string(name.substr(0, 256));
  auto at = by_ordinal ? std::nullopt : options_.host->address(module, name);
  if (!at)
    return Result<Export>(make_error(Status::entrypoint_not_found, "import", Location{},
                                     fmt::format("pemap has no host implementation of {}!{}: calling it stops the "
                                                 "program",
                                                 module, what)));
  Export out;
  out.address = *at;
  out.target = fmt::format("host:{}!{}", module.key(), what);
  out.how = How::host;
  return Result<Export>(std::move(out));
}

Result<Process::Export> Process::resolve(Module& from, bool by_ordinal, uint32_t ordinal, std::string_view name,
                                         uint16_t hint, unsigned depth) {
  Module* cur = &from;
  Export out;
  std::set<std::string> seen;
  for (;;) {
    const std::string what = by_ordinal ? fmt::format("#{}", ordinal) : std::string(name.substr(0, 256));
    const auto found = by_ordinal ? cur->exports().by_ordinal(ordinal) : cur->exports().by_name(name, hint);
    if (!found.entry) {
      std::string via;
      for (const auto& c : recorded(std::move(out.chain))) via += " <- " + c;
      cur->exports();  // read, so that a reason it could not be is known
      return make_error(by_ordinal ? Status::ordinal_not_found : Status::entrypoint_not_found, "import", Location{},
                        fmt::format("{}!{} is not exported{}{}", cur->name, what, via,
                                    cur->exports_error.empty() ? "" : " (" + cur->exports_error + ")"));
    }
    if (!found.entry->is_forwarder()) {
      out.module = cur;
      out.address = cur->base + found.entry->rva;
      if (!cur->section->pe32plus()) out.address &= 0xffffffffu;  // 32-bit arithmetic: RVA 0xffffffff is base - 1

      out.target = fmt::format("{}!{}", cur->name, found.entry->name.empty() ? what : found.entry->name.substr(0, 256));
      out.how = found.how;
      out.chain = recorded(std::move(out.chain));
      return out;
    }
    const std::string step = fmt::format("{}!{}", cur->name, what);
    if (!seen.insert(ascii_lower(step)).second || out.chain.size() >= kMaxForwarders) {
      std::string loop;
      for (const auto& c : recorded(std::move(out.chain))) loop += c + " -> ";
      return make_error(Status::entrypoint_not_found, "export forwarder", Location::rva(found.entry->rva),
                        fmt::format("forwarder loop: {}{}", loop, step));
    }
    out.chain.push_back(step);
    const auto target = pe::split_forwarder(found.entry->forwarder);
    if (!target)
      return make_error(Status::entrypoint_not_found, "export forwarder", Location::rva(found.entry->rva),
                        fmt::format("{} forwards to \"{}\", which names no DLL.function", step,
                                    found.entry->forwarder.substr(0, 256)));
    if (auto hosted = from_host(ModuleName(target->dll), cur->name.str(), target->by_ordinal, target->ordinal,
                                target->function)) {
      if (*hosted) (*hosted)->chain = recorded(std::move(out.chain));
      return std::move(*hosted);
    }
    auto next = depend(*cur, ModuleName(target->dll), depth + 1,
                       fmt::format("its export {} is forwarded to {}", what, found.entry->forwarder.substr(0, 256)));
    if (!next) return next.take_error();
    cur = *next;
    by_ordinal = target->by_ordinal;
    ordinal = target->ordinal;
    name = target->function;
    hint = 0;
  }
}

Result<bool> Process::missing(Module& importer, Binding& b, const Resolution* why, unsigned depth) {
  // Only what is not there becomes a trap; a DLL that is there but cannot be loaded fails the load, as it would.
  const bool absent = why->status == Status::dll_not_found || why->status == Status::entrypoint_not_found ||
                      why->status == Status::ordinal_not_found;
  const std::string function = b.function();
  if (!options_.allow_missing || !absent) {
    emit({.step = Step::missing,
          .depth = depth,
          .module = importer.name,
          .target = std::string(b.dll()),
          .function = function,
          .reason = why->reason,
          .ok = false});
    return make_error(why->status, fmt::format("import {}!{} of {}", b.dll(), function, importer.name),
                      Location::rva(b.iat_rva), why->reason,
                      why->status == Status::dll_not_found ? Win32Error::mod_not_found : Win32Error::success);
  }
  b.address = traps_.address_for(fmt::format("{}!{}", b.dll(), function));
  b.how = How::trap;
  b.resolution = why;
  if (why->status != Status::dll_not_found)  // a missing DLL is reported once, with its count
    emit({.step = Step::missing,
          .depth = depth,
          .module = importer.name,
          .target = std::string(b.dll()),
          .function = function,
          .reason = why->reason,
          .address = b.address});
  return true;
}

Result<bool> Process::snap(Module& m, const Dependency& dep, const pe::ImportEntry& e, Binding b, win::PageWriter& iat,
                           ResolutionSet& held, unsigned depth) {
  auto failed = [&](const Error& error) { return held({.status = error.status, .reason = error.message}); };
  auto hosted = dep.host ? from_host(*dep.dll, m.name.str(), e.by_ordinal, e.ordinal, e.name) : std::nullopt;
  if (hosted && *hosted) {
    b.address = (*hosted)->address;
    b.resolution = held({.target = std::move((*hosted)->target)});
    b.how = How::host;
  } else if (hosted) {
    if (auto r = missing(m, b, failed((*hosted).error()), depth); !r) return r.take_error();
  } else if (!dep.module) {
    if (auto r = missing(m, b, dep.missing, depth); !r) return r.take_error();
  } else if (auto found = resolve(*dep.module, e.by_ordinal, e.ordinal, e.name, e.hint, depth + 1); found) {
    b.address = found->address;
    b.resolution = held({.target = std::move(found->target), .chain = std::move(found->chain)});
    b.how = found->how;
  } else if (auto r = missing(m, b, failed(found.error()), depth); !r) {
    return r.take_error();
  }
  if (m.image().pointer_size() == 4 && b.address > 0xffffffffu)
    return make_error(Status::invalid_image_format, fmt::format("import {}!{} of {}", b.dll(), b.function(), m.name),
                      Location::rva(e.iat_rva), fmt::format("{:#x} does not fit a 32-bit IAT slot", b.address));
  if (!iat.write(e.iat_rva, b.address, m.image().pointer_size()))
    return make_error(Status::invalid_image_format, fmt::format("import {}!{} of {}", b.dll(), b.function(), m.name),
                      Location::rva(e.iat_rva), "the IAT slot lies outside the image's sections");
  m.bindings.push_back(b);
  return true;
}

namespace {

static_assert(pe::ScanBudget::kMaxName <= UINT32_MAX, "a Binding holds a name's size in 32 bits");

Binding slot(const std::string& dll, const pe::ImportEntry& e, bool delay) {
  // A name is at most ScanBudget::kMaxName (1 MiB) long: 32 bits hold its size.
  const std::string_view name = e.by_ordinal ? std::string_view() : e.name;
  return {.module = &dll,
          .name_data = name.data(),
          .iat_rva = e.iat_rva,
          .name_size = static_cast<uint32_t>(name.size()),
          .ordinal = e.ordinal,
          .by_ordinal = e.by_ordinal,
          .delay = delay};
}

}  // namespace

Result<bool> Process::load_imported_modules(Module& m, std::vector<Dependency>& deps, ResolutionSet& held,
                                            unsigned depth) {
  for (Dependency& d : deps) {
    d.dll = &m.import_dlls.emplace_back(d.named);
    const size_t count = d.count;
    // The host functions are x86-64 code of this process: they serve a PE32+ module's imports, never a PE32 one's.
    if (options_.host && m.section->pe32plus() && options_.host->serves(host_name(*d.dll, m.name.str()))) {
      d.host = true;  // served by the host: no file
    } else if (auto dep = depend(m, *d.dll, depth + 1,
                                 fmt::format("it imports {} from it", count == 1 ? std::string("1 function")
                                                                                 : fmt::format("{} functions", count)));
               dep) {
      d.module = *dep;
    } else if (options_.allow_missing && dep.error().status == Status::dll_not_found) {
      d.missing = held({.status = Status::dll_not_found, .reason = search_failure(dep.error(), *d.dll)});
    } else {
      return dep.take_error();
    }
  }
  return true;
}

// Bound imports: the IAT already holds the addresses, true while the target is the very file (TimeDateStamp) at its
// preferred base. A stamp of -1 means "see the bound import directory".
bool Process::keeps_bound_addresses(const Module& m, const Dependency& dep, const Result<pe::BoundImports>& bound,
                                    unsigned depth) const {
  if (!dep.module || dep.stamp == 0) return false;
  const ModuleName& dll = *dep.dll;
  uint32_t stamp = dep.stamp;
  if (stamp == 0xffffffff) {
    stamp = 0;
    if (bound)
      for (const auto& b : bound->modules)
        if (ModuleName(b.dll) == dll) stamp = b.time_date_stamp;
  }
  const Module& target = *dep.module;
  const uint32_t theirs = target.section->image().file_header().TimeDateStamp;
  const bool keep = stamp != 0 && stamp == theirs && target.base == target.preferred_base;
  emit({.step = Step::bound,
        .depth = depth,
        .module = m.name,
        .target = dll,
        .reason = keep ? "the target's TimeDateStamp matches and it is at its preferred base"
                  : stamp != theirs
                      ? fmt::format("TimeDateStamp {:#x} is not the target's {:#x}: rebinding", stamp, theirs)
                      : "the target is not at its preferred base: rebinding",
        .ok = keep});
  return keep;
}

Result<bool> Process::bind_imports(Module& m, unsigned depth) {
  const pe::Image& image = m.image();
  // Two walks of the table, so that no entry is kept but the bindings: the descriptors and their counts, to load
  // every module first; then the slots.
  auto found = descriptors<pe::ImportModule>(image);
  if (!found) return found.take_error();
  std::vector<Dependency>& deps = *found;
  auto bound = pe::parse_bound_imports(image);
  std::string names;
  size_t slots = 0;
  for (const auto& d : deps) {
    names += (names.empty() ? "" : ", ") + std::string(d.named);
    slots += d.count;
  }
  emit({.step = Step::imports, .depth = depth, .module = m.name, .target = names, .count = deps.size()});

  // Every module the descriptors name is loaded first, then the slots are filled (Windows 8 on maps the whole
  // graph before it snaps: a missing DLL is reported before a missing function).
  ResolutionSet held(m.resolutions);
  if (auto loaded = load_imported_modules(m, deps, held, depth); !loaded) return loaded;

  const unsigned ptr = image.pointer_size();
  win::PageWriter iat(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
  m.bindings.reserve(m.bindings.size() + slots);  // one record a slot: no growth to twice that
  // The same walk as the first, so each module is the next dependency.
  pe::ImportReader<pe::ImportModule> reader(image);
  for (const Dependency& dep : deps) {
    if (!reader.next_module()) break;
    const ModuleName& dll = *dep.dll;
    // Announced before the slots are filled, so that the forwarders they follow are told as part of it.
    emit({.step = Step::bind, .depth = depth, .module = m.name, .target = dll, .count = dep.count});
    const bool keep = keeps_bound_addresses(m, dep, bound, depth);
    if (dep.missing)
      emit({.step = Step::missing,
            .depth = depth,
            .module = m.name,
            .target = dll,
            .reason = dep.missing->reason,
            .count = dep.count});
    while (auto e = reader.next_entry()) {
      Binding b = slot(dll, *e, false);
      if (keep) {
        b.address = iat.peek(e->iat_rva, ptr).value_or(0);
        b.how = How::bound;
        m.bindings.push_back(b);
      } else if (auto snapped = snap(m, dep, *e, b, iat, held, depth); !snapped) {
        return snapped.take_error();
      }
    }
  }
  iat.restore();
  m.iat_pages_made_private += iat.shared_pages_made_private();
  return true;
}

Result<bool> Process::bind_delay_imports(Module& m, unsigned depth) {
  const pe::Image& image = m.image();
  auto found = descriptors<pe::DelayImportModule>(image);
  if (!found) return true;  // the loader never reads this table; the delay-load helper does, at the first call
  if (!options_.bind_delay) {
    for (const auto& d : *found) {
      m.delay_dlls.push_back(ModuleName(d.named));
      emit({.step = Step::delay,
            .depth = depth,
            .module = m.name,
            .target = m.delay_dlls.back(),
            .reason = "left for the first call, as the delay-load helper would",
            .count = d.count,
            .ok = false});
    }
    return true;
  }
  // Bound now, as if each had been called: each module loaded as its descriptor comes, then its slots filled.
  size_t slots = 0;
  for (const auto& d : *found) slots += d.count;
  m.bindings.reserve(m.bindings.size() + slots);
  ResolutionSet held(m.resolutions);
  win::PageWriter iat(*m.section, m.view->base(), win::PageWriter::Shared::make_private);
  pe::ImportReader<pe::DelayImportModule> reader(image);
  for (const Dependency& counted : *found) {
    const auto dm = reader.next_module();
    if (!dm) break;
    const ModuleName& dll = m.import_dlls.emplace_back(dm->dll.substr(0, 256));
    m.delay_dlls.push_back(dll);
    Dependency dep{.dll = &dll, .count = counted.count};
    auto loaded = depend(m, dll, depth + 1, "delay-load imports bound now (--bind-delay)");
    if (loaded)
      dep.module = *loaded;
    else if (options_.allow_missing && loaded.error().status == Status::dll_not_found)
      dep.missing = held({.status = Status::dll_not_found, .reason = search_failure(loaded.error(), dll)});
    else
      return loaded.take_error();
    emit({.step = Step::delay,
          .depth = depth,
          .module = m.name,
          .target = dll,
          .reason = "bound now (--bind-delay)",
          .count = counted.count});
    while (auto e = reader.next_entry())
      if (auto snapped = snap(m, dep, *e, slot(dll, *e, true), iat, held, depth); !snapped) return snapped.take_error();
  }
  iat.restore();
  m.iat_pages_made_private += iat.shared_pages_made_private();
  return true;
}

}  // namespace pemap::ldr
