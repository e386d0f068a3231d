#include "webhooks/twilio_inbound.h"
#include "core/escape.h"

#include <array>

namespace herald::webhooks {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 8> kOptOut = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL",
                                                     "END",  "QUIT",    "REVOKE",      "OPTOUT"};
constexpr std::array<std::string_view, 3> kOptIn = {"START", "UNSTOP", "YES"};
constexpr std::array<std::string_view, 2> kHelp = {"HELP", "INFO"};

}  // namespace

InboundKeyword classify_inbound(std::string_view body) {
  while (!body.empty() && is_space(body.front())) body.remove_prefix(1);
  while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
  for (auto k : kOptOut)
    if (iequals(body, k)) return InboundKeyword::opt_out;
  for (auto k : kOptIn)
    if (iequals(body, k)) return InboundKeyword::opt_in;
  for (auto k : kHelp)
    if (iequals(body, k)) return InboundKeyword::help;
  return InboundKeyword::none;
}

InboundSms parse_inbound(std::span<const std::pair<std::string, std::string>> params) {
  InboundSms m;
  // The first occurrence of each field wins.
  auto take = [](std::string& field, const std::string& value) {
    if (field.empty()) field = value;
  };
  for (const auto& [name, value] : params) {
    if (name == "MessageSid" || name == "SmsMessageSid" || name == "SmsSid")
      take(m.message_sid, value);
    else if (name == "AccountSid")
      take(m.account_sid, value);
    else if (name == "From")
      take(m.from, value);
    else if (name == "To")
      take(m.to, value);
    else if (name == "Body")
      take(m.body, value);
  }
  return m;
}

std::string twiml_message(std::string_view text) {
  return R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>)" + markup_escape(text) +
         "</Message></Response>";
}

std::string twiml_empty() {
  return R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)";
}

}  // namespace herald::webhooks
