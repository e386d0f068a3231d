// Template services over a real SQLite file: overrides over platform defaults, fallback on
// delete, tenant isolation, save-time validation, previews, and resolve-once-render-many.
#include "app/templates.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "app/agents.h"
#include "core/id.h"

namespace herald::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TemplatesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-app-tpl-" + new_id());
    Config config;
    config.data_dir = dir_.string();
    config.database_url = dir_.string();
    config.public_url = "https://herald.example";
    auto store = store::open_store(config.database_url);
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<App>(config, std::move(*store),
                                 secrets::Sealer(secrets::MasterKey::generate()), clock_);
    alice_ = create_agent(*app_, {"Lisa Park", "lisa@sunsetprops.com"})->id;
    bob_ = create_agent(*app_, {"Matt Wright", "matt@wrightrealty.com"})->id;
    Branding b;
    b.company_name = "Sunset Properties";
    b.postal_address = "1 Beach Rd, Santa Cruz, CA 95060";
    b.website = "https://sunsetprops.com";
    ASSERT_TRUE(put_branding(*app_, alice_, b).has_value());
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  TemplateInput email(std::string key, std::string html) {
    TemplateInput in;
    in.key = std::move(key);
    in.channel = "email";
    in.subject = "Hello {{contact.firstName}}";
    in.html = std::move(html);
    return in;
  }

  Agent agent(const std::string& id) {
    auto a = load_agent(*app_, id);
    EXPECT_TRUE(a.has_value());
    return *a;
  }

  static std::vector<std::string> fields(const Error& e) {
    std::vector<std::string> out;
    for (const auto& f : e.fields) out.push_back(f.field);
    return out;
  }

  SystemTime clock_;
  fs::path dir_;
  std::unique_ptr<App> app_;
  std::string alice_;
  std::string bob_;
};

TEST_F(TemplatesServiceTest, OverrideWinsAndDeletingItFallsBackToTheDefault) {
  // Invariant: the agent's template under a default's key replaces it for that agent only;
  // deleting it brings the platform default back.
  auto before = resolve_template(*app_, alice_, "new_listing", Channel::email);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->source, TemplateSource::platform);
  EXPECT_EQ(before->id, "default:new_listing:email");

  auto mine = create_template(*app_, alice_,
                              email("new_listing",
                                    "<p>Mine {{listing.address}} "
                                    "{{agent.postalAddress}} {{unsubscribeUrl}}</p>"));
  ASSERT_TRUE(mine.has_value()) << mine.error().message;
  EXPECT_TRUE(mine->overrides_default);
  EXPECT_EQ(mine->name, "New listing announcement");

  auto after = resolve_template(*app_, alice_, "new_listing", Channel::email);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->source, TemplateSource::agent);
  EXPECT_EQ(after->id, mine->id);
  auto r = render(*after, {{"listing", {{"address", "12 Ocean Ave"}}}}, agent(alice_), "RealtorAI");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->html.rfind("<p>Mine 12 Ocean Ave 1 Beach Rd", 0), 0u) << r->html;

  // Bob still gets the default.
  EXPECT_EQ(resolve_template(*app_, bob_, "new_listing", Channel::email)->source,
            TemplateSource::platform);

  auto list = list_templates(*app_, alice_, Channel::email);
  ASSERT_TRUE(list.has_value());
  int seen = 0;
  for (const auto& t : *list) {
    if (t.key != "new_listing") continue;
    ++seen;
    if (t.source == TemplateSource::platform) {
      EXPECT_TRUE(t.overridden);
    }
  }
  EXPECT_EQ(seen, 2);

  ASSERT_TRUE(delete_template(*app_, alice_, mine->id).has_value());
  auto back = resolve_template(*app_, alice_, "new_listing", Channel::email);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->source, TemplateSource::platform);
}

