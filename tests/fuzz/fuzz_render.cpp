// libFuzzer target: `pemap all`'s text of any bytes (headers, sections, imports, exports, relocations, TLS), and
// the relocation rows written the fast way (one row per type, patched) against the general table writer: the two
// must give the same bytes, whatever the blocks hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "pe/image.hpp"
#include "render.hpp"
#include "table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pemap;
  const Bytes bytes{reinterpret_cast<const std::byte*>(data), size};
  auto image = pe::Image::parse(bytes);
  if (!image) return 0;
  std::ostringstream all;
  {
    inspect::TextOut out(all);
    (void)inspect::write_all(*image, out);
  }
  std::ostringstream fast, general;
  {
    inspect::TextOut a(fast), b(general);
    (void)inspect::write_relocs(*image, a, inspect::RelocRows::fast);
    (void)inspect::write_relocs(*image, b, inspect::RelocRows::general);
  }
  if (fast.str() != general.str()) std::abort();  // the fast rows differ from the table writer's
  return 0;
}
