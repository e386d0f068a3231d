// HERALD_DATABASE_URL for PostgreSQL: postgres[ql]://user:password@host:port/database?options.
// Parsed once, before anything connects, into what libpq needs, what may be shown (the URL with
// its password masked) and what must never be shown (the password, however it was spelled).
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace herald::store::postgres {

// A PostgreSQL URL made ready to connect with, and to talk about without leaking its password.
struct PgUrl {
  std::string conninfo;              // for libpq: the URL without Herald's own options
  std::string shown;                 // for messages: host, port, database and user, no password
  std::vector<std::string> secrets;  // every spelling of the password, to mask in any text
  int pool_size = 8;                 // ?pool_size=N: connections this process keeps, at most
};

// Whether `url` names a PostgreSQL database (postgres:// or postgresql://).
bool is_postgres_url(const std::string& url);

// Parses `url`. A malformed URL is an Errc::config error naming HERALD_DATABASE_URL, whose
// message never repeats any part of the URL that could hold the password.
Result<PgUrl> parse_url(const std::string& url);

// `text` with every spelling of the URL's password replaced by "***".
std::string redact(std::string text, const PgUrl& url);

}  // namespace herald::store::postgres
