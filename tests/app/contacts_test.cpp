// Contact services over a real SQLite file: validation naming each field, normalization
// (E.164, lowercase tags and roles, IANA time zones), duplicates, partial updates, scoping.
#include "app/contacts.h"

#include "app/contacts_fixture.h"

namespace herald::app {
namespace {

using testing::ContactsFixture;
using ContactsTest = ContactsFixture;

ContactInput input(std::string email, std::string phone = "") {
  ContactInput in;
  in.name = "Ann Buyer";
  in.email = std::move(email);
  in.phone = std::move(phone);
  return in;
}

TEST_F(ContactsTest, CreateNormalizesEveryField) {
  // Invariant: stored contacts are canonical: E.164 phone, lowercase role and deduplicated tags.
  ContactInput in = input("  ann@example.com ", "+1 (415) 555-2671");
  in.role = "Seller";
  in.tags = std::vector<std::string>{" VIP", "vip", "Open House"};
  in.time_zone = "America/New_York";
  in.consent_email = true;
  auto c = create_contact(*app_, alice_, in);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->email, "ann@example.com");
  EXPECT_EQ(c->phone, "+14155552671");
  EXPECT_EQ(c->role, "seller");
  EXPECT_EQ(c->tags, (std::vector<std::string>{"vip", "open house"}));
  EXPECT_EQ(c->time_zone, "America/New_York");
  EXPECT_TRUE(c->consent_email);
  EXPECT_FALSE(c->consent_sms);  // consent is never assumed
  EXPECT_EQ(c->agent_id, alice_);
  auto stored = get_contact(*app_, alice_, c->id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->tags, c->tags);
}

TEST_F(ContactsTest, InvalidInputNamesEveryField) {
  // Invariant: one answer lists every invalid field, and nothing is stored.
  ContactInput in;
  in.name = "Line\nbreak";
  in.email = "not-an-email";
  in.phone = "555-1234";
  in.role = "landlord";
  in.time_zone = "Mars/Olympus_Mons";
  auto c = create_contact(*app_, alice_, in);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::invalid_input);
  EXPECT_EQ(fields(c.error()),
            (std::vector<std::string>{"name", "email", "phone", "role", "timeZone"}));

  auto none = create_contact(*app_, alice_, ContactInput{});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(fields(none.error()), std::vector<std::string>{"email"});
  EXPECT_EQ(none.error().fields[0].message, "or phone is required");

  ContactInput many = input("a@example.com");
  many.tags = std::vector<std::string>();
  for (int i = 0; i < 21; ++i) many.tags->push_back("t" + std::to_string(i));
  EXPECT_EQ(fields(create_contact(*app_, alice_, many).error()), std::vector<std::string>{"tags"});
  many.tags = std::vector<std::string>{"ok", "has \"quote\""};
  EXPECT_EQ(fields(create_contact(*app_, alice_, many).error()), std::vector<std::string>{"tags"});
  many.tags = std::vector<std::string>{""};
  EXPECT_EQ(fields(create_contact(*app_, alice_, many).error()), std::vector<std::string>{"tags"});
  EXPECT_TRUE(
      list_contacts(*app_, {alice_, std::nullopt, std::nullopt, "", "", 50})->items.empty());
}

TEST_F(ContactsTest, TimeZonesMustBeRealIanaZones) {
  // Invariant: only names with a TZif file in the zoneinfo directory pass; paths cannot escape it.
  EXPECT_TRUE(is_valid_time_zone("America/New_York"));
  EXPECT_TRUE(is_valid_time_zone("Europe/London"));
  EXPECT_TRUE(is_valid_time_zone("UTC"));
  EXPECT_TRUE(is_valid_time_zone("America/Argentina/Buenos_Aires"));
  for (const char* bad :
       {"", "America", "America/", "/etc/passwd", "../../etc/passwd", "America/../UTC", "zone.tab",
        "America/New York", "Mars/Base", "iso3166.tab"}) {
    EXPECT_FALSE(is_valid_time_zone(bad)) << bad;
  }
}

TEST_F(ContactsTest, DuplicatesAreConflictsNamingTheField) {
  // Invariant: per agent, one contact per email (any case) and per phone; 409 names the field.
  ASSERT_TRUE(create_contact(*app_, alice_, input("ann@example.com", "+14155552671")).has_value());
  auto by_email = create_contact(*app_, alice_, input("ANN@example.com"));
  ASSERT_FALSE(by_email.has_value());
  EXPECT_EQ(by_email.error().code, Errc::conflict);
  EXPECT_EQ(fields(by_email.error()), std::vector<std::string>{"email"});
  auto by_phone = create_contact(*app_, alice_, input("", "+1 415 555 2671"));
  ASSERT_FALSE(by_phone.has_value());
  EXPECT_EQ(fields(by_phone.error()), std::vector<std::string>{"phone"});
  EXPECT_TRUE(create_contact(*app_, bob_, input("ann@example.com", "+14155552671")).has_value());
}

TEST_F(ContactsTest, UpdateChangesOnlyTheFieldsGiven) {
  // Invariant: PATCH semantics: absent fields keep their values; "" clears an optional one.
  ContactInput in = input("ann@example.com", "+14155552671");
  in.tags = std::vector<std::string>{"vip"};
  auto c = *create_contact(*app_, alice_, in);
  clock_.advance(std::chrono::seconds(5));
  ContactInput patch;
  patch.phone = "";
  patch.consent_sms = true;
  auto u = update_contact(*app_, alice_, c.id, patch);
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->name, "Ann Buyer");
  EXPECT_EQ(u->email, "ann@example.com");
  EXPECT_EQ(u->phone, "");
  EXPECT_EQ(u->tags, std::vector<std::string>{"vip"});
  EXPECT_TRUE(u->consent_sms);
  EXPECT_GT(u->updated_at, c.updated_at);
  EXPECT_EQ(u->created_at, c.created_at);
  ContactInput clear_all;
  clear_all.email = "";
  auto none = update_contact(*app_, alice_, c.id, clear_all);
  ASSERT_FALSE(none.has_value());  // would leave no address
  EXPECT_EQ(fields(none.error()), std::vector<std::string>{"email"});
}

TEST_F(ContactsTest, AnotherAgentsContactIsNotFound) {
  // Invariant: every read and write is scoped by agent: Bob cannot see, change or delete Alice's.
  auto c = *create_contact(*app_, alice_, input("ann@example.com"));
  EXPECT_EQ(get_contact(*app_, bob_, c.id).error().code, Errc::not_found);
  EXPECT_EQ(update_contact(*app_, bob_, c.id, input("x@example.com")).error().code,
            Errc::not_found);
  EXPECT_EQ(delete_contact(*app_, bob_, c.id).error().code, Errc::not_found);
  EXPECT_TRUE(list_contacts(*app_, {bob_, std::nullopt, std::nullopt, "", "", 50})->items.empty());
  EXPECT_TRUE(delete_contact(*app_, alice_, c.id).has_value());
  EXPECT_EQ(get_contact(*app_, alice_, c.id).error().code, Errc::not_found);
  EXPECT_EQ(
      list_contacts(*app_, {"no-such-agent", std::nullopt, std::nullopt, "", "", 50}).error().code,
      Errc::not_found);
}

}  // namespace
}  // namespace herald::app
