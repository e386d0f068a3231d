// Domain types: agents, branding, integrations, channels. Providers are named by their
// registry id (src/providers/registry.cpp); nothing here knows which providers exist.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace herald {

enum class Channel { email, sms };

// A provider's registry id ("resend", "sendgrid", "mailgun", "smtp", "twilio"), as stored and
// as the API spells it. Which ids exist, and what each needs, is the registry's business.
using ProviderId = std::string;

std::string_view to_string(Channel c);
std::optional<Channel> parse_channel(std::string_view s);

// Named values of an integration (a provider's fields: domain, region, accountSid, host, …).
// Few per integration, so a small vector: lookups are a handful of comparisons.
template <class V>
class FieldMap {
 public:
  // The value of `name`, or nullptr.
  const V* find(std::string_view name) const {
    for (const auto& [k, v] : items_)
      if (k == name) return &v;
    return nullptr;
  }
  // Sets `name` (replacing a value already there).
  void set(std::string name, V value) {
    for (auto& [k, v] : items_) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    items_.emplace_back(std::move(name), std::move(value));
  }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  bool operator==(const FieldMap&) const = default;

 private:
  std::vector<std::pair<std::string, V>> items_;
};

// Plain fields by name; get() is "" when absent.
class Params : public FieldMap<std::string> {
 public:
  const std::string& get(std::string_view name) const {
    static const std::string kEmpty;
    const std::string* v = find(name);
    return v ? *v : kEmpty;
  }
};

// Secret fields by name (opened, in memory only); get() is an empty Secret when absent.
class SecretParams : public FieldMap<Secret> {
 public:
  const Secret& get(std::string_view name) const {
    static const Secret kEmpty;
    const Secret* v = find(name);
    return v ? *v : kEmpty;
  }
};

// The agent's branding settings (the seed's brandingSettings). Empty string = not set.
struct Branding {
  std::string company_name;
  std::string reply_email;
  std::string sms_phone;
  std::string email_signature;
  std::string website;
  std::string postal_address;

  bool empty() const {
    return company_name.empty() && reply_email.empty() && sms_phone.empty() &&
           email_signature.empty() && website.empty() && postal_address.empty();
  }
};

// Health of a connected integration as last observed.
enum class IntegrationStatus { ok, failing };
std::string_view to_string(IntegrationStatus s);

// An agent's own provider account for one channel (secrets opened, in memory only): which
// provider, the address it sends from, and the provider's own fields.
struct Integration {
  ProviderId provider;
  std::string sender;    // the From address (email) or number (SMS, E.164)
  Params params;         // the provider's plain fields (domain, region, accountSid, host, …)
  SecretParams secrets;  // the provider's secret fields (apiKey, authToken, password)
  bool active = true;
  IntegrationStatus status = IntegrationStatus::ok;
  std::string status_reason;
  double rate_limit = 0;  // requests per second; 0: the provider's default
};

// An agent (tenant) with what route resolution needs to know about it.
struct Agent {
  std::string id;
  std::string name;
  std::string contact_email;
  bool fallback_to_platform = true;
  Branding branding;
  std::optional<Integration> email;
  std::optional<Integration> sms;

  // The integration on `channel`, if connected.
  const std::optional<Integration>& integration(Channel c) const {
    return c == Channel::email ? email : sms;
  }
};

}  // namespace herald
