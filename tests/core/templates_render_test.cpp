// Rendering compiled templates: escaping per part, branding under per-message variables,
// derived fields, and no parsing per message.
#include <gtest/gtest.h>

#include <thread>

#include "core/template_fixtures.h"
#include "core/templates.h"

namespace herald {
namespace {

using nlohmann::json;

using fixtures::compile;
using fixtures::sunset;

TEST(TemplateRender, HtmlEscapesEveryVariableWhileSubjectAndTextKeepThemVerbatim) {
  // Invariant: hostile contact data cannot inject markup into HTML; plain parts stay exact.
  auto t = compile(Channel::email,
                   {"Hi {{contact.name}}", "<p title=\"{{contact.name}}\">{{contact.name}}</p>",
                    "Hi {{contact.name}}", ""});
  auto r = t.render({{"contact", {{"name", "<b>Ann</b> & \"Bo\" 'x'"}}}},
                    SenderContext(sunset(), "RealtorAI"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->html,
            "<p title=\"&lt;b&gt;Ann&lt;/b&gt; &amp; &quot;Bo&quot; &apos;x&apos;\">"
            "&lt;b&gt;Ann&lt;/b&gt; &amp; &quot;Bo&quot; &apos;x&apos;</p>");
  EXPECT_EQ(r->subject, "Hi <b>Ann</b> & \"Bo\" 'x'");
  EXPECT_EQ(r->text, "Hi <b>Ann</b> & \"Bo\" 'x'");
  EXPECT_TRUE(r->body.empty());
}

TEST(TemplateRender, SmsBodyIsNotEscaped) {
  // Invariant: SMS is plain text: "&" arrives as "&", not "&amp;".
  auto t = compile(Channel::sms, {"", "", "", "{{agent.companyName}}: {{contact.name}} <3"});
  auto r = t.render({{"contact", {{"name", "Ann & Bo"}}}}, SenderContext(sunset(), "RealtorAI"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "Sunset Properties: Ann & Bo <3");
  EXPECT_TRUE(r->html.empty());
}

TEST(TemplateRender, BrandingAndDerivedFieldsFill) {
  // Invariant: every documented variable renders; firstName and priceFormatted are derived.
  auto t = compile(Channel::email,
                   {"{{contact.firstName}}", "x",
                    "{{agent.name}}|{{agent.companyName}}|{{agent.website}}|{{agent.replyEmail}}|"
                    "{{agent.postalAddress}}|{{agent.phone}}|{{platform.name}}|{{listing.price}}|"
                    "{{listing.priceFormatted}}|{{contact.role}}|{{unsubscribeUrl}}",
                    ""});
  json vars = {{"contact", {{"name", "  Jordan Rivera"}, {"role", "buyer"}}},
               {"listing", {{"price", 675000.0}}},
               {"unsubscribeUrl", "https://h.example/u/tok"}};
  auto r = t.render(vars, SenderContext(sunset(), "RealtorAI"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->subject, "Jordan");
  EXPECT_EQ(r->text,
            "Lisa Park|Sunset Properties|https://sunsetprops.com|lisa@sunsetprops.com|"
            "1 Beach Rd, Santa Cruz, CA 95060|+14155550100|RealtorAI|675000|$675,000|buyer|"
            "https://h.example/u/tok");
}

TEST(TemplateRender, EmptyValuesAreFalseInSections) {
  // Invariant: {{#agent.website}}…{{/agent.website}} disappears when the agent has no website,
  // and the inverted section shows instead.
  auto t = compile(Channel::email,
                   {"s",
                    "{{#agent.website}}<a href=\"{{agent.website}}\">site</a>{{/agent.website}}"
                    "{{^agent.website}}no site{{/agent.website}}",
                    "", ""});
  Agent bare;
  bare.name = "Pat";
  auto without = t.render(json::object(), SenderContext(bare, "RealtorAI"));
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->html, "no site");
  auto with = t.render(json::object(), SenderContext(sunset(), "RealtorAI"));
  EXPECT_EQ(with->html, "<a href=\"https://sunsetprops.com\">site</a>");
}

TEST(TemplateRender, MessageVariablesCannotImpersonateTheSender) {
  // Invariant: only contact/seller/listing/unsubscribeUrl come from the message; agent.* is
  // always the agent's branding.
  auto t = compile(Channel::sms, {"", "", "", "{{agent.companyName}}"});
  auto r =
      t.render({{"agent", {{"companyName", "Evil Corp"}}}}, SenderContext(sunset(), "RealtorAI"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "Sunset Properties");
}

TEST(TemplateRender, ContactAndSellerStandInForEachOther) {
  // Invariant: the seller welcome (vars carry "seller") can be overridden with contact.* names.
  auto t = compile(Channel::sms,
                   {"", "", "", "{{contact.firstName}} {{contact.role}} / {{seller.name}}"});
  auto r = t.render({{"seller", {{"name", "Ann Lee"}}}}, SenderContext(sunset(), "RealtorAI"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "Ann seller / Ann Lee");
}

TEST(TemplateRender, SubjectLineBreaksFromVariablesBecomeSpaces) {
  // Invariant: a contact name with CR/LF cannot add a header line through the subject.
  auto t = compile(Channel::email, {"Hi {{contact.name}}", "x", "", ""});
  auto r = t.render({{"contact", {{"name", "Ann\r\nBcc: all@example.com"}}}},
                    SenderContext(sunset(), "R"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->subject.find_first_of("\r\n"), std::string::npos);
}

TEST(TemplateRender, DataIsNeverParsedAsATemplate) {
  // Invariant: even a partial tag that slipped past validation cannot make a variable's value
  // (here a contact-controlled string) render as Mustache.
  auto t = CompiledTemplate::compile(Channel::sms, {"", "", "", "[{{>unsubscribeUrl}}]"});
  ASSERT_TRUE(t.has_value());
  auto r = t->render({{"unsubscribeUrl", "{{agent.companyName}}"}}, SenderContext(sunset(), "R"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "[]");
}

TEST(TemplateRender, RenderingACompiledTemplateNeverParses) {
  // Invariant: a campaign parses its template once; each of many messages only renders.
  auto t = compile(Channel::email,
                   {"Hi {{contact.firstName}}", "<p>{{contact.name}}</p>", "{{contact.name}}", ""});
  SenderContext sender(sunset(), "RealtorAI");
  std::uint64_t before = template_parse_count();
  for (int i = 0; i < 1000; ++i) {
    auto r = t.render({{"contact", {{"name", "Contact " + std::to_string(i)}}}}, sender);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->text, "Contact " + std::to_string(i));
  }
  EXPECT_EQ(template_parse_count(), before);
  // Built-ins are parsed once per process, however often they render.
  ASSERT_TRUE(
      render_builtin("seller_welcome", Channel::email, json::object(), sunset(), "R").has_value());
  std::uint64_t after_first = template_parse_count();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(render_builtin("seller_welcome", Channel::email, json::object(), sunset(), "R")
                    .has_value());
  }
  EXPECT_EQ(template_parse_count(), after_first);
}

TEST(TemplateRender, OneCompiledTemplateRendersFromSeveralThreads) {
  // Invariant: send workers may share a compiled template; each gets its own correct output.
  auto t = compile(Channel::email,
                   {"{{contact.name}}", "<p>{{#contact}}{{name}}{{/contact}}</p>", "", ""});
  SenderContext sender(sunset(), "RealtorAI");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) {
        std::string name = "T" + std::to_string(k) + "-" + std::to_string(i);
        auto r = t.render({{"contact", {{"name", name}}}}, sender);
        if (!r || r->subject != name || r->html != "<p>" + name + "</p>") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(TemplateRender, BuiltinCampaignEmailCarriesFooter) {
  // Invariant: the default campaign emails show the postal address and the unsubscribe link.
  json vars = {{"contact", {{"name", "Jordan Rivera"}}},
               {"listing",
                {{"address", "12 Ocean Ave"}, {"price", 950000}, {"url", "https://x.example/l/1"}}},
               {"unsubscribeUrl", "https://h.example/u/tok?a=1&b=2"}};
  auto r = render_builtin("new_listing", Channel::email, vars, sunset(), "RealtorAI");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->subject, "New listing: 12 Ocean Ave at $950,000");
  EXPECT_NE(r->html.find("Hi Jordan,"), std::string::npos);
  EXPECT_NE(r->html.find("1 Beach Rd, Santa Cruz, CA 95060"), std::string::npos);
  EXPECT_NE(r->html.find("href=\"https://h.example/u/tok?a=1&amp;b=2\""), std::string::npos);
  EXPECT_NE(r->text.find("Unsubscribe: https://h.example/u/tok?a=1&b=2"), std::string::npos);
  EXPECT_NE(r->text.find("View the listing: https://x.example/l/1"), std::string::npos);
  auto sms = render_builtin("open_house", Channel::sms, vars, sunset(), "RealtorAI");
  ASSERT_TRUE(sms.has_value());
  EXPECT_EQ(
      sms->body,
      "Sunset Properties: Hi Jordan, you're invited to an open house at 12 Ocean Ave ($950,000). "
      "Details: https://x.example/l/1 Reply STOP to opt out.");
}

}  // namespace
}  // namespace herald
