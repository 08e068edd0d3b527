// Import binding: each descriptor's module loaded (depth-first), each IAT slot resolved through the export table
// and any forwarders, bound imports kept while they are still true, delay-load imports bound only when asked.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "pe/imports.hpp"
#include "process/page_writer.hpp"
#include "process/process.hpp"

namespace pemap::ldr {

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

std::string label(const pe::ImportEntry& e) {
  return e.by_ordinal ? fmt::format("#{}", e.ordinal) : std::string(e.name);
}

}  // namespace

Result<Module*> Process::depend(Module& from, const std::string& dll, unsigned depth, std::string why) {
  const std::string host = host_name(dll);
  if (same_module_name(from.name, host)) return &from;  // a module's imports or forwarders into itself
  for (Module* d : from.dependencies)
    if (same_module_name(d->name, host)) return d;
  emit({.step = Step::dependency, .depth = depth - 1, .module = from.name, .target = dll, .reason = std::move(why)});
  auto loaded = load_module(dll, from.name, depth);
  if (!loaded) return loaded;
  if (*loaded != &from) from.dependencies.push_back(*loaded);
  return loaded;
}

std::optional<Result<Process::Export>> Process::from_host(const std::string& dll, bool by_ordinal, uint32_t ordinal,
                                                          std::string_view name) {
  const std::string module = host_name(dll);
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
  out.target = fmt::format("host:{}!{}", lowercase(module), what);
  out.how = "host";
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
    if (!seen.insert(lowercase(step)).second || out.chain.size() >= kMaxForwarders) {
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
    if (auto hosted =
            from_host(normalize_module_name(target->dll), target->by_ordinal, target->ordinal, target->function)) {
      if (*hosted) (*hosted)->chain = recorded(std::move(out.chain));
      return std::move(*hosted);
    }
    auto next = depend(*cur, normalize_module_name(target->dll), depth + 1,
                       fmt::format("its export {} is forwarded to {}", what, found.entry->forwarder.substr(0, 256)));
    if (!next) return next.take_error();
    cur = *next;
    by_ordinal = target->by_ordinal;
    ordinal = target->ordinal;
    name = target->function;
    hint = 0;
  }
}

Result<bool> Process::missing(Module& importer, Binding& b, Status status, std::string reason, unsigned depth) {
  // Only what is not there becomes a trap; a DLL that is there but cannot be loaded fails the load, as it would.
  const bool absent =
      status == Status::dll_not_found || status == Status::entrypoint_not_found || status == Status::ordinal_not_found;
  if (!options_.allow_missing || !absent) {
    emit({.step = Step::missing,
          .depth = depth,
          .module = importer.name,
          .target = b.dll,
          .function = b.function,
          .reason = reason,
          .ok = false});
    Error e = make_error(status, fmt::format("import {}!{} of {}", b.dll, b.function, importer.name),
                         Location::rva(b.iat_rva), std::move(reason));
    if (status == Status::dll_not_found) e.win32 = 126;  // ERROR_MOD_NOT_FOUND
    return e;
  }
  b.address = traps_.address_for(fmt::format("{}!{}", b.dll, b.function));
  b.how = "trap";
  if (status != Status::dll_not_found)  // a missing DLL is reported once, with its count
    emit({.step = Step::missing,
          .depth = depth,
          .module = importer.name,
          .target = b.dll,
          .function = b.function,
          .reason = reason,
          .address = b.address});
  unresolved_.push_back({importer.name, b.dll, b.function, status, std::move(reason), b.address});
  return true;
}

Result<bool> Process::snap(Module& m, const Result<Module*>& dep, const pe::ImportEntry& e, Binding b, PageWriter& iat,
                           Event& done, unsigned depth) {
  auto hosted = dep && *dep == nullptr ? from_host(b.dll, e.by_ordinal, e.ordinal, e.name) : std::nullopt;
  if (hosted && *hosted) {
    b.address = (*hosted)->address;
    b.target = std::move((*hosted)->target);
    b.how = (*hosted)->how;
  } else if (hosted) {
    if (auto r = missing(m, b, (*hosted).error().status, (*hosted).error().message, depth); !r) return r.take_error();
  } else if (!dep) {
    if (auto r = missing(m, b, Status::dll_not_found, dep.error().message, depth); !r) return r.take_error();
  } else if (auto found = resolve(**dep, e.by_ordinal, e.ordinal, e.name, e.hint, depth + 1); found) {
    b.address = found->address;
    b.target = std::move(found->target);
    b.chain = std::move(found->chain);
    b.how = found->how;
  } else if (auto r = missing(m, b, found.error().status, found.error().message, depth); !r) {
    return r.take_error();
  }
  if (m.image().pointer_size() == 4 && b.address > 0xffffffffu)
    return make_error(Status::invalid_image_format, fmt::format("import {}!{} of {}", b.dll, b.function, m.name),
                      Location::rva(e.iat_rva), fmt::format("{:#x} does not fit a 32-bit IAT slot", b.address));
  if (!iat.write(e.iat_rva, b.address, m.image().pointer_size()))
    return make_error(Status::invalid_image_format, fmt::format("import {}!{} of {}", b.dll, b.function, m.name),
                      Location::rva(e.iat_rva), "the IAT slot lies outside the image's sections");
  ++done.counts[b.how];
  ++done.count;
  m.bindings.push_back(std::move(b));
  return true;
}

