// pemap: the command line.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

#include "address_command.hpp"
#include "apiset_command.hpp"
#include "commands.hpp"
#include "disasm_command.hpp"
#include "exceptions_view.hpp"
#include "instances.hpp"
#include "load_command.hpp"
#include "relocs_check.hpp"
#include "resources_view.hpp"
#include "run_command.hpp"
#include "signature_view.hpp"
#include "uefi_command.hpp"
#include "verify/corpus.hpp"
#include "views.hpp"

namespace {
using namespace pemap;
using namespace pemap::inspect;

template <class T>
struct value_of {
  using type = T;
};
template <class T>
struct value_of<std::optional<T>> {
  using type = T;
};

/// The sandbox of the commands that run image code (run/sandbox.hpp): what it may write, its limits, and the
/// options, each named unsafe, that take a fence down.
void sandbox_flags(CLI::App* cmd, run::Sandbox& s) {
  const std::string command = cmd->get_name();
  cmd->add_option_function<std::string>(
         "--allow-dir",
         [&s, command](const std::string& dir) {
           std::error_code ec;
           if (!std::filesystem::is_directory(dir, ec))
             throw CLI::ValidationError(fmt::format("pemap {}: --allow-dir {}: not a directory", command, dir));
           s.write_dirs.push_back(dir);
         },
         "a directory the code may read and write beneath (repeatable; by default it may write nowhere)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option_function<std::string>(
      "--limit-mem",
      [&s, command](const std::string& text) {
        auto bytes = parse_size(text, "--limit-mem");
        if (bytes && (*bytes < (uint64_t{16} << 20) || *bytes > (uint64_t{1} << 40)))
          bytes = make_error(Status::success, "--limit-mem", Location{}, "'" + text + "' is not in 16M..1024G");
        if (!bytes) throw CLI::ValidationError(fmt::format("pemap {}: {}", command, bytes.error().to_string()));
        s.memory_bytes = *bytes;
      },
      "address space the code may add, in MiB or with K, M, G (default 1G)");
  cmd->add_option_function<std::string>(
      "--limit-time",
      [&s, command](const std::string& text) {
        auto n = parse_number(text, "--limit-time");
        if (n && (*n < 1 || *n > 86400))
          n = make_error(Status::success, "--limit-time", Location{}, "'" + text + "' is not in 1..86400");
        if (!n) throw CLI::ValidationError(fmt::format("pemap {}: {}", command, n.error().to_string()));
        s.cpu_seconds = static_cast<uint32_t>(*n);
      },
      "CPU seconds the process may use, its load included (default 60)");
  cmd->add_flag_callback(
      "--unsafe-allow-syscalls", [&s] { s.system_calls = false; },
      "UNSAFE: no system-call filter: the code may make any system call, itself or through libc");
  cmd->add_flag_callback(
      "--unsafe-all-files", [&s] { s.files = false; },
      "UNSAFE: no file confinement (Landlock): the code may read and write what you can");
  cmd->add_flag_callback(
      "--unsafe-no-limits", [&s] { s.limits = false; }, "UNSAFE: no memory or CPU time limit");
  cmd->add_flag_callback(
      "--unsafe-no-sandbox", [&s] { s.system_calls = s.files = s.limits = false; },
      "UNSAFE: all of the three above: the code runs with your rights");
}

/// A numeric option: every one reads through parse_number (no sign, no suffix, no overflow) and must fit its field.
template <class T>
CLI::Option* add_number(CLI::App* cmd, const std::string& names, T& into, const std::string& help) {
  using V = typename value_of<T>::type;
  const std::string option = names.substr(names.rfind(',') + 1);
  return cmd
      ->add_option_function<std::string>(
          names,
          [&into, option, command = cmd->get_name()](const std::string& text) {
            auto v = parse_number(text, option);
            if (v && *v > uint64_t{std::numeric_limits<V>::max()})
              v = make_error(Status::success, option, Location{},
                             fmt::format("'{}' is above {}", text, uint64_t{std::numeric_limits<V>::max()}));
            if (!v) throw CLI::ValidationError(fmt::format("pemap {}: {}", command, v.error().to_string()));
            into = static_cast<V>(*v);
          },
          help)
      ->type_name("NUMBER");
}

/// --json, and --jsonl, which sets `json` too.
void add_json(CLI::App* cmd, bool& json, bool& jsonl, const std::string& help) {
  auto* indented = cmd->add_flag("--json", json, help);
  cmd->add_flag("--jsonl", jsonl, "the same in compact JSON, a document (a file) per line")
      ->each([&json](const std::string&) { json = true; })
      ->excludes(indented);
}

/// The arguments of a command that reads files: the files or directories, --json, --jsonl, --verbose.
void add_files(CLI::App* cmd, CommonOptions& opts, const std::string& what) {
  cmd->add_option("files", opts.inputs, what + ", or - for standard input")->required();
  add_json(cmd, opts.json, opts.jsonl, "JSON output: an object for one file, an array for several");
  cmd->add_flag("--verbose", opts.verbose, "list the files met in a directory that are not PE images");
}

/// `pemap bogus`: CLI11 would only say that a subcommand is required.
bool unknown_command(CLI::App& app, int argc, char** argv) {
  const auto subs = app.get_subcommands({});
  if (argc < 2 || argv[1][0] == '-' ||
      std::any_of(subs.begin(), subs.end(), [&](CLI::App* sub) { return sub->check_name(argv[1]); }))
    return false;
  std::string names;
  for (const auto* sub : subs) names += (names.empty() ? "" : ", ") + sub->get_name();
  std::cerr << fmt::format("pemap: unknown command '{}'; the commands are: {}\n", argv[1], names);
  return true;
}

int run_command_line(int argc, char** argv) {
  CLI::App app{"pemap: inspect PE images the way the Windows loader sees them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pemap 0.1.0");

  CommonOptions opts;
  DumpOptions dump;
  const std::vector<std::pair<std::string, std::string>> views{
      {"info", "summary of each file"},
      {"headers", "DOS, COFF and optional headers, data directories, load config, debug"},
      {"sections", "section table with decoded flags and the layout Windows maps"},
      {"imports", "imported modules and functions, delay-load and bound imports"},
      {"exports", "exported functions, ordinals and forwarders"},
      {"relocs", "base relocation blocks and entries"},
      {"tls", "TLS directory and callbacks"},
      {"resources", "resource tree (type, name, language), version information, manifest"},
      {"hashes", "MD5, SHA-1 and SHA-256 of the file and each section, imphash, entropy"},
      {"all", "headers, sections, imports, exports, relocations, TLS and resources"},
  };
  std::string chosen;
  for (const auto& [name, help] : views) {
    auto* sub = app.add_subcommand(name, help);
    add_files(sub, opts, "PE files or directories");
    sub->callback([&chosen, n = name] { chosen = n; });
  }
  for (const char* name : {"imports", "exports"})
    app.get_subcommand(name)->add_flag(
        "--demangle", opts.demangle,
        "C++ names as a person reads them (Itanium scheme: GCC's demangler; Microsoft's: LLVM's)");
  bool relocs_check = false;
  std::optional<uint64_t> relocs_base;
  auto* relocs_cmd = app.get_subcommand("relocs");
  relocs_cmd->add_flag("--check", relocs_check,
                       "relocate for real at --base and check every byte against the listed fixups");
  add_number(relocs_cmd, "--base", relocs_base,
             "the base to load at, with --check (64 KiB aligned; with --as efi, a page boundary)");
  std::string relocs_html, relocs_svg;
  relocs_cmd->add_option("--html", relocs_html,
                         "FILE, with --check: a page picturing the relocated view and its private pages (one file)");
  relocs_cmd->add_option("--svg", relocs_svg, "FILE, with --check: the picture alone, as SVG (one file)");
  std::string relocs_as = "windows";
  bool relocs_disasm = false;
  relocs_cmd->add_flag("--disasm", relocs_disasm,
                       "each fixup with the instruction it patches (a linear sweep of its executable section)");
  auto* relocs_as_opt =
      relocs_cmd->add_option("--as", relocs_as, "with --check: whose loader lays the image out, windows or efi")
          ->check(CLI::IsMember({"windows", "efi"}));
  std::string extract, extract_to;
  auto* resources_cmd = app.get_subcommand("resources");
  auto* extract_opt = resources_cmd->add_option(
      "--extract", extract, "TYPE/NAME[/LANGUAGE]: write that resource's bytes to -o (e.g. RT_MANIFEST/#1)");
  resources_cmd->add_option("-o,--output", extract_to, "with --extract: the file to write, - for standard output")
      ->needs(extract_opt);
  extract_opt->needs("-o");
  uint64_t address = 0;
  std::string address_file;
  for (const auto& [name, help, what] :
       {std::tuple{"rva", "an RVA (or a VA) to its file offset and section, by the layout Windows maps",
                   "the RVA, or a VA of the image at its preferred base"},
        std::tuple{"offset", "a file offset to every RVA it is mapped at", "the file offset"}}) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("file", address_file, "the PE file")->required();
    sub->add_option_function<std::string>(
           "address",
           [&address, n = std::string(name)](const std::string& text) {
             auto v = parse_number(text, "address");
             if (!v) throw CLI::ValidationError(fmt::format("pemap {}: {}", n, v.error().to_string()));
             address = *v;
           },
           what)
        ->required();
    add_json(sub, opts.json, opts.jsonl, "JSON output");
    sub->callback([&chosen, n = std::string(name)] { chosen = n; });
  }
  bool unwind = false;
  auto* exceptions_cmd = app.add_subcommand(
      "exceptions", "the exception directory (.pdata): each function's range and unwind information (x64, ARM64)");
  add_files(exceptions_cmd, opts, "PE files or directories");
  exceptions_cmd->add_flag("--unwind", unwind,
                           "decode each x64 UNWIND_INFO: prologue, frame register, unwind codes, handler, chaining");
  exceptions_cmd->callback([&] { chosen = "exceptions"; });
  DisasmOptions disasm;
  auto* disasm_cmd = app.add_subcommand(
      "disasm", "instructions from the entry point, an export or an address (Capstone), imports and fixups named");
  add_files(disasm_cmd, opts, "PE files or directories");
  auto* disasm_entry = disasm_cmd->add_flag("--entry", disasm.entry, "start at the entry point");
  auto* disasm_export = disasm_cmd->add_option("--export", disasm.export_name, "start at this exported function");
  auto* disasm_at = add_number(disasm_cmd, "--rva", disasm.address, "start at this RVA (or VA)");
  disasm_entry->excludes(disasm_export)->excludes(disasm_at);
  disasm_export->excludes(disasm_at);
  add_number(disasm_cmd, "--count", disasm.count, "how many instructions (default 20)");
  disasm_cmd->callback([&] { chosen = "disasm"; });
  std::string trust_store;
  auto* signature_cmd = app.add_subcommand("signature",
                                           "the certificate table and each Authenticode signature: the image digest "
                                           "recomputed and compared, the signer, the certificates");
  add_files(signature_cmd, opts, "PE files or directories");
  signature_cmd
      ->add_option("--trust-store", trust_store,
                   "a file of PEM certificates: check that each signer's chain leads to one of them")
      ->check(CLI::ExistingFile);
  signature_cmd->callback([&] { chosen = "signature"; });
  auto* dump_cmd = app.add_subcommand("dump", "hex and ASCII bytes of a section, an RVA range or a file range");
  add_files(dump_cmd, opts, "PE files or directories");
  dump_cmd->add_option("--section", dump.section, "section name: its raw bytes from the file");
  add_number(dump_cmd, "--rva", dump.rva, "start RVA (bytes as the image lays them out)");
  add_number(dump_cmd, "--offset", dump.offset, "start file offset");
  add_number(dump_cmd, "--size", dump.size, "number of bytes (needed with --rva and --offset; limits --section)");
  std::string view = "raw";
  dump_cmd->add_option("--view", view, "with --section: raw (the bytes on disk) or image (as mapped)")
      ->check(CLI::IsMember({"raw", "image"}));
  dump_cmd->callback([&] { chosen = "dump"; });
  MapOptions map;
  auto* map_cmd = app.add_subcommand("map", "map each file as Windows does and show the regions (VirtualQuery)");
  add_files(map_cmd, opts, "PE files or directories");
  add_number(map_cmd, "--base", map.base,
             "map exactly at this address (64 KiB aligned; with --as efi, a page boundary, default ImageBase)");
  map_cmd->add_flag("--raw", map.raw, "a data view of the file as it is on disk, not an image view");
  auto* map_offset =
      add_number(map_cmd, "--offset", map.offset, "file offset the view starts at (a multiple of 64 KiB)");
  auto* map_size = add_number(map_cmd, "--size", map.size, "bytes to map (default: to the end of the section)");
  std::string map_as = "windows";
  map_cmd
      ->add_option("--as", map_as,
                   "whose loader lays the image out: windows (the memory manager's image view) or efi (the UEFI "
                   "firmware's loader, by the section table, relocated to --base)")
      ->check(CLI::IsMember({"windows", "efi"}));
  map_cmd->add_option("--html", map.html, "FILE: a self-contained page picturing the view (one input file)");
  map_cmd->add_option("--svg", map.svg, "FILE: the picture alone, as SVG (one input file)");
  map_cmd->callback([&] { chosen = "map"; });
  auto* diff =
      app.add_subcommand("diff-views", "where the image view and the raw view of each section differ, and why");
  add_files(diff, opts, "PE files or directories");
  diff->callback([&] { chosen = "diff-views"; });
  CorpusOptions corpus;
  bool corpus_mode = false;
  auto* verify = app.add_subcommand(
      "verify", "cross-check our parse against LIEF's; with --corpus, parse, map and load each file in a child");
  add_files(verify, opts, "PE files or directories");
  verify->add_flag("--corpus", corpus_mode,
                   "the arguments are directories: each file is parsed, mapped and loaded in a child process and "
                   "reported as ok, refused (with its reason), crash or timeout");
  add_number(verify, "--timeout", corpus.timeout_seconds, "with --corpus: seconds per file (default 20)");
  add_number(verify, "-j,--jobs", corpus.jobs, "with --corpus: files checked at once (default: one per CPU)");
  verify->callback([&] { chosen = "verify"; });

