// SQLite schema migrations, in order. Each runs once, in its own transaction.
#pragma once

#include <span>
#include <string_view>

namespace herald::store::sqlite {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const Migration> migrations();

}  // namespace herald::store::sqlite
