#include "app/contacts.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <unordered_set>

#include "app/agents.h"
#include "core/id.h"
#include "core/validate.h"

namespace herald::app {

namespace {

std::string trim(std::string_view s) {
  auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// Time zone names: path components of letters, digits and . _ + - (no "." or ".." parts).
bool looks_like_zone(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    std::string_view part =
        name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '+' || c == '.';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

bool is_valid_time_zone(std::string_view name) {
  if (!looks_like_zone(name)) return false;
  static std::mutex mu;
  static std::unordered_set<std::string> known;  // valid names only: at most the zoneinfo set
  {
    std::lock_guard lock(mu);
    if (known.contains(std::string(name))) return true;
  }
  const char* dir = std::getenv("TZDIR");
  std::string path =
      std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  // A zone is a TZif file (RFC 8536); this rejects directories and the .tab index files.
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in || !in.read(magic, 4) || std::string_view(magic, 4) != "TZif") return false;
  std::lock_guard lock(mu);
  known.insert(std::string(name));
  return true;
}

std::optional<std::string> normalize_tag(std::string_view tag, std::string& why) {
  std::string t = ascii_lower(trim(tag));
  if (t.empty()) {
    why = "must not contain empty tags";
  } else if (t.size() > 50) {
    why = "must have tags of at most 50 characters";
  } else if (has_control(t) || t.find_first_of("\"\\,;") != std::string::npos) {
    why = "must have tags without commas, semicolons, quotes, backslashes or control characters";
  } else {
    return t;
  }
  return std::nullopt;
}

std::vector<FieldError> normalize_contact(store::Contact& c) {
  std::vector<FieldError> errors;
  auto add = [&](std::string field, std::string why) {
    errors.push_back({std::move(field), std::move(why)});
  };
  c.name = trim(c.name);
  c.email = trim(c.email);
  c.phone = trim(c.phone);
  c.role = ascii_lower(trim(c.role));
  c.time_zone = trim(c.time_zone);

  if (c.name.size() > 200) add("name", "must be at most 200 characters");
  if (has_control(c.name)) add("name", "must be a single line without control characters");
  if (!c.email.empty() && !is_valid_email(c.email)) add("email", "is not a valid email address");
  if (!c.phone.empty()) {
    if (auto e164 = check_phone(c.phone)) {
      c.phone = *e164;
    } else {
      add("phone", e164.error().message);
    }
  }
  if (c.email.empty() && c.phone.empty()) add("email", "or phone is required");
  if (c.role.empty()) c.role = "lead";
  if (c.role != "buyer" && c.role != "seller" && c.role != "lead") {
    add("role", "must be buyer, seller or lead");
  }
  std::vector<std::string> tags;
  for (const auto& raw : c.tags) {
    std::string why;
    auto t = normalize_tag(raw, why);
    if (!t) {
      add("tags", why);
      break;
    }
    if (std::find(tags.begin(), tags.end(), *t) == tags.end()) tags.push_back(std::move(*t));
  }
  if (tags.size() > kMaxTags)
    add("tags", "must have at most " + std::to_string(kMaxTags) + " tags");
  c.tags = std::move(tags);
  if (!c.time_zone.empty() && !is_valid_time_zone(c.time_zone)) {
    add("timeZone", "must be an IANA time zone such as America/New_York");
  }
  return errors;
}

namespace {

void apply(store::Contact& c, const ContactInput& in) {
  if (in.name) c.name = *in.name;
  if (in.email) c.email = *in.email;
  if (in.phone) c.phone = *in.phone;
  if (in.role) c.role = *in.role;
  if (in.tags) c.tags = *in.tags;
  if (in.time_zone) c.time_zone = *in.time_zone;
  if (in.consent_email) c.consent_email = *in.consent_email;
  if (in.consent_sms) c.consent_sms = *in.consent_sms;
}

Error contact_not_found() {
  return Error::not_found("contact not found");
}

}  // namespace

Result<store::Contact> create_contact(App& app, const std::string& agent_id,
                                      const ContactInput& input) {
  store::Contact c;
  apply(c, input);
  if (auto errors = normalize_contact(c); !errors.empty())
    return fail(Error::invalid(std::move(errors)));
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  c.id = new_id();
  c.agent_id = agent_id;
  c.created_at = c.updated_at = app.clock().now();
  if (auto r = app.store().contacts().create_contact(c); !r) return std::unexpected(r.error());
  return c;
}

Result<store::Contact> update_contact(App& app, const std::string& agent_id,
                                      const std::string& contact_id, const ContactInput& input) {
  auto c = get_contact(app, agent_id, contact_id);
  if (!c) return c;
  apply(*c, input);
  if (auto errors = normalize_contact(*c); !errors.empty())
    return fail(Error::invalid(std::move(errors)));
  c->updated_at = app.clock().now();
  if (auto r = app.store().contacts().update_contact(*c); !r) return std::unexpected(r.error());
  return c;
}

Result<store::Contact> get_contact(App& app, const std::string& agent_id,
                                   const std::string& contact_id) {
  auto c = app.store().contacts().find_contact(agent_id, contact_id);
  if (!c) return std::unexpected(c.error());
  if (!*c) return fail(contact_not_found());
  return std::move(**c);
}

Result<void> delete_contact(App& app, const std::string& agent_id, const std::string& contact_id) {
  auto removed = app.store().contacts().delete_contact(agent_id, contact_id);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return fail(contact_not_found());
  return {};
}

Result<store::Page<store::Contact>> list_contacts(App& app, const store::ContactQuery& query) {
  if (auto rec = get_agent(app, query.agent_id); !rec) return std::unexpected(rec.error());
  return app.store().contacts().list_contacts(query);
}

}  // namespace herald::app
