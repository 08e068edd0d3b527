// The picture of a simulated process's address space after a load: each module a band at its base (a ghost at its
// preferred base when displaced), each image's regions coloured by protection, the pages a displaced image's
// fixups made private, and the IAT-to-export arrows of its bindings; drawn from `pemap load --json`'s document.
#pragma once

#include <map>
#include <string>

#include "printer.hpp"

namespace pemap::inspect {

/// Which step of a load made each thing: the index in the document's "events" of a module's "map" and
/// "relocate", and of an importer's "bind" of a DLL, as text for a data-from attribute; the last step when none
/// names it. Names compare in lower case, as the loader's do.
class LoadSteps {
 public:
  explicit LoadSteps(const json& load_doc);
  std::string mapped(const std::string& module) const { return find(mapped_, module); }
  std::string relocated(const std::string& module) const { return find(relocated_, module); }
  std::string bound(const std::string& importer, const std::string& dll) const {
    return find(bound_, importer + "!" + dll);
  }

 private:
  std::string find(const std::map<std::string, size_t>& m, const std::string& key) const;
  std::map<std::string, size_t> mapped_, relocated_, bound_;
  size_t last_ = 0;
};

/// A load document of one module, for the picture of one view (`map`, `relocs --check`): the view's document
/// `view` gives "base", "preferred_base" (its base when absent), "regions", "fixup_pages" and "first_violations";
/// the module's size runs to the end of its last region; `placed` says what made the view.
json one_view_document(const std::string& path, const json& view, const std::string& placed);

/// The SVG, standalone (xmlns set). Each element that a step of the load creates names that step's index in the
/// document's "events" (data-from), so that a page can show the picture as it stood after any step; the axis's
/// stretches are written on the group a page's script draws import arrows in.
std::string address_space_svg(const json& load_doc);

}  // namespace pemap::inspect
