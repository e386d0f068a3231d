// Wire encodings shared by the adapters, checked against published vectors.
#include "providers/encoding.h"

#include <gtest/gtest.h>

#include <set>

#include "providers/test_support.h"

namespace herald::providers {
namespace {

using namespace fixtures;

TEST(Base64, MatchesRfc4648Vectors) {
  // Invariant: Basic auth uses standard padded base64 (RFC 4648 §10 test vectors).
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\0\xff\xfe", 3)), "AP/+");
}

TEST(BasicAuth, MatchesRfc7617Example) {
  // Invariant: `Basic base64(user:password)`, as in RFC 7617 §2.
  EXPECT_EQ(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_credentials(basic_auth("api", "key-abc:def")), "api:key-abc:def");
  EXPECT_EQ(bearer_auth("re_123"), "Bearer re_123");
}

TEST(FormUrlencode, EscapesEverythingButUnreserved) {
  // Invariant: '+', '&', '=', spaces and UTF-8 are percent-encoded, so values can't bleed.
  EXPECT_EQ(form_urlencode({{"To", "+1 555"}, {"Body", "a&b=c ~ü"}}),
            "To=%2B1%20555&Body=a%26b%3Dc%20~%C3%BC");
  EXPECT_EQ(form_urlencode({}), "");
  EXPECT_EQ(percent_encode("mg.example.com"), "mg.example.com");
  EXPECT_EQ(percent_encode("a/b?c#d"), "a%2Fb%3Fc%23d");
  const Fields round = parse_form(form_urlencode({{"k y", "v&=+%"}, {"k y", ""}}));
  EXPECT_EQ(round, (Fields{{"k y", "v&=+%"}, {"k y", ""}}));
}

TEST(Multipart, ExactBytesForAGivenBoundary) {
  // Invariant: RFC 7578 layout: CRLF line ends, one part per field in order, closing delimiter.
  const Multipart m = multipart_form({{"from", "A <a@x.com>"}, {"to", "b@x.com"}}, "BOUNDARY");
  EXPECT_EQ(m.content_type, "multipart/form-data; boundary=BOUNDARY");
  EXPECT_EQ(m.body,
            "--BOUNDARY\r\n"
            "Content-Disposition: form-data; name=\"from\"\r\n\r\n"
            "A <a@x.com>\r\n"
            "--BOUNDARY\r\n"
            "Content-Disposition: form-data; name=\"to\"\r\n\r\n"
            "b@x.com\r\n"
            "--BOUNDARY--\r\n");
}

TEST(Multipart, FieldNamesAreEscaped) {
  // Invariant: a header name can't break out of the Content-Disposition quoted-string.
  const Multipart m = multipart_form({{"h:X-\"Evil\"\r\nX: y", "v"}}, "B");
  EXPECT_NE(m.body.find("name=\"h:X-%22Evil%22%0D%0AX: y\""), std::string::npos);
}

TEST(Multipart, RandomBoundariesDiffer) {
  // Invariant: boundaries are random per body and absent from the values.
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(multipart_form({{"a", "b"}}).content_type);
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Sha256, MatchesFips180Vector) {
  // Invariant: batch idempotency keys use real SHA-256 (FIPS 180-2 "abc" vector).
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Json, BodyNeverThrowsOnInvalidUtf8) {
  // Invariant: a badly encoded template renders a replacement character, not a crash.
  nlohmann::json j = {{"subject", std::string("caf\xe9")}};
  std::string body;
  EXPECT_NO_THROW(body = json_body(j));
  EXPECT_EQ(body, "{\"subject\":\"caf\xef\xbf\xbd\"}");
  EXPECT_FALSE(parse_json("Forbidden").has_value());
  EXPECT_EQ(parse_json(R"("Forbidden")"), nlohmann::json("Forbidden"));
  EXPECT_EQ(json_string(nlohmann::json{{"id", 5}}, "id"), "");
  EXPECT_EQ(json_string(nlohmann::json::array(), "id"), "");
}

TEST(Json, BodyIsWhatNlohmannWritesForEveryKindOfValue) {
  // Invariant: the fast body writer is an implementation detail: for any document it writes
  // nlohmann's compact JSON (the referee) byte for byte, Unicode and escapes included, also in
  // strings long enough for its 16-byte scans with something to escape at every offset; the
  // one spelling that differs (\u001F for \u001f) still reads back as the same document.
  std::string long_html;
  for (int i = 0; i < 40; ++i)
    long_html += "<p class=\"x\">Caf\xc3\xa9 \xe2\x80\x94 line " + std::to_string(i) +
                 std::string(static_cast<std::size_t>(i % 17), 'a') + "\\ \t\n\b\f</p>\r\n";
  nlohmann::json doc = {
      {"from", "Sunset \"Properties\" <noreply@platform.com>"},
      {"to", {"a@example.com", "b@example.com"}},
      {"html", long_html},
      {"emoji", "\xf0\x9f\x8f\xa1 home \x7f"},
      {"numbers", {0, -7, 4294967296LL, 1.5, 1e100, 0.1}},
      {"flags", {true, false, nullptr}},
      {"empty", {{"object", nlohmann::json::object()}, {"array", nlohmann::json::array()}}},
      {"headers", {{"List-Unsubscribe", "<https://h/u/t>, <mailto:x@y?subject=unsubscribe>"}}}};
  const std::string ascii =
      "0123456789abcdef0123456789\"abcdef0123456789abcdef\\0123\n456789abcdef0123456789abcdef";
  for (std::size_t cut = 0; cut < 40; ++cut) doc["slices"].push_back(ascii.substr(cut, 17 + cut));
  const auto nlohmann_body = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  EXPECT_EQ(json_body(doc), nlohmann_body(doc));
  doc["controls"] = std::string("\x01\x1f\x00 end", 7);
  const std::string with_controls = json_body(doc);
  EXPECT_EQ(nlohmann::json::parse(with_controls), doc);
  EXPECT_NE(with_controls.find("\\u001F"), std::string::npos)
      << "RapidJSON wrote it, not the fallback";
  // A bad byte anywhere (here deep in a long string) is replaced, as nlohmann does.
  doc.erase("controls");
  doc["html"] = long_html + "\xff" + long_html;
  EXPECT_EQ(json_body(doc), nlohmann_body(doc));
}

TEST(HttpDate, ParsesImfFixdate) {
  // Invariant: IMF-fixdate parses to the right epoch second; other forms are refused.
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            std::chrono::sys_seconds(std::chrono::seconds(784111777)));
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("1994-11-06T08:49:37Z"), std::nullopt);
  EXPECT_EQ(parse_http_date(""), std::nullopt);
}

}  // namespace
}  // namespace herald::providers
