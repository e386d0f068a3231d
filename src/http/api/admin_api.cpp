// The operator's views: GET /api/v1/admin/usage (messages per agent and who paid, with the
// bounce and complaint rates a sender's reputation rests on) and GET /api/v1/admin/platform (the
// platform's own accounts and whether their delivery events reach Herald), and GET /readyz.
#include <ctime>
#include <map>

#include "http/api/common.h"
#include "http/api/routes.h"
#include "http/api/views.h"
#include "providers/provider.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

// Parses YYYY-MM-DD as midnight UTC.
std::optional<TimePoint> parse_date(const std::string& s) {
  std::tm tm{};
  if (s.size() != 10 || !strptime(s.c_str(), "%Y-%m-%d", &tm)) return std::nullopt;
  return Clock::from_time_t(timegm(&tm));
}

Response usage(app::App& app, const Principal& who, Request& req) {
  if (!who.platform) return problem(Error{Errc::forbidden, "usage is for the operator"});
  TimePoint now = app.clock().now();
  std::vector<FieldError> errors;
  TimePoint from = now - std::chrono::days(30), to = now + std::chrono::days(1);
  if (auto f = req.query_param("from")) {
    if (auto t = parse_date(*f))
      from = *t;
    else
      errors.push_back({"from", "must be a date, YYYY-MM-DD"});
  }
  if (auto t = req.query_param("to")) {
    // Inclusive: the whole "to" day counts.
    if (auto d = parse_date(*t))
      to = *d + std::chrono::days(1);
    else
      errors.push_back({"to", "must be a date, YYYY-MM-DD"});
  }
  if (errors.empty() && to <= from) errors.push_back({"to", "must not be before from"});
  if (!errors.empty()) return problem(Error::invalid(errors));
  auto rows = app.store().usage(from, to);
  if (!rows) return problem(rows.error());
  auto channel = [] {
    return json{
        {"viaAgent", 0},   {"viaPlatform", 0},      {"delivered", 0},          {"bounced", 0},
        {"complained", 0}, {"bounceRate", nullptr}, {"complaintRate", nullptr}};
  };
  auto empty = [&] { return json{{"email", channel()}, {"sms", channel()}, {"total", 0}}; };
  const auto add = [](json& j, const char* key, std::int64_t n) {
    j[key] = j[key].get<std::int64_t>() + n;
  };
  json totals = empty();
  std::vector<json> items;
  std::map<std::string, std::size_t> index;
  for (const auto& r : *rows) {
    auto it = index.find(r.agent_id);
    if (it == index.end()) {
      json j = empty();
      j["agentId"] = r.agent_id;
      j["agentName"] = r.agent_name;
      items.push_back(std::move(j));
      it = index.emplace(r.agent_id, items.size() - 1).first;
    }
    std::string ch(to_string(r.channel)), key = r.payer == Via::agent ? "viaAgent" : "viaPlatform";
    for (json* j : {&items[it->second], &totals}) {
      json& c = (*j)[ch];
      add(c, key.c_str(), r.count);
      add(c, "delivered", r.delivered);
      add(c, "bounced", r.bounced);
      add(c, "complained", r.complained);
      add(*j, "total", r.count);
    }
  }
  // Bounce and complaint rates: of the messages handed to a provider (mailbox providers act on
  // these: bounces above about 2 %, complaints above 0.1–0.3 %).
  const auto rates = [](json& j) {
    for (const char* ch : {"email", "sms"}) {
      json& c = j[ch];
      const auto sent = c["viaAgent"].get<std::int64_t>() + c["viaPlatform"].get<std::int64_t>();
      if (sent == 0) continue;
      c["bounceRate"] = static_cast<double>(c["bounced"].get<std::int64_t>()) / sent;
      c["complaintRate"] = static_cast<double>(c["complained"].get<std::int64_t>()) / sent;
    }
  };
  rates(totals);
  for (json& item : items) rates(item);
  std::string to_day = format_time(to - std::chrono::days(1)).substr(0, 10);
  return ok_json(200, {{"from", format_time(from).substr(0, 10)},
                       {"to", to_day},
                       {"items", items},
                       {"totals", totals}});
}

// The platform's account on `channel`: its provider, sender, the settings it still lacks, and
// its delivery tracking.
json platform_account_view(app::App& app, Channel channel) {
  const PlatformAccount& account = app.platform().account(channel);
  std::optional<store::TrackingSetup> setup;
  if (auto s = app.store().tracking().setup_of(std::string(kPlatformOwner), channel)) {
    setup = std::move(*s);
  }
  const bool has_provider = !account.provider.empty();
  return {
      {"channel", std::string(to_string(channel))},
      {"provider", has_provider ? json(account.provider) : json(nullptr)},
      {"providerName",
       has_provider ? json(std::string(providers::display_name(account.provider))) : json(nullptr)},
      {"sender", account.sender.empty() ? json(nullptr) : json(account.sender)},
      {"configured", has_provider && account.missing.empty()},
      {"missing", account.missing.empty() ? json(nullptr) : json(account.missing)},
      {"tracking", tracking_view(setup)}};
}

Response platform_accounts(app::App& app, const Principal& who, Request&) {
  if (!who.platform) {
    return problem(Error{Errc::forbidden, "the platform's accounts are for the operator"});
  }
  return ok_json(200, {{"name", app.platform().name},
                       {"email", platform_account_view(app, Channel::email)},
                       {"sms", platform_account_view(app, Channel::sms)}});
}

// GET /readyz: ready while the store answers (503 otherwise). What an operator should look at
// without it stopping traffic is listed under "warnings": a platform account that is not
// configured, or whose delivery tracking is failing.
Response readiness(app::App& app) {
  if (!app.store().count_by_status()) {
    return ok_json(503, {{"status", "unavailable"}, {"reason", "the database does not answer"}});
  }
  json warnings = json::array();
  for (Channel channel : {Channel::email, Channel::sms}) {
    const json account = platform_account_view(app, channel);
    const std::string what =
        std::string("the platform's ") + (channel == Channel::email ? "email" : "SMS") + " account";
    if (!account["configured"].get<bool>()) {
      warnings.push_back(what + " is not configured" +
                         (account["missing"].is_string()
                              ? ": set " + account["missing"].get<std::string>()
                              : std::string()));
      continue;
    }
    const json& tracking = account["tracking"];
    if (tracking["status"] == "failing") {
      warnings.push_back("delivery tracking for " + what +
                         " is failing: " + tracking["reason"].get<std::string>());
    }
  }
  return ok_json(200, {{"status", "ready"}, {"warnings", std::move(warnings)}});
}

}  // namespace

void register_admin_routes(http::Router& router, app::App& app) {
  router.add("GET", "/api/v1/admin/usage", guarded(app, usage));
  router.add("GET", "/api/v1/admin/platform", guarded(app, platform_accounts));
  router.add("GET", "/readyz", [&app](Request&) { return readiness(app); });
}

}  // namespace herald::api
