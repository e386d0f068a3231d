// The delivery-event vocabulary and the forward-only rule.
#include "core/events.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

DeliveryEvent event(EventType t) {
  DeliveryEvent e;
  e.type = t;
  return e;
}

TEST(Events, EveryTypeHasAStableName) {
  for (EventType t : {EventType::queued, EventType::sent, EventType::deferred, EventType::delivered,
                      EventType::bounced, EventType::rejected, EventType::failed,
                      EventType::complained, EventType::opened, EventType::clicked,
                      EventType::unsubscribed, EventType::opted_out, EventType::unknown})
    EXPECT_EQ(parse_event_type(to_string(t)), t);
  EXPECT_FALSE(parse_event_type("exploded"));
}

TEST(Events, DeliveryOnlyMovesForward) {
  EXPECT_EQ(status_after(MessageStatus::sent, event(EventType::delivered)),
            MessageStatus::delivered);
  EXPECT_EQ(status_after(MessageStatus::sent, event(EventType::deferred)), MessageStatus::deferred);
  EXPECT_EQ(status_after(MessageStatus::deferred, event(EventType::delivered)),
            MessageStatus::delivered);
  EXPECT_EQ(status_after(MessageStatus::delivered, event(EventType::bounced)),
            MessageStatus::bounced);
  EXPECT_EQ(status_after(MessageStatus::delivered, event(EventType::complained)),
            MessageStatus::complained);
  // Late or repeated events never overwrite a worse outcome.
  EXPECT_FALSE(status_after(MessageStatus::bounced, event(EventType::delivered)));
  EXPECT_FALSE(status_after(MessageStatus::complained, event(EventType::delivered)));
  EXPECT_FALSE(status_after(MessageStatus::delivered, event(EventType::deferred)));
  EXPECT_FALSE(status_after(MessageStatus::delivered, event(EventType::delivered)));
  EXPECT_FALSE(status_after(MessageStatus::delivered, event(EventType::sent)));
}

TEST(Events, AnOpenOrClickShowsDeliveryAndEngagementChangesNothingElse) {
  EXPECT_EQ(status_after(MessageStatus::sent, event(EventType::opened)), MessageStatus::delivered);
  EXPECT_EQ(status_after(MessageStatus::deferred, event(EventType::clicked)),
            MessageStatus::delivered);
  EXPECT_FALSE(status_after(MessageStatus::delivered, event(EventType::opened)));
  EXPECT_FALSE(status_after(MessageStatus::sent, event(EventType::unsubscribed)));
  EXPECT_FALSE(status_after(MessageStatus::sent, event(EventType::unknown)));
}

TEST(Events, AProviderFailureAfterAcceptanceFailsTheMessage) {
  EXPECT_EQ(status_after(MessageStatus::sent, event(EventType::failed)), MessageStatus::failed);
  EXPECT_EQ(status_after(MessageStatus::sent, event(EventType::rejected)), MessageStatus::failed);
  EXPECT_FALSE(status_after(MessageStatus::failed, event(EventType::delivered)));
}

TEST(Events, NothingMovesAMessageTheProviderNeverAccepted) {
  for (MessageStatus s : {MessageStatus::queued, MessageStatus::sending, MessageStatus::retrying,
                          MessageStatus::suppressed})
    EXPECT_FALSE(status_after(s, event(EventType::delivered))) << to_string(s);
}

TEST(Events, RawPayloadsAreCappedOnACharacterBoundary) {
  std::string raw(kMaxRawEventBytes - 1, 'a');
  raw += "é…";  // two and three bytes across the cap
  std::string capped = cap_raw_event(raw);
  EXPECT_LE(capped.size(), kMaxRawEventBytes);
  EXPECT_EQ(capped, std::string(kMaxRawEventBytes - 1, 'a'));
  EXPECT_EQ(cap_raw_event("{}"), "{}");
}

}  // namespace
}  // namespace herald

namespace herald {
namespace {

DeliveryEvent bounce(BounceKind kind) {
  DeliveryEvent e;
  e.type = EventType::bounced;
  e.bounce = kind;
  return e;
}

TEST(Suppression, HardBouncesComplaintsUnsubscribesAndStopSuppressAtOnce) {
  EXPECT_EQ(suppression_for(bounce(BounceKind::hard), 0, 3).reason, "bounced");
  DeliveryEvent e;
  e.type = EventType::complained;
  EXPECT_EQ(suppression_for(e, 0, 3).reason, "complained");
  e.type = EventType::unsubscribed;
  EXPECT_EQ(suppression_for(e, 0, 3).reason, "unsubscribed");
  e.type = EventType::opted_out;
  EXPECT_EQ(suppression_for(e, 0, 3).reason, "stop");
  e.type = EventType::deferred;
  EXPECT_EQ(suppression_for(e, 2, 3).action, SuppressAction::none) << "a deferral is not a bounce";
}

TEST(Suppression, SoftBouncesCountUntilTheLimitAndADeliveryEndsTheRun) {
  EXPECT_EQ(suppression_for(bounce(BounceKind::soft), 0, 3).action,
            SuppressAction::count_soft_bounce);
  EXPECT_EQ(suppression_for(bounce(BounceKind::soft), 1, 3).action,
            SuppressAction::count_soft_bounce);
  EXPECT_EQ(suppression_for(bounce(BounceKind::soft), 2, 3).action, SuppressAction::suppress);
  DeliveryEvent delivered;
  delivered.type = EventType::delivered;
  EXPECT_EQ(suppression_for(delivered, 2, 3).action, SuppressAction::reset_soft_bounces);
  EXPECT_EQ(suppression_for(delivered, 0, 3).action, SuppressAction::none);
}

}  // namespace
}  // namespace herald
