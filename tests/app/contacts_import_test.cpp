// CSV import over a real SQLite file: every rejected line reported with its number and reason
// while the rest import, dedupe within the file and against existing contacts, header rules,
// and a large file in batches.
#include "app/contacts_import.h"

#include "app/contacts.h"
#include "app/contacts_fixture.h"

namespace herald::app {
namespace {

using testing::ContactsFixture;
using ContactsImportTest = ContactsFixture;

std::vector<store::Contact> all_contacts(App& app, const std::string& agent_id) {
  std::vector<store::Contact> out;
  std::string cursor;
  do {
    auto page = app.store().contacts().list_contacts(
        {agent_id, std::nullopt, std::nullopt, "", cursor, 500});
    EXPECT_TRUE(page.has_value());
    out.insert(out.end(), page->items.begin(), page->items.end());
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return out;
}

TEST_F(ContactsImportTest, ImportsGoodRowsAndReportsEachBadLineWithItsNumberAndReason) {
  // Invariant: bad rows never stop the import; each is reported once, by line, with a reason.
  std::string csv =
      "Name,Email,Phone,Role,Tags,Time Zone,consent_email,ConsentSms,Favourite Colour\n"  // 1
      "Ann,ann@example.com,+14155550001,buyer,\"vip, open house\",America/New_York,yes,no,red\n"  // 2
      "Bob,not-an-email,,seller,,,,,\n"                     // 3
      "Cat,,+1 415 555 0003,LEAD,,,true,1,\n"               // 4
      "Dan,dan@example.com,,landlord,,Mars/Base,maybe,,\n"  // 5
      "\"Eve \"\"E\"\" Smith\",eve@example.com,,,,,,,\n"    // 6
      "Fay,fay@example.com,,,\n"                            // 7 (too few)
      "\n"                                                  // 8 (blank)
      "Gus,,,,,,,,\n"                                       // 9 (no address)
      "\"Hal,hal@example.com,,,,,,,\n";                     // 10 unterminated
  auto r = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->total, 8);
  EXPECT_EQ(r->imported, 3);  // Ann, Cat, Eve
  EXPECT_EQ(r->updated, 0);
  EXPECT_EQ(r->rejected_count, 5);
  ASSERT_EQ(r->rejected.size(), 5u);
  EXPECT_EQ(r->rejected[0].line, 3u);
  EXPECT_EQ(r->rejected[0].reason, "email is not a valid email address");
  EXPECT_EQ(r->rejected[1].line, 5u);
  EXPECT_EQ(r->rejected[1].reason,
            "consentEmail must be true or false; role must be buyer, seller or lead; "
            "timeZone must be an IANA time zone such as America/New_York");
  EXPECT_EQ(r->rejected[2].line, 7u);
  EXPECT_EQ(r->rejected[2].reason, "has 5 fields but the header names 9");
  EXPECT_EQ(r->rejected[3].line, 9u);
  EXPECT_EQ(r->rejected[3].reason, "email or phone is required");
  EXPECT_EQ(r->rejected[4].line, 10u);
  EXPECT_EQ(r->rejected[4].reason, "has a quoted field that is never closed");
  EXPECT_EQ(r->ignored_columns, std::vector<std::string>{"Favourite Colour"});

  auto ann =
      app_->store().contacts().find_contact_by_address(alice_, Channel::email, "ann@example.com");
  ASSERT_TRUE(ann.has_value() && ann->has_value());
  EXPECT_EQ((*ann)->tags, (std::vector<std::string>{"vip", "open house"}));
  EXPECT_EQ((*ann)->time_zone, "America/New_York");
  EXPECT_TRUE((*ann)->consent_email);
  EXPECT_FALSE((*ann)->consent_sms);
  auto cat = app_->store().contacts().find_contact_by_address(alice_, Channel::sms, "+14155550003");
  ASSERT_TRUE(cat.has_value() && cat->has_value());
  EXPECT_EQ((*cat)->role, "lead");
  EXPECT_TRUE((*cat)->consent_sms);
  auto eve =
      app_->store().contacts().find_contact_by_address(alice_, Channel::email, "eve@example.com");
  EXPECT_EQ((*eve)->name, "Eve \"E\" Smith");
  EXPECT_TRUE(all_contacts(*app_, bob_).empty());
}

TEST_F(ContactsImportTest, DuplicatesUpdateTheContactTheyMatchWithinTheFileAndAgainstExisting) {
  // Invariant: one person is one contact: a row matching an existing contact (by email, else
  // phone) or an earlier row updates it; blank cells keep what is there; a row whose email and
  // phone belong to two different contacts is rejected rather than merging them.
  ContactInput existing;
  existing.name = "Old Name";
  existing.email = "ann@example.com";
  existing.tags = std::vector<std::string>{"old"};
  existing.time_zone = "Europe/London";
  auto ann = *create_contact(*app_, alice_, existing);
  ContactInput other;
  other.email = "bob@example.com";
  other.phone = "+14155550002";
  auto bob = *create_contact(*app_, alice_, other);

  std::string csv =
      "name,email,phone,tags,consentEmail\n"
      "Ann New,ANN@example.com,,new,true\n"   // 2: updates ann (email, any case)
      "Zed,zed@example.com,+14155550009,,\n"  // 3: new
      "Zed Again,,+1 415 555 0009,,yes\n"     // 4: same person as line 3, by phone
      ",bob@example.com,+14155550009,,\n"     // 5: bob's email, zed's phone: rejected
      "Bobby,,+14155550002,,\n";              // 6: updates bob by phone
  auto r = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->total, 5);
  EXPECT_EQ(r->imported, 1);
  EXPECT_EQ(r->updated, 3);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].line, 5u);
  EXPECT_EQ(r->rejected[0].reason, "email belongs to one contact and phone to another");

  auto contacts = all_contacts(*app_, alice_);
  EXPECT_EQ(contacts.size(), 3u);
  auto got = *get_contact(*app_, alice_, ann.id);
  EXPECT_EQ(got.name, "Ann New");
  EXPECT_EQ(got.tags, std::vector<std::string>{"new"});
  EXPECT_EQ(got.time_zone, "Europe/London");  // blank cell: kept
  EXPECT_TRUE(got.consent_email);
  auto zed = app_->store().contacts().find_contact_by_address(alice_, Channel::sms, "+14155550009");
  EXPECT_EQ((*zed)->name, "Zed Again");
  EXPECT_EQ((*zed)->email, "zed@example.com");
  EXPECT_TRUE((*zed)->consent_email);
  EXPECT_EQ(get_contact(*app_, alice_, bob.id)->name, "Bobby");
}

