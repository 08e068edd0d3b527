// A simulated process: an address space (this one's) and a module list, filled the way CreateProcess and
// LoadLibrary fill it. Each module is found, mapped as SEC_IMAGE, placed, relocated, bound to its imports (loading
// them depth-first, once each), and given its final protections, in that order; every step is reported as an Event.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memory/image_section.hpp"
#include "process/apiset.hpp"
#include "process/events.hpp"
#include "process/export_lookup.hpp"
#include "process/placement.hpp"
#include "process/search_path.hpp"
#include "process/traps.hpp"
#include "relocate.hpp"

namespace pemap::pe {
struct ImportEntry;
struct BoundImports;
}  // namespace pemap::pe
namespace pemap::win {
class PageWriter;
}

namespace pemap::ldr {

struct Dependency;
class ResolutionSet;

/// Imports served by the host instead of a DLL file (pemap run): which modules, and each function's address. The
/// host functions are x86-64 code, so they serve the imports of PE32+ modules only.
struct HostImports {
  std::function<bool(const ModuleName& dll)> serves;
  std::function<std::optional<uint64_t>(const ModuleName& dll, std::string_view function)> address;
};

struct LoadOptions {
  std::vector<std::string> search_dirs;  ///< --path: searched last, standing for PATH
  SystemDirs system_dirs;                ///< none by default; the command line discovers them
  KnownDlls known_dlls = KnownDlls::windows10();
  std::map<std::string, uint64_t> forced_bases;  ///< ModuleName::key() -> base
  PlacementPolicy placement;
  bool resolve_imports = true;  ///< false: LoadLibraryEx(DONT_RESOLVE_DLL_REFERENCES): map and relocate only
  bool allow_missing = false;   ///< bind what cannot be resolved to trap addresses instead of failing
  bool bind_delay = false;      ///< bind delay-load imports now, as if each had been called
  std::string application_dir;  ///< heads the search when a DLL is loaded first (load_executable sets its own)
  ApiSetSchema api_sets = ApiSetSchema::builtin();
  std::optional<HostImports> host;  ///< set: these modules' imports bind to host functions, never to files
  /// Set: how module names become files, instead of the search of KnownDLLs and the directories above (a fuzz
  /// target or a test that must find nothing but what it names).
  std::shared_ptr<ModuleLocator> locator;

  /// Every directory the search may read (the application's excepted): what a sandboxed child must be let read.
  std::vector<std::string> searched_dirs() const;
};

/// Where an import ended, or why it could not: one record for every IAT slot of a module that ended the same way
/// (a table can point thousands of slots at one hint/name entry).
struct Resolution {
  std::string target;               ///< "liba.dll!liba_add", "host:kernel32.dll!Sleep"; empty when missing or bound
  std::vector<std::string> chain;   ///< forwarders followed, "fwd1.dll!Chain" first
  Status status = Status::success;  ///< why the slot went to a trap: DLL, entry point or ordinal not found
  std::string reason;

  bool operator==(const Resolution&) const = default;
  static const Resolution& none();  ///< what a bound (kept) slot has: nothing followed
};

/// One IAT slot as the loader left it. Its names view the importer (its image and its record), so a binding is
/// valid while its module is loaded; it holds no copy of them.
struct Binding {
  const std::string* module = nullptr;                 ///< normalized, as the importer names it (held by it)
  const char* name_data = nullptr;                     ///< by name: the name in the importer's image
  const Resolution* resolution = &Resolution::none();  ///< held by the importer
  uint64_t address = 0;                                ///< what the slot now holds
  uint32_t iat_rva = 0;                                ///< in the importer
  uint32_t name_size = 0;
  uint16_t ordinal = 0;  ///< when by_ordinal
  bool by_ordinal = false;
  bool delay = false;  ///< from the delay-load table
  How how = How::hint;

