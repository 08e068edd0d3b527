// An application manifest (RT_MANIFEST): its text, and what the loader and UAC take from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pe/bytes.hpp"
#include "pe/error.hpp"

namespace pemap::analysis {

/// A <dependentAssembly>'s <assemblyIdentity>: a side-by-side assembly the loader binds the image to (common
/// controls version 6, the VC runtime of a Visual Studio 2005 to 2008 build).
struct AssemblyDependency {
  std::string name, version, architecture, public_key_token, type;
};

struct Manifest {
  std::string text;                            ///< UTF-8 (a UTF-16 manifest converted, a byte-order mark dropped)
  std::optional<std::string> execution_level;  ///< <requestedExecutionLevel level>: asInvoker, highestAvailable,
                                               ///< requireAdministrator
  std::optional<std::string> ui_access;        ///< its uiAccess
  std::vector<AssemblyDependency> dependencies;
  std::vector<Error> warnings;  ///< the XML is not well-formed, and so on
};

/// The manifest in `data`, the resource's bytes at `rva` (for the warnings), read with libxml2 with no network
/// access and no entity expansion; element names are matched without their namespace prefix, as Windows does.
Manifest read_manifest(Bytes data, uint64_t rva);

}  // namespace pemap::analysis
