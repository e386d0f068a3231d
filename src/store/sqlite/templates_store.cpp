// SQLite implementation of TemplateStore.
#include "store/sqlite/database.h"
#include "store/templates.h"

namespace herald::store::sqlite {

namespace {
class SqliteTemplateStore final : public TemplateStore {
 public:
  explicit SqliteTemplateStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

 private:
  std::shared_ptr<Database> db_;
};
}  // namespace

// Schema for templates (migration 4).
extern const std::string_view kMigrationV4 = "-- reserved: templates";

std::unique_ptr<TemplateStore> make_template_store(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteTemplateStore>(std::move(db));
}

}  // namespace herald::store::sqlite