TEST_F(TemplatesServiceTest, PutOnADefaultCreatesTheOverrideThenReplacesIt) {
  // Invariant: editing a default makes the agent's own copy once; later edits replace it.
  TemplateInput in;
  in.body = "{{agent.companyName}}: open house at {{listing.address}}. Reply STOP to opt out.";
  auto first = put_template(*app_, alice_, "default:open_house:sms", in);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->info.source, TemplateSource::agent);
  EXPECT_EQ(first->info.version, 1);
  in.body = "Changed {{listing.address}}";
  auto second = put_template(*app_, alice_, "default:open_house:sms", in);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->info.id, first->info.id);
  EXPECT_EQ(second->info.version, 2);
  EXPECT_EQ(get_template(*app_, alice_, "open_house")->parts.body, "Changed {{listing.address}}");
  EXPECT_EQ(get_template(*app_, alice_, "default:open_house:sms")->parts.body.find("Changed"),
            std::string::npos);

  // Key and channel stay what they are.
  TemplateInput moved = in;
  moved.key = "other";
  moved.channel = "email";
  auto refused = put_template(*app_, alice_, first->info.id, moved);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(fields(refused.error()), (std::vector<std::string>{"key", "channel"}));
}

TEST_F(TemplatesServiceTest, DefaultsCannotBeDeleted) {
  // Invariant: a platform default is always there to fall back to.
  auto r = delete_template(*app_, alice_, "default:market_update:email");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(delete_template(*app_, alice_, "market_update:email").error().code, Errc::conflict);
  EXPECT_EQ(delete_template(*app_, alice_, "nope:email").error().code, Errc::not_found);
}

TEST_F(TemplatesServiceTest, AnotherAgentsTemplateIsNotFound) {
  // Invariant: a template id of one agent reads, changes, deletes and resolves nothing for
  // another — exactly like an id that does not exist.
  auto mine = create_template(*app_, alice_, email("newsletter", "<p>{{contact.name}}</p>"));
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(get_template(*app_, bob_, mine->id).error().code, Errc::not_found);
  EXPECT_EQ(put_template(*app_, bob_, mine->id, email("newsletter", "<p>x</p>")).error().code,
            Errc::not_found);
  EXPECT_EQ(delete_template(*app_, bob_, mine->id).error().code, Errc::not_found);
  EXPECT_EQ(resolve_template(*app_, bob_, mine->id, Channel::email).error().code, Errc::not_found);
  EXPECT_EQ(resolve_template(*app_, bob_, "newsletter", Channel::email).error().code,
            Errc::not_found);
  EXPECT_EQ(preview_template(*app_, bob_, mine->id, nullptr).error().code, Errc::not_found);
  EXPECT_TRUE(get_template(*app_, alice_, mine->id).has_value());
}

TEST_F(TemplatesServiceTest, SaveRefusesInvalidTemplatesNamingEachField) {
  // Invariant: a bad template never reaches the store; every bad field is named at once.
  TemplateInput in;
  in.key = "Bad Key!";
  in.channel = "fax";
  auto a = create_template(*app_, alice_, in);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(fields(a.error()), (std::vector<std::string>{"key", "channel"}));

  auto b =
      create_template(*app_, alice_, email("promo", "<p>{{contact.nmae}} {{{listing.url}}}</p>"));
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, Errc::invalid_input);
  ASSERT_EQ(b.error().fields.size(), 2u);
  EXPECT_EQ(b.error().fields[0].field, "html");
  EXPECT_NE(b.error().fields[0].message.find("contact.nmae"), std::string::npos);
  EXPECT_NE(b.error().fields[1].message.find("{{{listing.url}}}"), std::string::npos);
  EXPECT_TRUE(app_->store().templates().list(alice_, std::nullopt)->empty());

  auto dup = create_template(*app_, alice_, email("promo", "<p>x</p>"));
  ASSERT_TRUE(dup.has_value());
  auto again = create_template(*app_, alice_, email("promo", "<p>y</p>"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);

  auto uuid_key = create_template(*app_, alice_, email(new_id(), "<p>x</p>"));
  ASSERT_FALSE(uuid_key.has_value());
  EXPECT_EQ(fields(uuid_key.error()), std::vector<std::string>{"key"});
}

