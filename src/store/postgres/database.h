// One PostgreSQL database shared by the store and its sub-stores: the connection pool, and the
// writes more than one of them makes (messages, history entries, suppressions), each a single
// multi-row statement however many rows it writes.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/message.h"
#include "store/campaigns.h"
#include "store/contacts.h"
#include "store/postgres/pool.h"
#include "store/postgres/tx.h"
#include "store/templates.h"
#include "store/tracking.h"

namespace herald::store::postgres {

// The pool every sub-store of one PostgreSQL store shares.
struct Database {
  explicit Database(std::unique_ptr<Pool> p) : pool(std::move(p)) {}
  std::unique_ptr<Pool> pool;
};

// The message columns every read of a whole message selects, in read_message's order.
extern const char* const kMessageColumns;
// A message from a row selected with kMessageColumns (from column `first`).
Message read_message(const pqxx::row& row, int first = 0);

// Inserts messages in one statement; with `skip_existing`, ids already there are left as they
// are. Returns how many were inserted.
std::int64_t insert_messages(Tx& tx, std::span<const Message> messages, bool skip_existing = false);

// One message's status-history entry or provider attempt, as message_events keeps it.
struct EventRow {
  std::string message_id;
  std::string agent_id;
  TimePoint at;
  MessageStatus status = MessageStatus::queued;
  std::string detail;
  const Attempt* attempt = nullptr;  // set for a call to a provider
};
// Inserts history entries and attempts in one statement, in the order given.
void insert_events(Tx& tx, std::span<const EventRow> rows);

// Adds suppressions in one statement (addresses normalized with suppression_key); rows already
// there for the same (address, reason) are kept. Returns how many were added.
std::int64_t insert_suppressions(Tx& tx, std::span<const Suppression> rows);

// The scheduler's campaign sweeps (campaigns_store.cpp), run in the caller's transaction:
// scheduled campaigns whose time came start, finished ones complete, and the messages of chunks
// whose lease expired are queued (those chunks end). Each returns how many it changed.
int start_scheduled_campaigns(Tx& tx, TimePoint now);
int complete_finished_campaigns(Tx& tx, TimePoint now);
Result<int> requeue_expired_chunks(Tx& tx, TimePoint now);

// Sub-stores sharing the database (each in its own file).
std::unique_ptr<ContactStore> make_contact_store(std::shared_ptr<Database> db);
std::unique_ptr<TemplateStore> make_template_store(std::shared_ptr<Database> db);
std::unique_ptr<CampaignStore> make_campaign_store(std::shared_ptr<Database> db);
std::unique_ptr<TrackingStore> make_tracking_store(std::shared_ptr<Database> db);

}  // namespace herald::store::postgres
