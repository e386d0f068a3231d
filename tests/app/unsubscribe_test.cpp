// Unsubscribe tokens and pages over a real SQLite file: tokens bound to agent, channel and
// address, unforgeable, opaque, rotation-aware; unsubscribing is idempotent and scoped.
#include "app/unsubscribe.h"

#include <sodium.h>

#include "app/contacts_fixture.h"

namespace herald::app {
namespace {

using testing::ContactsFixture;
using UnsubscribeTest = ContactsFixture;

std::string token_of(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

TEST_F(UnsubscribeTest, UrlsCarryATokenThatReadsBackToItsTarget) {
  // Invariant: the link names exactly the agent, channel and (normalized) address it was made for.
  std::string url = unsubscribe_url(*app_, alice_, Channel::email, "Ann@Example.com");
  ASSERT_TRUE(url.starts_with("https://herald.example.com/u/"));
  std::string token = token_of(url);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  const secrets::MasterKey keys[] = {key_};
  auto t = read_unsubscribe_token(keys, token);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->agent_id, alice_);
  EXPECT_EQ(t->channel, Channel::email);
  EXPECT_EQ(t->address, "ann@example.com");
  // The address is not readable from the link.
  EXPECT_EQ(url.find("ann"), std::string::npos);
  // Deterministic: the same recipient always gets the same link.
  EXPECT_EQ(unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com"), url);
  auto sms = read_unsubscribe_token(
      keys, token_of(unsubscribe_url(*app_, bob_, Channel::sms, "+1 415 555 0100")));
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(sms->channel, Channel::sms);
  EXPECT_EQ(sms->address, "+14155550100");
  EXPECT_EQ(sms->agent_id, bob_);
}

TEST_F(UnsubscribeTest, ForgedTamperedOrForeignTokensAreRejected) {
  // Invariant: no token verifies unless this master key made it, byte for byte.
  const secrets::MasterKey keys[] = {key_};
  std::string token = token_of(unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com"));
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(read_unsubscribe_token(keys, t).has_value()) << i;
  }
  EXPECT_FALSE(read_unsubscribe_token(keys, token.substr(0, token.size() - 1)).has_value());
  EXPECT_FALSE(read_unsubscribe_token(keys, token + "A").has_value());
  EXPECT_FALSE(read_unsubscribe_token(keys, "").has_value());
  EXPECT_FALSE(read_unsubscribe_token(keys, "not a token!").has_value());
  EXPECT_FALSE(read_unsubscribe_token(keys, std::string(5000, 'A')).has_value());
  unsigned char random[64];
  randombytes_buf(random, sizeof random);
  char b64[128];
  sodium_bin2base64(b64, sizeof b64, random, sizeof random,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  EXPECT_FALSE(read_unsubscribe_token(keys, b64).has_value());
  const secrets::MasterKey other[] = {secrets::MasterKey::generate()};
  EXPECT_FALSE(read_unsubscribe_token(other, token).has_value());
}

TEST_F(UnsubscribeTest, TokensFromAPreviousKeyStillReadDuringARotation) {
  // Invariant: the key tag picks the right key, so links already sent survive a key rotation.
  std::string token = token_of(unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com"));
  const secrets::MasterKey rotated[] = {secrets::MasterKey::generate(), key_};
  auto t = read_unsubscribe_token(rotated, token);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->agent_id, alice_);
}

TEST_F(UnsubscribeTest, UnsubscribingSuppressesOnceForThatAgentAndChannel) {
  // Invariant: one click suppresses (agent, channel, address) with reason unsubscribed; repeats
  // change nothing; other agents and channels are untouched.
  Branding b;
  b.company_name = "Sunset Properties";
  ASSERT_TRUE(put_branding(*app_, alice_, b));
  std::string token = token_of(unsubscribe_url(*app_, alice_, Channel::email, "ann@example.com"));
  auto page = unsubscribe_page(*app_, token);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  EXPECT_EQ(page->company_name, "Sunset Properties");
  EXPECT_EQ(page->masked_address, "a•••@example.com");
  EXPECT_FALSE(page->unsubscribed);
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::email, "ann@example.com"));

  for (int i = 0; i < 3; ++i) {
    auto done = unsubscribe(*app_, token, "one-click");
    ASSERT_TRUE(done.has_value());
    EXPECT_TRUE(done->unsubscribed);
  }
  auto list =
      app_->store().contacts().list_suppressions({alice_, std::nullopt, std::nullopt, "", "", 10});
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0].reason, store::SuppressionReason::unsubscribed);
  EXPECT_EQ(list->items[0].source, "one-click");
  EXPECT_EQ(list->items[0].address, "ann@example.com");
  EXPECT_TRUE(unsubscribe_page(*app_, token)->unsubscribed);
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(bob_, Channel::email, "ann@example.com"));
  EXPECT_FALSE(*app_->store().contacts().is_suppressed(alice_, Channel::sms, "ann@example.com"));
}

TEST_F(UnsubscribeTest, InvalidTokensAndDeletedAgentsAreNotFound) {
  // Invariant: a bad link reveals nothing and records nothing.
  EXPECT_EQ(unsubscribe_page(*app_, "garbage").error().code, Errc::not_found);
  EXPECT_EQ(unsubscribe(*app_, "garbage", "one-click").error().code, Errc::not_found);
  std::string ghost = token_of(unsubscribe_url(*app_, new_id(), Channel::email, "ann@example.com"));
  EXPECT_EQ(unsubscribe(*app_, ghost, "one-click").error().code, Errc::not_found);
  // Without branding the page names the platform, as the email's From did.
  auto page =
      unsubscribe_page(*app_, token_of(unsubscribe_url(*app_, bob_, Channel::sms, "+14155550100")));
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->company_name, "RealtorAI");
  EXPECT_EQ(page->masked_address, "•••• 0100");
}

TEST_F(UnsubscribeTest, AStoredContactsLinkIsTheLinkOfItsAddress) {
  // Invariant: the send path's link for a contact's stored address (no second validation)
  // names exactly what the normalizing link names: a stored E.164 phone, an email in any case.
  UnsubscribeSigner signer(app_->sealer().current());
  for (std::string phone : {"+14155550100", "+442079460000", "+61412345678"}) {
    EXPECT_EQ(contact_unsubscribe_url(*app_, signer, bob_, Channel::sms, phone),
              unsubscribe_url(*app_, signer, bob_, Channel::sms, phone))
        << phone;
  }
  for (std::string email : {"Ann@Example.com", "ann@example.com", "O'Hara@EXAMPLE.org"}) {
    EXPECT_EQ(contact_unsubscribe_url(*app_, signer, alice_, Channel::email, email),
              unsubscribe_url(*app_, signer, alice_, Channel::email, email))
        << email;
  }
}

TEST_F(UnsubscribeTest, OneSignerMakesManyLinks) {
  // Invariant: a signer reused across a batch makes the same links as one-off calls.
  UnsubscribeSigner signer(app_->sealer().current());
  for (int i = 0; i < 50; ++i) {
    std::string addr = "p" + std::to_string(i) + "@example.com";
    EXPECT_EQ(unsubscribe_url(*app_, signer, alice_, Channel::email, addr),
              unsubscribe_url(*app_, alice_, Channel::email, addr));
  }
}

}  // namespace
}  // namespace herald::app