Result<bool> Process::bind_imports(Module& m, unsigned depth) {
  const pe::Image& image = m.image();
  auto imports = pe::parse_imports(image);
  if (!imports) return imports.take_error();
  auto bound = pe::parse_bound_imports(image);
  std::string names;
  for (const auto& im : imports->modules) names += (names.empty() ? "" : ", ") + std::string(im.dll.substr(0, 256));
  emit({.step = Step::imports, .depth = depth, .module = m.name, .target = names, .count = imports->modules.size()});

  // Every module the descriptors name is loaded first, then the slots are filled (Windows 8 on maps the whole
  // graph before it snaps: a missing DLL is reported before a missing function).
  std::vector<Result<Module*>> deps;
  for (const auto& im : imports->modules) {
    if (options_.host && options_.host->serves(host_name(normalize_module_name(im.dll.substr(0, 256))))) {
      deps.emplace_back(static_cast<Module*>(nullptr));  // served by the host: no file
      continue;
    }
    auto dep = depend(
        m, normalize_module_name(im.dll.substr(0, 256)), depth + 1,
        fmt::format("it imports {} from it", im.entries.size() == 1 ? std::string("1 function")
                                                                    : fmt::format("{} functions", im.entries.size())));
    if (!dep && !(options_.allow_missing && dep.error().status == Status::dll_not_found)) return dep.take_error();
    deps.push_back(std::move(dep));
  }
  const unsigned ptr = image.pointer_size();
  PageWriter iat(*m.section, m.view->base(), PageWriter::Shared::make_private);
  m.bindings.reserve(m.bindings.size() + imports->entry_count());  // one record a slot: no growth to twice that
  for (size_t d = 0; d < imports->modules.size(); ++d) {
    const auto& im = imports->modules[d];
    const auto& dep = deps[d];
    const std::string dll = normalize_module_name(im.dll.substr(0, 256));
    // Announced before the slots are filled, so that the forwarders they follow are told as part of it.
    Event done{.step = Step::bind, .depth = depth, .module = m.name, .target = dll, .count = im.entries.size()};
    emit(done);

    // Bound imports: the IAT already holds the addresses, true while the target is the very file (TimeDateStamp)
    // at its preferred base. A stamp of -1 means "see the bound import directory".
    bool keep = false;
    if (dep && *dep && im.descriptor.TimeDateStamp != 0) {
      uint32_t stamp = im.descriptor.TimeDateStamp;
      if (stamp == 0xffffffff) {
        stamp = 0;
        if (bound)
          for (const auto& b : bound->modules)
            if (same_module_name(normalize_module_name(b.dll), dll)) stamp = b.time_date_stamp;
      }
      const Module& target = **dep;
      keep = stamp != 0 && stamp == target.section->image().file_header().TimeDateStamp &&
             target.base == target.preferred_base;
      emit({.step = Step::bound,
            .depth = depth,
            .module = m.name,
            .target = dll,
            .reason = keep ? "the target's TimeDateStamp matches and it is at its preferred base"
                      : stamp != target.section->image().file_header().TimeDateStamp
                          ? fmt::format("TimeDateStamp {:#x} is not the target's {:#x}: rebinding", stamp,
                                        target.section->image().file_header().TimeDateStamp)
                          : "the target is not at its preferred base: rebinding",
            .ok = keep});
    }
    if (!dep) {
      emit({.step = Step::missing,
            .depth = depth,
            .module = m.name,
            .target = dll,
            .reason = dep.error().message,
            .count = im.entries.size()});
    }
    for (const auto& e : im.entries) {
      Binding b{.dll = dll, .function = label(e), .iat_rva = e.iat_rva};
      if (keep && dep) {
        b.address = iat.peek(e.iat_rva, ptr).value_or(0);
        b.how = "bound";
        ++done.counts[b.how];
        ++done.count;
        m.bindings.push_back(std::move(b));
      } else if (auto snapped = snap(m, dep, e, std::move(b), iat, done, depth); !snapped) {
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
  auto delay = pe::parse_delay_imports(image);
  if (!delay) return true;  // the loader never reads this table; the delay-load helper does, at the first call
  PageWriter iat(*m.section, m.view->base(), PageWriter::Shared::make_private);
  for (const auto& dm : delay->modules) {
    const std::string dll = normalize_module_name(dm.dll.substr(0, 256));
    m.delay_dlls.push_back(dll);
    if (!options_.bind_delay) {
      emit({.step = Step::delay,
            .depth = depth,
            .module = m.name,
            .target = dll,
            .reason = "left for the first call, as the delay-load helper would",
            .count = dm.entries.size(),
            .ok = false});
      continue;
    }
    auto dep = depend(m, dll, depth + 1, "delay-load imports bound now (--bind-delay)");
    if (!dep && !(options_.allow_missing && dep.error().status == Status::dll_not_found)) return dep.take_error();
    Event done{.step = Step::delay,
               .depth = depth,
               .module = m.name,
               .target = dll,
               .reason = "bound now (--bind-delay)",
               .count = dm.entries.size()};
    emit(done);
    for (const auto& e : dm.entries)
      if (auto snapped = snap(m, dep, e, Binding{.dll = dll, .function = label(e), .iat_rva = e.iat_rva, .delay = true},
                              iat, done, depth);
          !snapped)
        return snapped.take_error();
  }
  iat.restore();
  m.iat_pages_made_private += iat.shared_pages_made_private();
  return true;
}

}  // namespace pemap::ldr
