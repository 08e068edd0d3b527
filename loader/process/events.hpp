// What the loader did, step by step: the one record the narration (--trace) and the JSON report are both made from.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace pemap::ldr {

/// The steps, in the order CreateProcess and LoadLibrary take them for each module.
enum class Step : uint8_t {
  find,        ///< the file found on the search path (`path`, `where`), or not (`ok` false)
  section,     ///< NtCreateSection(SEC_IMAGE): `size` = SizeOfImage, `count` = sections
  map,         ///< NtMapViewOfSection: `preferred` and `address` bases, `how` placed, `reason` when displaced
  relocate,    ///< base relocations applied: `delta`, `counts` per type, `count` = pages made private
  cookie,      ///< the /GS security cookie at `address` replaced with `value`
  imports,     ///< the import descriptors walked: `count` modules; `target` lists them
  dependency,  ///< `module` needs `target` (`reason`: for its imports, a forwarder, delay-load); its load follows
  apiset,      ///< an API-set contract `module` resolved to its host `target`
  reference,   ///< a dependency already loaded: `target`'s reference count is now `count`
  bind,        ///< `module`'s imports from `target` bound: `count` slots, `counts` by how
  bound,       ///< a bound import of `target` kept (`ok`) or rebound, `reason`
  delay,       ///< delay-load imports from `target`: `count` slots, bound now or left for first call (`ok`)
  missing,     ///< `target`!`function` not found (`function` empty: the whole DLL, `count` imports): a trap at
               ///< `address` (allowed, `ok`) or the load fails
  protect,     ///< final protections: `count` regions; W+X regions named in `reason`
  tls_index,   ///< the module's TLS index `value` written at `address` (AddressOfIndex)
  reread,      ///< the loader's writes changed the mapped headers or tables: they are read again (`reason`)
  tls,         ///< TLS callbacks: `count`, the first at `address`
  entry,       ///< the entry point at `address` (0: none)
  loaded,      ///< the module is in the module list: `count` = its reference count
  failed,      ///< the load stopped: `reason` is the error
  unload,      ///< the reference count reached 0: the view is unmapped
};

std::string_view step_name(Step s);

struct Event {
  Step step = Step::find;
  unsigned depth = 0;      ///< 0 for the module asked for, 1 for its imports, and so on
  std::string module;      ///< the module the step works on
  std::string target;      ///< the other module: the dependency, the API-set host, who imported this one
  std::string function;    ///< for missing imports
  std::string path;        ///< the file
  std::string where;       ///< which search-path entry found it
  std::string how;         ///< how the base was chosen: "preferred", "bottom-up", "aslr", "forced"
  std::string reason;      ///< why: a displacement, a refusal, an error
  uint64_t preferred = 0;  ///< the ImageBase in the file
  uint64_t address = 0;    ///< where it happened
  int64_t delta = 0;       ///< actual base - preferred base
  uint64_t size = 0;
  uint64_t count = 0;
  uint64_t value = 0;
  bool ok = true;
  std::map<std::string, uint64_t> counts;  ///< fixups by type name, bindings by method
};

/// Where the loader reports each step as it takes it.
using EventSink = std::function<void(const Event&)>;

}  // namespace pemap::ldr
