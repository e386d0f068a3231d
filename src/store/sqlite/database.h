// One SQLite database shared by the store and its sub-stores: the connection and the mutex
// that serializes its use (SQLite has one writer at a time; batching is what makes it fast).
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "core/message.h"
#include "store/campaigns.h"
#include "store/contacts.h"
#include "store/sqlite/db.h"
#include "store/templates.h"
#include "store/tracking.h"

namespace herald::store::sqlite {

struct Database {
  explicit Database(Connection c) : conn(std::move(c)) {}
  std::mutex mu;
  Connection conn;
};

// Inserts messages (the caller holds the lock and a transaction); with `skip_existing`, ids
// already there are left as they are. Returns how many were inserted.
Result<std::int64_t> insert_messages(Connection& conn, std::span<const Message> messages,
                                     bool skip_existing = false);
// Inserts one status-history entry.
Result<void> insert_event(Connection& conn, const std::string& id, const std::string& agent_id,
                          const StatusEvent& e);

// Adds `s` to the suppression list (the caller holds the lock): false when the address was
// already suppressed for that reason.
Result<bool> insert_suppression(Connection& conn, const Suppression& s);

// Sub-stores sharing the database (each in its own file).
std::unique_ptr<ContactStore> make_contact_store(std::shared_ptr<Database> db);
std::unique_ptr<TemplateStore> make_template_store(std::shared_ptr<Database> db);
std::unique_ptr<CampaignStore> make_campaign_store(std::shared_ptr<Database> db);
// Delivery tracking: events in `db`, the receivers' posts in `inbox` (webhook_inbox.cpp).
std::unique_ptr<TrackingStore> make_tracking_store(std::shared_ptr<Database> db,
                                                   std::shared_ptr<Database> inbox);

// The receivers' inbox beside the main file at `main_path` ("herald.db" → "herald-webhooks.db"),
// opened and brought to its schema; posts the main file kept from before are moved into it.
std::string inbox_path(const std::string& main_path);
Result<std::shared_ptr<Database>> open_inbox(const std::string& main_path, Database& main);

// Migrations owned by those files.
extern const std::string_view kMigrationV3;
extern const std::string_view kMigrationV4;
extern const std::string_view kMigrationV5;
extern const std::string_view kMigrationV13;
extern const std::string_view kMigrationV16;
extern const std::string_view kMigrationV17;
extern const std::string_view kMigrationV18;
extern const std::string_view kMigrationV19;
extern const std::string_view kMigrationV20;

// Unwraps a Result<T> into `var` or returns its error from the enclosing function.
#define HERALD_TRY(var, expr)                            \
  auto var##_r = (expr);                                 \
  if (!var##_r) return std::unexpected(var##_r.error()); \
  auto& var = *var##_r
#define HERALD_TRY_VOID(expr)                    \
  do {                                           \
    auto _r = (expr);                            \
    if (!_r) return std::unexpected(_r.error()); \
  } while (0)

}  // namespace herald::store::sqlite