TEST_F(ContactsImportTest, AnUnusableHeaderFailsTheWholeImportNamingTheHeader) {
  // Invariant: without a usable header nothing is imported and the error names "header".
  for (const char* csv : {"", "\n\n", "name,role\nAnn,buyer\n", "email,EMAIL\na@x.com,b@x.com\n",
                          "\"email\nann@example.com\n"}) {
    auto r = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
    ASSERT_FALSE(r.has_value()) << csv;
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(fields(r.error()), std::vector<std::string>{"header"}) << csv;
  }
  EXPECT_TRUE(all_contacts(*app_, alice_).empty());
  EXPECT_EQ(import_contacts_csv(*app_, "no-such-agent", CsvReader::from_string("email\na@x.com\n"))
                .error()
                .code,
            Errc::not_found);
}

TEST_F(ContactsImportTest, TheRejectionListIsCappedButEveryRejectionIsCounted) {
  // Invariant: a file of garbage yields a bounded report with the true count.
  std::string csv = "email\n";
  for (int i = 0; i < 2500; ++i) csv += "bad-" + std::to_string(i) + "\n";
  csv += "good@example.com\n";
  auto r = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->total, 2501);
  EXPECT_EQ(r->rejected_count, 2500);
  EXPECT_EQ(r->rejected.size(), kMaxListedRejections);
  EXPECT_EQ(r->rejected.back().line, kMaxListedRejections + 1);
  EXPECT_EQ(r->imported, 1);
}

TEST_F(ContactsImportTest, InvalidUtf8IsRejectedPerLine) {
  // Invariant: text that is not UTF-8 never reaches the database.
  auto r = import_contacts_csv(
      *app_, alice_,
      CsvReader::from_string("name,email\n\xff\xfe,a@example.com\nok,b@example.com\n"));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_EQ(r->rejected[0].line, 2u);
  EXPECT_EQ(r->rejected[0].reason, "name is not valid UTF-8 text");
  EXPECT_EQ(r->imported, 1);
}

TEST_F(ContactsImportTest, ImportsManyRowsAcrossBatchesAndAReimportOnlyUpdates) {
  // Invariant: rows spanning many batches all land once; importing the same file again creates
  // nothing new.
  const int n = 5 * static_cast<int>(kImportBatchRows) + 17;
  std::string csv = "name,email,phone,role,tags,consentEmail\n";
  for (int i = 0; i < n; ++i) {
    csv += "Person " + std::to_string(i) + ",p" + std::to_string(i) + "@example.com,+1415" +
           std::to_string(5000000 + i) + "," + (i % 2 ? "buyer" : "seller") + ",batch,yes\n";
  }
  auto first = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->imported, n);
  EXPECT_EQ(first->rejected_count, 0);
  auto again = import_contacts_csv(*app_, alice_, CsvReader::from_string(csv));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->imported, 0);
  EXPECT_EQ(again->updated, n);
  EXPECT_EQ(
      app_->store().contacts().count_audience(alice_, {{}, {"batch"}, Channel::email}).value(), n);
  EXPECT_EQ(
      app_->store().contacts().count_audience(alice_, {{"buyer"}, {}, Channel::email}).value(),
      n / 2);
}

}  // namespace
}  // namespace herald::app
