#include "app/suppressions.h"

#include <spdlog/spdlog.h>

#include "app/agents.h"
#include "core/id.h"
#include "core/validate.h"
#include "webhooks/twilio_inbound.h"

namespace herald::app {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The last digits of a phone number, for logs.
std::string masked_phone(const std::string& phone) {
  return phone.size() > 4 ? "…" + phone.substr(phone.size() - 4) : "…";
}

}  // namespace

std::optional<std::string> normalize_address(Channel channel, std::string_view address) {
  std::string a = trim(address);
  if (channel == Channel::email) {
    if (!is_valid_email(a)) return std::nullopt;
    return store::suppression_key(channel, a);
  }
  return to_e164(a);
}

Result<AddedSuppression> add_suppression(App& app, const std::string& agent_id,
                                         const NewSuppression& in) {
  std::vector<FieldError> errors;
  auto channel = parse_channel(in.channel);
  if (in.channel.empty()) {
    errors.push_back({"channel", "is required (email or sms)"});
  } else if (!channel) {
    errors.push_back({"channel", "must be email or sms"});
  }
  std::optional<std::string> address;
  if (trim(in.address).empty()) {
    errors.push_back({"address", "is required"});
  } else if (channel) {
    address = normalize_address(*channel, in.address);
    if (!address) {
      errors.push_back(
          {"address", *channel == Channel::email
                          ? "is not a valid email address"
                          : "must be a phone number with its country code, e.g. +14155552671"});
    }
  }
  auto reason = in.reason.empty() ? std::optional(store::SuppressionReason::manual)
                                  : store::parse_suppression_reason(in.reason);
  if (!reason)
    errors.push_back({"reason", "must be unsubscribed, bounced, complained, stop or manual"});
  if (in.detail.size() > 500) errors.push_back({"detail", "must be at most 500 characters"});
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());

  store::Suppression s{new_id(), agent_id, *channel,  *address,
                       *reason,  "api",    in.detail, app.clock().now()};
  auto created = app.store().contacts().add_suppression(s);
  if (!created) return std::unexpected(created.error());
  if (*created) return AddedSuppression{std::move(s), true};
  // Already there: answer with the row that exists.
  auto existing =
      app.store().contacts().list_suppressions({agent_id, *channel, *reason, *address, "", 1});
  if (!existing) return std::unexpected(existing.error());
  if (existing->items.empty()) return fail(Error::internal("suppression vanished"));
  return AddedSuppression{std::move(existing->items.front()), false};
}

Result<bool> suppress(App& app, const std::string& agent_id, Channel channel,
                      std::string_view address, store::SuppressionReason reason, std::string source,
                      std::string detail) {
  std::string key =
      normalize_address(channel, address).value_or(store::suppression_key(channel, address));
  store::Suppression s{new_id(), agent_id,          channel,           key,
                       reason,   std::move(source), std::move(detail), app.clock().now()};
  return app.store().contacts().add_suppression(s);
}

Result<void> delete_suppression(App& app, const std::string& agent_id, const std::string& id) {
  auto removed = app.store().contacts().delete_suppression(agent_id, id);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return fail(Error::not_found("suppression not found"));
  return {};
}

Result<int> remove_suppressions(App& app, const std::string& agent_id, Channel channel,
                                std::string_view address) {
  std::string key =
      normalize_address(channel, address).value_or(store::suppression_key(channel, address));
  auto n = app.store().contacts().remove_suppressions(agent_id, channel, key, std::nullopt);
  if (!n) return n;
  if (*n == 0) return fail(Error::not_found("no suppression for this address"));
  return n;
}

Result<store::Page<store::Suppression>> list_suppressions(App& app, store::SuppressionQuery query) {
  if (auto rec = get_agent(app, query.agent_id); !rec) return std::unexpected(rec.error());
  if (!query.address.empty() && query.channel) {
    query.address = normalize_address(*query.channel, query.address).value_or(query.address);
  }
  return app.store().contacts().list_suppressions(query);
}

Result<std::string> handle_twilio_inbound(App& app, const std::string& agent_id,
                                          const TwilioInboundRequest& request) {
  auto agent = load_agent(app, agent_id);
  if (!agent) return std::unexpected(agent.error());

  // The signature first: nothing is read from an unverified request. The key is the Auth Token
  // of the account that owns the number: the agent's own Twilio, else the platform's.
  // (This receiver is Twilio's own webhook: an account of another provider has no token here.)
  static const Secret kNone;
  const auto& own = agent->sms;
  const PlatformAccount& platform = app.platform().sms;
  const Secret& token =
      own ? (own->provider == "twilio" ? own->secrets.get("authToken") : kNone)
          : (platform.provider == "twilio" ? platform.secrets.get("authToken") : kNone);
  if (token.empty()) return fail(Error{Errc::forbidden, "no Twilio account for this number"});
  if (!webhooks::verify_twilio_signature(token.reveal(), request.url, request.params,
                                         request.signature)) {
    spdlog::warn("twilio inbound for agent {}: signature does not verify; ignored", agent_id);
    return fail(Error{Errc::forbidden, "X-Twilio-Signature does not verify"});
  }

  auto sms = webhooks::parse_inbound(request.params);
  std::string from = to_e164(sms.from).value_or(trim(sms.from));
  auto keyword = webhooks::classify_inbound(sms.body);
  if (from.empty() && keyword != webhooks::InboundKeyword::none) return webhooks::twiml_empty();
  switch (keyword) {
    case webhooks::InboundKeyword::opt_out: {
      // Twilio itself answers STOP on long codes and toll-free numbers, so no reply of ours.
      auto r = suppress(
          app, agent_id, Channel::sms, from, store::SuppressionReason::stop, "twilio inbound",
          trim(sms.body) + (sms.message_sid.empty() ? "" : " (" + sms.message_sid + ")"));
      if (!r) return std::unexpected(r.error());
      spdlog::info("twilio inbound for agent {}: {} opted out", agent_id, masked_phone(from));
      return webhooks::twiml_empty();
    }
    case webhooks::InboundKeyword::opt_in: {
      auto r = app.store().contacts().remove_suppressions(agent_id, Channel::sms, from,
                                                          store::SuppressionReason::stop);
      if (!r) return std::unexpected(r.error());
      spdlog::info("twilio inbound for agent {}: {} opted back in", agent_id, masked_phone(from));
      return webhooks::twiml_empty();
    }
    case webhooks::InboundKeyword::help: {
      const Branding& b = agent->branding;
      std::string name = b.company_name.empty() ? app.platform().name : b.company_name;
      std::string contact = !b.sms_phone.empty() ? b.sms_phone : b.reply_email;
      std::string text = name + ": reply STOP to unsubscribe.";
      if (!contact.empty()) text += " Contact: " + contact;
      return webhooks::twiml_message(text);
    }
    case webhooks::InboundKeyword::none:
      break;
  }
  return webhooks::twiml_empty();
}

}  // namespace herald::app
