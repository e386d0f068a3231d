// Reason hygiene shared by every adapter: reasons are shown to people and logged.
#include "providers/classify.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "providers/test_support.h"

namespace herald::providers {
namespace {

using namespace fixtures;

TEST(CleanReason, RedactsKeyShapedTokens) {
  // Invariant: nothing shaped like a provider key survives into a reason.
  EXPECT_EQ(clean_reason("bad re_abc123DEF456 key"), "bad [redacted] key");
  EXPECT_EQ(clean_reason("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"),
            "[redacted]");
  EXPECT_EQ(clean_reason("key-3ax6xnjp29jd6fds4gc373sgvjxteol0 denied"), "[redacted] denied");
  EXPECT_EQ(clean_reason("token 0123456789abcdef0123456789ABCDEF"), "token [redacted]");
  // Ids and SIDs stay readable.
  EXPECT_EQ(clean_reason("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81"),
            "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81");
}

TEST(CleanReason, StripsControlCharactersAndCapsLength) {
  // Invariant: a reason is one bounded line (no log injection, no megabyte HTML pages).
  EXPECT_EQ(clean_reason("  line1\r\nline2\t "), "line1  line2");
  const std::string capped = clean_reason(std::string(5000, 'x'));
  EXPECT_LE(capped.size(), 504u);
  EXPECT_TRUE(capped.ends_with("…"));
  // A cut in the middle of a multi-byte character leaves valid UTF-8 ("x" shifts the
  // two-byte "é"s so byte 500 falls inside one).
  std::string accents = "x";
  for (int i = 0; i < 400; ++i) accents += "é";
  const std::string cut = clean_reason(accents);
  EXPECT_LE(cut.size(), 504u);
  EXPECT_NO_THROW(
      (void)nlohmann::json(cut).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
}

TEST(FallbackReason, QuotesOnlyNonJsonBodies) {
  // Invariant: with no provider message, the reason names the status and a short body excerpt.
  EXPECT_EQ(fallback_reason(response(0), "Twilio"), "no response from Twilio");
  EXPECT_EQ(fallback_reason(response(502), "Resend"), "Resend had a problem on its side");
  EXPECT_EQ(fallback_reason(response(403, "error code: 1010"), "Resend"),
            "Resend refused the request for this account: error code: 1010");
  EXPECT_EQ(fallback_reason(response(400, R"({"unexpected":true})"), "Resend"),
            "Resend refused the message as invalid");
}

}  // namespace
}  // namespace herald::providers
