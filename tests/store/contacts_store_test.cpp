// The contact and suppression store against each real store (SQLite, PostgreSQL): uniqueness per
// agent, scoping, audience selection by channel/consent/role/tag, keyset pagination, batch upserts,
// and the send-time suppression checks.
#include <gtest/gtest.h>

#include "core/id.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace herald::store {
namespace {

class ContactStoreTest : public TwoAgentStoreTest {
 protected:
  ContactStore& contacts() { return store_->contacts(); }

  Contact contact(const std::string& agent_id, const std::string& email, const std::string& phone,
                  const std::string& role = "buyer", std::vector<std::string> tags = {},
                  bool consent_email = true, bool consent_sms = true) {
    Contact c;
    c.id = new_id();
    c.agent_id = agent_id;
    c.name = "Name " + email + phone;
    c.email = email;
    c.phone = phone;
    c.role = role;
    c.tags = std::move(tags);
    c.consent_email = consent_email;
    c.consent_sms = consent_sms;
    c.created_at = c.updated_at = Clock::now();
    auto r = contacts().create_contact(c);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return c;
  }

  static std::vector<std::string> ids(const std::vector<Contact>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs) out.push_back(c.id);
    return out;
  }

  Suppression suppression(const std::string& agent_id, Channel ch, const std::string& address,
                          SuppressionReason reason) {
    return Suppression{new_id(), agent_id, ch, address, reason, "test", "", Clock::now()};
  }
};

TEST_P(ContactStoreTest, RoundTripsEveryField) {
  // Invariant: what is saved is what is read back, and only under the owning agent.
  Contact c = contact(alice_, "Ann@Example.com", "+14155552671", "seller", {"vip", "café"});
  c.time_zone = "America/New_York";
  ASSERT_TRUE(contacts().update_contact(c).has_value());
  auto got = contacts().find_contact(alice_, c.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->email, "Ann@Example.com");
  EXPECT_EQ((*got)->phone, "+14155552671");
  EXPECT_EQ((*got)->role, "seller");
  EXPECT_EQ((*got)->tags, (std::vector<std::string>{"vip", "café"}));
  EXPECT_EQ((*got)->time_zone, "America/New_York");
  EXPECT_TRUE((*got)->consent_email);
  EXPECT_FALSE(contacts().find_contact(bob_, c.id)->has_value());
  EXPECT_FALSE(*contacts().delete_contact(bob_, c.id));
  EXPECT_TRUE(*contacts().delete_contact(alice_, c.id));
  EXPECT_FALSE(contacts().find_contact(alice_, c.id)->has_value());
}

TEST_P(ContactStoreTest, EmailAndPhoneAreUniquePerAgentAndTheConflictNamesTheField) {
  // Invariant: an agent never has two contacts with one email (any case) or one phone; another
  // agent may have the same ones.
  contact(alice_, "ann@example.com", "+14155552671");
  Contact dup;
  dup.id = new_id();
  dup.agent_id = alice_;
  dup.email = "ANN@example.com";
  auto r = contacts().create_contact(dup);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(r.error().fields.at(0).field, "email");
  dup.email = "other@example.com";
  dup.phone = "+14155552671";
  r = contacts().create_contact(dup);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().fields.at(0).field, "phone");
  // Bob may have the same addresses.
  contact(bob_, "ann@example.com", "+14155552671");
  // Updating a contact to another's address conflicts too; keeping its own does not.
  Contact other = contact(alice_, "zed@example.com", "");
  other.email = "Ann@Example.com";
  EXPECT_EQ(contacts().update_contact(other).error().code, Errc::conflict);
  other.email = "zed@example.com";
  other.name = "Zed";
  EXPECT_TRUE(contacts().update_contact(other).has_value());
}

