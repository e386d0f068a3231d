#include "app/tracking_keys.h"

namespace herald::app {

std::optional<Secret> TrackingKeys::find(const std::string& provider, const std::string& owner,
                                         TimePoint now) const {
  std::lock_guard lock(mu_);
  const auto it = keys_.find({owner, provider});
  if (it == keys_.end() || now - it->second.kept_at >= kTtl || now < it->second.kept_at) {
    return std::nullopt;
  }
  return it->second.key;
}

void TrackingKeys::keep(const std::string& provider, const std::string& owner, Secret key,
                        TimePoint now) {
  std::lock_guard lock(mu_);
  keys_.insert_or_assign({owner, provider}, Entry{std::move(key), now});
}

void TrackingKeys::forget(const std::string& owner) {
  std::lock_guard lock(mu_);
  keys_.erase(keys_.lower_bound({owner, ""}), keys_.lower_bound({owner + '\0', ""}));
}

}  // namespace herald::app
