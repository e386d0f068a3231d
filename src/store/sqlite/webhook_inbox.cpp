// The receivers' inbox of verified webhook posts, in a SQLite file of its own beside the main
// one. SQLite has one writer per file: in the main file a receiver waited for every send batch
// and every round of applied events before it could answer its provider. In its own file it
// waits only for other receivers (whose posts go in one transaction anyway, app::PostInbox).
// Applying events then commits in the main file first and marks its posts here after; a crash
// between the two applies them again, which changes nothing (events are kept once by their key).
#include <filesystem>

#include "store/sqlite/database.h"

namespace herald::store::sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

namespace {

// The inbox's schema, versioned by PRAGMA user_version (the file holds nothing else).
constexpr int kInboxVersion = 1;
constexpr std::string_view kInboxSchema = R"sql(
CREATE TABLE webhook_posts (
  id            TEXT PRIMARY KEY,
  provider      TEXT NOT NULL,
  owner         TEXT NOT NULL,
  replay_key    TEXT NOT NULL DEFAULT '',
  url           TEXT NOT NULL,
  headers       TEXT NOT NULL DEFAULT '[]',
  body          BLOB NOT NULL,
  received_at   INTEGER NOT NULL,
  applied_at    INTEGER NOT NULL DEFAULT 0,
  error         TEXT NOT NULL DEFAULT '',
  retry_at      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX webhook_posts_replay ON webhook_posts(provider, replay_key)
  WHERE replay_key <> '';
CREATE INDEX webhook_posts_pending ON webhook_posts(received_at) WHERE applied_at = 0;
PRAGMA user_version = 1;
)sql";

Result<int> user_version(Connection& conn) {
  TRY(st, conn.prepare("PRAGMA user_version"));
  const int rc = st->step();
  const int version = rc == SQLITE_ROW ? static_cast<int>(st->int64(0)) : -1;
  st->reset();
  if (version < 0) return fail(conn.error("webhook inbox version"));
  return version;
}

Result<void> create_schema(Database& inbox, const std::string& path) {
  std::lock_guard lock(inbox.mu);
  // The version is read under the write lock: processes opening a new file together set it
  // up once, the others find it done.
  Transaction tx(inbox.conn);
  TRY_VOID(tx.begin());
  TRY(version, user_version(inbox.conn));
  if (version == kInboxVersion) return tx.commit();
  if (version > kInboxVersion)
    return fail(Errc::storage, path + " was written by a newer Herald (webhook inbox version " +
                                   std::to_string(version) + ")");
  TRY_VOID(inbox.conn.exec(kInboxSchema));
  return tx.commit();
}

Result<bool> has_old_inbox(Connection& main) {
  TRY(st,
      main.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_posts'"));
  const int rc = st->step();
  st->reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(main.error("webhook inbox"));
  return rc == SQLITE_ROW;
}

// Posts kept in the main file before the inbox had its own (schema 16 to 19) move over, once;
// migration 20 then drops them there. Run again after a crash, it copies nothing twice.
Result<void> move_old_posts(Database& main, const std::string& inbox_file) {
  std::lock_guard lock(main.mu);
  TRY(old, has_old_inbox(main.conn));
  if (!old) return {};
  TRY(attach, main.conn.prepare("ATTACH DATABASE ? AS inbox"));
  attach->bind(1, inbox_file);
  TRY_VOID(main.conn.run(*attach));
  auto copied = main.conn.exec(
      "INSERT OR IGNORE INTO inbox.webhook_posts (id, provider, owner, replay_key, url, headers,"
      " body, received_at, applied_at, error) SELECT id, provider, owner, replay_key, url,"
      " headers, body, received_at, applied_at, error FROM main.webhook_posts");
  TRY_VOID(main.conn.exec("DETACH DATABASE inbox"));
  return copied;
}

}  // namespace

extern const std::string_view kMigrationV20 = R"sql(
DROP TABLE webhook_posts;
)sql";

std::string inbox_path(const std::string& main_path) {
  std::filesystem::path p(main_path);
  p.replace_filename(p.stem().string() + "-webhooks" + p.extension().string());
  return p.string();
}

Result<std::shared_ptr<Database>> open_inbox(const std::string& main_path, Database& main) {
  const std::string path = inbox_path(main_path);
  TRY(conn, Connection::open(path));
  auto inbox = std::make_shared<Database>(std::move(conn));
  TRY_VOID(create_schema(*inbox, path));
  TRY_VOID(move_old_posts(main, path));
  return inbox;
}

}  // namespace herald::store::sqlite
