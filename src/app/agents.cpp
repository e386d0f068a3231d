#include "app/agents.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <regex>

#include <spdlog/spdlog.h>

#include "app/auth.h"
#include "app/tracking_setup.h"
#include "core/id.h"
#include "core/validate.h"

namespace herald::app {

namespace {

// Collects field errors so one response names every invalid field at once.
class Checker {
 public:
  void require(const std::string& field, const std::string& value, std::size_t max_len) {
    if (value.empty()) {
      add(field, "is required");
    } else {
      limit(field, value, max_len);
    }
  }
  void limit(const std::string& field, const std::string& value, std::size_t max_len) {
    if (value.size() > max_len)
      add(field, "must be at most " + std::to_string(max_len) + " characters");
  }
  // Header-bound values must not smuggle line breaks or other control characters.
  void single_line(const std::string& field, const std::string& value) {
    if (std::any_of(value.begin(), value.end(),
                    [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      add(field, "must be a single line without control characters");
    }
  }
  void email(const std::string& field, const std::string& value, bool required) {
    if (value.empty()) {
      if (required) add(field, "is required");
    } else if (!is_valid_email(value)) {
      add(field, "is not a valid email address");
    }
  }
  // Normalizes `value` to E.164 in place.
  void phone(const std::string& field, std::string& value, bool required) {
    if (value.empty()) {
      if (required) add(field, "is required");
      return;
    }
    if (auto e164 = check_phone(value)) {
      value = *e164;
    } else {
      add(field, e164.error().message);
    }
  }
  void add(std::string field, std::string why) {
    errors_.push_back({std::move(field), std::move(why)});
  }
  bool ok() const { return errors_.empty(); }
  Error error() const { return Error::invalid(errors_); }

 private:
  std::vector<FieldError> errors_;
};

// The most requests per second an integration may be configured for.
constexpr double kMaxRateLimit = 100000;

void check_rate_limit(Checker& check, const std::optional<double>& rate) {
  if (rate && !(*rate > 0 && *rate <= kMaxRateLimit)) {
    check.add("rateLimitPerSecond", "must be a number of requests per second above 0 and at most " +
                                        std::to_string(static_cast<int>(kMaxRateLimit)));
  }
}

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool has_space(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isspace(c) || c < 0x20; });
}

// A host to connect to: a DNS name (one label such as "localhost" too), a dotted IPv4 address
// or an IPv6 literal (bare or in brackets).
bool is_host(const std::string& s) {
  static const std::regex name(
      R"(^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$)");
  static const std::regex ipv6(R"(^\[?[0-9A-Fa-f:.]+\]?$)");
  if (s.empty() || s.size() > 253) return false;
  if (s.find(':') != std::string::npos) return std::regex_match(s, ipv6);
  return std::regex_match(s, name);
}

// "a, b or c".
std::string one_of(const std::vector<std::string_view>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

// The ids of the registered providers on `channel`, for "must be resend, sendgrid or mailgun".
std::string provider_ids(Channel channel) {
  std::vector<std::string_view> ids;
  for (const providers::Provider* p : providers::all_providers())
    if (p->info().channel == channel) ids.push_back(p->info().id);
  return one_of(ids);
}

// "apiKey" → "api_key".
std::string snake_case(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

// Checks a value against a field's kind (email, phone, choice, port, host); normalizes it.
void check_kind(Checker& check, const std::string& name, const providers::CredentialField& f,
                std::string& value) {
  using providers::FieldKind;
  switch (f.kind) {
    case FieldKind::secret:
      if (has_space(value)) check.add(name, "must not contain spaces");
      break;
    case FieldKind::email:
      check.email(name, value, true);
      break;
    case FieldKind::phone:
      check.phone(name, value, true);
      break;
    case FieldKind::choice: {
      std::string lower = value;
      std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (std::ranges::find(f.choices, lower, &providers::Choice::value) == f.choices.end()) {
        std::vector<std::string_view> values;
        for (const providers::Choice& c : f.choices) values.push_back(c.value);
        check.add(name, "must be " + one_of(values));
      } else {
        value = lower;
      }
      break;
    }
    case FieldKind::port: {
      int port = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || end != value.data() + value.size() || port < 1 || port > 65535)
        check.add(name, "must be a port number from 1 to 65535");
      break;
    }
    case FieldKind::host:
      if (!is_host(value)) check.add(name, "is not a valid host name or IP address");
      break;
    case FieldKind::text:
      break;
  }
}

// Checks one field's value against its description; normalizes it in place (trimmed, E.164).
void check_field(Checker& check, const std::string& name, const providers::CredentialField& f,
                 std::string& value) {
  if (f.kind != providers::FieldKind::secret) value = trimmed(value);
  if (value.empty()) {
    if (f.required) check.add(name, "is required");
    return;
  }
  if (value.size() > f.max_length) {
    check.add(name, "must be at most " + std::to_string(f.max_length) + " characters");
    return;
  }
  check.single_line(name, value);
  check_kind(check, name, f, value);
  if (!f.pattern.empty() && !std::regex_match(value, std::regex(std::string(f.pattern))))
    check.add(name, std::string(f.pattern_message.empty() ? "is not valid" : f.pattern_message));
}

Error agent_not_found() {
  return Error::not_found("agent not found");
}

// "No email account is connected": the 404 when there is nothing to act on.
Error not_connected(Channel channel) {
  return Error::not_found(std::string("no ") + (channel == Channel::email ? "email" : "SMS") +
                          " account is connected");
}

}  // namespace

Result<store::AgentRow> create_agent(App& app, const NewAgent& input) {
  store::AgentRow row;
  row.name = trimmed(input.name);
  row.email = trimmed(input.email);
  Checker check;
  check.require("name", row.name, 200);
  check.single_line("name", row.name);
  check.email("email", row.email, true);
  if (!input.password.empty()) {
    if (auto p = check_password(input.password, "password"); !p)
      check.add("password", p.error().fields[0].message);
  }
  if (!check.ok()) return fail(check.error());
  std::string hash;
  if (!input.password.empty()) {
    auto h = hash_password(input.password);
    if (!h) return std::unexpected(h.error());
    hash = std::move(*h);
  }
  row.id = new_id();
  row.created_at = app.clock().now();
  if (auto r = app.store().create_agent(row, hash); !r) return std::unexpected(r.error());
  return row;
}

Result<store::AgentRecord> get_agent(App& app, const std::string& agent_id) {
  auto rec = app.store().find_agent(agent_id);
  if (!rec) return std::unexpected(rec.error());
  if (!*rec) return fail(agent_not_found());
  return std::move(**rec);
}

Result<Branding> put_branding(App& app, const std::string& agent_id, Branding b) {
  for (std::string* s : {&b.company_name, &b.reply_email, &b.sms_phone, &b.website})
    *s = trimmed(*s);
  Checker check;
  check.limit("companyName", b.company_name, 100);
  check.single_line("companyName", b.company_name);
  check.email("replyEmail", b.reply_email, false);
  check.phone("smsPhone", b.sms_phone, false);
  check.limit("emailSignature", b.email_signature, 2000);
  if (!b.website.empty() && !is_valid_http_url(b.website)) {
    check.add("website", "must be an http(s) URL, e.g. https://example.com");
  }
  check.limit("website", b.website, 500);
  check.limit("postalAddress", b.postal_address, 500);
  if (!check.ok()) return fail(check.error());
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  if (auto r = app.store().put_branding(agent_id, b); !r) return std::unexpected(r.error());
  return b;
}

std::string seal_label(Channel channel, std::string_view field) {
  return std::string(to_string(channel)) + "." + snake_case(field);
}

Result<CheckedFields> check_fields(Channel channel, const ConnectInput& in, bool env) {
  Checker check;
  const providers::Provider* provider = providers::find_provider(in.provider);
  if (in.provider.empty()) {
    check.add("provider", "is required (" + provider_ids(channel) + ")");
  } else if (!provider || provider->info().channel != channel) {
    check.add("provider", "must be " + provider_ids(channel));
    provider = nullptr;
  }
  check_rate_limit(check, in.rate_limit);
  if (!provider) return fail(check.error());
  CheckedFields out;
  out.provider = provider;
  for (const providers::CredentialField& f : provider->info().fields) {
    std::string value;
    for (const auto& [name, v] : in.fields)
      if (name == f.name) value = v;
    if (value.empty() && !f.default_value.empty()) value = f.default_value;
    const std::string name(env && !f.env.empty() ? f.env : f.name);
    check_field(check, name, f, value);
    if (f.kind == providers::FieldKind::email || f.kind == providers::FieldKind::phone) {
      out.sender = std::move(value);
    } else if (f.kind == providers::FieldKind::secret) {
      if (!value.empty()) out.secrets.set(std::string(f.name), Secret(std::move(value)));
    } else if (!value.empty()) {
      out.params.set(std::string(f.name), std::move(value));
    }
  }
  // Rules across fields (e.g. SMTP without TLS only to a loopback host).
  if (check.ok()) {
    std::vector<FieldError> more;
    provider->check(out.params, more);
    for (auto& e : more) {
      const auto* f = provider->info().field(e.field);
      check.add(env && f && !f->env.empty() ? std::string(f->env) : e.field, std::move(e.message));
    }
  }
  if (!check.ok()) return fail(check.error());
  return out;
}

Result<store::IntegrationRow> connect_integration(App& app, const std::string& agent_id,
                                                  Channel channel, const ConnectInput& in) {
  auto checked = check_fields(channel, in);
  if (!checked) return std::unexpected(checked.error());
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());

