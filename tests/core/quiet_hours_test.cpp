// Quiet hours: SMS waits for the recipient's local send window; never dropped.
#include "core/quiet_hours.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

// 2026-11-24T02:00:00Z is 21:00 on Nov 23 in New York (EST, UTC−5).
TimePoint utc(int day, int hour, int minute = 0) {
  return from_millis((1'795'478'400LL + (day - 24) * 86400LL + hour * 3600LL + minute * 60LL) *
                     1000);
}

TEST(QuietHours, InsideTheWindowSendsNow) {
  // Invariant: at 14:00 local the message goes out at once.
  EXPECT_FALSE(next_send_time(utc(24, 19), "America/New_York", {}).has_value());
}

TEST(QuietHours, AfterTheWindowWaitsForTomorrowMorningLocal) {
  // Invariant: at 21:00 local (the window's end) the message waits until 08:00 local next day.
  auto next = next_send_time(utc(24, 2), "America/New_York", {});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(to_millis(*next), to_millis(utc(24, 13)));  // 08:00 EST = 13:00Z
}

TEST(QuietHours, BeforeTheWindowWaitsForThisMorning) {
  // Invariant: at 02:00 local the message waits for 08:00 the same local day.
  auto next = next_send_time(utc(24, 1, 0) + std::chrono::hours(24 + 6), "Europe/London", {});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(to_millis(*next), to_millis(utc(25, 8)));  // London is UTC in November
}

TEST(QuietHours, TimeZonesMatter) {
  // Invariant: the same instant is quiet for one recipient and fine for another.
  TimePoint t = utc(24, 4);  // 23:00 New York, 20:00 Los Angeles
  EXPECT_TRUE(next_send_time(t, "America/New_York", {}).has_value());
  EXPECT_FALSE(next_send_time(t, "America/Los_Angeles", {}).has_value());
}

TEST(QuietHours, WindowsAndZonesParse) {
  // Invariant: configured windows and zone names are validated, not guessed.
  auto w = parse_send_window("09:30-20:00");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->start_minute, 570);
  EXPECT_FALSE(parse_send_window("21:00-08:00").has_value());
  EXPECT_FALSE(parse_send_window("8-21").has_value());
  EXPECT_TRUE(is_valid_time_zone("America/Chicago"));
  EXPECT_FALSE(is_valid_time_zone("Mars/Olympus_Mons"));
  // An unknown zone falls back to the default instead of sending at 3 a.m.
  EXPECT_TRUE(next_send_time(utc(24, 8), "Mars/Olympus_Mons", {}).has_value());  // 03:00 NY
}

}  // namespace
}  // namespace herald
