#include "store/postgres/tx.h"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace herald::store::postgres {

namespace {

// Each statement name and the one statement (by address) that uses it.
void check_unique_name(const Sql& st) {
  static std::mutex mu;
  static std::unordered_map<std::string, const Sql*> owners;
  std::lock_guard lock(mu);
  auto [it, added] = owners.emplace(st.name, &st);
  if (!added && it->second != &st && std::string_view(it->second->text) != st.text)
    throw std::logic_error(std::string("two statements are named ") + st.name);
}

}  // namespace

void Tx::prepare(const Sql& st) {
  if (c_.prepared.contains(st.name)) return;
  check_unique_name(st);
  c_.conn->prepare(st.name, st.text);
  c_.prepared.insert(st.name);
}

}  // namespace herald::store::postgres
