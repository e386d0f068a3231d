#include "core/message.h"

#include <array>
#include <utility>

namespace herald {

namespace {
constexpr std::array<std::pair<MessageStatus, std::string_view>, 10> kStatuses{{
    {MessageStatus::queued, "queued"},
    {MessageStatus::sending, "sending"},
    {MessageStatus::retrying, "retrying"},
    {MessageStatus::sent, "sent"},
    {MessageStatus::delivered, "delivered"},
    {MessageStatus::bounced, "bounced"},
    {MessageStatus::failed, "failed"},
    {MessageStatus::suppressed, "suppressed"},
    {MessageStatus::deferred, "deferred"},
    {MessageStatus::complained, "complained"},
}};
}  // namespace

std::string_view to_string(MessageStatus s) {
  for (const auto& [v, name] : kStatuses)
    if (v == s) return name;
  return "unknown";
}

std::optional<MessageStatus> parse_message_status(std::string_view s) {
  for (const auto& [v, name] : kStatuses)
    if (name == s) return v;
  return std::nullopt;
}

bool is_terminal(MessageStatus s) {
  return s != MessageStatus::queued && s != MessageStatus::sending && s != MessageStatus::retrying;
}

std::string_view to_string(MessageKind k) {
  return k == MessageKind::transactional ? "transactional" : "campaign";
}

std::optional<MessageKind> parse_message_kind(std::string_view s) {
  if (s == "transactional") return MessageKind::transactional;
  if (s == "campaign") return MessageKind::campaign;
  return std::nullopt;
}

std::string accepted_detail(const ProviderId& provider) {
  return "accepted by " + provider;
}

}  // namespace herald
