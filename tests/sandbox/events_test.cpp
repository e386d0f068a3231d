// Protects the sandbox's outcome rules (which address gets which events) and how a message's
// events are scheduled under the duplicate and reorder faults.
#include <gtest/gtest.h>

#include "sandbox/events.h"

namespace herald::sandbox {
namespace {

using enum EventKind;

TEST(EmailOutcome, TheLocalPartDecides) {
  // Invariant: bounce… hard-bounces, soft… defers, complain… / open… / click… are delivered
  // first, anything else is delivered; the prefix is case-insensitive and the domain ignored.
  EXPECT_EQ(email_outcome("dana@example.com").events, std::vector{delivered});
  EXPECT_EQ(email_outcome("Bounce.Me@example.com").events, std::vector{bounced});
  EXPECT_EQ(email_outcome("soft7@example.com").events, std::vector{deferred});
  EXPECT_EQ(email_outcome("complainer@example.com").events, (std::vector{delivered, complained}));
  EXPECT_EQ(email_outcome("open@example.com").events, (std::vector{delivered, opened}));
  EXPECT_EQ(email_outcome("click+1@example.com").events, (std::vector{delivered, opened, clicked}));
  EXPECT_EQ(email_outcome("dana@bounce.example").events, std::vector{delivered});
}

TEST(SmsOutcome, TheLastFourDigitsDecide) {
  // Invariant: 000N with 3000N a Twilio delivery error is sent then undelivered with that code;
  // every other number is sent then delivered.
  EXPECT_EQ(sms_outcome("+15558675310").events, (std::vector{sent, delivered}));
  for (int n : {3, 5, 6, 7, 8}) {
    Outcome o = sms_outcome("+1555867000" + std::to_string(n));
    EXPECT_EQ(o.events, (std::vector{sent, undelivered})) << n;
    EXPECT_EQ(o.error_code, 30000 + n);
  }
  EXPECT_EQ(sms_outcome("+15558670004").events, (std::vector{sent, delivered}));
  EXPECT_EQ(sms_outcome("+15558670015").events, (std::vector{sent, delivered}));
}

std::vector<EventKind> kinds(const std::vector<Step>& steps) {
  std::vector<EventKind> out;
  for (const Step& s : steps) out.push_back(s.kind);
  return out;
}

TEST(Schedule, FaultsDuplicateAndReorder) {
  // Invariant: events are a millisecond apart in order; reorder reverses the posting order but
  // keeps each event's time; duplicate repeats each event right after itself with its id.
  Delivery d;
  d.to = "click@example.com";
  const TimePoint now = TimePoint(std::chrono::seconds(1'767'225'600));
  auto plain = schedule(d, now);
  EXPECT_EQ(kinds(plain), (std::vector{delivered, opened, clicked}));
  EXPECT_EQ(plain[2].at - plain[0].at, std::chrono::milliseconds(2));
  EXPECT_NE(plain[0].id, plain[1].id);

  d.fault.reorder = true;
  auto reordered = schedule(d, now);
  EXPECT_EQ(kinds(reordered), (std::vector{clicked, opened, delivered}));
  EXPECT_GT(reordered[0].at, reordered[2].at);

  d.fault = {.duplicate = true};
  auto doubled = schedule(d, now);
  EXPECT_EQ(kinds(doubled), (std::vector{delivered, delivered, opened, opened, clicked, clicked}));
  EXPECT_EQ(doubled[0].id, doubled[1].id);
  EXPECT_EQ(doubled[0].at, doubled[1].at);
}

TEST(Schedule, UndeliveredSmsCarriesItsErrorCode) {
  // Invariant: only the undelivered step carries Twilio's error code.
  Delivery d;
  d.sms = true;
  d.to = "+15558670007";
  auto steps = schedule(d, TimePoint{});
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].error_code, 0);
  EXPECT_EQ(steps[1].error_code, 30007);
}

}  // namespace
}  // namespace herald::sandbox
