// A sandbox served over real HTTP on a free port, with a libcurl client and shortcuts for the
// /sandbox endpoints. Shared by the sandbox tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http/server/server.h"
#include "http/server_test_client.h"
#include "sandbox/sandbox.h"

namespace herald::sandbox::testing {

using herald::testing::CurlClient;
using herald::testing::FormPart;
using herald::testing::HttpResult;
using nlohmann::json;

// A clock the test moves by hand.
class ManualTime final : public TimeSource {
 public:
  TimePoint now() const override { return TimePoint(std::chrono::milliseconds(ms_.load())); }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }

 private:
  std::atomic<std::int64_t> ms_{1'767'225'600'000};  // 2026-01-01T00:00:00Z
};

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override { stop(); }

  void start(SandboxOptions options) {
    stop();
    sandbox_ = std::make_unique<Sandbox>(std::move(options));
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, sandbox_->handler());
    base_ = "http://127.0.0.1:" + std::to_string(server_->start());
  }
  void stop() {
    if (server_) server_->stop();
    server_.reset();
    sandbox_.reset();
  }

  std::string url(const std::string& path) const { return base_ + path; }

  json messages(const std::string& query = "") {
    auto r = client_.get(url("/sandbox/messages" + query));
    EXPECT_EQ(r.status, 200);
    return json::parse(r.body)["items"];
  }
  json stats() { return json::parse(client_.get(url("/sandbox/stats")).body); }
  HttpResult add_fault(const json& fault) {
    return client_.post(url("/sandbox/faults"), fault.dump(),
                        {{"Content-Type", "application/json"}});
  }

  CurlClient client_;
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<http::Server> server_;
  std::string base_;
};

}  // namespace herald::sandbox::testing
