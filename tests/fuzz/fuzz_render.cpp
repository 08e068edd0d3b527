// libFuzzer target: `pemap all`'s text and JSON of any bytes (headers, sections, imports, exports, relocations,
// TLS). Three checks: the relocation rows written the fast way (one row per type, patched) must be the bytes of
// the general table writer; the streamed JSON must be the bytes nlohmann writes for the same findings built as a
// document; and its one-line form must parse back to that document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "model.hpp"
#include "pe/image.hpp"
#include "printer.hpp"
#include "render.hpp"
#include "table.hpp"

namespace {

std::string streamed(const pemap::pe::Image& image, pemap::inspect::JsonWriter::Style style) {
  using namespace pemap::inspect;
  std::ostringstream os;
  {
    TextOut out(os);
    JsonWriter w(out, style);
    Warnings warnings;
    w.begin_object();
    model_all(image, w, warnings);
    warnings.print(w);
    w.end_object();
  }
  return os.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pemap;
  const Bytes bytes{reinterpret_cast<const std::byte*>(data), size};
  auto image = pe::Image::parse(bytes);
  if (!image) return 0;
  std::ostringstream all;
  {
    inspect::TextOut out(all);
    inspect::Warnings w;
    inspect::write_all(*image, out, w);
  }
  std::ostringstream fast, general;
  {
    inspect::TextOut a(fast), b(general);
    inspect::Warnings w;
    inspect::write_relocs(*image, a, w, inspect::RelocRows::fast);
    inspect::write_relocs(*image, b, w, inspect::RelocRows::general);
  }
  if (fast.str() != general.str()) std::abort();  // the fast rows differ from the table writer's
  const inspect::json doc = inspect::model_document(inspect::model_all, *image);
  if (streamed(*image, inspect::JsonWriter::Style::pretty) != doc.dump(2)) std::abort();
  if (inspect::json::parse(streamed(*image, inspect::JsonWriter::Style::line)) != doc) std::abort();
  return 0;
}
