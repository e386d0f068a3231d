#include "core/templates.h"

#include <kainjow/mustache.hpp>

namespace herald {

namespace {

namespace mst = kainjow::mustache;

mst::data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mst::data d{mst::data::type::object};
      for (const auto& [k, v] : j.items()) d.set(k, to_data(v));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mst::data d{mst::data::type::list};
      for (const auto& v : j) d.push_back(to_data(v));
      return d;
    }
    case nlohmann::json::value_t::string: return mst::data(j.get<std::string>());
    case nlohmann::json::value_t::boolean: return j.get<bool>() ? mst::data(mst::data::type::bool_true) : mst::data(mst::data::type::bool_false);
    case nlohmann::json::value_t::null: return mst::data(mst::data::type::bool_false);
    default: return mst::data(j.dump());
  }
}

// Built-in templates. {{{…}}} is never used in HTML: every variable is escaped there.
struct Builtin {
  std::string_view key;
  std::string_view subject;
  std::string_view text;
  std::string_view html;
  std::string_view sms;
};

constexpr Builtin kSellerWelcome{
    "seller_welcome",
    "Welcome to {{agent.companyName}}: your listing at {{listing.address}}",
    "Hi {{seller.name}},\n\n"
    "Thank you for listing {{listing.address}} with {{agent.companyName}}. "
    "Your listing is being prepared at {{listing.priceFormatted}}, and we will keep you "
    "posted as buyers show interest.\n\n"
    "Reply to this email any time with questions.\n"
    "{{#agent.signature}}\n{{agent.signature}}\n{{/agent.signature}}"
    "{{#agent.website}}\n{{agent.website}}\n{{/agent.website}}",
    "<!doctype html><html><body style=\"font-family:Arial,sans-serif;color:#1f2933\">"
    "<p>Hi {{seller.name}},</p>"
    "<p>Thank you for listing <strong>{{listing.address}}</strong> with "
    "{{agent.companyName}}. Your listing is being prepared at {{listing.priceFormatted}}, and we "
    "will keep you posted as buyers show interest.</p>"
    "<p>Reply to this email any time with questions.</p>"
    "{{#agent.signature}}<p style=\"white-space:pre-line\">{{agent.signature}}</p>{{/agent.signature}}"
    "{{#agent.website}}<p><a href=\"{{agent.website}}\">{{agent.website}}</a></p>{{/agent.website}}"
    "</body></html>",
    "{{agent.companyName}}: Hi {{seller.name}}, thanks for listing {{listing.address}} with us. "
    "We'll keep you posted. Reply STOP to opt out.",
};

const Builtin* find_builtin(std::string_view key) {
  return key == kSellerWelcome.key ? &kSellerWelcome : nullptr;
}

}  // namespace

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
  mst::mustache m{std::string(tmpl)};
  if (!m.is_valid()) return fail(Errc::invalid_input, "template: " + m.error_message());
  if (!html_escape) m.set_custom_escape([](const std::string& s) { return s; });
  std::string out = m.render(to_data(context));
  if (!m.is_valid()) return fail(Errc::invalid_input, "template: " + m.error_message());
  return out;
}

Result<Rendered> render_builtin(std::string_view template_key, Channel channel,
                                const nlohmann::json& vars, const Agent& agent,
                                std::string_view platform_name) {
  const Builtin* t = find_builtin(template_key);
  if (!t) return fail(Errc::not_found, "unknown template " + std::string(template_key));
  nlohmann::json ctx = branding_vars(agent, platform_name);
  if (vars.is_object()) ctx.merge_patch(vars);
  Rendered out;
  auto render = [&](std::string_view s, bool html, std::string& into) -> Result<void> {
    auto r = render_mustache(s, ctx, html);
    if (!r) return std::unexpected(r.error());
    into = std::move(*r);
    return {};
  };
  if (channel == Channel::sms) {
    if (auto r = render(t->sms, false, out.body); !r) return std::unexpected(r.error());
    return out;
  }
  for (auto [src, html, into] : {std::tuple{t->subject, false, &out.subject},
                                 std::tuple{t->text, false, &out.text},
                                 std::tuple{t->html, true, &out.html}}) {
    if (auto r = render(src, html, *into); !r) return std::unexpected(r.error());
  }
  return out;
}

}  // namespace herald
