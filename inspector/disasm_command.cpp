// Disassembly through the analysis layer's Capstone decoder.
#include "disasm_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "address_command.hpp"
#include "analysis/disassembler.hpp"
#include "json_text.hpp"
#include "pe/exports.hpp"
#include "pe/imports.hpp"
#include "pe/relocs.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

// Whether the memory manager maps the region executable (a flat image's every page is, whatever its sections say).
bool executable(const pe::Region* r) {
  return r && (r->protect &
               (pe::PAGE_EXECUTE | pe::PAGE_EXECUTE_READ | pe::PAGE_EXECUTE_READWRITE | pe::PAGE_EXECUTE_WRITECOPY));
}

// What an address in the image is, for a comment: an import's IAT slot, or an export.
struct Names {
  std::map<uint64_t, std::string> by_rva;
  explicit Names(const pe::Image& image) {
    pe::ImportReader<pe::ImportModule> imports(image);
    while (auto m = imports.next_module())
      while (auto e = imports.next_entry())
        by_rva[e->iat_rva] = fmt::format("{}!{}", printable(m->dll),
                                         e->by_ordinal ? fmt::format("#{}", e->ordinal) : printable(e->name));
    (void)imports.finish();
    if (auto exports = pe::ExportReader::open(image)) {
      while (auto e = exports->next())
        if (e->forwarder.empty())
          by_rva.emplace(e->rva, e->name.empty() ? fmt::format("#{}", e->ordinal) : printable(e->name));
      (void)exports->finish();
    }
  }
  std::optional<std::string> at_va(const pe::Image& image, uint64_t va) const {
    const auto rva = image.va_to_rva(va);
    if (!rva) return std::nullopt;
    auto it = by_rva.find(*rva);
    return it == by_rva.end() ? std::nullopt : std::optional(it->second);
  }
};

std::string bytes_text(const std::vector<std::byte>& b) {
  std::string out;
  for (std::byte x : b) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", std::to_integer<unsigned>(x));
  return out;
}

std::string section_name(const pe::Image& image, uint64_t rva) {
  const auto* s = image.section_at(rva);
  return s ? printable(s->name) : std::string(rva < image.header_size() ? "(headers)" : "-");
}

// Where disassembly starts: the entry point, an export, or an address.
Result<uint64_t> start_rva(const pe::Image& image, const DisasmOptions& d) {
  if (d.entry) {
    const uint32_t ep = image.optional_header().address_of_entry_point;
    if (ep == 0) return make_error(Status::success, "entry point", Location{}, "AddressOfEntryPoint is 0: none");
    return uint64_t{ep};
  }
  if (!d.export_name.empty()) {
    auto exports = pe::ExportReader::open(image);
    if (!exports) return exports.take_error();
    while (auto e = exports->next()) {
      if (e->name != d.export_name) continue;
      if (!e->forwarder.empty())
        return make_error(Status::success, "export", Location{},
                          fmt::format("{} is forwarded to {}: no code here", d.export_name, printable(e->forwarder)));
      return uint64_t{e->rva};
    }
    return make_error(Status::success, "export", Location{},
                      fmt::format("the image exports no function named '{}'", printable(d.export_name)));
  }
  return address_to_rva(image, *d.address);
}