TEST_F(TemplatesServiceTest, ResolveAcceptsEveryIdFormAndChecksTheChannel) {
  // Invariant: a campaign may name its template by key, by id or by default id; a template of
  // the other channel is refused, not sent.
  auto mine = create_template(*app_, alice_, email("promo", "<p>x</p>"));
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(resolve_template(*app_, alice_, mine->id, Channel::email)->id, mine->id);
  EXPECT_EQ(resolve_template(*app_, alice_, "promo:email", Channel::email)->id, mine->id);
  EXPECT_EQ(resolve_template(*app_, alice_, "default:seller_welcome:sms", Channel::sms)->source,
            TemplateSource::platform);
  EXPECT_EQ(resolve_template(*app_, alice_, mine->id, Channel::sms).error().code,
            Errc::invalid_input);
  EXPECT_EQ(resolve_template(*app_, alice_, "open_house", Channel::email).error().code,
            Errc::not_found);
  EXPECT_EQ(resolve_template(*app_, alice_, "default:promo:email", Channel::email).error().code,
            Errc::not_found);
}

TEST_F(TemplatesServiceTest, AResolvedTemplateRendersManyMessagesWithoutParsing) {
  // Invariant: resolve parses once; rendering each message of a campaign parses nothing.
  auto mine = create_template(*app_, alice_,
                              email("promo", "<p>{{contact.firstName}} {{agent.companyName}}</p>"));
  ASSERT_TRUE(mine.has_value());
  auto resolved = resolve_template(*app_, alice_, "promo", Channel::email);
  ASSERT_TRUE(resolved.has_value());
  Agent a = agent(alice_);
  std::uint64_t parses = template_parse_count();
  for (int i = 0; i < 200; ++i) {
    auto r = render(*resolved, {{"contact", {{"name", "C" + std::to_string(i) + " X"}}}}, a,
                    "RealtorAI");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->html, "<p>C" + std::to_string(i) + " Sunset Properties</p>");
  }
  herald::TemplateRenderer batch(resolved->compiled, a, "RealtorAI");
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(batch.render({{"contact", {{"name", "D"}}}}).has_value());
  }
  EXPECT_EQ(template_parse_count(), parses);
}

TEST_F(TemplatesServiceTest, PreviewUsesBrandingAndMergesTheSample) {
  // Invariant: a preview shows the agent's real branding with sample data, the caller's sample
  // replacing defaults field by field (derived fields follow).
  auto p =
      preview_template(*app_, alice_, "new_listing:email",
                       {{"contact", {{"name", "Ann Lee"}}}, {"listing", {{"price", 1250000}}}});
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->rendered.subject, "New listing: 123 Maple Street, Springfield at $1,250,000");
  EXPECT_NE(p->rendered.html.find("Hi Ann,"), std::string::npos);
  EXPECT_NE(p->rendered.html.find("1 Beach Rd, Santa Cruz, CA 95060"), std::string::npos);
  EXPECT_NE(p->rendered.html.find("https://herald.example/u/preview"), std::string::npos);
  EXPECT_EQ(p->sample["contact"]["email"], "jordan.rivera@example.com");

  auto sms = preview_template(*app_, alice_, "open_house", nullptr);
  ASSERT_TRUE(sms.has_value());
  ASSERT_TRUE(sms->sms.has_value());
  EXPECT_EQ(sms->sms->encoding, "GSM-7");
  EXPECT_EQ(sms->sms->characters, static_cast<int>(sms->rendered.body.size()));
  EXPECT_EQ(sms->sms->segments, sms->rendered.body.size() <= 160 ? 1 : 2);
  EXPECT_EQ(sms->rendered.body.rfind("Sunset Properties: Hi Jordan,", 0), 0u);

  auto bad =
      preview_template(*app_, alice_, "open_house", {{"contact", {{"name", json::array()}}}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(fields(bad.error()), std::vector<std::string>{"sample.contact.name"});
}

TEST_F(TemplatesServiceTest, DraftPreviewValidatesFirst) {
  // Invariant: the editor's live preview refuses what saving would refuse.
  TemplateInput in;
  in.channel = "sms";
  in.body = "Hi {{contact.nmae}}";
  auto p = preview_draft(*app_, alice_, in, nullptr);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(fields(p.error()), std::vector<std::string>{"body"});
  in.body = "Hi {{contact.name}} from {{agent.companyName}}";
  auto ok = preview_draft(*app_, alice_, in, nullptr);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->rendered.body, "Hi Jordan Rivera from Sunset Properties");
}

}  // namespace
}  // namespace herald::app
