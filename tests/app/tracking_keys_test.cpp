// The receivers' key cache: a key is reused only for a few seconds and never after its owner's
// account changed in this process.
#include "app/tracking_keys.h"

#include <gtest/gtest.h>

namespace herald::app {
namespace {

TEST(TrackingKeys, AKeyIsReusedOnlyWithinItsTimeAndOnlyForItsOwnerAndProvider) {
  // Invariant: a kept key answers for its own (provider, owner) until kTtl has passed, and not
  // for another provider or owner; a clock that went back does not make an old entry fresh.
  TrackingKeys keys;
  const TimePoint t0 = from_millis(1'800'000'000'000);
  keys.keep("resend", "agent-1", Secret("whsec_one"), t0);
  ASSERT_TRUE(keys.find("resend", "agent-1", t0 + std::chrono::seconds(4)).has_value());
  EXPECT_EQ(keys.find("resend", "agent-1", t0)->reveal(), "whsec_one");
  EXPECT_FALSE(keys.find("resend", "agent-1", t0 + TrackingKeys::kTtl).has_value());
  EXPECT_FALSE(keys.find("resend", "agent-1", t0 - std::chrono::seconds(1)).has_value());
  EXPECT_FALSE(keys.find("sendgrid", "agent-1", t0).has_value());
  EXPECT_FALSE(keys.find("resend", "agent-10", t0).has_value());
}

TEST(TrackingKeys, ForgettingAnOwnerDropsAllItsKeysAndNoOneElses) {
  // Invariant: forget(owner) drops every provider's key of that owner (its account changed),
  // and leaves other owners' keys, including one whose id starts with the same characters.
  TrackingKeys keys;
  const TimePoint t0 = from_millis(1'800'000'000'000);
  keys.keep("resend", "agent-1", Secret("a"), t0);
  keys.keep("twilio", "agent-1", Secret("b"), t0);
  keys.keep("resend", "agent-10", Secret("c"), t0);
  keys.keep("resend", "platform", Secret("d"), t0);
  keys.forget("agent-1");
  EXPECT_FALSE(keys.find("resend", "agent-1", t0).has_value());
  EXPECT_FALSE(keys.find("twilio", "agent-1", t0).has_value());
  EXPECT_EQ(keys.find("resend", "agent-10", t0)->reveal(), "c");
  EXPECT_EQ(keys.find("resend", "platform", t0)->reveal(), "d");
}

}  // namespace
}  // namespace herald::app
