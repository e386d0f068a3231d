// A real SQLite store in a temporary directory with two agents, alice_ and bob_, for tests of
// the store's agent scoping.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/id.h"
#include "store/store.h"

namespace herald::store {

class TwoAgentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("herald-store-" + new_id());
    auto s = open_store(dir_.string());
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
    alice_ = agent("alice@example.com");
    bob_ = agent("bob@example.com");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string agent(const std::string& email) {
    AgentRow a{new_id(), "Agent", email, true, Clock::now()};
    EXPECT_TRUE(store_->create_agent(a).has_value());
    return a.id;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::string alice_, bob_;
};

}  // namespace herald::store
