// A process's view of its database's reachability: only an unreachable database is an outage,
// loops back off while it lasts (longer each time, within a bound), and it ends on a success.
#include "delivery/outage.h"

#include <gtest/gtest.h>

namespace herald::delivery {
namespace {

Error unreachable() {
  Error e{Errc::storage, "cannot connect"};
  e.retryable = true;
  return e;
}

TEST(Outage, OnlyAnUnreachableDatabaseIsAnOutage) {
  // Invariant: a failure trying again would repeat (a refused write, a bug) is not waited for.
  Outage outage;
  EXPECT_FALSE(outage.failed(Error::storage("constraint failed")));
  EXPECT_FALSE(outage.failed(Error{Errc::provider, "busy", {}, "resend", 503, true}));
  EXPECT_FALSE(outage.active());
  EXPECT_TRUE(outage.failed(unreachable()));
  EXPECT_TRUE(outage.active());
  outage.succeeded();
  EXPECT_FALSE(outage.active());
}

TEST(Outage, BackoffGrowsWhileTheOutageLastsAndStartsOverAfter) {
  // Invariant: loops wait longer the longer the database is away, never more than 5 s, and
  // start again from the shortest wait after it answered.
  Outage outage;
  ASSERT_TRUE(outage.failed(unreachable()));
  const auto first = outage.backoff();
  ASSERT_TRUE(outage.failed(unreachable()));
  EXPECT_GT(outage.backoff(), first);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(outage.failed(unreachable()));
  EXPECT_EQ(outage.backoff(), std::chrono::milliseconds(5000));
  outage.succeeded();
  ASSERT_TRUE(outage.failed(unreachable()));
  EXPECT_EQ(outage.backoff(), first);
}

}  // namespace
}  // namespace herald::delivery