  // Where a load looks for DLLs: the same four options on load, run, call and instances.
  auto search_flags = [](CLI::App* cmd, SearchOptions& o) {
    cmd->add_option("--path", o.path, "a directory to search for DLLs, last, standing for PATH (repeatable)");
    cmd->add_option("--system-dir", o.system_dir,
                    "System32: where KnownDLLs and system DLLs come from (default: $PEMAP_SYSTEM32, else for load "
                    "the installed Wine's x86_64-windows); alone, for PE32 processes too");
    cmd->add_option("--syswow64-dir", o.syswow64_dir,
                    "System32 as a PE32 process sees it (default: $PEMAP_SYSWOW64, else for load Wine's "
                    "i386-windows)");
    cmd->add_option("--known-dlls", o.known_dlls, "a file of KnownDLLs names, one a line (default: Windows 10's)");
  };
  LoadCommandOptions load;
  auto* load_cmd = app.add_subcommand("load", "load an .exe (CreateProcess) or a DLL (LoadLibrary) with its imports");
  load_cmd->add_option("file", load.file, "the executable or DLL")->required();
  search_flags(load_cmd, load.search);
  load_cmd->add_option("--base", load.bases, "MODULE=ADDR: load that module exactly there (repeatable)");
  add_number(load_cmd, "--aslr", load.aslr_seed, "random bases from this seed for DYNAMIC_BASE and displaced images");
  add_number(load_cmd, "--bottom-up", load.bottom_up_start,
             "where the search for a free base starts when one is taken (default 0x10000)");
  load_cmd->add_option("--apiset", load.api_set_files,
                       "a file of \"contract host\" lines extending the API-set schema");
  load_cmd->add_option("--preload", load.preload, "a DLL to LoadLibrary before FILE, taking its range (repeatable)");
  load_cmd->add_flag("--allow-missing", load.allow_missing,
                     "bind missing DLLs and functions to trap addresses instead of failing");
  load_cmd->add_flag("--bind-delay", load.bind_delay, "bind delay-load imports now");
  load_cmd->add_flag("--no-imports", load.no_imports, "map and relocate only (DONT_RESOLVE_DLL_REFERENCES)");
  load_cmd->add_option("--dump-image", load.dumps, "MODULE=FILE: write the module's image, as loaded, to FILE");
  load_cmd->add_flag("--trace", load.trace, "tell the story of the load, step by step");
  add_json(load_cmd, load.json, load.jsonl, "JSON output (the report with every event)");
  load_cmd->add_option("--html", load.html,
                       "FILE: a self-contained page picturing the address space, the load step by step, the imports");
  load_cmd->add_option("--svg", load.svg, "FILE: the address-space picture alone, as SVG");
  load_cmd->callback([&] { chosen = "load"; });

