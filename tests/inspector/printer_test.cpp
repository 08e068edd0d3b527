// The JSON back end streams the bytes nlohmann writes for the same document, in both styles; JsonDocuments gives
// --json and --jsonl their shapes; and every testdata image's findings stream as the document model_document
// builds.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "commands.hpp"
#include "model.hpp"
#include "printer.hpp"
#include "support/files.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

std::string written(const json& doc, JsonWriter::Style style) {
  std::ostringstream os;
  print_document(os, style, doc);
  return os.str();
}

// A text column with another after it pads to at most 64 characters: a longer cell runs on, on its own line.
TEST(Table, ALongCellRunsOnWithoutWideningEveryRow) {
  const std::string long_name(100, 'n');
  Table t({{"Ordinal", Table::Align::right}, {"Name"}, {"Target"}});
  t.add({"1", "short", "x"});
  t.add({"2", long_name, "y"});
  EXPECT_EQ(t.render(), "  Ordinal  Name" + std::string(60, ' ') + "  Target\n" + "        1  short" +
                            std::string(59, ' ') + "  x\n" + "        2  " + long_name + "  y\n");
  std::ostringstream os;
  {
    TextOut out(os);
    write_table(out, {{"Ordinal", Table::Align::right}, {"Name"}, {"Target"}}, [&](auto&& emit) {
      emit({"1", "short", "x"});
      emit({"2", long_name, "y"});
    });
  }
  EXPECT_EQ(os.str(), t.render());
  // The last column is never padded, and so never capped.
  Table last({{"Name"}});
  last.add({long_name});
  EXPECT_EQ(last.render(), "  Name\n  " + long_name + "\n");
}

TEST(JsonWriter, WritesWhatNlohmannWrites) {
  const json doc = {
      {"number", 18446744073709551615ull},
      {"negative", -42},
      {"zero", 0},
      {"fraction", 0.25},
      {"whole", 3.0},
      // nlohmann's layout of doubles: plain within 15 digits left of the point and 4 right of it, else d.ddde+XX.
      {"doubles",
       {0.0, -0.0, 100000.0, 1200000.0, 1e15, 1e16, 0.0001, 0.0002, 0.00001, 1.2345678901234568e17, 123.456, -42.5,
        1e-300, 1.7976931348623157e308, 0.1, 12345678901234.5}},
      {"yes", true},
      {"no", false},
      {"nothing", nullptr},
      {"text", "quote \" backslash \\ tab \t newline \n bell \x07 del \x7f"},
      {"utf8", "caf\xc3\xa9 \xe2\x82\xac"},
      {"empty_object", json::object()},
      {"empty_array", json::array()},
      {"nested", {{"list", {1, json::array(), json::object(), {{"a", json::array({json::object()})}}}}}},
  };
  EXPECT_EQ(written(doc, JsonWriter::Style::pretty), doc.dump(2) + "\n");
  EXPECT_EQ(written(doc, JsonWriter::Style::line), doc.dump() + "\n");
  EXPECT_EQ(written(json::array(), JsonWriter::Style::pretty), "[]\n");
}

TEST(JsonWriter, InfinityAndNanAreNull) {
  std::ostringstream os;
  {
    TextOut out(os);
    JsonWriter w(out, JsonWriter::Style::line);
    w.begin_array();
    w.real({}, std::numeric_limits<double>::infinity());
    w.real({}, std::numeric_limits<double>::quiet_NaN());
    w.end_array();
  }
  EXPECT_EQ(os.str(), "[null,null]");
}

std::string documents(JsonWriter::Style style, bool many, int files) {
  std::ostringstream os;
  JsonDocuments docs(os, style, many);
  for (int i = 0; i < files; ++i) {
    docs.begin("f" + std::to_string(i)).field("n", i);
    docs.end();
  }
  docs.finish();
  return os.str();
}

TEST(JsonDocuments, OneObjectForOneFileAnArrayForMany) {
  EXPECT_EQ(documents(JsonWriter::Style::pretty, false, 1), "{\n  \"file\": \"f0\",\n  \"n\": 0\n}\n");
  EXPECT_EQ(documents(JsonWriter::Style::pretty, true, 2),
            json::array({{{"file", "f0"}, {"n", 0}}, {{"file", "f1"}, {"n", 1}}}).dump(2) + "\n");
  EXPECT_EQ(documents(JsonWriter::Style::pretty, true, 0), "[]\n");
  EXPECT_EQ(documents(JsonWriter::Style::pretty, false, 0), "[]\n");
}

TEST(JsonDocuments, JsonlIsALinePerFile) {
  EXPECT_EQ(documents(JsonWriter::Style::line, true, 2), "{\"file\":\"f0\",\"n\":0}\n{\"file\":\"f1\",\"n\":1}\n");
  EXPECT_EQ(documents(JsonWriter::Style::line, false, 1), "{\"file\":\"f0\",\"n\":0}\n");
  EXPECT_EQ(documents(JsonWriter::Style::line, true, 0), "");
}

// Each command's findings over every testdata image: streamed, as built. The first would show a member out of
// place, an unclosed scope or a bad escape; the second that the one-line form reads back to the same document.
TEST(Models, StreamAsTheDocumentTheyBuild) {
  const std::pair<const char*, Model> models[] = {
      {"info", model_info},       {"headers", model_headers}, {"sections", model_sections}, {"imports", model_imports},
      {"exports", model_exports}, {"relocs", model_relocs},   {"tls", model_tls},           {"all", model_all}};
  int images = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::testdata_dir() / "bin")) {
    if (!entry.is_regular_file()) continue;
    auto opened = open_image(entry.path().string());
    if (!opened) continue;
    ++images;
    for (const auto& [name, model] : models) {
      const json doc = model_document(model, opened->image);
      for (const auto style : {JsonWriter::Style::pretty, JsonWriter::Style::line}) {
        std::ostringstream os;
        {
          TextOut out(os);
          JsonWriter w(out, style);
          Warnings warnings;
          w.begin_object();
          model(opened->image, w, warnings);
          warnings.print(w);
          w.end_object();
        }
        const std::string expected = style == JsonWriter::Style::pretty ? doc.dump(2) : doc.dump();
        EXPECT_EQ(os.str(), expected) << name << " of " << entry.path();
      }
    }
  }
  EXPECT_GT(images, 20);
}

}  // namespace
}  // namespace pemap::inspect
