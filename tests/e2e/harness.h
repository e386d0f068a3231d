// Test harness for end-to-end tests: runs `herald` subcommands as real processes on free
// ports and talks to them over real HTTP, on either store: an SQLite file in a temporary data
// directory, or a fresh database on the test binary's own PostgreSQL server
// (tests/support/pg_server.h; without PostgreSQL installed those tests fail saying so).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/id.h"
#include "net/http_client.h"
#include "support/pg_server.h"
#include "support/process.h"

namespace herald::e2e {

using nlohmann::json;

using test::Process;

// A JSON-speaking HTTP client for one base URL.
class Client {
 public:
  explicit Client(std::string base, std::string token = {})
      : base_(std::move(base)), token_(std::move(token)), http_(net::make_curl_client()) {}

  struct Reply {
    int status = 0;
    json body;
    std::string raw;
    Headers headers;
  };

  Reply call(const std::string& method, const std::string& path, const std::string& body = {},
             const std::string& content_type = "application/json") {
    HttpRequest req{method, base_ + path, {}, body};
    if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
    if (!body.empty()) req.headers.emplace_back("Content-Type", content_type);
    auto res = http_->perform(req);
    if (!res) throw std::runtime_error(method + " " + path + ": " + res.error().message);
    Reply r{res->status, json::parse(res->body, nullptr, false), res->body, res->headers};
    return r;
  }
  Reply get(const std::string& path) { return call("GET", path); }
  Reply post(const std::string& path, const json& body) { return call("POST", path, body.dump()); }
  Reply put(const std::string& path, const json& body) { return call("PUT", path, body.dump()); }
  Reply patch(const std::string& path, const json& body) {
    return call("PATCH", path, body.dump());
  }
  Reply del(const std::string& path) { return call("DELETE", path); }

 private:
  std::string base_;
  std::string token_;
  std::unique_ptr<net::HttpClient> http_;
};

// The body of POST …/campaigns for a campaign to the contacts tagged `tag`: campaign email
// from the market update, SMS from the open-house invitation, which shows a listing's address,
// so the SMS campaign is about a listing of the agent's, created here (its seller gets the
// welcome email, never a campaign recipient).
inline nlohmann::json campaign_body(Client& api, const std::string& agent,
                                    const std::string& channel, const std::string& tag,
                                    const std::string& name) {
  nlohmann::json body = {{"name", name},
                         {"channel", channel},
                         {"template", channel == "email" ? "market_update" : "open_house"},
                         {"audience", {{"roles", nlohmann::json::array()}, {"tags", {tag}}}}};
  if (channel == "sms") {
    auto l = api.post("/api/v1/agents/" + agent + "/listings",
                      {{"address", "12 Ocean Ave"},
                       {"price", 950000},
                       {"seller",
                        {{"name", "Open House Seller"},
                         {"email", "open-house-seller-" + tag + "@example.com"}}}});
    EXPECT_EQ(l.status, 201) << l.raw;
    body["listingId"] = l.body.value("id", "");
  }
  return body;
}

// Polls `pred` until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return pred();
}

// A loopback port nothing listens on now (the kernel picks it; it is let go for Herald).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A new database of `store` ("sqlite": empty, so Herald uses its data directory; "postgres": a
// fresh database on the binary's PostgreSQL server). Throws (failing the test, with the reason)
// when PostgreSQL cannot be had.
inline std::string e2e_database_url(const std::string& store) {
  if (store == "sqlite") return {};
  if (store != "postgres") throw std::invalid_argument("no such store: " + store);
  auto url = test::PgServer::instance().create_database();
  if (!url)
    throw std::runtime_error("the PostgreSQL variant of this test needs a server: " + url.error());
  return *url;
}