TEST_P(ContactStoreTest, ListFiltersByRoleTagAndPrefixWithCursorPages) {
  // Invariant: filters combine, pages are newest first and never repeat or skip a contact.
  std::vector<std::string> all;
  for (int i = 0; i < 25; ++i) {
    auto c = contact(
        alice_, "p" + std::to_string(100 + i) + "@example.com", "", i % 2 ? "buyer" : "seller",
        i % 3 == 0 ? std::vector<std::string>{"vip"} : std::vector<std::string>{"vipx"});
    all.push_back(c.id);
  }
  contact(bob_, "p100@example.com", "");
  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto page = contacts().list_contacts({alice_, std::nullopt, std::nullopt, "", cursor, 10});
    ASSERT_TRUE(page.has_value());
    for (const auto& c : page->items) seen.push_back(c.id);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  std::vector<std::string> newest_first(all.rbegin(), all.rend());
  EXPECT_EQ(seen, newest_first);

  auto vip =
      contacts().list_contacts({alice_, std::string("seller"), std::string("VIP"), "", "", 100});
  ASSERT_TRUE(vip.has_value());
  EXPECT_EQ(vip->items.size(), 5u);  // i in {0, 6, 12, 18, 24}: even (seller) and divisible by 3
  for (const auto& c : vip->items) EXPECT_EQ(c.tags, std::vector<std::string>{"vip"});

  auto prefix = contacts().list_contacts({alice_, std::nullopt, std::nullopt, "P11", "", 100});
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(prefix->items.size(), 10u);  // p110..p119
  auto by_name =
      contacts().list_contacts({alice_, std::nullopt, std::nullopt, "name p12", "", 100});
  EXPECT_EQ(by_name->items.size(), 5u);  // p120..p124
}

TEST_P(ContactStoreTest, AudienceNeedsTheChannelsAddressAndConsentAndMatchesAnyRoleAndTag) {
  // Invariant: a campaign reaches only contacts with an address and consent on its channel,
  // of the chosen roles and tags, of its own agent.
  auto a = contact(alice_, "a@example.com", "+14155550001", "buyer", {"vip"});
  auto b = contact(alice_, "b@example.com", "", "seller", {"open-house"});
  auto c = contact(alice_, "", "+14155550003", "lead", {"vip", "open-house"});
  auto d = contact(alice_, "d@example.com", "+14155550004", "buyer", {}, false, false);
  contact(bob_, "a@example.com", "+14155550001", "buyer", {"vip"});

  auto run = [&](AudienceFilter f) {
    auto r = contacts().stream_audience(alice_, f, "", 100);
    EXPECT_TRUE(r.has_value());
    auto n = contacts().count_audience(alice_, f);
    EXPECT_EQ(static_cast<std::size_t>(*n), r->size());
    return ids(*r);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run({{}, {}, Channel::email}), (V{a.id, b.id}));
  EXPECT_EQ(run({{}, {}, Channel::sms}), (V{a.id, c.id}));
  EXPECT_EQ(run({{"seller", "lead"}, {}, Channel::email}), (V{b.id}));
  EXPECT_EQ(run({{}, {"vip"}, Channel::sms}), (V{a.id, c.id}));
  EXPECT_EQ(run({{}, {"open-house", "VIP"}, Channel::email}), (V{a.id, b.id}));
  EXPECT_EQ(run({{"lead"}, {"open-house"}, Channel::sms}), (V{c.id}));
  EXPECT_EQ(run({{}, {"vi"}, Channel::email}), V{});  // a tag matches whole, never a part
  (void)d;
}

TEST_P(ContactStoreTest, AudienceStreamsInIdOrderFromTheCursor) {
  // Invariant: keyset pages resume after the last id handed out: every contact exactly once.
  std::vector<std::string> all;
  for (int i = 0; i < 57; ++i)
    all.push_back(contact(alice_, "c" + std::to_string(i) + "@x.com", "").id);
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto batch = contacts().stream_audience(alice_, {{}, {}, Channel::email}, after, 10);
    ASSERT_TRUE(batch.has_value());
    if (batch->empty()) break;
    for (const auto& c : *batch) seen.push_back(c.id);
    after = batch->back().id;
  }
  EXPECT_EQ(seen, all);
}

