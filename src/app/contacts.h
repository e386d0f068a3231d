// Contact services: validation and normalization (shared by the API and the CSV import),
// create / update / read / delete / list, all scoped by agent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/app.h"

namespace herald::app {

// Contact fields as a caller sent them. Absent (nullopt) fields keep their value on update and
// take defaults on create; an empty string clears an optional field (email, phone, timeZone).
struct ContactInput {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> role;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> time_zone;
  std::optional<bool> consent_email;
  std::optional<bool> consent_sms;
};

constexpr std::size_t kMaxTags = 20;

// Validates and normalizes a contact in place: trims, E.164 phone, lowercase role and tags
// (deduplicated), a known IANA time zone, at least one of email and phone. Returns one error
// per invalid field (API field names: name, email, phone, role, tags, timeZone); empty if valid.
std::vector<FieldError> normalize_contact(store::Contact& c);

// True if `name` is an IANA time zone this machine knows (a TZif file in the zoneinfo
// directory: $TZDIR or /usr/share/zoneinfo). Results are cached.
bool is_valid_time_zone(std::string_view name);

// Normalizes one tag (trimmed, ASCII-lowercased); nullopt with `why` set if it is unusable.
std::optional<std::string> normalize_tag(std::string_view tag, std::string& why);

Result<store::Contact> create_contact(App& app, const std::string& agent_id,
                                      const ContactInput& input);
// Applies the present fields of `input`; Errc::not_found for an unknown contact.
Result<store::Contact> update_contact(App& app, const std::string& agent_id,
                                      const std::string& contact_id, const ContactInput& input);
Result<store::Contact> get_contact(App& app, const std::string& agent_id,
                                   const std::string& contact_id);
Result<void> delete_contact(App& app, const std::string& agent_id, const std::string& contact_id);
// The agent's contacts, newest first; Errc::not_found for an unknown agent.
Result<store::Page<store::Contact>> list_contacts(App& app, const store::ContactQuery& query);

}  // namespace herald::app
