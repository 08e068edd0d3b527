// The built-in API-set schema and its text form.
#include "process/apiset.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "mapped_file.hpp"
#include "pe/image.hpp"
#include "process/module_name.hpp"

namespace pemap::ldr {

std::string api_set_key(std::string_view name) {
  std::string key = ascii_lower(name);
  if (key.size() > 4 && key.ends_with(".dll")) key.resize(key.size() - 4);
  if (auto dash = key.rfind('-'); dash != std::string::npos && dash + 1 < key.size() &&
                                  key.find_first_not_of("0123456789", dash + 1) == std::string::npos)
    key.resize(dash);
  return key;
}

ApiSetSchema ApiSetSchema::builtin() {
  // Windows 10 hosts the core contracts in kernelbase.dll, the Universal CRT's in ucrtbase.dll, and a few in
  // kernel32.dll, advapi32.dll or ntdll.dll. One host per contract: the schema's per-importer exceptions are left out.
  static constexpr std::pair<const char*, const char*> kTable[] = {
      {"api-ms-win-core-console-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-console-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-datetime-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-debug-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-errorhandling-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-file-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-file-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-file-l2-1", "kernelbase.dll"},
      {"api-ms-win-core-handle-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-heap-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-heap-l2-1", "kernelbase.dll"},
      {"api-ms-win-core-interlocked-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-libraryloader-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-libraryloader-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-localization-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-memory-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-namedpipe-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-processenvironment-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-processenvironment-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-processthreads-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-processthreads-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-profile-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-registry-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-rtlsupport-l1-1", "ntdll.dll"},
      {"api-ms-win-core-rtlsupport-l1-2", "ntdll.dll"},
      {"api-ms-win-core-string-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-synch-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-synch-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-sysinfo-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-sysinfo-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-threadpool-l1-2", "kernelbase.dll"},
      {"api-ms-win-core-timezone-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-util-l1-1", "kernelbase.dll"},
      {"api-ms-win-core-wow64-l1-1", "kernelbase.dll"},
      {"api-ms-win-security-base-l1-1", "kernelbase.dll"},
      {"api-ms-win-eventing-provider-l1-1", "advapi32.dll"},
      {"api-ms-win-crt-conio-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-convert-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-environment-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-filesystem-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-heap-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-locale-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-math-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-multibyte-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-private-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-process-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-runtime-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-stdio-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-string-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-time-l1-1", "ucrtbase.dll"},
      {"api-ms-win-crt-utility-l1-1", "ucrtbase.dll"},
  };
  ApiSetSchema schema;
  for (const auto& [contract, host] : kTable) schema.contracts_.emplace(contract, Contract{contract, host, {}});
  return schema;
}

ApiSetSchema ApiSetSchema::from_namespace(const pe::ApiSetNamespace& ns, std::string source) {
  ApiSetSchema schema;
  schema.source_ = std::move(source);
  for (const auto& c : ns.contracts) {
    Contract contract{c.name, "", {}};
    // The first value is the default, whatever it names (the schema keeps the one without an importer first);
    // the others are the exceptions.
    if (!c.values.empty()) contract.host = c.values.front().host;
    for (size_t i = 1; i < c.values.size(); ++i)
      contract.except.emplace_back(ModuleName(c.values[i].importer).key(), c.values[i].host);
    schema.contracts_.insert_or_assign(api_set_key(c.name), std::move(contract));
  }
  return schema;
}

Result<ApiSetSchema> ApiSetSchema::read_dll(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.take_error();
  auto image = pe::Image::parse(file->bytes());
  if (!image) return image.take_error();
  auto ns = pe::parse_api_set_schema(*image);
  if (!ns) return ns.take_error();
  return from_namespace(*ns, path);
}

void ApiSetSchema::set(std::string_view contract, std::string host) {
  auto& c = contracts_[api_set_key(contract)];
  if (c.entry.empty()) c.entry = api_set_key(contract);
  c.host = std::move(host);
  c.except.clear();
}

Result<bool> ApiSetSchema::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Status::io_error, "API-set schema", Location{}, fmt::format("cannot read {}", path));
  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto gap = line.find_first_of(" \t", first);
    const auto host = gap == std::string::npos ? gap : line.find_first_not_of(" \t\r", gap);
    if (host == std::string::npos)
      return make_error(Status::invalid_image_format, "API-set schema", Location{},
                        fmt::format("{} line {}: expected \"contract host\"", path, number));
    const auto host_end = line.find_first_of(" \t\r", host);
    set(line.substr(first, gap - first), line.substr(host, host_end == std::string::npos ? host_end : host_end - host));
  }
  return true;
}

std::optional<ApiSetHost> ApiSetSchema::resolve(std::string_view name, std::string_view importer) const {
  const auto it = contracts_.find(api_set_key(name));
  if (it == contracts_.end()) return std::nullopt;
  const Contract& c = it->second;
  if (!importer.empty()) {
    const std::string key = ModuleName(importer).key();
    for (const auto& [who, host] : c.except)
      if (who == key) return ApiSetHost{host, c.entry, true};
  }
  return ApiSetHost{c.host, c.entry, false};
}

}  // namespace pemap::ldr