TEST_P(ContactStoreTest, UpsertMatchesByEmailThenPhoneKeepsUnsetFieldsAndReportsConflicts) {
  // Invariant: an import row updates the contact it matches (by email, else phone), creates
  // one otherwise, never merges two contacts, and matches rows earlier in the same batch.
  auto a = contact(alice_, "a@example.com", "+14155550001", "buyer", {"vip"});
  auto b = contact(alice_, "b@example.com", "+14155550002", "seller");
  auto row = [](std::string email, std::string phone, std::string name, unsigned fields) {
    ContactUpsert u;
    u.contact.id = new_id();
    u.contact.email = std::move(email);
    u.contact.phone = std::move(phone);
    u.contact.name = std::move(name);
    u.fields = fields;
    return u;
  };
  std::vector<ContactUpsert> rows = {
      row("A@EXAMPLE.COM", "", "Ann", kFieldEmail | kFieldName),             // updates a
      row("", "+14155550002", "Bea", kFieldPhone | kFieldName),              // updates b by phone
      row("a@example.com", "+14155550002", "X", kFieldEmail | kFieldPhone),  // a's email, b's phone
      row("new@example.com", "", "New", kFieldEmail | kFieldName),           // inserted
      row("NEW@example.com", "+14155550009", "", kFieldEmail | kFieldPhone),  // same batch: update
  };
  auto r = contacts().upsert_contacts(alice_, rows, Clock::now());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  using K = UpsertResult::Kind;
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].kind, K::updated);
  EXPECT_EQ((*r)[0].contact_id, a.id);
  EXPECT_EQ((*r)[1].kind, K::updated);
  EXPECT_EQ((*r)[1].contact_id, b.id);
  EXPECT_EQ((*r)[2].kind, K::conflict);
  EXPECT_EQ((*r)[3].kind, K::inserted);
  EXPECT_EQ((*r)[4].kind, K::updated);
  EXPECT_EQ((*r)[4].contact_id, (*r)[3].contact_id);

  auto got_a = **contacts().find_contact(alice_, a.id);
  EXPECT_EQ(got_a.name, "Ann");
  EXPECT_EQ(got_a.email, "A@EXAMPLE.COM");
  EXPECT_EQ(got_a.phone, "+14155550001");  // not set by the row: kept
  EXPECT_EQ(got_a.tags, std::vector<std::string>{"vip"});
  EXPECT_EQ(got_a.role, "buyer");
  auto got_new = **contacts().find_contact(alice_, (*r)[3].contact_id);
  EXPECT_EQ(got_new.name, "New");
  EXPECT_EQ(got_new.phone, "+14155550009");
  EXPECT_EQ(got_new.role, "lead");
}

TEST_P(ContactStoreTest, AnImportMayHandAnAddressFromOneContactToAnother) {
  // Invariant: an import's rows apply in order: one row may free an email that a later row gives
  // to another contact, as if the rows were imported one at a time.
  auto a = contact(alice_, "a@example.com", "+14155550001");
  auto b = contact(alice_, "b@example.com", "+14155550002");
  auto row = [](std::string email, std::string phone) {
    ContactUpsert u;
    u.contact.id = new_id();
    u.contact.email = std::move(email);
    u.contact.phone = std::move(phone);
    u.fields = kFieldEmail | kFieldPhone;
    return u;
  };
  std::vector<ContactUpsert> rows = {row("b-new@example.com", "+14155550002"),  // b frees it
                                     row("B@example.com", "+14155550001")};     // a takes it
  auto r = contacts().upsert_contacts(alice_, rows, Clock::now());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)[0].contact_id, b.id);
  EXPECT_EQ((*r)[1].contact_id, a.id);
  EXPECT_EQ((**contacts().find_contact(alice_, a.id)).email, "B@example.com");
  EXPECT_EQ((**contacts().find_contact(alice_, b.id)).email, "b-new@example.com");
}

