// Step names, as the JSON report spells them.
#include "process/events.hpp"

namespace pemap::ldr {

std::string_view step_name(Step s) {
  switch (s) {
    case Step::find:
      return "find";
    case Step::section:
      return "section";
    case Step::map:
      return "map";
    case Step::relocate:
      return "relocate";
    case Step::cookie:
      return "cookie";
    case Step::imports:
      return "imports";
    case Step::dependency:
      return "dependency";
    case Step::apiset:
      return "apiset";
    case Step::reference:
      return "reference";
    case Step::bind:
      return "bind";
    case Step::bound:
      return "bound";
    case Step::delay:
      return "delay";
    case Step::missing:
      return "missing";
    case Step::protect:
      return "protect";
    case Step::tls_index:
      return "tls_index";
    case Step::reread:
      return "reread";
    case Step::tls:
      return "tls";
    case Step::entry:
      return "entry";
    case Step::loaded:
      return "loaded";
    case Step::failed:
      return "failed";
    case Step::unload:
      return "unload";
  }
  return "?";
}

}  // namespace pemap::ldr