Result<int> disasm_one(const std::string& path, const DisasmOptions& d, const std::function<Printer&()>& open,
                       Warnings& w) {
  auto opened = open_image(path);
  if (!opened) return opened.take_error();
  const pe::Image& image = opened->image;
  auto dis = analysis::Disassembler::for_machine(image.file_header().Machine);
  if (!dis) return dis.take_error();
  auto rva = start_rva(image, d);
  if (!rva) return rva.take_error();
  const pe::Region* region = image.region_at(*rva);
  if (!region)
    return make_error(Status::success, "address", Location::rva(*rva), "no section maps it: nothing to decode");
  const pe::Section* section = image.section_at(*rva);
  if (!executable(region))
    w.add(make_error(Status::success, "disassembly", Location::rva(*rva),
                     fmt::format("{} is not mapped executable: these bytes are decoded as code all the same",
                                 section ? section->label() : std::string("the headers"))));
  // Up to the end of the section's declared size (VirtualSize), as objdump decodes; the zero fill after it is no code.
  uint64_t end = std::min<uint64_t>(region->rva + region->size, image.mapped_size());
  if (section && section->header.VirtualSize && *rva < uint64_t{section->rva()} + section->header.VirtualSize)
    end = uint64_t{section->rva()} + section->header.VirtualSize;
  const uint64_t len = std::min<uint64_t>(end - *rva, d.count * 16);
  // Bytes a file cut short does not hold read as zeros here; say so rather than list them as code.
  if (auto cut = image.cut_short(*rva, len, "code")) w.add(*cut);
  auto code = image.copy_range(*rva, len, "code");
  if (!code) return code.take_error();
  const auto instructions = dis->decode(*code, image.image_base() + *rva, d.count);
  std::map<uint64_t, uint8_t> fixups;  // RVA -> type, within the decoded range
  if (auto r = pe::parse_relocations(image))
    r->for_each([&](const pe::RelocEntry& e) {
      if (e.rva >= *rva && e.rva < *rva + len) fixups.emplace(e.rva, e.type);
    });
  const Names names(image);
  Printer& p = open();
  p.field("start_rva", *rva);
  p.field("start_va", image.image_base() + *rva);
  p.field("section", section_name(image, *rva));
  p.begin_array("instructions");
  for (const auto& i : instructions) {
    const uint64_t at = i.address - image.image_base();
    p.begin_object();
    p.field("va", i.address);
    p.field("rva", at);
    p.field("bytes", bytes_text(i.bytes));
    p.field("mnemonic", i.mnemonic);
    p.field("operands", i.operands);
    std::optional<std::string> target;
    if (i.memory_target) target = names.at_va(image, *i.memory_target);
    if (!target && i.branch_target) target = names.at_va(image, *i.branch_target);
    if (target) p.field("target", *target);
    p.begin_array("fixups");
    for (auto it = fixups.lower_bound(at); it != fixups.end() && it->first < at + i.bytes.size(); ++it) {
      p.begin_object();
      p.field("offset", it->first - at);
      p.field("type", pe::reloc_type_name(it->second, image.file_header().Machine));
      p.end_object();
    }
    p.end_array();
    p.end_object();
  }
  p.end_array();
  return int(exit_ok);
}

std::string render_disasm(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  out += fmt::format("{} RVA {:#x} (VA {:#x})\n", d["section"].get<std::string>(), d["start_rva"].get<uint64_t>(),
                     d["start_va"].get<uint64_t>());
  size_t width = 0;
  for (const auto& i : d["instructions"]) width = std::max(width, i["bytes"].get<std::string>().size());
  for (const auto& i : d["instructions"]) {
    std::string comment;
    if (i.contains("target")) comment += i["target"].get<std::string>();
    for (const auto& f : i["fixups"])
      comment += fmt::format("{}fixup {} at +{}", comment.empty() ? "" : "; ", f["type"].get<std::string>(),
                             f["offset"].get<uint64_t>());
    std::string text = i["mnemonic"].get<std::string>();
    if (!i["operands"].get<std::string>().empty()) text += " " + i["operands"].get<std::string>();
    std::string line =
        fmt::format("  {:#x}  {:<{}}  {}", i["va"].get<uint64_t>(), i["bytes"].get<std::string>(), width, text);
    if (!comment.empty()) line = fmt::format("{:<60}  ; {}", line, comment);
    out += line + "\n";
  }
  return out;
}

Result<int> relocs_disasm_one(const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
  auto opened = open_image(path);
  if (!opened) return opened.take_error();
  const pe::Image& image = opened->image;
  auto code = CodeMap::for_image(image);
  if (!code) return code.take_error();
  // A table that cannot be read is a finding, as in `pemap relocs`: the file is listed with no fixups.
  const auto relocs = pe::parse_relocations(image);
  std::vector<pe::RelocEntry> entries;
  if (relocs) {
    w.add(relocs->warnings);
    relocs->for_each([&](const pe::RelocEntry& e) {
      if (e.type != 0) entries.push_back(e);  // ABSOLUTE is padding
    });
  } else {
    w.add(relocs.error());
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.rva < b.rva; });
  Printer& p = open();
  p.begin_array("fixups");
  for (const auto& e : entries) {
    p.begin_object();
    p.field("rva", e.rva);
    p.field("type", pe::reloc_type_name(e.type, image.file_header().Machine));
    p.field("section", section_name(image, e.rva));
    if (const analysis::Instruction* hit = code->at(e.rva)) {
      p.begin_object("instruction");
      p.field("va", hit->address);
      p.field("offset", image.image_base() + e.rva - hit->address);
      p.field("bytes", bytes_text(hit->bytes));
      p.field("text", instruction_text(*hit));
      p.end_object();
    } else {
      p.field("instruction", nullptr);
    }
    p.end_object();
  }
  p.end_array();
  return int(exit_ok);
}

}  // namespace

