// The version 6 API-set namespace.
#include "pe/apiset_schema.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pemap::pe {
namespace {

constexpr uint64_t kEntrySize = 24, kValueSize = 20;

Error schema_error(std::string structure, uint64_t offset, std::string message) {
  return make_error(Status::invalid_image_format, std::move(structure), Location::offset(offset), std::move(message));
}

// A UTF-16LE name; a character outside ASCII is kept as "\uXXXX" (module names are ASCII).
Result<std::string> utf16_name(Bytes data, uint32_t offset, uint32_t length, std::string_view structure) {
  if (length % 2 != 0) return schema_error(std::string(structure), offset, fmt::format("length {} is odd", length));
  auto bytes = slice(data, offset, length, structure);
  if (!bytes) return bytes.take_error();
  std::string out;
  out.reserve(length / 2);
  for (uint64_t i = 0; i < length; i += 2) {
    const auto c = static_cast<uint16_t>(load<uint16_t>(*bytes, i));
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += fmt::format("\\u{:04x}", c);
  }
  return out;
}

}  // namespace

Result<ApiSetNamespace> parse_api_set_namespace(Bytes data) {
  auto version = read<uint32_t>(data, 0, "API-set namespace");
  if (!version) return version.take_error();
  if (*version != 6)
    return schema_error("API-set namespace", 0,
                        fmt::format("version {}; pemap reads version 6, Windows 10's and later", *version));
  auto header = slice(data, 0, 28, "API-set namespace");
  if (!header) return header.take_error();
  ApiSetNamespace out;
  out.version = *version;
  out.flags = load<uint32_t>(*header, 8);
  const uint32_t count = load<uint32_t>(*header, 12), entries = load<uint32_t>(*header, 16);
  // Each entry takes 24 bytes: a count the data cannot hold is refused before anything is reserved.
  if (uint64_t{count} * kEntrySize > data.size())
    return schema_error("API-set namespace", 12,
                        fmt::format("Count {} entries need {:#x} bytes; the namespace has {:#x}", count,
                                    uint64_t{count} * kEntrySize, data.size()));
  out.contracts.reserve(count);
  // Entries may share their values: the total is bounded as if each value took its 20 bytes once, so that a small
  // hostile namespace cannot make millions of them.
  uint64_t values_left = data.size() / kValueSize;
  // Names may be shared too: all of them together read at most four times the namespace's bytes.
  uint64_t name_bytes_left = 4 * data.size();
  auto take_name = [&](uint32_t offset, uint32_t length, std::string_view structure) -> Result<std::string> {
    if (length > name_bytes_left)
      return schema_error(std::string(structure), offset,
                          fmt::format("the names read run past four times the namespace's {:#x} bytes: they "
                                      "repeat more than any schema does",
                                      data.size()));
    name_bytes_left -= length;
    return utf16_name(data, offset, length, structure);
  };
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = uint64_t{entries} + i * kEntrySize;
    const std::string where = fmt::format("API-set entry #{}", i);
    auto entry = slice(data, at, kEntrySize, where);
    if (!entry) return entry.take_error();
    const uint32_t name_offset = load<uint32_t>(*entry, 4), name_length = load<uint32_t>(*entry, 8);
    const uint32_t hashed_length = load<uint32_t>(*entry, 12), values = load<uint32_t>(*entry, 16);
    const uint32_t value_count = load<uint32_t>(*entry, 20);
    ApiSetContract contract;
    auto name = take_name(name_offset, name_length, where);
    if (!name) return name.take_error();
    contract.name = std::move(*name);
    if (hashed_length > name_length)
      return schema_error(where, at + 12,
                          fmt::format("HashedLength {} is past the name's {} bytes", hashed_length, name_length));
    contract.hashed = contract.name.substr(0, hashed_length / 2);
    if (value_count > values_left)
      return schema_error(where, at + 20,
                          fmt::format("ValueCount {} takes the values past the {:#x} bytes of the namespace",
                                      value_count, data.size()));
    values_left -= value_count;
    for (uint32_t v = 0; v < value_count; ++v) {
      const uint64_t value_at = uint64_t{values} + v * kValueSize;
      const std::string value_where = fmt::format("{} value #{}", where, v);
      auto value = slice(data, value_at, kValueSize, value_where);
      if (!value) return value.take_error();
      auto importer = take_name(load<uint32_t>(*value, 4), load<uint32_t>(*value, 8), value_where);
      if (!importer) return importer.take_error();
      auto host = take_name(load<uint32_t>(*value, 12), load<uint32_t>(*value, 16), value_where);
      if (!host) return host.take_error();
      contract.values.push_back({std::move(*importer), std::move(*host)});
    }
    out.contracts.push_back(std::move(contract));
  }
  return out;
}

Result<ApiSetNamespace> parse_api_set_schema(const Image& image) {
  const auto sections = image.sections();
  const auto it = std::find_if(sections.begin(), sections.end(), [](const Section& s) { return s.name == ".apiset"; });
  if (it == sections.end())
    return schema_error("section table", image.section_table_offset(), "no .apiset section: not an API-set schema");
  auto data = slice(
      image.file(), it->header.PointerToRawData,
      std::min(it->header.SizeOfRawData, it->header.VirtualSize ? it->header.VirtualSize : it->header.SizeOfRawData),
      "section .apiset");
  if (!data) return data.take_error();
  return parse_api_set_namespace(*data);
}

}  // namespace pemap::pe
