// The building blocks the webhook twins share: decoders for what providers post (base64, forms,
// query strings), the time formats they write, the freshness window, and HMAC.
#include <gtest/gtest.h>

#include "providers/encoding.h"
#include "providers/webhook_support.h"

namespace herald::providers {
namespace {

TimePoint at_ms(long long ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

TEST(WebhookSupport, Base64DecodeIsStrict) {
  // Invariant: standard base64 decodes exactly (padding honoured), and text that is not base64
  // is refused rather than decoded to garbage.
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVsbG8h"), "hello!");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode(base64_encode(std::string("\0\xff\x10", 3))),
            std::string("\0\xff\x10", 3));
  EXPECT_EQ(base64_decode("aGVsbG8"), std::nullopt);   // cut short
  EXPECT_EQ(base64_decode("aGV*bG8="), std::nullopt);  // not the alphabet
}

TEST(WebhookSupport, FormDecodeReadsWhatTwilioPosts) {
  // Invariant: `+` is a space, %XX (either case) a byte, fields keep their order and repeats,
  // and a broken escape refuses the whole form.
  EXPECT_EQ(form_decode("To=%2B15558675310&Body=Hi+there%21&To=%2b1"),
            (FormFields{{"To", "+15558675310"}, {"Body", "Hi there!"}, {"To", "+1"}}));
  EXPECT_EQ(form_decode("a=&b&=c"), (FormFields{{"a", ""}, {"b", ""}, {"", "c"}}));
  EXPECT_EQ(form_decode(""), FormFields{});
  EXPECT_EQ(form_decode("a=%4"), std::nullopt);
  EXPECT_EQ(form_decode("a=%zz"), std::nullopt);
  EXPECT_EQ(form_decode("a=%"), std::nullopt);
}

TEST(WebhookSupport, QueryParamFindsTheFirstDecodedValue) {
  // Invariant: a query parameter is read decoded, the first of repeats, ignoring a fragment.
  EXPECT_EQ(query_param("https://h.example/s?owner=a1&message=id%20x&message=2#f", "message"),
            "id x");
  EXPECT_EQ(query_param("https://h.example/s?message=abc#frag", "message"), "abc");
  EXPECT_EQ(query_param("https://h.example/s", "message"), "");
  EXPECT_EQ(query_param("https://h.example/s?messages=1", "message"), "");
}

TEST(WebhookSupport, Rfc3339TimesParseToTheMillisecond) {
  // Invariant: RFC 3339 times with Z or an offset, with or without a fraction, give the
  // instant they name; anything else is refused.
  EXPECT_EQ(parse_rfc3339("2023-10-06T23:47:56.678Z"), at_ms(1696636076678));
  EXPECT_EQ(parse_rfc3339("2023-10-06T23:47:56Z"), at_ms(1696636076000));
  EXPECT_EQ(parse_rfc3339("2023-10-07T01:47:56.678123+02:00"), at_ms(1696636076678));
  EXPECT_EQ(parse_rfc3339("2023-10-06 23:47:56.678+00"), at_ms(1696636076678));
  EXPECT_EQ(parse_rfc3339("2023-10-06T18:47:56.6-0500"), at_ms(1696636076600));
  for (const char* bad :
       {"", "2023-10-06", "2023-10-06T23:47:56", "2023-02-30T00:00:00Z", "2023-10-06T24:00:00Z",
        "2023-10-06T23:47:56.Z", "yesterday", "2023-10-06T23:47:56Zjunk"}) {
    EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
  }
}

TEST(WebhookSupport, UnixTimesFromHeadersAndJson) {
  // Invariant: header timestamps are whole non-negative seconds; JSON times may be numbers
  // with a fraction (Mailgun) or strings holding one.
  EXPECT_EQ(parse_unix_seconds("1700000000"), at_ms(1700000000000));
  EXPECT_EQ(parse_unix_seconds("17e8"), std::nullopt);
  EXPECT_EQ(parse_unix_seconds("-1"), std::nullopt);
  EXPECT_EQ(parse_unix_seconds(" 1"), std::nullopt);
  EXPECT_EQ(parse_unix_time(nlohmann::json(1521472262.908181)), at_ms(1521472262908));
  EXPECT_EQ(parse_unix_time(nlohmann::json(1600112492)), at_ms(1600112492000));
  EXPECT_EQ(parse_unix_time(nlohmann::json("1600112492")), at_ms(1600112492000));
  EXPECT_EQ(parse_unix_time(nlohmann::json("soon")), std::nullopt);
  EXPECT_EQ(parse_unix_time(nlohmann::json(nullptr)), std::nullopt);
  EXPECT_EQ(parse_unix_time(nlohmann::json(-5)), std::nullopt);
}

TEST(WebhookSupport, FreshnessIsFiveMinutesEitherWay) {
  // Invariant: a signed time up to 300 s before or after now is fresh; one second more is
  // forbidden as stale.
  const TimePoint now = at_ms(1700000000000);
  EXPECT_TRUE(check_fresh(now - std::chrono::seconds(300), now, "t").has_value());
  EXPECT_TRUE(check_fresh(now + std::chrono::seconds(300), now, "t").has_value());
  for (auto skew : {std::chrono::seconds(-301), std::chrono::seconds(301)}) {
    const auto r = check_fresh(now + skew, now, "t");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::forbidden);
    EXPECT_TRUE(r.error().message.starts_with("stale t"));
  }
}

TEST(WebhookSupport, HmacMatchesRfc4231) {
  // Invariant: HMAC-SHA256 is the standard one (RFC 4231 test case 2), and signatures compare
  // equal only when identical and non-empty.
  EXPECT_EQ(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(same_signature("abc", "abc"));
  EXPECT_FALSE(same_signature("abc", "abd"));
  EXPECT_FALSE(same_signature("abc", "ab"));
  EXPECT_FALSE(same_signature("", ""));
}

}  // namespace
}  // namespace herald::providers
