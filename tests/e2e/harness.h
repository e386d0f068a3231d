// Test harness for end-to-end tests: runs `herald` subcommands as real processes on free
// ports and talks to them over real HTTP.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
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

extern char** environ;

namespace herald::e2e {

using nlohmann::json;

// A child process whose stdout/stderr go to a log file; killed on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::filesystem::path& log)
      : log_(log) {
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (!env.contains(kv.substr(0, kv.find('=')))) envs.push_back(kv);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // The test binary may block signals; the child must not inherit that.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    if (posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), envp.data()) != 0) {
      throw std::runtime_error("cannot spawn " + args[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  ~Process() { kill(SIGKILL); }

  // Waits for a line matching `pattern` in the log (e.g. the "listening on" line); returns
  // the first capture group.
  std::string wait_for(const std::string& pattern,
                       std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::regex re(pattern);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = log_text();
      std::smatch m;
      if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!alive()) throw std::runtime_error("process exited early; log:\n" + text);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("timed out waiting for /" + pattern + "/; log:\n" + log_text());
  }

  std::string log_text() const {
    FILE* f = fopen(log_.c_str(), "rb");
    if (!f) return {};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    fclose(f);
    return out;
  }

  bool alive() {
    if (pid_ <= 0) return false;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

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

// A sandbox plus a Herald server whose platform accounts point at it, on a temp data dir.
class Stack {
 public:
  explicit Stack(std::map<std::string, std::string> extra_env = {}) {
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
            {"HERALD_RETRY_BASE_MS", "200"}};
    for (auto& [k, v] : extra_env) env_[k] = v;
    start_herald();
  }
  ~Stack() {
    herald_.reset();
    sandbox_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void start_herald() {
    herald_ = std::make_unique<Process>(
        std::vector<std::string>{HERALD_BINARY, "serve", "--listen", "127.0.0.1:0"}, env_,
        dir_ / ("herald-" + std::to_string(++starts_) + ".log"));
    herald_url_ = herald_->wait_for(R"(listening on (http://127\.0\.0\.1:\d+))");
  }
  void kill_herald() { herald_->kill(SIGKILL); }

  Client api() { return Client(herald_url_, token_); }
  Client anonymous() { return Client(herald_url_); }
  Client sandbox() { return Client(sandbox_url_); }
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

  // Waits until every message of the agent is terminal; returns the log's items.
  json settled_messages(const std::string& agent_id, std::size_t expected) {
    json items;
    eventually([&] {
      items = api().get("/api/v1/agents/" + agent_id + "/messages").body["items"];
      if (items.size() != expected) return false;
      for (const auto& m : items) {
        std::string s = m["status"];
        if (s == "queued" || s == "sending" || s == "retrying") return false;
      }
      return true;
    });
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
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> sandbox_;
  std::unique_ptr<Process> herald_;
  std::string sandbox_url_;
  std::string herald_url_;
  int starts_ = 0;
};

}  // namespace herald::e2e
