#include "core/templates.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include <kainjow/mustache.hpp>

namespace herald {

namespace {

namespace mst = kainjow::mustache;
using nlohmann::json;

std::atomic<std::uint64_t> g_parses{0};

// ---- data conversion ----

std::string number_text(const json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return j.dump();
  double d = j.get<double>();
  // Whole numbers print without ".0" (a price of 675000 reads "675000").
  if (std::isfinite(d) && std::abs(d) < 1e15 && d == std::floor(d)) {
    return std::to_string(static_cast<long long>(d));
  }
  return j.dump();
}

// JSON → Mustache data. Empty strings and null are false, so {{#agent.website}}…{{/…}}
// renders only when the agent has a website.
mst::data to_data(const json& j) {
  switch (j.type()) {
    case json::value_t::object: {
      mst::data d{mst::data::type::object};
      for (const auto& [k, v] : j.items()) d[k] = to_data(v);
      return d;
    }
    case json::value_t::array: {
      mst::data d{mst::data::type::list};
      for (const auto& v : j) d.push_back(to_data(v));
      return d;
    }
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s.empty() ? mst::data(false) : mst::data(s);
    }
    case json::value_t::boolean:
      return mst::data(j.get<bool>());
    case json::value_t::null:
      return mst::data(false);
    default:
      return mst::data(number_text(j));
  }
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string first_word(const std::string& name) {
  auto begin = name.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  auto end = name.find_first_of(" \t", begin);
  return name.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// A person (contact or seller) with firstName derived from name when absent.
json person_json(const json& p, std::string_view default_role) {
  json d = p;
  if (!d.is_object()) return d;
  if (!d.contains("firstName")) {
    const json* name = member(p, "name");
    if (name && name->is_string()) d["firstName"] = first_word(name->get<std::string>());
  }
  if (!default_role.empty() && !d.contains("role")) d["role"] = std::string(default_role);
  return d;
}

// The per-message variables: only the keys a template may name, with derived fields filled.
json message_json(const json& vars) {
  json d = json::object();
  const json* contact = member(vars, "contact");
  const json* seller = member(vars, "seller");
  if (contact) d["contact"] = person_json(*contact, "");
  if (seller) d["seller"] = person_json(*seller, "seller");
  if (!contact && seller) d["contact"] = person_json(*seller, "seller");
  if (!seller && contact) d["seller"] = person_json(*contact, "");
  if (const json* listing = member(vars, "listing")) {
    json l = *listing;
    if (l.is_object() && !l.contains("priceFormatted")) {
      const json* price = member(*listing, "price");
      if (price && price->is_number()) l["priceFormatted"] = format_usd(price->get<double>());
    }
    d["listing"] = std::move(l);
  }
  if (const json* u = member(vars, "unsubscribeUrl")) d["unsubscribeUrl"] = *u;
  return d;
}

mst::data message_data(const json& vars) {
  return to_data(message_json(vars));
}

// Appends rendered output to a string (kainjow renders into anything with operator<<).
struct Appender {
  std::string* out;
  Appender& operator<<(const std::string& s) {
    out->append(s);
    return *this;
  }
};

std::string identity(const std::string& s) {
  return s;
}

// The lookup stack of one render. kainjow's own context splits every dotted name through a
// std::stringstream on each lookup, which dominated rendering time; this one walks the name
// in place, with the same resolution (for each stack level, top first, the whole path).
// Partials always resolve to nothing, so data is never parsed as a template.
class RenderContext final : public mst::basic_context<std::string> {
 public:
  explicit RenderContext(const mst::data* base) { stack_.push_back(base); }
  void push(const mst::data* data) override { stack_.push_back(data); }
  void pop() override { stack_.pop_back(); }
  const mst::data* get(const std::string& name) const override {
    if (name == ".") return stack_.back();
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      const mst::data* var = *it;
      std::size_t start = 0;
      while (var) {
        std::size_t dot = name.find('.', start);
        key_.assign(name, start, dot == std::string::npos ? std::string::npos : dot - start);
        var = var->get(key_);
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (var) return var;
    }
    return nullptr;
  }
  const mst::data* get_partial(const std::string&) const override { return nullptr; }

 private:
  std::vector<const mst::data*> stack_;
  mutable std::string key_;  // reused buffer for one name segment
};

// ---- the variable catalogue ----

constexpr std::array<std::string_view, 24> kEmailVariables{
    "contact.name",  "contact.firstName", "contact.email",       "contact.phone",
    "contact.role",  "seller.name",       "seller.firstName",    "seller.email",
    "seller.phone",  "agent.name",        "agent.companyName",   "agent.signature",
    "agent.website", "agent.replyEmail",  "agent.postalAddress", "agent.phone",
    "listing.id",    "listing.address",   "listing.price",       "listing.priceFormatted",
    "listing.url",   "platform.name",     "unsubscribeUrl",      "seller.role",
};
// SMS: everything but unsubscribeUrl (recipients opt out by replying STOP).
constexpr std::array<std::string_view, 23> kSmsVariables{
    "contact.name",  "contact.firstName", "contact.email",       "contact.phone",
    "contact.role",  "seller.name",       "seller.firstName",    "seller.email",
    "seller.phone",  "agent.name",        "agent.companyName",   "agent.signature",
    "agent.website", "agent.replyEmail",  "agent.postalAddress", "agent.phone",
    "listing.id",    "listing.address",   "listing.price",       "listing.priceFormatted",
    "listing.url",   "platform.name",     "seller.role",
};
constexpr std::array<std::string_view, 5> kObjects{"contact", "seller", "agent", "listing",
                                                   "platform"};

enum class VarKind { none, leaf, object };

VarKind kind_of(std::string_view name, Channel channel) {
  for (auto v : template_variables(channel))
    if (v == name) return VarKind::leaf;
  for (auto o : kObjects)
    if (o == name) return VarKind::object;
  return VarKind::none;
}

// Resolves a tag name the way Mustache looks it up: a field of an enclosing object section
// first (innermost first), then from the root. Returns the canonical dotted name.
std::optional<std::pair<std::string, VarKind>> resolve(const std::string& name,
                                                       const std::vector<std::string>& sections,
                                                       Channel channel) {
  for (auto it = sections.rbegin(); it != sections.rend(); ++it) {
    if (kind_of(*it, channel) != VarKind::object) continue;
    std::string candidate = *it + "." + name;
    if (auto k = kind_of(candidate, channel); k != VarKind::none) return std::pair{candidate, k};
  }
  if (auto k = kind_of(name, channel); k != VarKind::none) return std::pair{name, k};
  return std::nullopt;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      char x = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i - 1])));
      char y = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j - 1])));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x == y ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest known variable to a misspelt one ("contact.nmae" → "contact.name"), if close.
