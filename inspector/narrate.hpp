// The story of a load in plain words, from the loader's events: numbered like the steps of CreateProcess and
// LoadLibrary, a dependency's steps nested under the step that needed it.
#pragma once

#include <string>
#include <vector>

#include "process/events.hpp"

namespace pemap::inspect {

std::string narrate(const std::vector<ldr::Event>& events);
/// One event in words, without its number.
std::string describe(const ldr::Event& e);

}  // namespace pemap::inspect
