// Batch personalization: a template rendered once with placeholders (the skeleton) plus one
// message's substitutions must reproduce that message's own rendering byte for byte, or the
// message is refused for batching.
#include <gtest/gtest.h>

#include "core/template_fixtures.h"
#include "core/templates.h"

namespace herald {
namespace {

using nlohmann::json;

using fixtures::sunset;

CompiledTemplate compile(TemplateParts parts) {
  return fixtures::compile(Channel::email, std::move(parts));
}

std::string tag(std::string_view name) {
  return "-herald-" + std::string(name) + "-";
}

// The message as the provider would deliver it: the skeleton with its values substituted.
Rendered delivered(const Skeleton& s, const Substitutions& values) {
  return {substitute(s.parts.subject, s, values), substitute(s.parts.text, s, values),
          substitute(s.parts.html, s, values), substitute(s.parts.body, s, values)};
}

void expect_same(const Rendered& a, const Rendered& b) {
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.html, b.html);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.body, b.body);
}

const TemplateParts kCampaign{
    "News for {{contact.firstName}}",
    "<p>Hi {{contact.name}}, from {{agent.companyName}}.</p>"
    "<a href=\"{{unsubscribeUrl}}\">Unsubscribe</a> {{agent.postalAddress}}",
    "Hi {{contact.name}}\nUnsubscribe: {{unsubscribeUrl}}\n{{agent.postalAddress}}", ""};

TEST(TemplateBatch, SkeletonPlusEachMessagesValuesIsExactlyItsOwnRendering) {
  // Invariant: for every recipient, substituted skeleton == the single render, HTML escaping
  // and derived fields (firstName) included.
  CompiledTemplate t = compile(kCampaign);
  SenderContext sender(sunset(), "RealtorAI");
  json first = {{"contact", {{"name", "Ann Lee"}, {"email", "ann@example.com"}}},
                {"unsubscribeUrl", "https://h.example/u/1"}};
  auto skeleton = t.skeleton(first, sender, tag);
  ASSERT_TRUE(skeleton.has_value()) << skeleton.error().message;
  EXPECT_EQ(skeleton->parts.subject.find("Ann"), std::string::npos) << skeleton->parts.subject;
  EXPECT_NE(skeleton->parts.html.find("Sunset Properties"), std::string::npos)
      << "branding is shared, not substituted";

  for (const json& vars :
       {first, json{{"contact", {{"name", "<Bo> & \"Cy\""}, {"email", "bo@example.com"}}},
                    {"unsubscribeUrl", "https://h.example/u/2?a=1&b=2"}}}) {
    auto full = t.render(vars, sender);
    ASSERT_TRUE(full.has_value());
    auto values = personalize(*skeleton, vars, *full);
    ASSERT_TRUE(values.has_value()) << vars.dump();
    expect_same(delivered(*skeleton, *values), *full);
  }
}

TEST(TemplateBatch, HtmlAndPlainPartsGetTheirOwnSlots) {
  // Invariant: one variable used in HTML and in text has an escaped and a verbatim value.
  CompiledTemplate t = compile(kCampaign);
  SenderContext sender(sunset(), "RealtorAI");
  json vars = {{"contact", {{"name", "A & B"}}}, {"unsubscribeUrl", "https://h.example/u/1"}};
  auto skeleton = t.skeleton(vars, sender, tag);
  ASSERT_TRUE(skeleton.has_value());
  auto values = personalize(*skeleton, vars, *t.render(vars, sender));
  ASSERT_TRUE(values.has_value());
  bool escaped = false, verbatim = false;
  for (const auto& [name, value] : *values) {
    escaped |= name.starts_with("h") && value == "A &amp; B";
    verbatim |= name.starts_with("t") && value == "A & B";
  }
  EXPECT_TRUE(escaped);
  EXPECT_TRUE(verbatim);
}

TEST(TemplateBatch, AMessageWhoseSectionsDifferIsRefused) {
  // Invariant: {{#contact.firstName}}…{{^…}} renders differently for a contact without a
  // name; such a message cannot share the skeleton and personalize says so.
  CompiledTemplate t =
      compile({"Hello",
               "<p>Hi {{#contact.firstName}}{{contact.firstName}}{{/contact.firstName}}"
               "{{^contact.firstName}}there{{/contact.firstName}}</p>{{unsubscribeUrl}}",
               "", ""});
  SenderContext sender(sunset(), "RealtorAI");
  json named = {{"contact", {{"name", "Ann"}}}, {"unsubscribeUrl", "https://h.example/u/1"}};
  json nameless = {{"contact", {{"email", "x@example.com"}}},
                   {"unsubscribeUrl", "https://h.example/u/2"}};
  auto skeleton = t.skeleton(named, sender, tag);
  ASSERT_TRUE(skeleton.has_value());
  EXPECT_FALSE(personalize(*skeleton, nameless, *t.render(nameless, sender)).has_value());
  EXPECT_TRUE(personalize(*skeleton, named, *t.render(named, sender)).has_value());
}