  store::IntegrationRow row;
  row.channel = channel;
  row.provider = checked->provider->id();
  row.sender = std::move(checked->sender);
  row.params = std::move(checked->params);
  for (const auto& [name, secret] : checked->secrets) {
    row.secrets.set(name, store::SealedField{app.sealer().seal(secret.reveal(), agent_id,
                                                               seal_label(channel, name)),
                                             secret.hint()});
  }
  row.rate_limit = in.rate_limit.value_or(0);
  row.connected_at = row.updated_at = app.clock().now();
  if (auto r = app.store().put_integration(agent_id, row); !r) return std::unexpected(r.error());
  // How its delivery events will reach Herald (a registration waits for the tracking worker).
  if (auto t = plan_tracking(app, agent_id, channel); !t) return std::unexpected(t.error());
  return row;
}

Result<void> disconnect(App& app, const std::string& agent_id, Channel channel,
                        net::HttpClient& http) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  // The provider stops posting to a receiver that will no longer know the account.
  if (auto r = unregister_receiver(app, http, agent_id, channel); !r) {
    spdlog::warn(
        "disconnecting agent {}'s {} account: {}; its webhook may remain at the provider, the "
        "integration is removed anyway",
        agent_id, to_string(channel), r.error().message);
  }
  auto removed = app.store().delete_integration(agent_id, channel);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return fail(not_connected(channel));
  app.tracking_keys().forget(agent_id);
  return app.store().tracking().delete_setup(agent_id, channel);
}

