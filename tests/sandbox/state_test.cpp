// Protects the sandbox's shared helpers: key hints never reveal a key, address parsing, ids,
// and the fault table's first-in-first-out countdown.
#include <gtest/gtest.h>

#include "sandbox/state.h"

namespace herald::sandbox {
namespace {

TEST(KeyHint, ShowsOnlyTheLastFourCharacters) {
  // Invariant: a hint is "…" plus at most the last 4 characters, and nothing for short keys.
  EXPECT_EQ(key_hint("re_live_1234567890abcd"), "\u2026abcd");
  EXPECT_EQ(key_hint("short"), "\u2026");
}

TEST(Addresses, ParsesMailboxesAndLists) {
  // Invariant: "Name <addr>" and "addr" both yield the address; commas inside quotes do not split.
  EXPECT_EQ(email_address("Wright Realty <matt@wrightrealty.com>"), "matt@wrightrealty.com");
  EXPECT_EQ(email_address("  b@example.com "), "b@example.com");
  EXPECT_TRUE(valid_mailbox("A <a@example.com>"));
  EXPECT_TRUE(valid_mailbox("a@localhost"));
  EXPECT_FALSE(valid_mailbox("a@"));
  EXPECT_FALSE(valid_mailbox("@example.com"));
  EXPECT_FALSE(valid_mailbox("a b@example.com"));
  EXPECT_FALSE(valid_mailbox("A <a@example.com"));
  EXPECT_FALSE(valid_mailbox("a@example..com"));
  auto list = split_addresses("a@x.com, \"Doe, Jane\" <j@x.com>,,<k@x.com> ");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1], "\"Doe, Jane\" <j@x.com>");
  EXPECT_EQ(list[2], "<k@x.com>");
}

TEST(Ids, HaveTheRightShape) {
  // Invariant: UUIDs are version 4 with the RFC variant; hex and base64url ids have the asked
  // length.
  std::string u = random_uuid();
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
  EXPECT_NE(random_uuid(), u);
  EXPECT_EQ(random_hex(32).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(random_base64url(22).size(), 22u);
}

TEST(Dates, FormatInUtc) {
  // Invariant: ISO 8601 with milliseconds and RFC 2822 as Twilio writes it.
  TimePoint t = from_millis(1692853305123);  // 2023-08-24T05:01:45.123Z, a Thursday
  EXPECT_EQ(iso8601(t), "2023-08-24T05:01:45.123Z");
  EXPECT_EQ(rfc2822(t), "Thu, 24 Aug 2023 05:01:45 +0000");
}

TEST(FaultTable, CountsDownFirstInFirstOut) {
  // Invariant: faults for a provider apply in order, each `count` times, and never to other
  // providers.
  FaultTable table;
  table.add({"resend", 429, 2, 1, {}});
  table.add({"resend", 500, 1, {}, {}});
  EXPECT_FALSE(table.take("sendgrid"));
  EXPECT_EQ(table.take("resend")->status, 429);
  EXPECT_EQ(table.list()[0].count, 1u);
  EXPECT_EQ(table.take("resend")->status, 429);
  EXPECT_EQ(table.take("resend")->status, 500);
  EXPECT_FALSE(table.take("resend"));
  EXPECT_TRUE(table.list().empty());
}

TEST(IdempotencyCache, ReplaysConflictsAndReportsInProgress) {
  // Invariant: fresh → (in progress) → replay for the same request, conflict for another.
  IdempotencyCache cache(std::chrono::hours(24));
  TimePoint now = from_millis(0);
  EXPECT_EQ(cache.begin("k", "body", now).outcome, IdempotencyCache::Outcome::fresh);
  EXPECT_EQ(cache.begin("k", "body", now).outcome, IdempotencyCache::Outcome::in_progress);
  cache.finish("k", 200, "{\"id\":\"1\"}");
  auto replay = cache.begin("k", "body", now);
  EXPECT_EQ(replay.outcome, IdempotencyCache::Outcome::replay);
  EXPECT_EQ(replay.body, "{\"id\":\"1\"}");
  EXPECT_EQ(cache.begin("k", "other", now).outcome, IdempotencyCache::Outcome::conflict);
  EXPECT_EQ(cache.begin("j", "body", now).outcome, IdempotencyCache::Outcome::fresh);
  cache.abandon("j");
  EXPECT_EQ(cache.begin("j", "other", now).outcome, IdempotencyCache::Outcome::fresh);
}

}  // namespace
}  // namespace herald::sandbox
