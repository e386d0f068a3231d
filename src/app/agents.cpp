#include "app/agents.h"

#include <algorithm>
#include <regex>

#include "app/auth.h"
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
    if (auto e164 = to_e164(value)) {
      value = *e164;
    } else {
      add(field, "must be a phone number in E.164 form, e.g. +14155552671");
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

bool is_hostname(const std::string& s) {
  static const std::regex re(R"(^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$)");
  return s.size() <= 253 && std::regex_match(s, re);
}

Error agent_not_found() {
  return Error::not_found("agent not found");
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

Result<store::IntegrationRow> connect_email(App& app, const std::string& agent_id,
                                            const EmailConnect& in) {
  Checker check;
  auto provider = parse_provider(in.provider);
  if (in.provider.empty()) {
    check.add("provider", "is required (resend, sendgrid or mailgun)");
  } else if (!provider || *provider == ProviderId::twilio) {
    check.add("provider", "must be resend, sendgrid or mailgun");
  }
  check.require("apiKey", in.api_key, 512);
  if (!in.api_key.empty() && has_space(in.api_key)) check.add("apiKey", "must not contain spaces");
  std::string from = trimmed(in.from_email);
  check.email("fromEmail", from, true);
  std::optional<Region> region = Region::us;
  if (provider == ProviderId::mailgun) {
    if (in.domain.empty()) {
      check.add("domain", "is required for Mailgun (your sending domain, e.g. mg.example.com)");
    } else if (!is_hostname(in.domain)) {
      check.add("domain", "is not a valid domain name");
    }
    if (!in.region.empty()) {
      region = parse_region(in.region);
      if (!region) check.add("region", "must be us or eu");
    }
  }
  check_rate_limit(check, in.rate_limit);
  if (!check.ok()) return fail(check.error());
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());

  Secret key(in.api_key);
  store::IntegrationRow row;
  row.channel = Channel::email;
  row.provider = *provider;
  row.secret_sealed = app.sealer().seal(key.reveal(), agent_id, "email.api_key");
  row.secret_hint = key.hint();
  row.address = from;
  if (*provider == ProviderId::mailgun) {
    row.domain = in.domain;
    row.region = *region;
  }
  row.rate_limit = in.rate_limit.value_or(0);
  row.connected_at = row.updated_at = app.clock().now();
  if (auto r = app.store().put_integration(agent_id, row); !r) return std::unexpected(r.error());
  return row;
}

Result<store::IntegrationRow> connect_sms(App& app, const std::string& agent_id,
                                          const SmsConnect& in) {
  Checker check;
  if (!in.provider.empty() && in.provider != "twilio") check.add("provider", "must be twilio");
  static const std::regex sid_re("^AC[0-9a-fA-F]{32}$");
  if (in.account_sid.empty()) {
    check.add("accountSid", "is required");
  } else if (!std::regex_match(in.account_sid, sid_re)) {
    check.add("accountSid", "must be AC followed by 32 hexadecimal characters");
  }
  check.require("authToken", in.auth_token, 256);
  if (!in.auth_token.empty() && has_space(in.auth_token)) {
    check.add("authToken", "must not contain spaces");
  }
  std::string phone = trimmed(in.phone_number);
  check.phone("phoneNumber", phone, true);
  check_rate_limit(check, in.rate_limit);
  if (!check.ok()) return fail(check.error());
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());

  Secret token(in.auth_token);
  store::IntegrationRow row;
  row.channel = Channel::sms;
  row.provider = ProviderId::twilio;
  row.account_sid = in.account_sid;
  row.secret_sealed = app.sealer().seal(token.reveal(), agent_id, "sms.auth_token");
  row.secret_hint = token.hint();
  row.address = phone;
  row.rate_limit = in.rate_limit.value_or(0);
  row.connected_at = row.updated_at = app.clock().now();
  if (auto r = app.store().put_integration(agent_id, row); !r) return std::unexpected(r.error());
  return row;
}

Result<void> disconnect(App& app, const std::string& agent_id, Channel channel) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto removed = app.store().delete_integration(agent_id, channel);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed)
    return fail(Error::not_found(std::string(to_string(channel)) + " integration not connected"));
  return {};
}

Result<store::IntegrationRow> set_integration_active(App& app, const std::string& agent_id,
                                                     Channel channel, bool active) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto changed = app.store().set_integration_active(agent_id, channel, active, app.clock().now());
  if (!changed) return std::unexpected(changed.error());
  if (!*changed)
    return fail(Error::not_found(std::string(to_string(channel)) + " integration not connected"));
  auto rec = get_agent(app, agent_id);
  if (!rec) return std::unexpected(rec.error());
  auto& row = channel == Channel::email ? rec->email : rec->sms;
  if (!row)
    return fail(Error::not_found(std::string(to_string(channel)) + " integration not connected"));
  return *row;
}

Result<Agent> open_agent(const App& app, const store::AgentRecord& rec) {
  Agent agent;
  agent.id = rec.agent.id;
  agent.name = rec.agent.name;
  agent.contact_email = rec.agent.email;
  agent.fallback_to_platform = rec.agent.fallback_to_platform;
  agent.branding = rec.branding;
  if (rec.email) {
    auto key = app.sealer().open(rec.email->secret_sealed, agent.id, "email.api_key");
    if (!key) return std::unexpected(key.error());
    EmailIntegration e;
    e.provider = rec.email->provider;
    e.api_key = std::move(*key);
    e.from_email = rec.email->address;
    e.domain = rec.email->domain;
    e.region = rec.email->region;
    e.active = rec.email->active;
    e.status = rec.email->status;
    e.status_reason = rec.email->status_reason;
    e.rate_limit = rec.email->rate_limit;
    agent.email = std::move(e);
  }
  if (rec.sms) {
    auto token = app.sealer().open(rec.sms->secret_sealed, agent.id, "sms.auth_token");
    if (!token) return std::unexpected(token.error());
    SmsIntegration s;
    s.account_sid = rec.sms->account_sid;
    s.auth_token = std::move(*token);
    s.phone_number = rec.sms->address;
    s.active = rec.sms->active;
    s.status = rec.sms->status;
    s.status_reason = rec.sms->status_reason;
    s.rate_limit = rec.sms->rate_limit;
    agent.sms = std::move(s);
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
  bool connected = channel == Channel::email ? agent->email.has_value() : agent->sms.has_value();
  if (!connected) {
    return fail(Error::not_found(std::string(to_string(channel)) + " integration not connected"));
  }
  // Test the agent's own account even when it is inactive: build its route directly.
  Agent probe = *agent;
  if (probe.email) probe.email->active = true;
  if (probe.sms) probe.sms->active = true;
  auto route = resolve_route(probe, channel, app.platform());
  if (!route) return std::unexpected(route.error());
  const auto& provider = providers::provider_for(route->provider);
  auto response = http.perform(provider.build_verify(route->credentials));
  providers::VerifyOutcome outcome;
  if (!response) {
    outcome.retryable = true;
    outcome.detail = "could not reach " + std::string(to_string(route->provider)) + ": " +
                     response.error().message;
  } else {
    outcome = provider.classify_verify(*response);
  }
  if (outcome.ok || outcome.bad_credentials) {
    auto status = outcome.ok ? IntegrationStatus::ok : IntegrationStatus::failing;
    (void)app.store().set_integration_status(agent_id, channel, status,
                                             outcome.ok ? "" : outcome.detail, app.clock().now());
  }
  return outcome;
}

}  // namespace herald::app
