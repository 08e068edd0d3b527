// The built-in API-set schema and its text form.
#include "process/apiset.hpp"

#include <fstream>

#include <fmt/format.h>

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
  for (const auto& [contract, host] : kTable) schema.hosts_.emplace(contract, host);
  return schema;
}

void ApiSetSchema::set(std::string_view contract, std::string host) { hosts_[api_set_key(contract)] = std::move(host); }

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

std::optional<std::string> ApiSetSchema::resolve(std::string_view name) const {
  if (auto it = hosts_.find(api_set_key(name)); it != hosts_.end()) return it->second;
  return std::nullopt;
}

}  // namespace pemap::ldr
