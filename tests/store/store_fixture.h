// The store contract tests run against every store: SQLite in a temporary directory and
// PostgreSQL in a fresh database of the test binary's server (tests/support/pg_server.h). A
// fixture derived from StoreTest is instantiated over both with HERALD_STORE_TEST_SUITE.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/id.h"
#include "store/store.h"
#include "support/pg_server.h"

namespace herald::store {

// A database of one kind ("sqlite" or "postgres") that lives as long as a test.
class TestDatabase {
 public:
  // Makes a new empty database; its URL, or why none could be made.
  std::expected<std::string, std::string> create(const std::string& kind) {
    kind_ = kind;
    if (kind == "postgres") {
      auto url = test::PgServer::instance().create_database();
      if (url) url_ = *url;
      return url;
    }
    dir_ = std::filesystem::temp_directory_path() / ("herald-store-" + new_id());
    url_ = dir_.string();
    return url_;
  }
  // Deletes the database (its stores must be closed).
  void destroy() {
    if (kind_ == "postgres" && !url_.empty()) test::PgServer::instance().drop_database(url_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    url_.clear();
    dir_.clear();
  }

 private:
  std::string kind_;
  std::string url_;
  std::filesystem::path dir_;
};

// A fresh store of the parameter's kind for each test; url_ opens it again.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = db_.create(GetParam());
    ASSERT_TRUE(url.has_value()) << GetParam() << " store: " << url.error();
    url_ = *url;
    auto s = open_store(url_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    db_.destroy();
  }

  bool postgres() const { return GetParam() == "postgres"; }

  TestDatabase db_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

// A fresh store with two agents, alice_ and bob_, for tests of the store's agent scoping.
class TwoAgentStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    alice_ = agent("alice@example.com");
    bob_ = agent("bob@example.com");
  }

  std::string agent(const std::string& email) {
    AgentRow a{new_id(), "Agent", email, true, Clock::now()};
    EXPECT_TRUE(store_->create_agent(a).has_value());
    return a.id;
  }

  std::string alice_, bob_;
};

// Runs the TEST_Ps of `suite` against both stores (test names end in /sqlite and /postgres).
#define HERALD_STORE_TEST_SUITE(suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(                                                             \
      Stores, suite, ::testing::Values(std::string("sqlite"), std::string("postgres")), \
      [](const ::testing::TestParamInfo<std::string>& info) { return info.param; })

}  // namespace herald::store