  ApiSetOptions apiset;
  auto* apiset_cmd = app.add_subcommand(
      "apiset", "an API-set schema's contracts and hosts: FILE (an apisetschema.dll), or the one a load would use");
  apiset_cmd->add_option("file", apiset.file, "an apisetschema.dll (default: the system directory's, else built-in)");
  apiset_cmd->add_option("--system-dir", apiset.search.system_dir, "System32, whose apisetschema.dll to list");
  add_json(apiset_cmd, apiset.json, apiset.jsonl, "JSON output");
  apiset_cmd->callback([&] { chosen = "apiset"; });

  InstancesOptions inst;
  auto* inst_cmd = app.add_subcommand(
      "instances", "N processes load one DLL at once and run DllMain: copy-on-write data vs a MEM_SHARED section");
  inst_cmd->add_option("dll", inst.dll, "the DLL (PE32+ x86-64 code runs; PE32 is loaded but not run)")->required();
  add_number(inst_cmd, "-n", inst.count, "how many instances (default 3)");
  search_flags(inst_cmd, inst.search);
  inst_cmd->add_option("--call", inst.calls, "an export taking no arguments to call in each instance (repeatable)");
  inst_cmd->add_flag("--allow-missing", inst.allow_missing,
                     "bind missing DLLs and functions to trap addresses instead of failing");
  add_json(inst_cmd, inst.json, inst.jsonl, "JSON output");
  inst_cmd->add_option("--html", inst.html, "FILE: a self-contained page picturing each instance's pages");
  inst_cmd->add_option("--svg", inst.svg, "FILE: the picture alone, as SVG");
  sandbox_flags(inst_cmd, inst.sandbox);
  inst_cmd->callback([&] { chosen = "instances"; });

