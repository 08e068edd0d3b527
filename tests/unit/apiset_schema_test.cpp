// The version 6 API-set namespace (pe/apiset_schema.hpp): contracts, default hosts and per-importer exceptions read
// from bytes laid out here, and every offset that leaves the namespace refused with the entry named.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pe/apiset_schema.hpp"
#include "process/apiset.hpp"

namespace pemap::pe {
namespace {

// A namespace built the way apisetschema.dll lays one out: header, entries, values, then the UTF-16 names.
class NamespaceBuilder {
 public:
  struct Value {
    std::string importer, host;
  };
  void add(std::string name, size_t hashed_chars, std::vector<Value> values) {
    entries_.push_back({std::move(name), hashed_chars, std::move(values)});
  }
  std::vector<std::byte> build() const {
    size_t values = 0;
    for (const auto& e : entries_) values += e.values.size();
    const uint32_t entry_at = 28, value_at = entry_at + 24 * static_cast<uint32_t>(entries_.size());
    uint32_t names_at = value_at + 20 * static_cast<uint32_t>(values);
    std::vector<std::byte> out(names_at);
    put(out, 0, 6);
    put(out, 12, static_cast<uint32_t>(entries_.size()));
    put(out, 16, entry_at);
    uint32_t next_value = value_at;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const auto& e = entries_[i];
      const uint32_t at = entry_at + 24 * static_cast<uint32_t>(i);
      const auto name = name_at(out, e.name);
      put(out, at + 4, name.first);
      put(out, at + 8, name.second);
      put(out, at + 12, static_cast<uint32_t>(e.hashed * 2));
      put(out, at + 16, next_value);
      put(out, at + 20, static_cast<uint32_t>(e.values.size()));
      for (const auto& v : e.values) {
        const auto importer = name_at(out, v.importer), host = name_at(out, v.host);
        put(out, next_value + 4, importer.first);
        put(out, next_value + 8, importer.second);
        put(out, next_value + 12, host.first);
        put(out, next_value + 16, host.second);
        next_value += 20;
      }
    }
    put(out, 4, static_cast<uint32_t>(out.size()));
    return out;
  }

 private:
  struct Entry {
    std::string name;
    size_t hashed;
    std::vector<Value> values;
  };
  static void put(std::vector<std::byte>& out, uint32_t at, uint32_t v) { std::memcpy(out.data() + at, &v, 4); }
  static std::pair<uint32_t, uint32_t> name_at(std::vector<std::byte>& out, const std::string& s) {
    const auto at = static_cast<uint32_t>(out.size());
    for (char c : s) out.insert(out.end(), {static_cast<std::byte>(c), std::byte{0}});
    return {at, static_cast<uint32_t>(s.size() * 2)};
  }
  std::vector<Entry> entries_;
};

Bytes bytes(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

TEST(ApiSetNamespace, ReadsContractsHostsAndExceptions) {
  NamespaceBuilder b;
  b.add("api-ms-win-core-synch-l1-2-0", 26, {{"", "kernelbase.dll"}});
  b.add("api-ms-win-core-com-l1-1-1", 24, {{"", "combase.dll"}, {"combase.dll", "ole32.dll"}});
  b.add("ext-ms-win-nothing-l1-1-0", 23, {});
  const auto data = b.build();
  auto ns = parse_api_set_namespace(bytes(data));
  ASSERT_TRUE(ns.has_value()) << ns.error().to_string();
  ASSERT_EQ(ns->contracts.size(), 3u);
  EXPECT_EQ(ns->contracts[0].name, "api-ms-win-core-synch-l1-2-0");
  EXPECT_EQ(ns->contracts[0].hashed, "api-ms-win-core-synch-l1-2");
  ASSERT_EQ(ns->contracts[1].values.size(), 2u);
  EXPECT_EQ(ns->contracts[1].values[1].importer, "combase.dll");
  EXPECT_EQ(ns->contracts[1].values[1].host, "ole32.dll");

  // The loader's view: the default host for everyone, the exception for the one importer it names.
  const auto schema = ldr::ApiSetSchema::from_namespace(*ns, "test");
  auto plain = schema.resolve("api-ms-win-core-com-l1-1-0.dll", "app.exe");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "combase.dll");
  EXPECT_FALSE(plain->exception);
  EXPECT_EQ(plain->entry, "api-ms-win-core-com-l1-1-1");
  auto own = schema.resolve("api-ms-win-core-com-l1-1-0.dll", "COMBASE.dll");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->host, "ole32.dll");
  EXPECT_TRUE(own->exception);
  auto none = schema.resolve("ext-ms-win-nothing-l1-1-0");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->host.empty());  // a contract without a host: the import fails like a missing DLL
  EXPECT_FALSE(schema.resolve("api-ms-win-not-there-l1-1-0"));
}

TEST(ApiSetNamespace, RefusesWhatLeavesTheNamespace) {
  NamespaceBuilder b;
  b.add("api-ms-win-core-synch-l1-2-0", 26, {{"", "kernelbase.dll"}});
  const auto good = b.build();
  auto version = good;
  version[0] = std::byte{4};
  EXPECT_NE(parse_api_set_namespace(bytes(version)).error().message.find("version 4"), std::string::npos);
  auto count = good;
  std::memset(count.data() + 12, 0xff, 4);  // Count 0xffffffff
  EXPECT_NE(parse_api_set_namespace(bytes(count)).error().message.find("Count 4294967295"), std::string::npos);
  auto name = good;
  std::memset(name.data() + 28 + 4, 0x7f, 4);  // the entry's NameOffset far outside
  auto bad = parse_api_set_namespace(bytes(name));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().structure, "API-set entry #0");
  auto values = good;
  std::memset(values.data() + 28 + 20, 0x7f, 4);  // ValueCount far past what the bytes hold
  EXPECT_FALSE(parse_api_set_namespace(bytes(values)).has_value());
  auto hashed = good;
  std::memset(hashed.data() + 28 + 12, 0x7f, 1);  // HashedLength past the name
  EXPECT_FALSE(parse_api_set_namespace(bytes(hashed)).has_value());
  for (size_t cut = 0; cut < good.size(); ++cut)  // the names end the bytes: any cut loses something read
    EXPECT_FALSE(parse_api_set_namespace(Bytes(good.data(), cut)).has_value()) << cut;
}

}  // namespace
}  // namespace pemap::pe
