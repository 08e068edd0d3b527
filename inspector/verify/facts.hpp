// What `pemap verify` compares: the facts both parsers can state about one file, in one shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pe/image.hpp"
#include "pe/resources.hpp"

namespace pemap::inspect {

struct Facts {
  std::string error;                    ///< non-empty when the parser refused the file
  bool refused_by_header_rule = false;  ///< our refusal mirrors a Windows header check
  uint64_t image_base = 0;
  uint64_t entry_point = 0;
  struct Section {
    std::string name;
    std::string header_name;  ///< the 8-byte field as written ("/4" for a long name)
    uint32_t va = 0, vsize = 0, raw_pointer = 0, raw_size = 0, characteristics = 0;
  };
  std::vector<Section> sections;
  struct Reloc {
    uint32_t rva = 0;
    uint8_t type = 0;
  };
  std::vector<Reloc> relocs;  ///< every slot in file order, HIGHADJ's parameter slot included
  struct Import {
    std::string name;
    bool by_ordinal = false;
    uint16_t ordinal = 0, hint = 0;
    uint32_t iat_rva = 0;
  };
  struct Module {
    std::string dll;
    std::vector<Import> entries;
    bool lief_reads_other_bytes = false;  ///< LIEF 0.9's RVA mapping gives other file bytes here
    bool lief_skips_name = false;         ///< LIEF 0.9 skips DLL names < 4 chars or not printable
  };
  std::vector<Module> imports;
  struct Export {
    uint32_t ordinal = 0, rva = 0;
    std::string name, forwarder;
  };
  std::vector<Export> exports;
  std::vector<uint64_t> tls_callbacks;
  std::optional<uint64_t> security_cookie;
  size_t delay_import_modules = 0;
  /// Each resource leaf as "TYPE/NAME/LANGUAGE size N code page N md5 HEX", in the tree's order.
  std::vector<std::string> resources;
  bool resources_lief_reads_other_bytes = false;  ///< some entry's data, where LIEF's offset arithmetic reads it
  struct RichEntry {
    uint32_t product = 0, build = 0, count = 0;
    auto operator<=>(const RichEntry&) const = default;
  };
  std::optional<uint32_t> rich_key;
  std::vector<RichEntry> rich_entries;
  bool signed_ = false;  ///< a PKCS#7 certificate in the certificate table
  // Evidence for LIEF 0.9's known gaps, computed from our parse (see lief_model.hpp).
  uint32_t data_directories = 16;  ///< min(NumberOfRvaAndSizes, 16): LIEF always reads 16
  bool relocs_lief_reads_other_bytes = false;
  bool relocs_lief_skips = false;  ///< no section holds the directory where LIEF looks for it
  bool tls_lief_skips = false;
  bool relocs_irregular = false;     ///< our walk clipped or stopped at a malformed block
  int64_t relocs_zero_page_at = -1;  ///< index of the first entry of a block for page RVA 0
  bool imports_lief_reads_other_bytes = false;
  bool exports_lief_reads_other_bytes = false;
  bool tls_lief_reads_other_bytes = false;
};

void to_json(nlohmann::json& j, const Facts& f);
void from_json(const nlohmann::json& j, Facts& f);

Facts facts_from_pemap(const Result<pe::Image>& image);
/// One entry of Facts::resources, from either parser's reading of a leaf and its bytes.
std::string resource_fact(const pe::ResourceEntry& e, Bytes content);
/// Runs LIEF in a child process (the pemap-lief helper), so a crash or hang in LIEF is reported, not
/// inherited.
Facts facts_from_lief(const std::string& path, int timeout_seconds = 60);
/// Where pemap-lief is: $PEMAP_LIEF_HELPER, else beside this executable, else ../libexec/pemap/ from it;
/// empty when none is there.
std::string lief_helper_path();

struct Finding {
  /// disagreement: unexplained, exit 1. lief_limitation: a documented LIEF 0.9 gap, with the evidence.
  /// stricter: pemap refuses the headers by a rule Windows 7+ applies, while LIEF reads on.
  enum class Kind { disagreement, lief_limitation, stricter };
  Kind kind = Kind::disagreement;
  std::string area;  ///< "sections", "imports", ...
  std::string message;
};

std::vector<Finding> compare(const Facts& ours, const Facts& lief);

}  // namespace pemap::inspect
