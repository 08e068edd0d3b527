// What each inspector command finds in an image, printed member by member through a Printer as the parser's
// results are walked: the same calls make the streamed --json and the document the text renderings read.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pe/image.hpp"
#include "printer.hpp"

namespace pemap::inspect {

/// An error as a JSON object: structure, message, text, and status, offset or rva when it has them.
void print_error(Printer& p, std::string_view key, const Error& e);

/// One import bound to a trap, as load's and run's documents list it.
void print_unresolved(Printer& p, std::string_view importer, std::string_view dll, std::string_view function,
                      Status status, std::string_view reason, uint64_t trap);

/// "fixups": the relocations applied, by type name (types of one name counted together), as the loader and the
/// relocation check count them.
void print_fixups(Printer& p, const std::map<uint8_t, uint64_t>& per_type, uint16_t machine);
/// "fixup_pages": when `moved` (relocated away from its preferred base), each page of `image` its fixups write (and
/// so make the view's own copy of), with how many fixups land there; a fixup counts on the page it starts in.
void print_fixup_pages(Printer& p, const pe::Image& image, bool moved);
/// print_fixups' object as text: "300002 DIR64, 2 HIGHLOW", or `none` when it is empty.
std::string fixup_counts_text(const json& fixups, std::string_view none);

/// What a command found wrong while it printed: printed last, as the document's "warnings" array.
class Warnings {
 public:
  void add(const Error& e) { list_.push_back(e); }
  void add(const std::vector<Error>& list) { list_.insert(list_.end(), list.begin(), list.end()); }
  /// Those of `other` not already here (image warnings come with both headers and sections).
  void merge(const Warnings& other);
  /// The parsed table, or nullptr when the table could not be read; its warnings, or its error, are added.
  template <class T>
  const T* parsed(const Result<T>& r) {
    if (!r) return add(r.error()), nullptr;
    add(r->warnings);
    return &*r;
  }
  /// For the walks, whose result is their warnings: whether the table could be read.
  bool parsed(const Result<std::vector<Error>>& r) {
    if (!r) return add(r.error()), false;
    add(*r);
    return true;
  }
  /// "warnings": [...], when there are any.
  void print(Printer& p) const;
  std::vector<std::string> texts() const;
  bool empty() const { return list_.empty(); }

 private:
  std::vector<Error> list_;
};

/// Each prints the members of one file's document into the object `p` is in, and adds its warnings to `w`.
using Model = void (*)(const pe::Image& image, Printer& p, Warnings& w);
void model_info(const pe::Image& image, Printer& p, Warnings& w);
void model_headers(const pe::Image& image, Printer& p, Warnings& w);
void model_sections(const pe::Image& image, Printer& p, Warnings& w);
void model_imports(const pe::Image& image, Printer& p, Warnings& w);
void model_exports(const pe::Image& image, Printer& p, Warnings& w);
/// Whether `imports` and `exports` add each mangled C++ name's demangled form (--demangle).
enum class Demangle : uint8_t { no, yes };
void model_imports(const pe::Image& image, Printer& p, Warnings& w, Demangle demangle);
void model_exports(const pe::Image& image, Printer& p, Warnings& w, Demangle demangle);
void model_relocs(const pe::Image& image, Printer& p, Warnings& w);
void model_tls(const pe::Image& image, Printer& p, Warnings& w);
/// `pemap all`: each of the above but info, as an object under its command's name.
void model_all(const pe::Image& image, Printer& p, Warnings& w);

/// A model's document in memory, warnings included (for the text renderings and the tests).
json model_document(Model model, const pe::Image& image);

/// The name of the section holding `rva`: "(headers)" below the headers' end, nullopt outside every section.
std::optional<std::string> section_ref(const pe::Image& image, uint64_t rva);
/// section_ref as the field `key`: null when no section holds `rva`.
void section_field(Printer& p, std::string_view key, const pe::Image& image, uint64_t rva);
/// "regions": VirtualQuery's regions of [base, base+size) in this process (address, size, state, protect, type, and
/// an image region's sections), as `map` and `load` list them.
void print_regions(Printer& p, const void* base, size_t size);
/// The CheckSum against the file's: "matches", "not set", "differs", or "not computed" (files over 8 MiB).
const char* checksum_status(const pe::Image& image);

}  // namespace pemap::inspect