std::string instruction_text(const analysis::Instruction& i) {
  return i.operands.empty() ? i.mnemonic : i.mnemonic + " " + i.operands;
}

CodeMap::CodeMap(const pe::Image& image, analysis::Disassembler dis) : image_(&image), dis_(std::move(dis)) {}

Result<CodeMap> CodeMap::for_image(const pe::Image& image) {
  auto dis = analysis::Disassembler::for_machine(image.file_header().Machine);
  if (!dis) return dis.take_error();
  return CodeMap(image, std::move(*dis));
}

std::optional<std::pair<uint64_t, Bytes>> CodeMap::code_at(uint64_t rva) const {
  const pe::Region* r = image_->region_at(rva);
  if (!executable(r)) return std::nullopt;
  uint64_t start = r->rva, limit = UINT64_MAX;
  for (const auto& s : image_->sections()) {
    const uint64_t size = std::max(s.header.VirtualSize, s.header.SizeOfRawData);
    if (rva >= s.rva() && rva - s.rva() < size) {
      // In a flat image every page is executable; a section that is neither code nor executable holds data.
      if (!(s.characteristics() & (pe::scn::mem_execute | pe::scn::cnt_code))) return std::nullopt;
      start = std::max<uint64_t>(start, s.rva());
      if (s.header.VirtualSize) limit = s.header.VirtualSize;
      break;
    }
  }
  Bytes code = image_->file_span(start);
  return std::pair(start, code.first(std::min<uint64_t>(code.size(), limit)));
}

const analysis::Instruction* CodeMap::at(uint64_t rva) {
  const auto code = code_at(rva);
  if (!code) return nullptr;
  auto it = sweeps_.find(code->first);
  if (it == sweeps_.end())
    it = sweeps_.emplace(code->first, dis_.decode(code->second, image_->image_base() + code->first, SIZE_MAX)).first;
  const uint64_t va = image_->image_base() + rva;
  const auto& list = it->second;
  auto pos = std::upper_bound(list.begin(), list.end(), va,
                              [](uint64_t v, const analysis::Instruction& i) { return v < i.address; });
  if (pos == list.begin() || std::prev(pos)->end() <= va) return nullptr;
  return &*std::prev(pos);
}

namespace {

std::string render_relocs_disasm(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  Table t({{"RVA", Table::Align::right},
           {"Type"},
           {"Section"},
           {"Instruction VA", Table::Align::right},
           {"+"},
           {"Instruction"}});
  for (const auto& f : d["fixups"]) {
    const auto& i = f["instruction"];
    t.add({fmt::format("{:#x}", f["rva"].get<uint64_t>()), f["type"].get<std::string>(),
           f["section"].get<std::string>(), i.is_null() ? "-" : fmt::format("{:#x}", i["va"].get<uint64_t>()),
           i.is_null() ? "" : std::to_string(i["offset"].get<uint64_t>()),
           i.is_null() ? "(data, or past the file's bytes: not in executable code)" : i["text"].get<std::string>()});
  }
  return out + t.render() + fmt::format("  total: {} fixups\n", d["fixups"].size());
}

}  // namespace

int run_disasm(const CommonOptions& opts, const DisasmOptions& d) {
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
        return disasm_one(path, d, open, w);
      },
      render_disasm);
}

int run_relocs_disasm(const CommonOptions& opts) {
  return print_each_file(opts, relocs_disasm_one, render_relocs_disasm);
}

}  // namespace pemap::inspect