// A sandbox plus a Herald server whose platform accounts point at it, on a temp data dir and
// the store named (SQLite by default). Herald keeps one port across restarts, as a real
// deployment keeps its public URL (links in messages and the receivers' URLs are part of what a
// provider's idempotency key covers).
class Stack {
 public:
  explicit Stack(std::map<std::string, std::string> extra_env = {})
      : Stack("sqlite", std::move(extra_env)) {}
  Stack(const std::string& store, std::map<std::string, std::string> extra_env) {
    database_url_ = e2e_database_url(store);
    dir_ = std::filesystem::temp_directory_path() / ("herald-e2e-" + new_id());
    std::filesystem::create_directories(dir_);
    sandbox_ = std::make_unique<Process>(
        std::vector<std::string>{HERALD_BINARY, "sandbox", "--listen", "127.0.0.1:0"},
        std::map<std::string, std::string>{}, dir_ / "sandbox.log");
    sandbox_url_ = sandbox_->wait_for(R"(listening on (http://127\.0\.0\.1:\d+))");
    env_ = {{"HERALD_DATA_DIR", (dir_ / "data").string()},
            {"HERALD_PLATFORM_TOKEN", token_},
            {"HERALD_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
            {"RESEND_API_KEY", "re_platform_test_key_0001"},
            {"EMAIL_FROM", "noreply@platform.com"},
            {"TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"},
            {"TWILIO_AUTH_TOKEN", "platform_auth_token_0000"},
            {"TWILIO_PHONE_NUMBER", "+14155550100"},
            {"HERALD_RESEND_BASE_URL", sandbox_url_},
            {"HERALD_SENDGRID_BASE_URL", sandbox_url_},
            {"HERALD_MAILGUN_BASE_URL", sandbox_url_},
            {"HERALD_TWILIO_BASE_URL", sandbox_url_},
            {"HERALD_RETRY_BASE_MS", "200"},
            // Delivery events from the sandbox come back over loopback http.
            {"HERALD_ALLOW_INSECURE_PUBLIC_URL", "1"}};
    if (!database_url_.empty()) {
      env_["HERALD_DATABASE_URL"] = database_url_;
      // A killed process's claims are taken over once their leases expire: 15 s instead of the
      // default 2 minutes keeps the crash tests short.
      env_["HERALD_LEASE_SECONDS"] = "15";
    }
    for (auto& [k, v] : extra_env) env_[k] = v;
    start_herald();
  }
  ~Stack() {
    workers_.clear();
    herald_.reset();
    sandbox_.reset();
    if (!database_url_.empty()) test::PgServer::instance().drop_database(database_url_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts a `herald worker` beside the server, on the same database and public URL, with
  // `extra` in its environment; returns it (the stack stops it at the end).
  Process& start_worker(const std::map<std::string, std::string>& extra = {}) {
    auto env = env_;
    env["HERALD_PUBLIC_URL"] = herald_url_;
    for (const auto& [k, v] : extra) env[k] = v;
    const auto log = dir_ / ("worker-" + std::to_string(workers_.size() + 1) + ".log");
    workers_.push_back(
        std::make_unique<Process>(std::vector<std::string>{HERALD_BINARY, "worker"}, env, log));
    workers_.back()->wait_for("herald worker running");
    return *workers_.back();
  }

  // Restarts the PostgreSQL server under the running processes (every connection dropped).
  void restart_database() {
    if (auto r = test::PgServer::instance().restart(); !r) throw std::runtime_error(r.error());
  }

  // The environment Herald runs with (the database URL included).
  const std::map<std::string, std::string>& env() const { return env_; }
  const std::filesystem::path& dir() const { return dir_; }

  void start_herald() {
    if (port_ == 0) port_ = free_port();
    herald_ =
        std::make_unique<Process>(std::vector<std::string>{HERALD_BINARY, "serve", "--listen",
                                                           "127.0.0.1:" + std::to_string(port_)},
                                  env_, dir_ / ("herald-" + std::to_string(++starts_) + ".log"));
    herald_url_ = herald_->wait_for(R"(listening on (http://127\.0\.0\.1:\d+))");
  }
  void kill_herald() { herald_->kill(SIGKILL); }

  Client api() { return Client(herald_url_, token_); }
  Client anonymous() { return Client(herald_url_); }
  // The sandbox; with `key`, as a provider's API called with that account's bearer key.
  Client sandbox(std::string key = {}) { return Client(sandbox_url_, std::move(key)); }
  std::string herald_log() { return herald_->log_text(); }

  // Sandbox messages, optionally for one recipient.
  std::vector<json> received(const std::string& to = {}) {
    auto r = sandbox().get("/sandbox/messages");
    std::vector<json> out;
    for (const auto& m : r.body["items"]) {
      std::string got = m["to"].is_string() ? m["to"].get<std::string>() : "";
      // The recipient may carry a display name: "Name <addr>".
      if (to.empty() || got == to || got.ends_with("<" + to + ">")) out.push_back(m);
    }
    return out;
  }

  // Waits until every message of the agent is terminal; returns the log's items. (On
  // PostgreSQL a killed process's claims wait for their leases: up to HERALD_LEASE_SECONDS.)
  json settled_messages(const std::string& agent_id, std::size_t expected) {
    json items;
    eventually(
        [&] {
          items = api().get("/api/v1/agents/" + agent_id + "/messages").body["items"];
          if (items.size() != expected) return false;
          for (const auto& m : items) {
            std::string s = m["status"];
            if (s == "queued" || s == "sending" || s == "retrying") return false;
          }
          return true;
        },
        std::chrono::seconds(60));
    return items;
  }

  // The sandbox's counters: total, byProvider, and duplicates (the same Herald message id sent
  // to the same recipient again; only requests that carry Herald's id are counted).
  json sandbox_stats() { return sandbox().get("/sandbox/stats").body; }

  // How many messages each recipient got through `provider` (all providers when empty), keyed
  // by the bare address ("Name <a@b.com>" counts as "a@b.com").
  std::map<std::string, int> recipient_counts(const std::string& provider = {}) {
    auto r = sandbox().get("/sandbox/messages" + (provider.empty() ? "" : "?provider=" + provider));
    std::map<std::string, int> out;
    for (const auto& m : r.body["items"]) {
      std::string to = m["to"].is_string() ? m["to"].get<std::string>() : "";
      if (auto open = to.rfind('<'); open != std::string::npos && to.ends_with(">"))
        to = to.substr(open + 1, to.size() - open - 2);
      ++out[to];
    }
    return out;
  }

  const std::string token_ = "test-platform-token-0123456789";

 private:
  std::string database_url_;  // empty: SQLite in the data directory
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> sandbox_;
  std::unique_ptr<Process> herald_;
  std::vector<std::unique_ptr<Process>> workers_;
  std::string sandbox_url_;
  std::string herald_url_;
  int starts_ = 0;
  int port_ = 0;
};

// Runs the TEST_Ps of `suite` on both stores (test names end in /sqlite and /postgres); each
// test makes its Stack with GetParam().
#define HERALD_E2E_STORES(suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(                                                             \
      Stores, suite, ::testing::Values(std::string("sqlite"), std::string("postgres")), \
      [](const ::testing::TestParamInfo<std::string>& info) { return info.param; })

}  // namespace herald::e2e
