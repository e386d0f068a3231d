// Template validation at save time: every problem is refused before a message is ever rendered,
// and the refusal names the field and the variable.
#include <gtest/gtest.h>

#include "core/templates.h"

namespace herald {
namespace {

TemplateParts email(std::string subject, std::string html, std::string text = "") {
  return {std::move(subject), std::move(html), std::move(text), ""};
}

TemplateParts sms(std::string body) {
  return {"", "", "", std::move(body)};
}

// "field: message" for each error, for readable assertions.
std::vector<std::string> describe(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field + ": " + e.message);
  return out;
}

bool has_error(const std::vector<FieldError>& errors, const std::string& field,
               const std::string& fragment) {
  for (const auto& e : errors)
    if (e.field == field && e.message.find(fragment) != std::string::npos) return true;
  return false;
}

TEST(TemplateValidation, AValidEmailTemplatePasses) {
  // Invariant: the documented variables, sections and inverted sections are all accepted.
  auto errors = validate_template(
      Channel::email,
      email("Hi {{contact.firstName}} from {{agent.companyName}}",
            "<p>{{#agent.website}}<a href=\"{{agent.website}}\">{{.}}</a>{{/agent.website}}"
            "{{^agent.website}}no site{{/agent.website}}</p>"
            "{{#contact}}{{name}} {{email}}{{/contact}}"
            "<p>{{listing.address}} {{listing.priceFormatted}} {{listing.url}} {{listing.id}}</p>"
            "<p>{{agent.postalAddress}} <a href=\"{{unsubscribeUrl}}\">x</a> {{platform.name}}</p>",
            "{{contact.name}} {{contact.phone}} {{contact.role}} {{agent.signature}}"));
  EXPECT_TRUE(errors.empty()) << testing::PrintToString(describe(errors));
}

TEST(TemplateValidation, UnknownVariableNamesFieldAndVariableWithASuggestion) {
  // Invariant: a typo in a variable is refused at save time, naming the field and variable.
  auto errors = validate_template(Channel::email, email("Hi", "<p>\n  {{contact.nmae}}</p>"));
  ASSERT_EQ(errors.size(), 1u) << testing::PrintToString(describe(errors));
  EXPECT_EQ(errors[0].field, "html");
  EXPECT_NE(errors[0].message.find("\"contact.nmae\""), std::string::npos);
  EXPECT_NE(errors[0].message.find("line 2, column 3"), std::string::npos) << errors[0].message;
  EXPECT_NE(errors[0].message.find("did you mean \"contact.name\""), std::string::npos);
}

TEST(TemplateValidation, EveryPartIsCheckedAndNamed) {
  // Invariant: subject, text and SMS body are validated like HTML, each under its own name.
  auto errors =
      validate_template(Channel::email, email("{{listing.adress}}", "<p>ok</p>", "{{agent.nam}}"));
  EXPECT_TRUE(has_error(errors, "subject", "listing.adress"))
      << testing::PrintToString(describe(errors));
  EXPECT_TRUE(has_error(errors, "text", "agent.nam"));
  auto sms_errors = validate_template(Channel::sms, sms("Hi {{contact.frist}}"));
  EXPECT_TRUE(has_error(sms_errors, "body", "contact.frist"));
}

TEST(TemplateValidation, SectionsAndInvertedSectionsMustNameKnownVariables) {
  // Invariant: {{#x}} and {{^x}} are checked too, and fields inside an object section resolve.
  auto a = validate_template(Channel::email, email("s", "{{#agent.webiste}}x{{/agent.webiste}}"));
  EXPECT_TRUE(has_error(a, "html", "agent.webiste"));
  auto b = validate_template(Channel::email, email("s", "{{^listing.prce}}x{{/listing.prce}}"));
  EXPECT_TRUE(has_error(b, "html", "listing.prce"));
  auto c = validate_template(Channel::email, email("s", "{{#listing}}{{address}}{{/listing}}"));
  EXPECT_TRUE(c.empty()) << testing::PrintToString(describe(c));
  auto d = validate_template(Channel::email, email("s", "{{#listing}}{{nope}}{{/listing}}"));
  EXPECT_TRUE(has_error(d, "html", "\"nope\""));
  // A name is not looked up inside a plain value: {{name}} inside {{#agent.website}} is unknown.
  auto e =
      validate_template(Channel::email, email("s", "{{#agent.website}}{{name}}{{/agent.website}}"));
  EXPECT_TRUE(has_error(e, "html", "\"name\""));
}

TEST(TemplateValidation, SyntaxErrorsNameTheFieldAndLine) {
  // Invariant: an unclosed section or tag is refused with its field and position.
  auto a = validate_template(Channel::email,
                             email("s", "<p>\n{{#agent.website}}<a>{{agent.website}}</a></p>"));
  ASSERT_EQ(a.size(), 1u) << testing::PrintToString(describe(a));
  EXPECT_EQ(a[0].field, "html");
  EXPECT_NE(a[0].message.find("syntax error"), std::string::npos);
  EXPECT_NE(a[0].message.find("agent.website"), std::string::npos);
  EXPECT_NE(a[0].message.find("line 2"), std::string::npos) << a[0].message;
  auto b = validate_template(Channel::sms, sms("Hi {{contact.name"));
  EXPECT_TRUE(has_error(b, "body", "syntax error"));
  auto c = validate_template(Channel::email, email("s", "", "{{/agent.name}}"));
  EXPECT_TRUE(has_error(c, "text", "syntax error"));
  auto d = validate_template(Channel::email, email("s", "{{#agent.name}}x{{/agent.phone}}"));
  EXPECT_TRUE(has_error(d, "html", "syntax error"));
}

TEST(TemplateValidation, UnescapedOutputIsRefusedInHtmlOnly) {
  // Invariant: HTML output is always escaped — {{{x}}} and {{&x}} are refused there, for any
  // variable; in text and SMS (never HTML-escaped) they are harmless and accepted.
  auto a = validate_template(Channel::email, email("s", "<p>{{{contact.name}}}</p>"));
  EXPECT_TRUE(has_error(a, "html", "{{{contact.name}}}"));
  auto b = validate_template(Channel::email, email("s", "<p>{{& agent.signature}}</p>"));
  EXPECT_TRUE(has_error(b, "html", "unescaped"));
  auto c = validate_template(Channel::email, email("s", "{{=<% %>=}}<p><%& listing.url %></p>"));
  EXPECT_TRUE(has_error(c, "html", "unescaped"));
  auto d = validate_template(Channel::email,
                             email("{{{contact.name}}}", "<p>x</p>", "{{{contact.name}}}"));
  EXPECT_TRUE(d.empty()) << testing::PrintToString(describe(d));
}

TEST(TemplateValidation, PartialsObjectsAndEmptyTagsAreRefused) {
  // Invariant: nothing that would render blank or pull in outside text gets saved.
  EXPECT_TRUE(
      has_error(validate_template(Channel::email, email("s", "{{>footer}}")), "html", "partial"));
  EXPECT_TRUE(has_error(validate_template(Channel::email, email("s", "{{contact}}")), "html",
                        "contact.name"));
  EXPECT_TRUE(
      has_error(validate_template(Channel::email, email("s", "{{}}")), "html", "empty tag"));
  EXPECT_TRUE(has_error(validate_template(Channel::email, email("s", "{{.}}")), "html",
                        "outside a section"));
}

TEST(TemplateValidation, UnsubscribeUrlIsForEmailOnly) {
  // Invariant: SMS recipients opt out with STOP, so an SMS cannot promise a link it lacks.
  auto errors = validate_template(Channel::sms, sms("Bye: {{unsubscribeUrl}}"));
  EXPECT_TRUE(has_error(errors, "body", "reply STOP")) << testing::PrintToString(describe(errors));
}

TEST(TemplateValidation, RequiredPartsPerChannel) {
  // Invariant: an email needs a subject and a body; an SMS needs a body and nothing else.
  auto a = validate_template(Channel::email, email("", "", ""));
  EXPECT_TRUE(has_error(a, "subject", "is required"));
  EXPECT_TRUE(has_error(a, "html", "is required"));
  EXPECT_TRUE(validate_template(Channel::email, email("s", "", "only text")).empty());
  auto b = validate_template(Channel::email, {"s", "<p>x</p>", "", "sms body"});
  EXPECT_TRUE(has_error(b, "body", "SMS"));
  auto c = validate_template(Channel::sms, {"subject", "<p>x</p>", "", ""});
  EXPECT_TRUE(has_error(c, "subject", "email"));
  EXPECT_TRUE(has_error(c, "html", "email"));
  EXPECT_TRUE(has_error(c, "body", "is required"));
}

TEST(TemplateValidation, Limits) {
  // Invariant: subject ≤ 200 characters (not bytes), SMS body ≤ 1600, HTML ≤ 256 KiB.
  std::string subject_200(200, 'a');
  EXPECT_TRUE(validate_template(Channel::email, email(subject_200, "x")).empty());
  EXPECT_TRUE(has_error(validate_template(Channel::email, email(subject_200 + "a", "x")), "subject",
                        "at most 200 characters"));
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";  // 400 bytes, 200 characters
  EXPECT_TRUE(validate_template(Channel::email, email(accents, "x")).empty());
  EXPECT_TRUE(validate_template(Channel::sms, sms(std::string(1600, 'b'))).empty());
  EXPECT_TRUE(has_error(validate_template(Channel::sms, sms(std::string(1601, 'b'))), "body",
                        "at most 1600 characters"));
  EXPECT_TRUE(validate_template(Channel::email, email("s", std::string(256 * 1024, 'h'))).empty());
  EXPECT_TRUE(
      has_error(validate_template(Channel::email, email("s", std::string(256 * 1024 + 1, 'h'))),
                "html", "at most 262144 bytes"));
  EXPECT_TRUE(has_error(validate_template(Channel::email, email("Hi\r\nBcc: x", "x")), "subject",
                        "single line"));
}

TEST(TemplateValidation, BuiltinsAreValidAndCampaignOnesAreCompliant) {
  // Invariant: every platform default passes the rules agents must follow, and campaign email
  // defaults carry {{unsubscribeUrl}} and {{agent.postalAddress}} in every body part.
  for (const auto& b : builtin_templates()) {
    auto errors = validate_template(b.channel, b.parts());
    EXPECT_TRUE(errors.empty()) << b.key << ": " << testing::PrintToString(describe(errors));
    auto compiled = compiled_builtin(b.key, b.channel);
    ASSERT_TRUE(compiled.has_value()) << b.key;
    if (b.campaign && b.channel == Channel::email) {
      EXPECT_TRUE(compiled->campaign_gaps().empty()) << b.key;
      EXPECT_TRUE(compiled->uses("html", "unsubscribeUrl"));
      EXPECT_TRUE(compiled->uses("text", "agent.postalAddress"));
    }
  }
  EXPECT_NE(find_builtin("new_listing", Channel::email), nullptr);
  EXPECT_NE(find_builtin("market_update", Channel::email), nullptr);
  EXPECT_NE(find_builtin("open_house", Channel::sms), nullptr);
  EXPECT_EQ(find_builtin("open_house", Channel::email), nullptr);
}

TEST(TemplateValidation, CampaignGapsNameTheMissingFooterVariables) {
  // Invariant: an email template without the unsubscribe link or postal address is flagged.
  auto t = CompiledTemplate::compile(
      Channel::email, email("s", "<p>{{unsubscribeUrl}}</p>", "{{agent.postalAddress}}"));
  ASSERT_TRUE(t.has_value());
  auto gaps = t->campaign_gaps();
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].field, "html");
  EXPECT_NE(gaps[0].message.find("agent.postalAddress"), std::string::npos);
  EXPECT_EQ(gaps[1].field, "text");
  EXPECT_NE(gaps[1].message.find("unsubscribeUrl"), std::string::npos);
}

TEST(TemplateValidation, SmsSegments) {
  // Invariant: the preview tells GSM-7 from UCS-2 and counts parts as carriers do.
  EXPECT_EQ(sms_segments(std::string(160, 'a')).segments, 1);
  EXPECT_EQ(sms_segments(std::string(161, 'a')).segments, 2);
  EXPECT_EQ(sms_segments(std::string(306, 'a')).segments, 2);
  EXPECT_EQ(sms_segments(std::string(307, 'a')).segments, 3);
  EXPECT_EQ(sms_segments("price €5").characters, 9);  // € is a GSM extension: two septets
  EXPECT_EQ(sms_segments("price €5").encoding, "GSM-7");
  auto emoji = sms_segments("Open house 🏠");
  EXPECT_EQ(emoji.encoding, "UCS-2");
  EXPECT_EQ(emoji.characters, 13);
  EXPECT_EQ(sms_segments(std::string(71, 'a') + "ü").encoding, "GSM-7");
  EXPECT_EQ(sms_segments(std::string(70, 'a') + "ł").segments, 2);
}

}  // namespace
}  // namespace herald
