// Quiet hours for SMS: messages to a recipient are sent only inside a daily window in the
// recipient's own time zone (default 08:00–21:00); outside it they wait, never drop.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace herald {

struct SendWindow {
  int start_minute = 8 * 60;  // minutes after local midnight
  int end_minute = 21 * 60;   // exclusive
};

// The platform's quiet hours: the window, and the zone of recipients whose own is unknown.
struct QuietHours {
  SendWindow window;
  std::string default_time_zone = "America/New_York";
};

// Parses "HH:MM-HH:MM" (e.g. "08:00-21:00").
std::optional<SendWindow> parse_send_window(std::string_view text);

// True if `zone` is an IANA time zone name ICU knows (e.g. "America/New_York").
bool is_valid_time_zone(const std::string& zone);

// When a message to someone in `zone` may go out: nullopt if `now` is inside the window,
// else the next window opening (UTC). An unknown zone is treated as `fallback_zone`.
std::optional<TimePoint> next_send_time(TimePoint now, const std::string& zone, SendWindow window,
                                        const std::string& fallback_zone = "America/New_York");

}  // namespace herald