  // What run and call share: where the DLLs are, forced bases, and how much to tell.
  auto run_flags = [&search_flags](CLI::App* cmd, RunOptions& o) {
    search_flags(cmd, o.search);
    cmd->add_option("--base", o.bases, "MODULE=ADDR: load that module exactly there (repeatable)");
    cmd->add_flag("--trace", o.trace, "tell the story of the load (on stderr) first");
    cmd->add_flag("--verbose", o.verbose, "name each import bound to a trap (by default only their count)");
    add_json(cmd, o.json, o.jsonl,
             "JSON output: modules, imports bound to traps, the outcome (after what the code prints)");
    sandbox_flags(cmd, o.sandbox);
  };
  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "run a PE32+ x86-64 program: imports bound to host functions");
  run_cmd->add_option("file", run.file, "the executable")->required();
  run_flags(run_cmd, run);
  run_cmd->callback([&] { chosen = "run"; });

  RunOptions call;
  call.call = true;
  auto* call_cmd = app.add_subcommand("call", "call an exported function of a PE32+ x86-64 DLL and print its result");
  call_cmd->add_option("dll", call.file, "the DLL")->required();
  call_cmd->add_option("function", call.function, "the exported function")->required();
  call_cmd->add_option("args", call.args, "up to 4 arguments: integers (0x.. too) or strings (passed as char*)");
  run_flags(call_cmd, call);
  call_cmd->callback([&] { chosen = "call"; });

  if (unknown_command(app, argc, argv)) return exit_unusable;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_unusable;
  }
  dump.image_view = view == "image";
  if (chosen == "dump") return run_dump(opts, dump);
  if (chosen == "load") return run_load(load);
  if (chosen == "instances") return run_instances(inst);
  if (chosen == "run") return run_program(run);
  if (chosen == "call") return run_program(call);
  if (chosen == "verify" && corpus_mode) {
    corpus.dirs = opts.inputs;
    corpus.json = opts.json;
    corpus.jsonl = opts.jsonl;
    return run_verify_corpus(corpus);
  }
  if (chosen == "verify") return run_verify(opts);
  if (chosen == "diff-views") return run_diff_views(opts);
  if (chosen == "apiset") return run_apiset(apiset);
  if (chosen == "signature") return run_signature(opts, trust_store);
  if (chosen == "exceptions") return run_exceptions(opts, unwind);
  if (chosen == "disasm") {
    if (!disasm.entry && disasm.export_name.empty() && !disasm.address) {
      std::cerr << "pemap disasm: give --entry, --export NAME or --rva ADDR\n";
      return exit_unusable;
    }
    return run_disasm(opts, disasm);
  }
  if (chosen == "relocs" && relocs_disasm) {
    if (relocs_check) {
      std::cerr << "pemap relocs: --disasm and --check are separate listings\n";
      return exit_unusable;
    }
    return run_relocs_disasm(opts);
  }
  if (chosen == "rva" || chosen == "offset") {
    opts.inputs = {address_file};
    return run_address(opts, chosen == "rva" ? AddressKind::rva : AddressKind::offset, address);
  }
  if (chosen == "resources" && !extract.empty()) return run_resource_extract(opts, extract, extract_to);
  if (chosen == "map" && map_as == "efi" && (map.raw || map_offset->count() || map_size->count())) {
    std::cerr << "pemap map: --as efi lays out an image; --raw, --offset and --size are for a data view\n";
    return exit_unusable;
  }
  if (chosen == "map" && map_as == "efi" && (!map.html.empty() || !map.svg.empty())) {
    std::cerr << "pemap map --as efi: --html and --svg draw the memory manager's views only\n";
    return exit_unusable;
  }
  if (chosen == "map") return map_as == "efi" ? run_map_uefi(opts, map.base) : run_map(opts, map);
  if (chosen == "relocs" && (!relocs_html.empty() || !relocs_svg.empty()) && !relocs_check) {
    std::cerr << "pemap relocs: --html and --svg go with --check\n";
    return exit_unusable;
  }
  if (chosen == "relocs" && relocs_as_opt->count() && !relocs_check) {
    std::cerr << "pemap relocs: --as goes with --check\n";
    return exit_unusable;
  }
  if (chosen == "relocs" && relocs_check) {
    if (!relocs_base) {
      std::cerr << "pemap relocs --check: give --base ADDR\n";
      return exit_unusable;
    }
    return run_relocs_check(opts, *relocs_base, relocs_as == "efi" ? Loader::uefi : Loader::windows,
                            {relocs_html, relocs_svg});
  }
  return run_view(chosen, opts);
}

}  // namespace

// What no command catches (memory exhausted, a library that cannot be loaded) ends here: said, exit 2.
int main(int argc, char** argv) {
  try {
    return run_command_line(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "pemap: error: " << e.what() << "\n";
    return exit_unusable;
  }
}
