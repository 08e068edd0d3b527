// Names for numbers: machines, subsystems, header and section flags, as a person reads them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pemap::pe {

std::string_view machine_name(uint16_t machine);
std::string_view subsystem_name(uint16_t subsystem);
std::string_view directory_name(uint32_t index);
std::vector<std::string_view> file_flag_names(uint16_t characteristics);
std::vector<std::string_view> dll_flag_names(uint16_t dll_characteristics);
std::vector<std::string_view> section_flag_names(uint32_t characteristics);
/// "R-X", "RW-", "RWX": the access a section's characteristics ask for.
std::string section_access(uint32_t characteristics);
/// "CODE", "IDATA", "UDATA" content tags, joined by spaces.
std::string section_content(uint32_t characteristics);
std::string join(const std::vector<std::string_view>& parts, std::string_view sep);

}  // namespace pemap::pe