  /// The module as the importer names it (an API-set contract stays as written).
  std::string_view dll() const { return module ? std::string_view(*module) : std::string_view(); }
  /// By name, as in the file; empty by ordinal.
  std::string_view name() const { return {name_data, name_size}; }
  std::string function() const;  ///< the name, or "#N" by ordinal
  const std::string& target() const { return resolution->target; }
  const std::vector<std::string>& chain() const { return resolution->chain; }
};

struct Module {
  ModuleName name;  ///< as first asked for ("liba.dll")
  std::string path;
  std::shared_ptr<const win::ImageSection> section;
  std::optional<win::ImageView> view;  ///< set once placed
  uint64_t preferred_base = 0, base = 0;
  std::string placed;           ///< "preferred", "bottom-up", "aslr", "forced"
  std::string displaced;        ///< why it is not at its preferred base
  bool relocated = false;       ///< fixups were applied
  std::string relocation_note;  ///< why not, when displaced and not relocated
  RelocationStats relocations;
  std::vector<Binding> bindings;
  std::deque<ModuleName> import_dlls;   ///< the module names bindings view, one per descriptor
  std::deque<Resolution> resolutions;   ///< what bindings point at
  std::vector<std::string> delay_dlls;  ///< delay-load modules, bound or not
  std::vector<Module*> dependencies;    ///< what its imports (and forwarders) loaded, in order
  uint32_t references = 0;
  bool executable = false;
  uint64_t entry_point = 0;             ///< 0: none (a DLL without an entry point)
  std::vector<uint64_t> tls_callbacks;  ///< at their relocated addresses
  std::vector<std::string> wx_regions;  ///< writable and executable, because the section asked for it
  uint64_t iat_pages_made_private = 0;  ///< IAT pages of a MEM_SHARED section given their own copy
  unsigned load_order = 0;

  const ExportLookup& exports() const;
  mutable std::string exports_error;  ///< why the export directory could not be read, if it could not
  /// The image as the loader reads its tables from the mapped headers: the file's parse, or, when relocation or
  /// the TLS index changed the headers or a table, a parse of the file with those changes written back (corkami
  /// lfanew_relocW7.exe relocates e_lfanew onto a second PE header; manyimportsW7.exe ends its import table
  /// with the TLS index).
  const pe::Image& image() const { return reread ? *reread : section->image(); }
  std::vector<std::byte> reread_file;  ///< the file with the loader's changes; `reread` views it
  std::optional<pe::Image> reread;
  /// The whole image as mapped now, SizeOfImage bytes: pages never committed (gaps) read as zeros, pages
  /// without read access are read through a moment of PROT_READ.
  std::vector<std::byte> image_bytes() const;

 private:
  mutable std::unique_ptr<ExportLookup> exports_;
};

/// An import that could not be resolved and, with allow_missing, went to a trap (a failed load leaves none): its
/// binding in its importer, valid while the importer is loaded.
struct Unresolved {
  const Module* importer = nullptr;
  size_t index = 0;  ///< in the importer's bindings

  const Binding& binding() const { return importer->bindings[index]; }

  const std::string& importer_name() const { return importer->name; }
  std::string_view dll() const { return binding().dll(); }
  std::string function() const { return binding().function(); }
  Status status() const { return binding().resolution->status; }
  const std::string& reason() const { return binding().resolution->reason; }
  uint64_t trap() const { return binding().address; }
};

class Process {
 public:
  explicit Process(LoadOptions options, EventSink sink = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  /// CreateProcess: the executable at `path` (its directory heads the search path) and everything it imports.
  Result<Module*> load_executable(const std::string& path);
  /// LoadLibrary: a module by name (searched) or path (a name with a slash), and what it imports. On failure
  /// every module this call loaded is unloaded again and reference counts are as before.
  Result<Module*> load_library(const std::string& name_or_path);
  /// FreeLibrary: one reference less; at 0 the module is unmapped and its dependencies released in turn. The
  /// executable is pinned: freeing it succeeds and changes nothing (an unload event with ok false says so).
  /// `before_unmap` sees each module that goes, just before it goes (DllMain(DLL_PROCESS_DETACH) runs there).
  Result<bool> free_library(const ModuleName& name, const std::function<void(const Module&)>& before_unmap = {});

  /// The module list in load order.
  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }
  Module* find(const ModuleName& name) const;
  /// The order DllMain would run in: every module after the ones it depends on.
  std::vector<const Module*> initialization_order() const;
  /// The imports bound to traps: by importer in load order, then in slot order. Made from the bindings when asked.
  std::vector<Unresolved> unresolved() const;
  const TrapTable& traps() const { return traps_; }
  const LoadOptions& options() const { return options_; }

