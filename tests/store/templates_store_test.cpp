// The template store against each real store (SQLite, PostgreSQL): one template per (agent, key,
// channel), versions, and every query scoped by agent.
#include <gtest/gtest.h>

#include "core/id.h"
#include "store/store.h"
#include "store/store_fixture.h"

namespace herald::store {
namespace {

class TemplateStoreTest : public TwoAgentStoreTest {
 protected:
  TemplateRow row(const std::string& agent_id, const std::string& key, Channel channel) {
    TemplateRow t;
    t.id = new_id();
    t.agent_id = agent_id;
    t.key = key;
    t.channel = channel;
    t.name = "Template " + key;
    if (channel == Channel::email) {
      t.subject = "Hi {{contact.firstName}}";
      t.html = "<p>{{contact.name}}</p>";
      t.text = "{{contact.name}}";
    } else {
      t.body = "Hi {{contact.firstName}}";
    }
    t.created_at = t.updated_at = from_millis(to_millis(Clock::now()));
    return t;
  }

  TemplateStore& templates() { return store_->templates(); }
};

TEST_P(TemplateStoreTest, CreateFindAndList) {
  // Invariant: what is written is read back unchanged, by id and by (key, channel).
  auto t = row(alice_, "newsletter", Channel::email);
  ASSERT_TRUE(templates().create(t).has_value());
  auto by_id = templates().find(alice_, t.id);
  ASSERT_TRUE(by_id.has_value() && by_id->has_value());
  EXPECT_EQ((*by_id)->html, t.html);
  EXPECT_EQ((*by_id)->text, t.text);
  EXPECT_EQ((*by_id)->subject, t.subject);
  EXPECT_EQ((*by_id)->name, t.name);
  EXPECT_EQ((*by_id)->version, 1);
  EXPECT_EQ(to_millis((*by_id)->created_at), to_millis(t.created_at));
  auto by_key = templates().find_by_key(alice_, "newsletter", Channel::email);
  ASSERT_TRUE(by_key.has_value() && by_key->has_value());
  EXPECT_EQ((*by_key)->id, t.id);
  EXPECT_FALSE(templates().find_by_key(alice_, "newsletter", Channel::sms)->has_value());

  ASSERT_TRUE(templates().create(row(alice_, "newsletter", Channel::sms)).has_value());
  ASSERT_TRUE(templates().create(row(alice_, "alpha", Channel::email)).has_value());
  auto all = templates().list(alice_, std::nullopt);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, "alpha");
  EXPECT_EQ((*all)[1].channel, Channel::email);
  EXPECT_EQ((*all)[2].channel, Channel::sms);
  EXPECT_EQ(templates().list(alice_, Channel::sms)->size(), 1u);
  EXPECT_EQ(*templates().count(alice_), 3);
}

TEST_P(TemplateStoreTest, OneTemplatePerKeyAndChannel) {
  // Invariant: a second template with the same key and channel is a conflict naming "key";
  // another agent may use the same key.
  ASSERT_TRUE(templates().create(row(alice_, "open_house", Channel::sms)).has_value());
  auto again = templates().create(row(alice_, "open_house", Channel::sms));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);
  ASSERT_EQ(again.error().fields.size(), 1u);
  EXPECT_EQ(again.error().fields[0].field, "key");
  EXPECT_TRUE(templates().create(row(bob_, "open_house", Channel::sms)).has_value());
}

TEST_P(TemplateStoreTest, UpdateBumpsVersionAndDetectsKeyClash) {
  // Invariant: every update bumps the version; renaming onto a taken key is a conflict.
  auto a = row(alice_, "a", Channel::email);
  auto b = row(alice_, "b", Channel::email);
  ASSERT_TRUE(templates().create(a).has_value());
  ASSERT_TRUE(templates().create(b).has_value());
  a.html = "<p>changed</p>";
  a.updated_at = a.created_at + std::chrono::seconds(5);
  auto updated = templates().update(a);
  ASSERT_TRUE(updated.has_value() && updated->has_value());
  EXPECT_EQ((*updated)->html, "<p>changed</p>");
  EXPECT_EQ((*updated)->version, 2);
  EXPECT_EQ(to_millis((*updated)->updated_at), to_millis(a.updated_at));
  EXPECT_EQ(to_millis((*updated)->created_at), to_millis(a.created_at));
  a.key = "b";
  auto clash = templates().update(a);
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, Errc::conflict);
}

TEST_P(TemplateStoreTest, EveryQueryIsScopedByAgent) {
  // Invariant: another agent's template id finds, updates and deletes nothing.
  auto t = row(alice_, "mine", Channel::email);
  ASSERT_TRUE(templates().create(t).has_value());
  EXPECT_FALSE(templates().find(bob_, t.id)->has_value());
  EXPECT_FALSE(templates().find_by_key(bob_, "mine", Channel::email)->has_value());
  EXPECT_TRUE(templates().list(bob_, std::nullopt)->empty());
  auto stolen = t;
  stolen.agent_id = bob_;
  stolen.html = "<p>hijacked</p>";
  auto upd = templates().update(stolen);
  ASSERT_TRUE(upd.has_value());
  EXPECT_FALSE(upd->has_value());
  EXPECT_FALSE(*templates().remove(bob_, t.id));
  EXPECT_EQ((*templates().find(alice_, t.id))->html, t.html);
  EXPECT_TRUE(*templates().remove(alice_, t.id));
  EXPECT_FALSE(templates().find(alice_, t.id)->has_value());
  EXPECT_FALSE(*templates().remove(alice_, t.id));
}

TEST_P(TemplateStoreTest, TemplatesSurviveReopening) {
  // Invariant: templates are durable in the database.
  auto t = row(alice_, "durable", Channel::sms);
  ASSERT_TRUE(templates().create(t).has_value());
  store_.reset();
  auto s = open_store(url_);
  ASSERT_TRUE(s.has_value());
  store_ = std::move(*s);
  auto found = templates().find(alice_, t.id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->body, t.body);
}

HERALD_STORE_TEST_SUITE(TemplateStoreTest);

}  // namespace
}  // namespace herald::store
