#include "core/quiet_hours.h"

#include <unicode/timezone.h>

#include <cstdio>
#include <memory>

namespace herald {

namespace {

std::unique_ptr<icu::TimeZone> zone_for(const std::string& name) {
  std::unique_ptr<icu::TimeZone> tz(
      icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
  if (!tz || *tz == icu::TimeZone::getUnknown()) return nullptr;
  return tz;
}

// The zone's offset from UTC at instant `t` (DST included), in milliseconds.
std::int64_t offset_ms(const icu::TimeZone& tz, TimePoint t) {
  int32_t raw = 0, dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  tz.getOffset(static_cast<UDate>(to_millis(t)), false, raw, dst, status);
  return U_SUCCESS(status) ? static_cast<std::int64_t>(raw) + dst : 0;
}

}  // namespace

std::optional<SendWindow> parse_send_window(std::string_view text) {
  int h1, m1, h2, m2;
  char tail;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &tail) != 4)
    return std::nullopt;
  if (h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
    return std::nullopt;
  SendWindow w{h1 * 60 + m1, h2 * 60 + m2};
  if (w.start_minute >= w.end_minute || w.end_minute > 24 * 60) return std::nullopt;
  return w;
}

bool is_valid_time_zone(const std::string& zone) {
  return !zone.empty() && zone_for(zone) != nullptr;
}

std::optional<TimePoint> next_send_time(TimePoint now, const std::string& zone, SendWindow window,
                                        const std::string& fallback_zone) {
  auto tz = zone_for(zone);
  if (!tz) tz = zone_for(fallback_zone);
  if (!tz) return std::nullopt;
  constexpr std::int64_t kDay = 24 * 60 * 60 * 1000LL;
  std::int64_t local = to_millis(now) + offset_ms(*tz, now);
  std::int64_t day_start = local - ((local % kDay) + kDay) % kDay;
  std::int64_t minute = (local - day_start) / 60000;
  if (minute >= window.start_minute && minute < window.end_minute) return std::nullopt;
  // Before the window: today's opening; after it: tomorrow's.
  std::int64_t open_local =
      day_start + window.start_minute * 60000LL + (minute >= window.end_minute ? kDay : 0);
  // Convert local → UTC with the offset in force at that moment (DST changes overnight).
  TimePoint guess = from_millis(open_local - offset_ms(*tz, now));
  return from_millis(open_local - offset_ms(*tz, guess));
}

}  // namespace herald
