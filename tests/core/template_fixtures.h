// Shared fixtures for the template tests: a fully branded agent and a checked compile.
#pragma once

#include <gtest/gtest.h>

#include "core/templates.h"

namespace herald::fixtures {

// Sunset Properties with every branding field set.
inline Agent sunset() {
  Agent a;
  a.name = "Lisa Park";
  a.branding.company_name = "Sunset Properties";
  a.branding.email_signature = "Lisa Park\nSunset Properties";
  a.branding.website = "https://sunsetprops.com";
  a.branding.postal_address = "1 Beach Rd, Santa Cruz, CA 95060";
  a.branding.reply_email = "lisa@sunsetprops.com";
  a.branding.sms_phone = "+14155550100";
  return a;
}

// Validates (expecting no errors) and compiles `parts` for `channel`.
inline CompiledTemplate compile(Channel channel, TemplateParts parts) {
  EXPECT_TRUE(validate_template(channel, parts).empty());
  auto t = CompiledTemplate::compile(channel, parts);
  EXPECT_TRUE(t.has_value()) << t.error().message;
  return *t;
}

}  // namespace herald::fixtures
