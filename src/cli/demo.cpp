// `herald demo`: starts the sandbox (HTTP and its mail server) and Herald in one process, sets
// up the seed's three agents and a fourth on its own mail server through the real REST API,
// creates a listing for each, waits for the welcome messages to reach the sandbox, and prints
// where to look.
#include "cli/demo.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/config.h"
#include "cli/service.h"
#include "net/http_client.h"
#include "sandbox/sandbox.h"

namespace herald::cli {

namespace {

using nlohmann::json;

// A tiny client for Herald's own API, authenticated with the platform token.
class ApiClient {
 public:
  ApiClient(std::string base, std::string token)
      : base_(std::move(base)), token_(std::move(token)), http_(net::make_curl_client()) {}

  Result<json> call(const std::string& method, const std::string& path,
                    const json& body = nullptr) {
    HttpRequest req{method, base_ + path, {{"Authorization", "Bearer " + token_}}, ""};
    if (!body.is_null()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body.dump();
    }
    auto res = http_->perform(req);
    if (!res) return std::unexpected(res.error());
    if (res->status >= 300) {
      return fail(Errc::internal, method + " " + path + " answered " + std::to_string(res->status) +
                                      ": " + res->body);
    }
    return res->body.empty() ? json(nullptr) : json::parse(res->body, nullptr, false);
  }

