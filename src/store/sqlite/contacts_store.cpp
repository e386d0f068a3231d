// SQLite implementation of ContactStore.
#include "store/contacts.h"
#include "store/sqlite/database.h"

namespace herald::store::sqlite {

namespace {
class SqliteContactStore final : public ContactStore {
 public:
  explicit SqliteContactStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

 private:
  std::shared_ptr<Database> db_;
};
}  // namespace

// Schema for contacts and suppressions (migration 3).
extern const std::string_view kMigrationV3 = "-- reserved: contacts and suppressions";

std::unique_ptr<ContactStore> make_contact_store(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteContactStore>(std::move(db));
}

}  // namespace herald::store::sqlite
