// The receivers' group commit over a real SQLite store: posts that arrive while one is being
// written go together in the next transaction, each gets its own answer, and a failed write
// answers every post of its wave with the error.
#include "app/post_inbox.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <thread>

#include "core/id.h"
#include "store/store.h"

namespace herald::app {
namespace {

namespace fs = std::filesystem;
using store::WebhookPost;

// The real store's tracking, with its writes counted and, while `hold` is set, kept waiting
// until the test lets them go; `broken` makes the next write fail.
class GatedTracking final : public store::TrackingStore {
 public:
  explicit GatedTracking(store::TrackingStore& real) : real_(real) {}

  Result<std::vector<bool>> record_posts(std::span<const WebhookPost> posts) override {
    {
      std::unique_lock lock(mu_);
      waves_.push_back(posts.size());
      writing_.notify_all();
      released_.wait(lock, [&] { return !hold_; });
      if (broken_) return fail(Errc::storage, "disk full");
    }
    return real_.record_posts(posts);
  }
  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void release(bool broken = false) {
    std::lock_guard lock(mu_);
    hold_ = false;
    broken_ = broken;
    released_.notify_all();
  }
  void wait_for_writes(std::size_t n) {
    std::unique_lock lock(mu_);
    writing_.wait(lock, [&] { return waves_.size() >= n; });
  }
  std::vector<std::size_t> waves() {
    std::lock_guard lock(mu_);
    return waves_;
  }

  Result<std::vector<WebhookPost>> pending_posts(TimePoint now, int limit) override {
    return real_.pending_posts(now, limit);
  }
  Result<std::vector<store::EventsApplied>> apply_posts(std::span<const store::PostEvents> p,
                                                        const store::TrackingPolicy& policy,
                                                        TimePoint now) override {
    return real_.apply_posts(p, policy, now);
  }
  Result<std::vector<store::StoredEvent>> events_of(const std::string& id) override {
    return real_.events_of(id);
  }
  Result<store::CampaignResults> campaign_results(const std::string& agent,
                                                  const std::string& campaign) override {
    return real_.campaign_results(agent, campaign);
  }
  Result<void> put_setup(const store::TrackingSetup& s) override { return real_.put_setup(s); }
  Result<std::optional<store::TrackingSetup>> setup_of(const std::string& owner,
                                                       Channel channel) override {
    return real_.setup_of(owner, channel);
  }
  Result<void> delete_setup(const std::string& owner, Channel channel) override {
    return real_.delete_setup(owner, channel);
  }
  Result<std::vector<store::TrackingSetup>> due_setups(TimePoint now, int limit) override {
    return real_.due_setups(now, limit);
  }

 private:
  store::TrackingStore& real_;
  std::mutex mu_;
  std::condition_variable writing_, released_;
  std::vector<std::size_t> waves_;
  bool hold_ = false;
  bool broken_ = false;
};

class PostInboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-inbox-" + new_id());
    auto s = store::open_store(dir_.string());
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
    gated_ = std::make_unique<GatedTracking>(store_->tracking());
    inbox_ = std::make_unique<PostInbox>(*gated_);
  }
  void TearDown() override {
    inbox_.reset();
    gated_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  static WebhookPost post(std::string replay_key = "") {
    return WebhookPost{new_id(),
                       "mailgun",
                       "platform",
                       std::move(replay_key),
                       "https://h/webhooks/mailgun/platform",
                       {},
                       "{}",
                       Clock::now()};
  }
  // Starts one receiver per post, while a first post's write is held, and waits until all of
  // them are queued for the next write.
  std::vector<std::jthread> queue_behind_a_held_write(const std::vector<WebhookPost>& posts,
                                                      std::vector<Result<bool>>& answers) {
    gated_->hold();
    std::vector<std::jthread> threads;
    threads.emplace_back([&] { answers[0] = inbox_->keep(posts[0]); });
    gated_->wait_for_writes(1);
    for (std::size_t i = 1; i < posts.size(); ++i)
      threads.emplace_back([&, i] { answers[i] = inbox_->keep(posts[i]); });
    while (inbox_->queued() < posts.size() - 1) std::this_thread::yield();
    return threads;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<GatedTracking> gated_;
  std::unique_ptr<PostInbox> inbox_;
};

TEST_F(PostInboxTest, PostsThatArriveDuringAWriteGoTogetherInTheNextOne) {
  // Invariant: receivers that arrive while a write is under way are written in one transaction
  // next, each answered on its own (a replay key seen in the same wave is refused once).
  std::vector<WebhookPost> posts = {post("t0"), post("t1"), post("t2"), post("t1"),
                                    post("t3"), post("t4"), post("t0"), post("t5")};
  std::vector<Result<bool>> answers(posts.size(), Result<bool>(false));
  {
    auto threads = queue_behind_a_held_write(posts, answers);
    gated_->release();
  }
  EXPECT_EQ(gated_->waves(), (std::vector<std::size_t>{1, 7})) << "two writes for eight posts";
  std::vector<bool> kept;
  for (auto& a : answers) {
    ASSERT_TRUE(a.has_value()) << a.error().message;
    kept.push_back(*a);
  }
  EXPECT_EQ(std::count(kept.begin(), kept.end(), true), 6) << "t1 and t0 only once each";
  EXPECT_TRUE(kept[0]) << "the first t0 was kept";
  EXPECT_FALSE(kept[6]) << "the second t0 is a replay";
  EXPECT_EQ(store_->tracking().pending_posts(Clock::now(), 100)->size(), 6u);
}

TEST_F(PostInboxTest, AFailedWriteAnswersEveryPostOfItsWaveWithTheError) {
  // Invariant: when a wave cannot be written, every receiver in it is told (none is told its
  // post is kept), nothing is kept, and the next post is written normally.
  std::vector<WebhookPost> posts = {post(), post(), post(), post()};
  std::vector<Result<bool>> answers(posts.size(), Result<bool>(false));
  {
    auto threads = queue_behind_a_held_write(posts, answers);
    gated_->release(/*broken=*/true);
  }
  for (auto& a : answers) {
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(a.error().code, Errc::storage);
  }
  EXPECT_TRUE(store_->tracking().pending_posts(Clock::now(), 100)->empty());
  gated_->release();
  auto again = inbox_->keep(post());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(*again);
}

}  // namespace
}  // namespace herald::app
