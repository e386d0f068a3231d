// The keys that verify webhook posts, kept in memory for a few seconds: a receiver would
// otherwise open the account (its row and every sealed secret) for each of a provider's posts,
// which come one event at a time. A change of the account in this process (connect,
// disconnect, a registration's new key) forgets its owner's keys at once; another process's
// change is seen when the entry ages out.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/secret.h"

namespace herald::app {

class TrackingKeys {
 public:
  // How long a key is used without reading the account again.
  static constexpr std::chrono::seconds kTtl{5};

  // The key for `provider`'s posts to `owner`, if one was kept less than kTtl before `now`.
  std::optional<Secret> find(const std::string& provider, const std::string& owner,
                             TimePoint now) const;
  void keep(const std::string& provider, const std::string& owner, Secret key, TimePoint now);
  // Forgets every key of `owner` (an agent id or "platform").
  void forget(const std::string& owner);

 private:
  struct Entry {
    Secret key;
    TimePoint kept_at;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> keys_;  // (owner, provider) → key
};

}  // namespace herald::app