std::string suggestion(const std::string& name, Channel channel) {
  std::string best;
  std::size_t best_d = 3;
  for (auto v : template_variables(channel)) {
    std::size_t d = edit_distance(name, v);
    if (d < best_d) {
      best_d = d;
      best = std::string(v);
    }
  }
  return best;
}

// ---- parsing ----

// One tag of a parsed template, with the positive sections that enclose it.
struct Tag {
  mst::tag_type type;
  std::string name;
  std::size_t position;
  std::vector<std::string> sections;
};

struct Parsed {
  std::string error;
  std::vector<Tag> tags;
};

void collect(const mst::component<std::string>& c, std::vector<std::string>& sections,
             std::vector<Tag>& out) {
  for (const auto& child : c.children) {
    if (child.is_text()) continue;
    out.push_back({child.tag.type, child.tag.name, child.position, sections});
    if (child.tag.type == mst::tag_type::section_begin) {
      sections.push_back(child.tag.name);
      collect(child, sections, out);
      sections.pop_back();
    } else if (child.tag.type == mst::tag_type::section_begin_inverted) {
      collect(child, sections, out);
    }
  }
}

// Parses with kainjow's own parser (so validation sees exactly what rendering will) and
// lists every tag.
Parsed parse_tags(const std::string& src) {
  ++g_parses;
  Parsed out;
  mst::context<std::string> ctx;
  mst::context_internal<std::string> internal{ctx};
  mst::component<std::string> root;
  try {
    mst::parser<std::string> p{src, internal, root, out.error};
  } catch (const std::exception& e) {
    out.error = std::string("cannot parse: ") + e.what();
  }
  if (!out.error.empty()) return out;
  std::vector<std::string> sections;
  collect(root, sections, out.tags);
  return out;
}

