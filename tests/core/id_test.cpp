// Ids: UUIDv7 (RFC 9562) strings, strictly increasing within a process, unique across threads,
// with a readable creation time.
#include "core/id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace herald {
namespace {

int hex_digit(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

TEST(IdTest, FormatIsLowercaseUuid) {
  // Invariant: an id is 36 lowercase characters in the 8-4-4-4-12 UUID layout.
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_id();
    ASSERT_TRUE(std::regex_match(id, uuid)) << id;
  }
}

TEST(IdTest, VersionAndVariantBits) {
  // Invariant: the version nibble is 7 and the variant bits are 10 (RFC 9562 §4.1, §4.2).
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_id();
    ASSERT_EQ(hex_digit(id[14]), 7) << id;
    ASSERT_EQ(hex_digit(id[19]) >> 2, 0b10) << id;
  }
}

TEST(IdTest, HundredThousandIdsStrictlyIncreaseAsStrings) {
  // Invariant: ids made one after another sort in creation order, also within a millisecond.
  std::string prev = new_id();
  for (int i = 0; i < 100'000; ++i) {
    std::string next = new_id();
    ASSERT_LT(prev, next) << "at " << i;
    prev = std::move(next);
  }
}

TEST(IdTest, RandomBitsDifferBetweenIdsOfTheSameMillisecond) {
  // Invariant: ids are not guessable from their neighbours: rand_b is fresh for every id.
  const std::string a = new_id();
  const std::string b = new_id();
  EXPECT_NE(a.substr(19), b.substr(19));
}

TEST(IdTest, UniqueAndOrderedPerThreadAcrossFourThreads) {
  // Invariant: concurrent callers never get the same id, and each sees its own ids increase.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25'000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(new_id());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : ids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end());
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(IdTest, IdTimeRoundTrip) {
  // Invariant: id_time returns the millisecond the id was made (never before, at most a
  // little after when many ids were made in one millisecond).
  const auto before = to_millis(Clock::now());
  const std::string id = new_id();
  const auto after = to_millis(Clock::now());
  const auto t = to_millis(id_time(id));
  EXPECT_GE(t, before);
  EXPECT_LE(t, after + 1);
  EXPECT_EQ(to_millis(id_time("01890a5d-ac96-774b-bcce-b302099a8057")), 0x01890a5dac96);
  EXPECT_EQ(to_millis(id_time("01890A5D-AC96-774B-BCCE-B302099A8057")), 0x01890a5dac96);
}

TEST(IdTest, IdTimeOfMalformedIdIsEpoch) {
  // Invariant: anything that is not a UUIDv7 reads as time 0 rather than garbage.
  for (const char* bad : {"", "not-an-id", "01890a5d-ac96-474b-bcce-b302099a8057",  // v4
                          "01890a5d-ac96-774b-3cce-b302099a8057",                   // variant 0
                          "01890a5d-ac96-774b-bcce-b302099a805",                    // short
                          "01890a5dxac96-774b-bcce-b302099a8057",                   // separator
                          "0189za5d-ac96-774b-bcce-b302099a8057"}) {                // not hex
    EXPECT_EQ(to_millis(id_time(bad)), 0) << bad;
  }
}

}  // namespace
}  // namespace herald