 private:
  struct Export {
    const Module* module = nullptr;
    uint64_t address = 0;
    std::string target;
    std::vector<std::string> chain;
    How how = How::hint;
  };
  Result<Module*> load_top(const std::string& name_or_path, bool executable);
  /// The search for a process whose application directory is `app_dir` (or the locator the options give).
  std::shared_ptr<ModuleLocator> search_from(const std::string& app_dir) const;
  /// The kind of image the process runs: its first module's (`any` before there is one).
  Bitness bitness() const;
  Result<Module*> load_module(const ModuleName& asked, const std::string& importer, unsigned depth,
                              const std::string& explicit_path = {}, bool executable = false);
  /// `from`'s dependency `dll` (an API-set name goes to its host): found among its dependencies, or loaded.
  Result<Module*> depend(Module& from, const ModuleName& dll, unsigned depth, std::string why);
  Result<bool> map_and_relocate(Module& m, unsigned depth);
  void replace_cookie(Module& m, unsigned depth);
  /// Writes the module's TLS index at AddressOfIndex; true when that changed bytes that come from the file.
  bool assign_tls_index(Module& m, unsigned depth);
  /// Re-reads the module's headers and tables from its mapped image when the loader's writes changed them.
  Result<bool> reread_if_changed(Module& m, bool tls_changed_file_bytes, unsigned depth);
  Result<bool> bind_imports(Module& m, unsigned depth);
  /// Loads every module `deps` names (or marks it served by the host, or missing), before any slot is filled.
  Result<bool> load_imported_modules(Module& m, std::vector<Dependency>& deps, ResolutionSet& held, unsigned depth);
  /// Whether `dep`'s IAT slots keep the addresses bound at link time: its target is the very file (TimeDateStamp,
  /// or the bound import directory's when that is -1) at its preferred base. Says why on the event stream.
  bool keeps_bound_addresses(const Module& m, const Dependency& dep, const Result<pe::BoundImports>& bound,
                             unsigned depth) const;
  Result<bool> bind_delay_imports(Module& m, unsigned depth);
  /// A host function for `dll`!`name` when the host serves `dll`: an Export ("host"), or entry point not found.
  std::optional<Result<Export>> from_host(const ModuleName& dll, std::string_view importer, bool by_ordinal,
                                          uint32_t ordinal, std::string_view name);
  Result<Export> resolve(Module& from, bool by_ordinal, uint32_t ordinal, std::string_view name, uint16_t hint,
                         unsigned depth);
  /// Resolves one import of `m` from `dep` (or a trap), writes its IAT slot and records it.
  Result<bool> snap(Module& m, const Dependency& dep, const pe::ImportEntry& e, Binding b, win::PageWriter& iat,
                    ResolutionSet& held, unsigned depth);
  /// Binds `b` to a trap for `why` (held by the importer), or, unless allow_missing and `why` is an absence, fails.
  Result<bool> missing(Module& importer, Binding& b, const Resolution* why, unsigned depth);
  void finish(Module& m, unsigned depth);
  void release(Module* m, const std::function<void(const Module&)>& before_unmap = {});
  void emit(Event e) const;
  /// The module that serves `dll`: its API-set host when it is a contract the schema knows, else itself.
  ModuleName host_name(const ModuleName& dll, std::string_view importer = {}) const;
  /// STATUS_DLL_NOT_FOUND for `name`, which the search did not find (`searched` says where it looked); remembered as
  /// the last miss.
  Error not_found(const ModuleName& name, const std::string& importer, const std::string& searched);
  /// Why a load of `dll` failed, for the record of a missing DLL: when the search did not find `dll` itself (the
  /// last miss is `dll`: a load fails at its first miss), that alone ("not found (searched ...)"), the same for every
  /// importer, so thousands of missing DLLs share one Resolution; otherwise the whole error.
  std::string search_failure(const Error& e, const ModuleName& dll) const;

  LoadOptions options_;
  EventSink sink_;
  Placer placer_;
  std::shared_ptr<ModuleLocator> locator_;
  std::vector<std::unique_ptr<Module>> modules_;
  TrapTable traps_;
  unsigned next_order_ = 0;
  uint32_t next_tls_index_ = 0;
  struct Miss {
    ModuleName name;
    std::string reason;
  };
  std::optional<Miss> last_miss_;  ///< the last module the search did not find, and why
};

}  // namespace pemap::ldr
