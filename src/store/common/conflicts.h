// The conflict errors both stores return, worded once so the API answers the same whichever
// database is behind it. Dialect-free.
#pragma once

#include <string>

#include "core/error.h"
#include "store/templates.h"

namespace herald::store::common {

// An agent with this login email exists already (names the field "email").
inline Error agent_email_taken() {
  Error e = Error::invalid("email", "an agent with this email already exists");
  e.code = Errc::conflict;
  return e;
}

// Another of the agent's contacts has this address: `field` is "email" or "phone".
inline Error address_taken(const std::string& field, const std::string& why) {
  Error e = Error::invalid(field, why);
  e.code = Errc::conflict;
  e.message = field + " " + why;
  return e;
}

// The agent has a template with this key on this channel already (names the field "key").
inline Error template_key_taken(const TemplateRow& t) {
  Error e{Errc::conflict, "a " + std::string(to_string(t.channel)) + " template with key \"" +
                              t.key + "\" already exists"};
  e.fields.push_back(
      {"key", "is already used by another " + std::string(to_string(t.channel)) + " template"});
  return e;
}

}  // namespace herald::store::common
