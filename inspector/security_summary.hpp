// The exploit mitigations an image asks for, as winchecksec summarises them: `info`'s "security" object.
#pragma once

#include <string>

#include "model.hpp"

namespace pemap::inspect {

/// "security": aslr (DYNAMIC_BASE and relocations to honour it), high_entropy_va, nx_compat, cfg (GUARD_CF and an
/// instrumented load config), safeseh (x86 only), gs (a security cookie in the load config), authenticode (a
/// certificate table), force_integrity.
void print_security(const pe::Image& image, Printer& p);
/// The lines `info` shows for it.
std::string render_security(const json& security);

}  // namespace pemap::inspect
