#include "core/types.h"

namespace herald {

std::string_view to_string(Channel c) {
  return c == Channel::email ? "email" : "sms";
}

std::string_view to_string(IntegrationStatus s) {
  return s == IntegrationStatus::ok ? "ok" : "failing";
}

std::optional<Channel> parse_channel(std::string_view s) {
  if (s == "email") return Channel::email;
  if (s == "sms") return Channel::sms;
  return std::nullopt;
}

}  // namespace herald
