#include "core/types.h"

namespace herald {

std::string_view to_string(Channel c) {
  return c == Channel::email ? "email" : "sms";
}

std::string_view to_string(ProviderId p) {
  switch (p) {
    case ProviderId::resend:
      return "resend";
    case ProviderId::sendgrid:
      return "sendgrid";
    case ProviderId::mailgun:
      return "mailgun";
    case ProviderId::twilio:
      return "twilio";
  }
  return "unknown";
}

std::string_view to_string(Region r) {
  return r == Region::eu ? "eu" : "us";
}

std::string_view to_string(IntegrationStatus s) {
  return s == IntegrationStatus::ok ? "ok" : "failing";
}

std::optional<Channel> parse_channel(std::string_view s) {
  if (s == "email") return Channel::email;
  if (s == "sms") return Channel::sms;
  return std::nullopt;
}

std::optional<ProviderId> parse_provider(std::string_view s) {
  if (s == "resend") return ProviderId::resend;
  if (s == "sendgrid") return ProviderId::sendgrid;
  if (s == "mailgun") return ProviderId::mailgun;
  if (s == "twilio") return ProviderId::twilio;
  return std::nullopt;
}

std::optional<Region> parse_region(std::string_view s) {
  if (s == "us" || s == "US") return Region::us;
  if (s == "eu" || s == "EU") return Region::eu;
  return std::nullopt;
}

Channel channel_of(ProviderId p) {
  return p == ProviderId::twilio ? Channel::sms : Channel::email;
}

}  // namespace herald
