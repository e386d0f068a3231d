// Templates: branding reaches every message, and HTML never carries unescaped input.
#include "core/templates.h"

#include <gtest/gtest.h>

namespace herald {
namespace {

Agent branded() {
  Agent a;
  a.name = "Lisa";
  a.branding.company_name = "Sunset Properties";
  a.branding.email_signature = "Lisa Park\nSunset Properties";
  a.branding.website = "https://sunsetprops.com";
  return a;
}

nlohmann::json vars(const std::string& seller) {
  return {{"seller", {{"name", seller}}},
          {"listing", {{"address", "12 Ocean Ave"}, {"priceFormatted", "$950,000"}}}};
}

TEST(Templates, SellerWelcomeEmailCarriesBranding) {
  // Invariant: company name, signature and website appear in the welcome email.
  auto r = render_builtin("seller_welcome", Channel::email, vars("Ann"), branded(), "RealtorAI");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->subject, "Welcome to Sunset Properties: your listing at 12 Ocean Ave");
  EXPECT_NE(r->text.find("Hi Ann,"), std::string::npos);
  EXPECT_NE(r->text.find("Lisa Park\nSunset Properties"), std::string::npos);
  EXPECT_NE(r->text.find("https://sunsetprops.com"), std::string::npos);
  EXPECT_NE(r->html.find("<a href=\"https://sunsetprops.com\">"), std::string::npos);
  EXPECT_NE(r->text.find("$950,000"), std::string::npos);
}

TEST(Templates, UnbrandedAgentGetsPlatformName) {
  // Invariant: without a company name the platform's name signs the message.
  Agent a;
  a.name = "Pat";
  auto r = render_builtin("seller_welcome", Channel::email, vars("Ann"), a, "RealtorAI");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->subject, "Welcome to RealtorAI: your listing at 12 Ocean Ave");
}

TEST(Templates, HtmlEscapesVariablesButTextDoesNot) {
  // Invariant: a hostile name cannot inject markup into HTML; plain text keeps it verbatim.
  auto r = render_builtin("seller_welcome", Channel::email, vars("<script>x</script> & Co"),
                          branded(), "RealtorAI");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->html.find("<script>"), std::string::npos);
  EXPECT_NE(r->html.find("&lt;script&gt;x&lt;/script&gt; &amp; Co"), std::string::npos);
  EXPECT_NE(r->text.find("<script>x</script> & Co"), std::string::npos);
}

TEST(Templates, SmsBodyIsPlainAndBranded) {
  // Invariant: the SMS names the agent's company and tells how to opt out.
  auto r = render_builtin("seller_welcome", Channel::sms, vars("Ann & Bo"), branded(), "RealtorAI");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body.rfind("Sunset Properties: Hi Ann & Bo,", 0), 0u);
  EXPECT_NE(r->body.find("Reply STOP to opt out."), std::string::npos);
}

TEST(Templates, UnknownTemplateIsAnError) {
  // Invariant: a message naming an unknown template fails clearly instead of sending blank.
  auto r = render_builtin("nope", Channel::email, vars("Ann"), branded(), "RealtorAI");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::not_found);
}

}  // namespace
}  // namespace herald