TEST_P(ContactStoreTest, SuppressionsArePerAgentChannelAndAddressCaseInsensitiveForEmail) {
  // Invariant: a suppression stops exactly that agent's sends to that address on that channel.
  ASSERT_TRUE(*contacts().add_suppression(
      suppression(alice_, Channel::email, "Ann@Example.com", SuppressionReason::unsubscribed)));
  EXPECT_FALSE(*contacts().add_suppression(
      suppression(alice_, Channel::email, "ann@example.com", SuppressionReason::unsubscribed)));
  ASSERT_TRUE(*contacts().add_suppression(
      suppression(alice_, Channel::sms, "+14155550001", SuppressionReason::stop)));
  EXPECT_TRUE(*contacts().is_suppressed(alice_, Channel::email, "ANN@example.com"));
  EXPECT_FALSE(*contacts().is_suppressed(bob_, Channel::email, "ann@example.com"));
  EXPECT_FALSE(*contacts().is_suppressed(alice_, Channel::sms, "ann@example.com"));
  EXPECT_TRUE(*contacts().is_suppressed(alice_, Channel::sms, "+14155550001"));
  EXPECT_FALSE(*contacts().is_suppressed(alice_, Channel::email, "+14155550001"));

  std::vector<std::string> batch = {"x@example.com", "ANN@EXAMPLE.COM", "y@example.com",
                                    "ann@example.com"};
  auto hit = contacts().suppressed_among(alice_, Channel::email, batch);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, (std::vector<std::string>{"ANN@EXAMPLE.COM", "ann@example.com"}));
  EXPECT_TRUE(contacts().suppressed_among(bob_, Channel::email, batch)->empty());
}

TEST_P(ContactStoreTest, RemovingOneReasonKeepsTheOthers) {
  // Invariant: START lifts a STOP but never a bounce or a manual suppression.
  const std::string phone = "+14155550001";
  ASSERT_TRUE(*contacts().add_suppression(
      suppression(alice_, Channel::sms, phone, SuppressionReason::stop)));
  ASSERT_TRUE(*contacts().add_suppression(
      suppression(alice_, Channel::sms, phone, SuppressionReason::manual)));
  EXPECT_EQ(*contacts().remove_suppressions(alice_, Channel::sms, phone, SuppressionReason::stop),
            1);
  EXPECT_TRUE(*contacts().is_suppressed(alice_, Channel::sms, phone));
  EXPECT_EQ(*contacts().remove_suppressions(alice_, Channel::sms, phone, std::nullopt), 1);
  EXPECT_FALSE(*contacts().is_suppressed(alice_, Channel::sms, phone));
}

TEST_P(ContactStoreTest, SuppressionListFiltersAndPages) {
  // Invariant: the list is scoped, filterable by channel and reason, and pages cover it exactly.
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(*contacts().add_suppression(suppression(
        alice_, i % 2 ? Channel::sms : Channel::email,
        i % 2 ? "+1415555" + std::to_string(1000 + i) : "s" + std::to_string(i) + "@x.com",
        i % 3 ? SuppressionReason::bounced : SuppressionReason::manual)));
  }
  ASSERT_TRUE(*contacts().add_suppression(
      suppression(bob_, Channel::email, "s0@x.com", SuppressionReason::manual)));
  int n = 0;
  std::string cursor;
  do {
    SuppressionQuery q{alice_, std::nullopt, std::nullopt, "", cursor, 5};
    auto page = contacts().list_suppressions(q);
    ASSERT_TRUE(page.has_value());
    n += static_cast<int>(page->items.size());
    cursor = page->next_cursor;
  } while (!cursor.empty());
  EXPECT_EQ(n, 12);
  auto sms_bounced =
      contacts().list_suppressions({alice_, Channel::sms, SuppressionReason::bounced, "", "", 50});
  EXPECT_EQ(sms_bounced->items.size(), 4u);  // odd i not divisible by 3: 1, 5, 7, 11
  auto one = sms_bounced->items.front();
  EXPECT_TRUE(contacts().find_suppression(alice_, one.id)->has_value());
  EXPECT_FALSE(contacts().find_suppression(bob_, one.id)->has_value());
  EXPECT_FALSE(*contacts().delete_suppression(bob_, one.id));
  EXPECT_TRUE(*contacts().delete_suppression(alice_, one.id));
}

HERALD_STORE_TEST_SUITE(ContactStoreTest);

}  // namespace
}  // namespace herald::store