Result<store::IntegrationRow> set_integration_active(App& app, const std::string& agent_id,
                                                     Channel channel, bool active) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto changed = app.store().set_integration_active(agent_id, channel, active, app.clock().now());
  if (!changed) return std::unexpected(changed.error());
  if (!*changed) return fail(not_connected(channel));
  auto rec = get_agent(app, agent_id);
  if (!rec) return std::unexpected(rec.error());
  auto& row = channel == Channel::email ? rec->email : rec->sms;
  if (!row) return fail(not_connected(channel));
  return *row;
}

// An integration as route resolution sees it, its secret fields opened.
static Result<Integration> open_integration(const App& app, const std::string& agent_id,
                                            const store::IntegrationRow& row) {
  Integration in;
  in.provider = row.provider;
  in.sender = row.sender;
  in.params = row.params;
  for (const auto& [name, field] : row.secrets) {
    auto secret = app.sealer().open(field.sealed, agent_id, seal_label(row.channel, name));
    if (!secret) return std::unexpected(secret.error());
    in.secrets.set(name, std::move(*secret));
  }
  in.active = row.active;
  in.status = row.status;
  in.status_reason = row.status_reason;
  in.rate_limit = row.rate_limit;
  return in;
}

Result<Agent> open_agent(const App& app, const store::AgentRecord& rec) {
  Agent agent;
  agent.id = rec.agent.id;
  agent.name = rec.agent.name;
  agent.contact_email = rec.agent.email;
  agent.fallback_to_platform = rec.agent.fallback_to_platform;
  agent.branding = rec.branding;
  for (const auto* row : {&rec.email, &rec.sms}) {
    if (!*row) continue;
    auto in = open_integration(app, agent.id, **row);
    if (!in) return std::unexpected(in.error());
    ((*row)->channel == Channel::email ? agent.email : agent.sms) = std::move(*in);
  }
  return agent;
}

Result<Agent> load_agent(App& app, const std::string& agent_id) {
  auto rec = get_agent(app, agent_id);
  if (!rec) return std::unexpected(rec.error());
  return open_agent(app, *rec);
}

Result<Routes> routes(App& app, const std::string& agent_id) {
  auto agent = load_agent(app, agent_id);
  if (!agent) return std::unexpected(agent.error());
  return Routes{resolve_email_route(*agent, app.platform()),
                resolve_sms_route(*agent, app.platform())};
}

Result<providers::VerifyOutcome> test_integration(App& app, const std::string& agent_id,
                                                  Channel channel, net::HttpClient& http) {
  auto agent = load_agent(app, agent_id);
  if (!agent) return std::unexpected(agent.error());
  if (!agent->integration(channel)) return fail(not_connected(channel));
  // Test the agent's own account even when it is inactive: build its route directly.
  Agent probe = *agent;
  if (probe.email) probe.email->active = true;
  if (probe.sms) probe.sms->active = true;
  auto route = resolve_route(probe, channel, app.platform());
  if (!route) return std::unexpected(route.error());
  const providers::Provider* found = providers::find_provider(route->provider);
  if (!found) {
    return fail(Error::invalid(
        "provider", "\"" + route->provider + "\" is not a provider Herald can use; connect again"));
  }
  const auto& provider = *found;
  auto response = http.perform(provider.build_verify(route->credentials));
  providers::VerifyOutcome outcome;
  if (!response) {
    outcome.retryable = true;
    outcome.detail = "could not reach " + std::string(provider.info().display_name) + ": " +
                     response.error().message;
  } else {
    outcome = provider.classify_verify(*response);
  }
  if (outcome.ok || outcome.bad_credentials) {
    auto status = outcome.ok ? IntegrationStatus::ok : IntegrationStatus::failing;
    if (auto r = app.store().set_integration_status(
            agent_id, channel, status, outcome.ok ? "" : outcome.detail, app.clock().now());
        !r) {
      return std::unexpected(r.error());
    }
  }
  return outcome;
}

}  // namespace herald::app