 private:
  std::string base_;
  std::string token_;
  std::unique_ptr<net::HttpClient> http_;
};

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();
  return hex;
}

struct DemoAgent {
  std::string label;
  json agent;
  json branding;
  json email;
  json sms;
  json listing;
  std::string id;
  std::string note;  // a line under the label, in plain words
};

std::vector<DemoAgent> seed_agents() {
  return {
      {"Scenario 1: full integration (own SendGrid + Twilio)",
       {{"name", "Matt Wright"},
        {"email", "matt@wrightrealty.com"},
        {"password", "wright-demo-password"}},
       {{"companyName", "Wright Realty"},
        {"replyEmail", "matt@wrightrealty.com"},
        {"smsPhone", "+13105551234"},
        {"emailSignature", "Matt Wright\nWright Realty"},
        {"website", "https://wrightrealty.com"},
        {"postalAddress", "100 Main St, Springfield, IL 62701"}},
       {{"provider", "sendgrid"},
        {"apiKey", "SG.demo-wright-" + random_hex(8)},
        {"fromEmail", "matt@wrightrealty.com"}},
       {{"provider", "twilio"},
        {"accountSid", "AC" + random_hex(16)},
        {"authToken", random_hex(16)},
        {"phoneNumber", "+13105551234"}},
       {{"address", "742 Evergreen Terrace"},
        {"price", 650000},
        {"seller",
         {{"name", "Homer Simpson"}, {"email", "homer@example.com"}, {"phone", "+14155552671"}}}},
       ""},
      {"Scenario 2: branding only (platform accounts)",
       {{"name", "Lisa Park"},
        {"email", "lisa@sunsetprops.com"},
        {"password", "sunset-demo-password"}},
       {{"companyName", "Sunset Properties"},
        {"replyEmail", "lisa@sunsetprops.com"},
        {"emailSignature", "Lisa Park\nSunset Properties"},
        {"website", "https://sunsetprops.com"},
        {"postalAddress", "9 Ocean Ave, Santa Monica, CA 90401"}},
       nullptr,
       nullptr,
       {{"address", "12 Ocean Ave"},
        {"price", 1250000},
        {"seller", {{"name", "Ann Lee"}, {"email", "ann@example.com"}, {"phone", "+14155552672"}}}},
       ""},
      {"Scenario 3: defaults (nothing configured)",
       {{"name", "Pat Jones"},
        {"email", "pat@example.com"},
        {"password", "defaults-demo-password"}},
       nullptr,
       nullptr,
       nullptr,
       {{"address", "5 Elm St"},
        {"price", 325000},
        {"seller", {{"name", "Bo Chen"}, {"email", "bo@example.com"}, {"phone", "+14155552673"}}}},
       ""},
  };
}

// The fourth agent: email through the agent's own mail server, which in the demo is the
// sandbox's SMTP listener (security "none": Herald allows it for a server on this machine).
DemoAgent own_mail_server_agent(const std::string& host, std::uint16_t port) {
  return {"Scenario 4: own mail server (SMTP)",
          {{"name", "Dana Reyes"},
           {"email", "dana@harborhomes.com"},
           {"password", "harbor-demo-password"}},
          {{"companyName", "Harbor Homes"},
           {"replyEmail", "dana@harborhomes.com"},
           {"emailSignature", "Dana Reyes\nHarbor Homes"},
           {"website", "https://harborhomes.com"},
           {"postalAddress", "48 Harbor Way, Portland, ME 04101"}},
          {{"provider", "smtp"},
           {"host", host},
           {"port", port},
           {"security", "none"},
           {"username", std::string(sandbox::kSmtpUsername)},
           {"password", std::string(sandbox::kSmtpPassword)},
           {"fromEmail", "dana@harborhomes.com"}},
          nullptr,
          {{"address", "31 Lighthouse Rd"},
           {"price", 489000},
           {"seller",
            {{"name", "Sam Ortiz"}, {"email", "sam@example.com"}, {"phone", "+14155552674"}}}},
          "",
          "Dana's email goes out through her own mail server, smtp://" + host + ":" +
              std::to_string(port) + " (here, the sandbox's), signed in as " +
              std::string(sandbox::kSmtpUsername) + "."};
}

// Every agent's message log once each message is terminal and, within 5 seconds, once the
// providers' delivery events (the sandbox posts them back) have said what became of it; at most
// 15 seconds in all. By agent id.
std::map<std::string, json> settled_logs(ApiClient& api, const std::vector<DemoAgent>& agents) {
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, json> logs;
  while (std::chrono::steady_clock::now() < start + std::chrono::seconds(15)) {
    bool all_done = true;
    bool all_reported = true;
    for (const auto& a : agents) {
      auto page = api.call("GET", "/api/v1/agents/" + a.id + "/messages");
      if (!page) continue;
      logs[a.id] = (*page)["items"];
      for (const auto& m : (*page)["items"]) {
        std::string s = m["status"];
        if (s == "queued" || s == "sending" || s == "retrying") all_done = false;
        // A mail server (SMTP) reports nothing back: its "sent" is final.
        const bool reports = m["route"].is_object() && m["route"]["provider"] != "smtp";
        if (s == "sent" && reports) all_reported = false;
      }
    }
    const bool waited = std::chrono::steady_clock::now() > start + std::chrono::seconds(5);
    if (all_done && (all_reported || waited)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return logs;
}

// One agent's heading and its messages: status, route, sender, who paid.
void print_agent(const DemoAgent& a, const json& log) {
  std::cout << a.label << " — " << a.agent["name"].get<std::string>() << " (agent " << a.id
            << ")\n";
  if (!a.note.empty()) std::cout << "  " << a.note << "\n";
  for (const auto& m : log) {
    const json& route = m["route"];
    std::cout << "  " << m["channel"].get<std::string>() << " to " << m["to"].get<std::string>()
              << ": " << m["status"].get<std::string>();
    if (route.is_object()) {
      std::cout << " via " << route["via"].get<std::string>() << " "
                << route["provider"].get<std::string>()
                << ", From: " << route["from"].get<std::string>();
      if (!route["replyTo"].is_null())
        std::cout << ", Reply-To: " << route["replyTo"].get<std::string>();
      std::cout << ", paid by " << route["payer"].get<std::string>();
    }
    std::cout << "\n";
  }
}

// A "market update" campaign from `agent_id` to five buyers, two of whose addresses bounce in
// the sandbox; waits until the providers' events have come back and says what they reported.
std::string run_demo_campaign(ApiClient& api, const std::string& agent_id) {
  const std::string base = "/api/v1/agents/" + agent_id;
  const std::vector<std::pair<std::string, std::string>> buyers = {
      {"Alex Kim", "alex.kim@example.com"},
      {"Jordan Lee", "jordan.lee@example.com"},
      {"Casey Fox", "open.casey@example.com"},
      {"Robin Hale", "bounce.robin@example.com"},
      {"Morgan Day", "bounce.morgan@example.com"}};
  for (const auto& [name, email] : buyers) {
    auto added = api.call("POST", base + "/contacts",
                          {{"name", name},
                           {"email", email},
                           {"role", "buyer"},
                           {"tags", {"demo-update"}},
                           {"consent", {{"email", true}}}});
    if (!added) return "Campaign: could not add the buyers (" + added.error().message + ")";
  }
  auto created = api.call("POST", base + "/campaigns",
                          {{"name", "Spring market update"},
                           {"channel", "email"},
                           {"template", "market_update"},
                           {"audience", {{"roles", json::array()}, {"tags", {"demo-update"}}}}});
  if (!created) return "Campaign: could not create it (" + created.error().message + ")";
  const std::string id = (*created)["id"];
  if (auto launched = api.call("POST", base + "/campaigns/" + id + "/launch", json::object());
      !launched) {
    return "Campaign: could not launch it (" + launched.error().message + ")";
  }
  json results;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = api.call("GET", base + "/campaigns/" + id);
    if (c) results = (*c)["results"];
    if (results.is_object() && results.value("delivered", 0) + results.value("bounced", 0) >=
                                   static_cast<int>(buyers.size())) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string suppressed;
  if (auto list = api.call("GET", base + "/suppressions"); list) {
    for (const auto& s : (*list)["items"]) {
      if (!suppressed.empty()) suppressed += ", ";
      suppressed += s["address"].get<std::string>() + " (" + s["reason"].get<std::string>() + ")";
    }
  }
  const auto n = [&](const char* k) { return std::to_string(results.value(k, 0)); };
  return "Campaign \"Spring market update\" (Wright Realty, " + std::to_string(buyers.size()) +
         " buyers), as the provider reported it: " + n("delivered") + " delivered, " +
         n("bounced") + " bounced, " + n("uniqueOpens") + " opened.\n  Suppressed since: " +
         (suppressed.empty() ? std::string("nobody") : suppressed) + ".";
}

}  // namespace

int run_demo(const DemoOptions& options) {
  if (sodium_init() < 0) return 2;
  auto herald_listen = app::parse_listen(options.listen, "--listen");
  auto sandbox_listen = app::parse_listen(options.sandbox_listen, "--sandbox-listen");
  auto smtp_listen = app::parse_listen(options.sandbox_smtp_listen, "--sandbox-smtp-listen");
  for (const auto* parsed : {&herald_listen, &sandbox_listen, &smtp_listen}) {
    if (!*parsed) {
      std::cerr << "herald demo: " << parsed->error().message << "\n";
      return 2;
    }
  }

  // 1. The sandbox stands in for Resend, SendGrid, Mailgun and Twilio, and for the fourth
  // agent's mail server.
  sandbox::Sandbox sandbox;
  http::ServerOptions so;
  so.host = sandbox_listen->first;
  so.port = sandbox_listen->second;
  so.max_body_bytes = sandbox::kSandboxMaxBodyBytes;
  http::Server sandbox_server(so, sandbox.handler());
  std::uint16_t sandbox_port = 0;
  try {
    sandbox_port = sandbox_server.start();
  } catch (const std::exception& e) {
    std::cerr << "herald demo: cannot start the sandbox on " << options.sandbox_listen << ": "
              << e.what() << " (use --sandbox-listen)\n";
    return 2;
  }
  std::string sandbox_url = "http://" + so.host + ":" + std::to_string(sandbox_port);
  sandbox::SmtpSinkOptions smtp_options;
  smtp_options.host = smtp_listen->first;
  smtp_options.port = smtp_listen->second;
  sandbox::SmtpSink smtp(sandbox, smtp_options);
  std::uint16_t smtp_port = 0;
  try {
    smtp_port = smtp.start();
  } catch (const std::exception& e) {
    std::cerr << "herald demo: cannot start the sandbox's mail server on "
              << options.sandbox_smtp_listen << ": " << e.what()
              << " (use --sandbox-smtp-listen)\n";
    return 2;
  }
  std::string smtp_url = "smtp://" + smtp_options.host + ":" + std::to_string(smtp_port);

  // 2. Herald with platform accounts pointing at the sandbox, on a fresh data directory.
  std::error_code ec;
  std::filesystem::remove_all(options.data_dir, ec);
  std::string token = "demo-" + random_hex(16);
  std::map<std::string, std::string> env = {
      {"HERALD_DATA_DIR", options.data_dir},
      {"HERALD_PLATFORM_TOKEN", token},
      {"RESEND_API_KEY", "re_demo_platform_" + random_hex(8)},
      {"EMAIL_FROM", "noreply@platform.com"},
      {"TWILIO_ACCOUNT_SID", "AC" + random_hex(16)},
      {"TWILIO_AUTH_TOKEN", random_hex(16)},
      {"TWILIO_PHONE_NUMBER", "+14155550100"},
      {"HERALD_RESEND_BASE_URL", sandbox_url},
      {"HERALD_SENDGRID_BASE_URL", sandbox_url},
      {"HERALD_MAILGUN_BASE_URL", sandbox_url},
      {"HERALD_TWILIO_BASE_URL", sandbox_url},
      {"HERALD_OPERATOR_EMAIL", "operator@platform.com"},
      {"HERALD_OPERATOR_PASSWORD", "operator-demo-password"},
      // Links and the sandbox's delivery events come back to this loopback address (port 0:
      // the one the server gets, which `serve` puts in the public URL itself).
      {"HERALD_PUBLIC_URL", herald_listen->second == 0 ? std::string()
                                                       : "http://" + herald_listen->first + ":" +
                                                             std::to_string(herald_listen->second)},
      {"HERALD_ALLOW_INSECURE_PUBLIC_URL", "1"},
  };
  auto config = app::load_config([&env](const char* name) -> const char* {
    auto it = env.find(name);
    if (it != env.end()) return it->second.c_str();
    return std::getenv(name);
  });
  if (!config) {
    std::cerr << "herald demo: " << config.error().message << "\n";
    return 2;
  }
  auto service = Service::open(std::move(*config));
  if (!service) {
    std::cerr << "herald demo: " << service.error().message << "\n";
    return 2;
  }
  auto port = (*service)->start(herald_listen->first, herald_listen->second);
  if (!port) {
    std::cerr << "herald demo: " << port.error().message << " (use --listen)\n";
    return 2;
  }
  std::string herald_url = "http://" + herald_listen->first + ":" + std::to_string(*port);

  // 3. The seed's three agents and the one on its own mail server, set up through the REST API
  // as the platform would.
  ApiClient api(herald_url, token);
  auto agents = seed_agents();
  agents.push_back(own_mail_server_agent(smtp_options.host, smtp_port));
  for (auto& a : agents) {
    auto created = api.call("POST", "/api/v1/agents", a.agent);
    if (!created) {
      std::cerr << "herald demo: " << created.error().message << "\n";
      return 1;
    }
    a.id = (*created)["id"];
    std::string base = "/api/v1/agents/" + a.id;
    for (auto [path, body] :
         {std::pair{"/branding", &a.branding}, std::pair{"/integrations/email", &a.email},
          std::pair{"/integrations/sms", &a.sms}}) {
      if (body->is_null()) continue;
      if (auto r = api.call("PUT", base + path, *body); !r) {
        std::cerr << "herald demo: " << r.error().message << "\n";
        return 1;
      }
    }
    if (auto r = api.call("POST", base + "/listings", a.listing); !r) {
      std::cerr << "herald demo: " << r.error().message << "\n";
      return 1;
    }
  }

  // 4. Wait (briefly) for the welcome messages and what the providers report of them.
  std::map<std::string, json> logs = settled_logs(api, agents);
  // 5. A small campaign with two addresses that bounce: it ends with delivered and bounced
  // counts, and the bounced addresses on the agent's suppression list.
  const std::string campaign_summary = run_demo_campaign(api, agents[0].id);

  std::cout << "\nHerald demo is running.\n\n";
  for (const auto& a : agents) print_agent(a, logs[a.id]);
  std::cout << "\n" << campaign_summary << "\n";
  std::cout << "\n  Dashboard         " << herald_url << "/app/\n";
  for (const auto& a : agents) {
    std::cout << "    log in as " << a.agent["email"].get<std::string>() << " / "
              << a.agent["password"].get<std::string>() << "\n";
  }
  std::cout << "    operator (Admin) operator@platform.com / operator-demo-password\n";
  std::cout << "\n  Herald API        " << herald_url << "/api/v1   (Authorization: Bearer "
            << token << ")\n"
            << "  Provider sandbox  " << sandbox_url
            << "/   (inbox of everything the providers received)\n"
            << "  Mail server       " << smtp_url << "   (the sandbox's, login "
            << sandbox::kSmtpUsername << " / " << sandbox::kSmtpPassword
            << "; its mail is in the inbox too)\n"
            << "  Try:  curl -H 'Authorization: Bearer " << token << "' " << herald_url
            << "/api/v1/agents/" << agents[0].id << "/routes\n\n";
  std::cout.flush();
  if (options.exit_after_setup) return 0;
  std::cout << "Press Ctrl-C to stop.\n" << std::flush;
  wait_for_stop_signal();
  (*service)->stop();
  smtp.stop();
  sandbox_server.stop();
  return 0;
}

}  // namespace herald::cli
