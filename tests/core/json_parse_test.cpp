// The fast JSON parser (simdjson underneath) against nlohmann's own parser as referee.
#include "core/json_parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald {
namespace {

TEST(JsonParse, ParsesEveryDocumentExactlyAsNlohmannDoes) {
  // Invariant: callers see the very document nlohmann would have parsed (values, types
  // of numbers, escapes, repeated keys), and refuse the same bodies.
  std::string long_html;
  for (int i = 0; i < 50; ++i) long_html += "<p>Caf\\u00e9 \\\"quoted\\\" \\\\ line</p>\\n";
  const std::vector<std::string> documents = {
      R"({"from":"Sunset <a@b.com>","to":["x@y.com","z@y.com"],"html":")" + long_html + R"("})",
      R"([{"a":1},{"a":-2},{"a":18446744073709551615},{"a":1.5e3},{"a":0.1},{"a":-0}])",
      R"({"t":true,"f":false,"n":null,"e":{},"l":[],"nested":{"x":[1,[2,[3]]]}})",
      R"({"emoji":"\ud83c\udfe1 home","raw":"🏡 é","ctl":"\u0001\t\n\r\b\f\/"})",
      R"({"k":1,"k":2})",
      "  \n[1, 2 ,3 ]\t",
      "\"just a string\"",
      "42",
  };
  for (const std::string& text : documents) {
    nlohmann::json expected = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(expected.is_discarded()) << text;
    nlohmann::json got = parse_json(text);
    EXPECT_EQ(got, expected) << text;
    EXPECT_EQ(got.dump(), expected.dump()) << text;
  }
  auto counts = parse_json(R"({"count":5,"neg":-5})");
  EXPECT_TRUE(counts["count"].is_number_unsigned());
  EXPECT_TRUE(counts["neg"].is_number_integer() && !counts["neg"].is_number_unsigned());

  const std::vector<std::string> refused = {
      "",    "{",           R"({"a":})",         "[1,2,]",       "{'a':1}",
      "nul", R"({"a":1}x)", "\"bad \xff byte\"", "\"ctl \x01\"", R"("\ud83c alone")",
  };
  for (const std::string& text : refused) {
    EXPECT_TRUE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << text;
    EXPECT_TRUE(parse_json(text).is_discarded()) << text;
  }
}

}  // namespace
}  // namespace herald