TEST(TemplateBatch, ALineBreakInASubjectValueIsRefused) {
  // Invariant: the subject turns line breaks into spaces after rendering; a provider's
  // substitution would not, so that message goes alone.
  CompiledTemplate t = compile(kCampaign);
  SenderContext sender(sunset(), "RealtorAI");
  json plain = {{"contact", {{"name", "Ann"}}}, {"unsubscribeUrl", "u"}};
  json broken = {{"contact", {{"name", "Ann\nBcc: x@evil.example"}}}, {"unsubscribeUrl", "u"}};
  auto skeleton = t.skeleton(plain, sender, tag);
  ASSERT_TRUE(skeleton.has_value());
  EXPECT_FALSE(personalize(*skeleton, broken, *t.render(broken, sender)).has_value());
}

TEST(TemplateBatch, ATagWrittenInTheTemplateItselfIsNeverMistakenForAValue) {
  // Invariant: template text that happens to contain a provider tag makes personalize refuse
  // (the substituted skeleton would differ), instead of sending altered content.
  // (Values are numbered in the order of the message's variables: contact.firstName is 0 and
  // contact.name is 1, so "-herald-t1-" is contact.name's tag in text.)
  CompiledTemplate t = compile({"s", "<p>{{contact.name}}</p>{{unsubscribeUrl}}",
                                "-herald-t1- {{contact.name}} {{unsubscribeUrl}}", ""});
  SenderContext sender(sunset(), "RealtorAI");
  json vars = {{"contact", {{"name", "Ann"}}}, {"unsubscribeUrl", "u"}};
  auto skeleton = t.skeleton(vars, sender, tag);
  ASSERT_TRUE(skeleton.has_value());
  ASSERT_NE(skeleton->parts.text.find("-herald-t1- -herald-t1-"), std::string::npos)
      << skeleton->parts.text;
  EXPECT_FALSE(personalize(*skeleton, vars, *t.render(vars, sender)).has_value());
}

TEST(TemplateBatch, ASameShapedMessageGetsItsValuesWithoutBeingRendered) {
  // Invariant: where personalize_same_shape answers, its values are exactly personalize's
  // (checked against each message's own rendering); it declines a message whose sections could
  // go another way or whose values need escaping or carry a line break, and personalize
  // decides those after a render.
  CompiledTemplate t =
      compile({"News for {{contact.firstName}}{{#listing}} at {{listing.address}}{{/listing}}",
               "<p>Hi {{contact.name}}{{#contact.phone}} ({{contact.phone}}){{/contact.phone}}"
               "</p><a href=\"{{unsubscribeUrl}}\">Unsubscribe</a> {{agent.postalAddress}}",
               "Hi {{contact.name}}\n{{unsubscribeUrl}}\n{{agent.postalAddress}}", ""});
  SenderContext sender(sunset(), "RealtorAI");
  auto person = [](std::string name, std::string phone) {
    json c = {{"name", std::move(name)}, {"email", "x@example.com"}};
    if (!phone.empty()) c["phone"] = std::move(phone);
    return json{{"contact", std::move(c)}, {"unsubscribeUrl", "https://h.example/u/1"}};
  };
  json first = person("Ann Lee", "+15550100");
  auto skeleton = t.skeleton(first, sender, tag);
  ASSERT_TRUE(skeleton.has_value());
  ASSERT_TRUE(personalize(*skeleton, first, *t.render(first, sender)).has_value());

  for (const json& vars : {first, person("Bo Chan", "+15550111"), person("Cy", "+1")}) {
    auto quick = personalize_same_shape(*skeleton, vars);
    ASSERT_TRUE(quick.has_value()) << vars.dump();
    auto full = t.render(vars, sender);
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(*quick, *personalize(*skeleton, vars, *full)) << vars.dump();
    expect_same(delivered(*skeleton, *quick), *full);
  }
  json no_phone = person("Di", "");
  json with_listing = person("Ed", "+15550122");
  with_listing["listing"] = {{"address", "1 Main St"}};
  json single_name = first;
  single_name["contact"]["name"] = "Flo";  // firstName derives to the same: still the shape
  json empty_phone = person("Gil", "");
  empty_phone["contact"]["phone"] = "";
  for (const json& declined : {no_phone, with_listing, empty_phone, person("O'Brien", "+1"),
                               person("A & B", "+1"), person("Line\nBreak", "+1")}) {
    EXPECT_FALSE(personalize_same_shape(*skeleton, declined).has_value()) << declined.dump();
  }
  EXPECT_TRUE(personalize_same_shape(*skeleton, single_name).has_value());
}

}  // namespace
}  // namespace herald