// "line 3, column 5" for a byte offset.
std::string where(const std::string& src, std::size_t pos) {
  pos = std::min(pos, src.size());
  auto line = 1 + std::count(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(pos), '\n');
  auto nl = src.rfind('\n', pos == 0 ? 0 : pos - 1);
  std::size_t col = (nl == std::string::npos || pos == 0) ? pos + 1 : pos - nl;
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// kainjow reports "Unclosed section \"x\" at 12"; say where in lines and columns instead.
std::string syntax_message(const std::string& src, const std::string& error) {
  static const std::regex at_re(R"( at (\d+)$)");
  std::smatch m;
  std::string msg = error;
  if (std::regex_search(error, m, at_re)) {
    msg = m.prefix().str() + " (" + where(src, std::stoul(m[1].str())) + ")";
  }
  return "has a Mustache syntax error: " + msg;
}

std::size_t utf8_chars(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Checks one part's tags; appends its problems to `errors`.
void check_part(const std::string& field, const std::string& src, Channel channel, bool html,
                std::vector<FieldError>& errors) {
  Parsed parsed = parse_tags(src);
  if (!parsed.error.empty()) {
    errors.push_back({field, syntax_message(src, parsed.error)});
    return;
  }
  std::set<std::string> reported;
  auto once = [&](std::string key, std::string message) {
    if (reported.insert(std::move(key)).second) errors.push_back({field, std::move(message)});
  };
  for (const Tag& t : parsed.tags) {
    std::string at = " (" + where(src, t.position) + ")";
    switch (t.type) {
      case mst::tag_type::partial:
        once("partial:" + t.name,
             "uses a partial {{>" + t.name + "}}" + at + "; partials are not supported");
        continue;
      case mst::tag_type::variable:
      case mst::tag_type::unescaped_variable:
      case mst::tag_type::section_begin:
      case mst::tag_type::section_begin_inverted:
        break;
      default:
        continue;
    }
    bool is_section =
        t.type == mst::tag_type::section_begin || t.type == mst::tag_type::section_begin_inverted;
    // Escaping by default is the point of HTML output: no way around it, for any variable.
    if (html && t.type == mst::tag_type::unescaped_variable) {
      once("unescaped:" + t.name, "uses unescaped output {{{" + t.name + "}}}" + at +
                                      "; HTML output is always escaped, write {{" + t.name + "}}");
      continue;
    }
    if (t.name.empty()) {
      once("empty", "has an empty tag {{}}" + at);
      continue;
    }
    if (t.name == ".") {
      if (t.sections.empty()) once("dot", "uses {{.}} outside a section" + at);
      continue;
    }
    auto r = resolve(t.name, t.sections, channel);
    if (!r) {
      std::string msg = "uses unknown variable \"" + t.name + "\"" + at;
      if (t.name == "unsubscribeUrl" && channel == Channel::sms) {
        msg += "; SMS has no unsubscribe link, recipients reply STOP";
      } else if (auto s = suggestion(t.name, channel); !s.empty()) {
        msg += "; did you mean \"" + s + "\"?";
      }
      once("unknown:" + t.name, std::move(msg));
    } else if (!is_section && r->second == VarKind::object) {
      once("object:" + t.name, "uses \"" + t.name + "\"" + at + ", which is a group of variables;" +
                                   " name one of its fields, e.g. " + r->first +
                                   (r->first == "agent" ? ".companyName" : ".name"));
    }
  }
}

// ---- built-in templates ----

// The footer every built-in campaign email carries: who sends it, from where, and the way out.
#define HERALD_CAMPAIGN_FOOTER_HTML                                                               \
  "<hr style=\"border:none;border-top:1px solid #e4e7eb;margin:24px 0\">"                         \
  "<p style=\"font-size:12px;color:#616e7c\">{{agent.companyName}} &middot; "                     \
  "{{agent.postalAddress}}<br>You are receiving this email because you are a contact of "         \
  "{{agent.companyName}}. <a href=\"{{unsubscribeUrl}}\" style=\"color:#616e7c\">Unsubscribe</a>" \
  "</p>"
#define HERALD_SIGNATURE_HTML                                                     \
  "{{#agent.signature}}<p style=\"white-space:pre-line\">{{agent.signature}}</p>" \
  "{{/agent.signature}}{{#agent.website}}<p><a href=\"{{agent.website}}\">"       \
  "{{agent.website}}</a></p>{{/agent.website}}"
// Plain-text blocks keep their section tags inline: a line holding only a false section's
// tags would otherwise leave a blank line behind (kainjow keeps it).
#define HERALD_SIGNATURE_TEXT                                       \
  "{{#agent.signature}}\n\n{{agent.signature}}{{/agent.signature}}" \
  "{{#agent.website}}\n{{agent.website}}{{/agent.website}}"
#define HERALD_CAMPAIGN_FOOTER_TEXT \
  "\n\n--\n{{agent.companyName}}, {{agent.postalAddress}}\nUnsubscribe: {{unsubscribeUrl}}\n"

constexpr std::string_view kSellerWelcomeSubject =
    "Welcome to {{agent.companyName}}: your listing at {{listing.address}}";
constexpr std::string_view kSellerWelcomeText =
    "Hi {{seller.name}},\n\n"
    "Thank you for listing {{listing.address}} with {{agent.companyName}}. "
    "Your listing is being prepared at {{listing.priceFormatted}}, and we will keep you "
    "posted as buyers show interest.\n\n"
    "Reply to this email any time with questions.\n"
    "{{#agent.signature}}\n{{agent.signature}}\n{{/agent.signature}}"
    "{{#agent.website}}\n{{agent.website}}\n{{/agent.website}}";
constexpr std::string_view kSellerWelcomeHtml =
    "<!doctype html><html><body style=\"font-family:Arial,sans-serif;color:#1f2933\">"
    "<p>Hi {{seller.name}},</p>"
    "<p>Thank you for listing <strong>{{listing.address}}</strong> with "
    "{{agent.companyName}}. Your listing is being prepared at {{listing.priceFormatted}}, and we "
    "will keep you posted as buyers show interest.</p>"
    "<p>Reply to this email any time with questions.</p>"
    "{{#agent.signature}}<p "
    "style=\"white-space:pre-line\">{{agent.signature}}</p>{{/agent.signature}}"
    "{{#agent.website}}<p><a href=\"{{agent.website}}\">{{agent.website}}</a></p>{{/agent.website}}"
    "</body></html>";
constexpr std::string_view kSellerWelcomeSms =
    "{{agent.companyName}}: Hi {{seller.name}}, thanks for listing {{listing.address}} with us. "
    "We'll keep you posted. Reply STOP to opt out.";

constexpr std::string_view kNewListingSubject =
    "New listing: {{listing.address}}{{#listing.priceFormatted}} at "
    "{{listing.priceFormatted}}{{/listing.priceFormatted}}";
constexpr std::string_view kNewListingHtml =
    "<!doctype html><html><body style=\"font-family:Arial,sans-serif;color:#1f2933\">"
    "<p>Hi {{#contact.firstName}}{{contact.firstName}}{{/contact.firstName}}"
    "{{^contact.firstName}}there{{/contact.firstName}},</p>"
    "<p>{{agent.companyName}} just listed <strong>{{listing.address}}</strong>"
    "{{#listing.priceFormatted}} at {{listing.priceFormatted}}{{/listing.priceFormatted}}.</p>"
    "{{#listing.url}}<p><a href=\"{{listing.url}}\" style=\"display:inline-block;padding:10px 18px;"
    "background:#1f2933;color:#ffffff;text-decoration:none;border-radius:4px\">View the listing</a>"
    "</p>{{/listing.url}}"
    "<p>Reply to this email to book a showing.</p>" HERALD_SIGNATURE_HTML
        HERALD_CAMPAIGN_FOOTER_HTML "</body></html>";
constexpr std::string_view kNewListingText =
    "Hi {{#contact.firstName}}{{contact.firstName}}{{/contact.firstName}}"
    "{{^contact.firstName}}there{{/contact.firstName}},\n\n"
    "{{agent.companyName}} just listed {{listing.address}}{{#listing.priceFormatted}} at "
    "{{listing.priceFormatted}}{{/listing.priceFormatted}}."
    "{{#listing.url}}\n\nView the listing: {{listing.url}}{{/listing.url}}\n\n"
    "Reply to this email to book a showing." HERALD_SIGNATURE_TEXT HERALD_CAMPAIGN_FOOTER_TEXT;

constexpr std::string_view kMarketUpdateSubject = "Your market update from {{agent.companyName}}";
constexpr std::string_view kMarketUpdateHtml =
    "<!doctype html><html><body style=\"font-family:Arial,sans-serif;color:#1f2933\">"
    "<p>Hi {{#contact.firstName}}{{contact.firstName}}{{/contact.firstName}}"
    "{{^contact.firstName}}there{{/contact.firstName}},</p>"
    "<p>Here is your market update from {{agent.companyName}}. Prices, inventory and time on "
    "market keep moving, and what they mean depends on your plans.</p>"
    "<p>Wondering what your home is worth today, or what your budget buys in your "
    "neighborhood? Reply to this email and I will send you a personal "
    "report.</p>" HERALD_SIGNATURE_HTML HERALD_CAMPAIGN_FOOTER_HTML "</body></html>";
constexpr std::string_view kMarketUpdateText =
    "Hi {{#contact.firstName}}{{contact.firstName}}{{/contact.firstName}}"
    "{{^contact.firstName}}there{{/contact.firstName}},\n\n"
    "Here is your market update from {{agent.companyName}}. Prices, inventory and time on "
    "market keep moving, and what they mean depends on your plans.\n\n"
    "Wondering what your home is worth today, or what your budget buys in your "
    "neighborhood? Reply to this email and I will send you a personal report." HERALD_SIGNATURE_TEXT
        HERALD_CAMPAIGN_FOOTER_TEXT;

constexpr std::string_view kOpenHouseSms =
    "{{agent.companyName}}: {{#contact.firstName}}Hi {{contact.firstName}}, {{/contact.firstName}}"
    "you're invited to an open house at {{listing.address}}"
    "{{#listing.priceFormatted}} ({{listing.priceFormatted}}){{/listing.priceFormatted}}."
    "{{#listing.url}} Details: {{listing.url}}{{/listing.url}} Reply STOP to opt out.";

#undef HERALD_CAMPAIGN_FOOTER_HTML
#undef HERALD_SIGNATURE_HTML
#undef HERALD_CAMPAIGN_FOOTER_TEXT
#undef HERALD_SIGNATURE_TEXT

constexpr std::array<BuiltinTemplate, 5> kBuiltins{{
    {"seller_welcome", Channel::email, "Seller welcome", kSellerWelcomeSubject, kSellerWelcomeHtml,
     kSellerWelcomeText, "", false},
    {"seller_welcome", Channel::sms, "Seller welcome (SMS)", "", "", "", kSellerWelcomeSms, false},
    {"new_listing", Channel::email, "New listing announcement", kNewListingSubject, kNewListingHtml,
     kNewListingText, "", true},
    {"market_update", Channel::email, "Market update", kMarketUpdateSubject, kMarketUpdateHtml,
     kMarketUpdateText, "", true},
    {"open_house", Channel::sms, "Open house invitation (SMS)", "", "", "", kOpenHouseSms, true},
}};

// ---- SMS encoding ----

// GSM 03.38 basic alphabet and its extension table (extension characters take two septets).
constexpr std::string_view kGsmBasic =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
constexpr std::string_view kGsmExtension = "\f^{}\\[~]|€";

// Decodes UTF-8 into code points (invalid bytes become U+FFFD).
std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

}  // namespace

// ---- public functions ----

nlohmann::json branding_vars(const Agent& agent, std::string_view platform_name) {
  const Branding& b = agent.branding;
  return {
      {"agent",
       {{"name", agent.name},
        {"companyName", b.company_name.empty() ? std::string(platform_name) : b.company_name},
        {"signature", b.email_signature},
        {"website", b.website},
        {"replyEmail", b.reply_email},
        {"postalAddress", b.postal_address},
        {"phone", b.sms_phone}}},
      {"platform", {{"name", platform_name}}},
  };
}

Result<std::string> render_mustache(std::string_view tmpl, const nlohmann::json& context,
                                    bool html_escape) {
  ++g_parses;
  mst::mustache m{std::string(tmpl)};
  if (!m.is_valid()) return fail(Errc::invalid_input, "template: " + m.error_message());
  if (!html_escape) m.set_custom_escape(identity);
  std::string out = m.render(to_data(context));
  if (!m.is_valid()) return fail(Errc::invalid_input, "template: " + m.error_message());
  return out;
}

Result<Rendered> render_builtin(std::string_view template_key, Channel channel,
                                const nlohmann::json& vars, const Agent& agent,
                                std::string_view platform_name) {
  auto compiled = compiled_builtin(template_key, channel);
  if (!compiled) return std::unexpected(compiled.error());
  return compiled->render(vars, SenderContext(agent, platform_name));
}

std::span<const std::string_view> template_variables(Channel channel) {
  if (channel == Channel::sms) return kSmsVariables;
  return kEmailVariables;
}

std::vector<FieldError> validate_template(Channel channel, const TemplateParts& p) {
  std::vector<FieldError> errors;
  auto too_long = [&](const std::string& field, std::size_t n, std::size_t max, const char* unit) {
    if (n > max) {
      errors.push_back({field, "must be at most " + std::to_string(max) + " " + unit + " (it has " +
                                   std::to_string(n) + ")"});
      return true;
    }
    return false;
  };
  auto not_for = [&](const std::string& field, const std::string& value, const char* why) {
    if (!value.empty()) errors.push_back({field, why});
  };
  if (channel == Channel::email) {
    not_for("body", p.body, "is for SMS templates; email uses subject, html and text");
    if (blank(p.subject)) {
      errors.push_back({"subject", "is required"});
    } else if (!too_long("subject", utf8_chars(p.subject), kMaxSubjectChars, "characters")) {
      if (std::any_of(p.subject.begin(), p.subject.end(),
                      [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        errors.push_back({"subject", "must be a single line without control characters"});
      } else {
        check_part("subject", p.subject, channel, false, errors);
      }
    }
    if (blank(p.html) && blank(p.text)) {
      errors.push_back({"html", "is required unless text is given (an email needs a body)"});
    }
    if (!p.html.empty() && !too_long("html", p.html.size(), kMaxHtmlBytes, "bytes")) {
      check_part("html", p.html, channel, true, errors);
    }
    if (!p.text.empty() && !too_long("text", p.text.size(), kMaxTextBytes, "bytes")) {
      check_part("text", p.text, channel, false, errors);
    }
  } else {
    const char* why = "is for email templates; SMS uses body";
    not_for("subject", p.subject, why);
    not_for("html", p.html, why);
    not_for("text", p.text, why);
    if (blank(p.body)) {
      errors.push_back({"body", "is required"});
    } else if (!too_long("body", utf8_chars(p.body), kMaxSmsBodyChars, "characters")) {
      check_part("body", p.body, channel, false, errors);
    }
  }
  return errors;
}

// ---- SenderContext ----

struct SenderContext::Impl {
  mst::data data;
};

SenderContext::SenderContext(const Agent& agent, std::string_view platform_name)
    : impl_(std::make_shared<const Impl>(Impl{to_data(branding_vars(agent, platform_name))})) {}

// ---- CompiledTemplate ----

struct CompiledTemplate::Impl {
  struct Part {
    std::string field;
    std::unique_ptr<mst::mustache> m;  // null when the part is empty
    std::set<std::string, std::less<>> uses;
  };
  Channel channel = Channel::email;
  Part subject{"subject"}, html{"html"}, text{"text"}, body{"body"};

  const Part* part(std::string_view field) const {
    for (const Part* p : {&subject, &html, &text, &body})
      if (p->field == field) return p;
    return nullptr;
  }
};

Result<CompiledTemplate> CompiledTemplate::compile(Channel channel, const TemplateParts& parts) {
  auto impl = std::make_shared<Impl>();
  impl->channel = channel;
  auto build = [&](Impl::Part& part, const std::string& src, bool html) -> Result<void> {
    if (src.empty()) return {};
    Parsed parsed = parse_tags(src);
    if (!parsed.error.empty())
      return fail(Error::invalid(part.field, syntax_message(src, parsed.error)));
    for (const Tag& t : parsed.tags) {
      if (auto r = resolve(t.name, t.sections, channel)) {
        part.uses.insert(r->first);
      } else {
        part.uses.insert(t.name);
      }
    }
    ++g_parses;
    try {
      part.m = std::make_unique<mst::mustache>(src);
    } catch (const std::exception& e) {
      return fail(Error::invalid(part.field, std::string("cannot be parsed: ") + e.what()));
    }
    if (!part.m->is_valid()) {
      return fail(Error::invalid(part.field, syntax_message(src, part.m->error_message())));
    }
    if (!html) part.m->set_custom_escape(identity);
    return {};
  };
  const bool email = channel == Channel::email;
  for (auto [part, src, html] :
       {std::tuple{&impl->subject, email ? &parts.subject : nullptr, false},
        std::tuple{&impl->html, email ? &parts.html : nullptr, true},
        std::tuple{&impl->text, email ? &parts.text : nullptr, false},
        std::tuple{&impl->body, email ? nullptr : &parts.body, false}}) {
    if (!src) continue;
    if (auto r = build(*part, *src, html); !r) return std::unexpected(r.error());
  }
  CompiledTemplate out;
  out.impl_ = std::move(impl);
  return out;
}

Channel CompiledTemplate::channel() const {
  return impl_->channel;
}

bool CompiledTemplate::uses(std::string_view field, std::string_view variable) const {
  const Impl::Part* p = impl_->part(field);
  return p && p->uses.find(variable) != p->uses.end();
}

bool CompiledTemplate::uses_object(std::string_view object) const {
  for (const Impl::Part* p : {&impl_->subject, &impl_->html, &impl_->text, &impl_->body}) {
    for (const std::string& name : p->uses) {
      if (name == object ||
          (name.size() > object.size() && name.starts_with(object) && name[object.size()] == '.'))
        return true;
    }
  }
  return false;
}

std::vector<FieldError> CompiledTemplate::campaign_gaps() const {
  std::vector<FieldError> gaps;
  if (impl_->channel != Channel::email) return gaps;
  for (const Impl::Part* p : {&impl_->html, &impl_->text}) {
    if (!p->m) continue;
    if (!p->uses.contains("unsubscribeUrl")) {
      gaps.push_back(
          {p->field, "must include {{unsubscribeUrl}} (the one-click unsubscribe link)"});
    }
    if (!p->uses.contains("agent.postalAddress")) {
      gaps.push_back(
          {p->field, "must include {{agent.postalAddress}} (the sender's postal address)"});
    }
  }
  return gaps;
}

namespace {

// Renders every part of a compiled template over the sender's branding.
template <class TemplateImpl>
Result<Rendered> render_parts(const TemplateImpl& impl, const mst::data& message,
                              const SenderContext& sender) {
  // The message's variables sit on top of the sender's: lookups fall through to branding.
  RenderContext ctx{&sender.impl().data};
  ctx.push(&message);
  Rendered out;
  auto run = [&](const auto& part, std::string& into) -> Result<void> {
    if (!part.m) return {};
    Appender sink{&into};
    part.m->render(ctx, sink);
    if (!part.m->is_valid()) return fail(Error::invalid(part.field, part.m->error_message()));
    return {};
  };
  for (auto [part, into] :
       {std::pair{&impl.subject, &out.subject}, std::pair{&impl.html, &out.html},
        std::pair{&impl.text, &out.text}, std::pair{&impl.body, &out.body}}) {
    if (auto r = run(*part, *into); !r) return std::unexpected(r.error());
  }
  // The subject is a header: a line break in a variable must not start a new one.
  std::replace_if(
      out.subject.begin(), out.subject.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// A skeleton's stand-in for value `i` while rendering: letters and digits only, so escaping
// leaves it alone, and delimited so that 1 and 12 cannot be confused.
std::string sentinel(std::size_t i) {
  return "Hq" + std::to_string(i) + "qZ";
}

}  // namespace

Result<Rendered> CompiledTemplate::render(const nlohmann::json& vars,
                                          const SenderContext& sender) const {
  return render_parts(*impl_, message_data(vars), sender);
}

Result<Skeleton> CompiledTemplate::skeleton(
    const nlohmann::json& vars, const SenderContext& sender,
    const std::function<std::string(std::string_view)>& placeholder) const {
  // Every non-empty string the message brings (derived fields included) becomes a sentinel.
  json message = message_json(vars);
  std::vector<std::vector<std::string>> paths;
  std::vector<std::string> path;
  auto walk = [&](auto& self, json& j) -> void {
    if (j.is_object()) {
      for (auto& item : j.items()) {
        path.push_back(item.key());
        self(self, item.value());
        path.pop_back();
      }
    } else if (j.is_string() && !j.get_ref<const std::string&>().empty()) {
      j = sentinel(paths.size());
      paths.push_back(path);
    }
  };
  walk(walk, message);
  auto rendered = render_parts(*impl_, to_data(message), sender);
  if (!rendered) return std::unexpected(rendered.error());

  Skeleton out;
  std::vector<int> slot_of(paths.size() * 2, -1);  // [2i]: text slot of value i, [2i+1]: html
  auto replace = [&](const std::string& in, bool html) {
    std::string result;
    result.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
      std::size_t at = in.find("Hq", i);
      if (at == std::string::npos) break;
      std::size_t d = at + 2, e = d;
      while (e < in.size() && std::isdigit(static_cast<unsigned char>(in[e]))) ++e;
      if (e == d || e - d > 6 || in.compare(e, 2, "qZ") != 0) {
        result.append(in, i, at + 2 - i);
        i = at + 2;
        continue;
      }
      std::size_t index = std::stoul(in.substr(d, e - d));
      if (index >= paths.size()) {
        result.append(in, i, at + 2 - i);
        i = at + 2;
        continue;
      }
      int& slot = slot_of[index * 2 + (html ? 1 : 0)];
      if (slot < 0) {
        slot = static_cast<int>(out.slots.size());
        std::string name = (html ? "h" : "t") + std::to_string(index);
        out.slots.push_back({name, placeholder(name), paths[index], html});
      }
      result.append(in, i, at - i);
      result += out.slots[static_cast<std::size_t>(slot)].placeholder;
      i = e + 2;
    }
    result.append(in, i, std::string::npos);
    return result;
  };
  out.parts.subject = replace(rendered->subject, false);
  out.parts.html = replace(rendered->html, true);
  out.parts.text = replace(rendered->text, false);
  out.parts.body = replace(rendered->body, false);
  out.shape = std::move(message);
  return out;
}

std::string substitute(std::string_view text, const Skeleton& skeleton,
                       const Substitutions& values) {
  // One pass: every placeholder's occurrences in `text`, in order; values are not rescanned.
  std::vector<std::pair<std::size_t, std::size_t>> hits;  // (position, slot)
  for (std::size_t s = 0; s < skeleton.slots.size() && s < values.size(); ++s) {
    const std::string& p = skeleton.slots[s].placeholder;
    if (p.empty()) continue;
    for (std::size_t at = text.find(p); at != std::string_view::npos;
         at = text.find(p, at + p.size()))
      hits.emplace_back(at, s);
  }
  if (hits.empty()) return std::string(text);
  std::sort(hits.begin(), hits.end());
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t i = 0;
  for (auto [at, s] : hits) {
    if (at < i) continue;  // overlaps an earlier placeholder
    out.append(text.substr(i, at - i));
    out += values[s].second;
    i = at + skeleton.slots[s].placeholder.size();
  }
  out.append(text.substr(i));
  return out;
}

std::optional<Substitutions> personalize(const Skeleton& skeleton, const nlohmann::json& vars,
                                         const Rendered& full) {
  json message = message_json(vars);
  Substitutions out;
  out.reserve(skeleton.slots.size());
  for (const Skeleton::Slot& slot : skeleton.slots) {
    const json* v = &message;
    for (const std::string& key : slot.path) {
      if (!v->is_object()) return std::nullopt;
      auto it = v->find(key);
      if (it == v->end()) return std::nullopt;
      v = &*it;
    }
    if (!v->is_string() || v->get_ref<const std::string&>().empty()) return std::nullopt;
    const std::string& value = v->get_ref<const std::string&>();
    out.emplace_back(slot.name, slot.html ? mst::html_escape<std::string>(value) : value);
  }
  if (substitute(skeleton.parts.subject, skeleton, out) != full.subject ||
      substitute(skeleton.parts.html, skeleton, out) != full.html ||
      substitute(skeleton.parts.text, skeleton, out) != full.text ||
      substitute(skeleton.parts.body, skeleton, out) != full.body) {
    return std::nullopt;
  }
  return out;
}

namespace {

// Whether `message` has `shape`'s keys everywhere, a non-empty string wherever `shape` has one
// (a stand-in) and `shape`'s own value everywhere else.
bool same_shape(const json& shape, const json& message) {
  if (shape.is_object()) {
    if (!message.is_object() || message.size() != shape.size()) return false;
    for (auto it = shape.begin(); it != shape.end(); ++it) {
      auto m = message.find(it.key());
      if (m == message.end() || !same_shape(*it, *m)) return false;
    }
    return true;
  }
  if (shape.is_string() && !shape.get_ref<const std::string&>().empty())
    return message.is_string() && !message.get_ref<const std::string&>().empty();
  return shape == message;
}

}  // namespace

std::optional<Substitutions> personalize_same_shape(const Skeleton& skeleton, const json& vars) {
  json message = message_json(vars);
  if (!same_shape(skeleton.shape, message)) return std::nullopt;
  Substitutions out;
  out.reserve(skeleton.slots.size());
  for (const Skeleton::Slot& slot : skeleton.slots) {
    const json* v = &message;
    for (const std::string& key : slot.path) v = &(*v)[key];  // present: same shape
    const std::string& value = v->get_ref<const std::string&>();
    if (slot.html) {
      if (value.find_first_of("&<>\"'") != std::string::npos) return std::nullopt;
    } else if (value.find_first_of("\r\n") != std::string::npos) {
      return std::nullopt;
    }
    out.emplace_back(slot.name, value);
  }
  return out;
}

std::uint64_t template_parse_count() {
  return g_parses.load();
}

// ---- built-ins ----

std::span<const BuiltinTemplate> builtin_templates() {
  return kBuiltins;
}

const BuiltinTemplate* find_builtin(std::string_view key, Channel channel) {
  for (const auto& b : kBuiltins)
    if (b.key == key && b.channel == channel) return &b;
  return nullptr;
}

Result<CompiledTemplate> compiled_builtin(std::string_view key, Channel channel) {
  // Parsed once, on first use; built-ins are checked by the tests, so failure is a bug.
  static const std::vector<Result<CompiledTemplate>> compiled = [] {
    std::vector<Result<CompiledTemplate>> out;
    for (const auto& b : kBuiltins) out.push_back(CompiledTemplate::compile(b.channel, b.parts()));
    return out;
  }();
  for (std::size_t i = 0; i < kBuiltins.size(); ++i) {
    if (kBuiltins[i].key == key && kBuiltins[i].channel == channel) return compiled[i];
  }
  return fail(Errc::not_found, "unknown template " + std::string(key) + " (" +
                                   std::string(to_string(channel)) + ")");
}

// ---- SMS segments and prices ----

SmsSegments sms_segments(std::string_view body) {
  static const std::vector<char32_t> basic = code_points(kGsmBasic);
  static const std::vector<char32_t> extension = code_points(kGsmExtension);
  auto in = [](const std::vector<char32_t>& set, char32_t c) {
    return std::find(set.begin(), set.end(), c) != set.end();
  };
  std::vector<char32_t> cps = code_points(body);
  int septets = 0;
  bool gsm = true;
  for (char32_t c : cps) {
    if (in(basic, c)) {
      septets += 1;
    } else if (in(extension, c)) {
      septets += 2;
    } else {
      gsm = false;
      break;
    }
  }
  SmsSegments out;
  if (gsm) {
    out.encoding = "GSM-7";
    out.characters = septets;
    out.segments = septets == 0 ? 0 : septets <= 160 ? 1 : (septets + 152) / 153;
    return out;
  }
  // UCS-2 counts UTF-16 units: characters beyond the BMP take two.
  int units = 0;
  for (char32_t c : cps) units += c > 0xFFFF ? 2 : 1;
  out.encoding = "UCS-2";
  out.characters = units;
  out.segments = units <= 70 ? 1 : (units + 66) / 67;
  return out;
}

Result<Skeleton> TemplateRenderer::skeleton(
    const nlohmann::json& vars,
    const std::function<std::string(std::string_view)>& placeholder) const {
  return compiled_.skeleton(vars, sender_, placeholder);
}

nlohmann::json listing_vars(std::string_view id, std::string_view address, double price) {
  return {
      {"id", id}, {"address", address}, {"price", price}, {"priceFormatted", format_usd(price)}};
}

std::string format_usd(double amount) {
  if (!std::isfinite(amount)) return {};
  bool negative = amount < 0;
  auto dollars = static_cast<long long>(std::llround(std::abs(amount)));
  std::string digits = std::to_string(dollars);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++n) {
    if (n > 0 && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
  }
  return (negative ? "-$" : "$") + out;
}

}  // namespace herald
