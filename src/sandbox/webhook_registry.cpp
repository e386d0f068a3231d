#include "sandbox/webhook_registry.h"

#include <algorithm>

namespace herald::sandbox {

std::vector<Hook> HookTable::list(const std::string& scope) const {
  std::shared_lock lock(mutex_);
  auto it = hooks_.find(scope);
  return it == hooks_.end() ? std::vector<Hook>{} : it->second;
}

std::optional<Hook> HookTable::find(const std::string& scope, const std::string& id) const {
  std::shared_lock lock(mutex_);
  auto it = hooks_.find(scope);
  if (it == hooks_.end()) return std::nullopt;
  for (const Hook& h : it->second) {
    if (h.id == id) return h;
  }
  return std::nullopt;
}

std::optional<Hook> HookTable::find_url(const std::string& scope, const std::string& url) const {
  std::shared_lock lock(mutex_);
  auto it = hooks_.find(scope);
  if (it == hooks_.end()) return std::nullopt;
  for (const Hook& h : it->second) {
    if (std::ranges::find(h.urls, url) != h.urls.end()) return h;
  }
  return std::nullopt;
}

void HookTable::put(const std::string& scope, Hook hook) {
  std::unique_lock lock(mutex_);
  std::vector<Hook>& list = hooks_[scope];
  auto same = std::ranges::find(list, hook.id, &Hook::id);
  if (same != list.end()) {
    *same = std::move(hook);
  } else {
    list.push_back(std::move(hook));
  }
  scopes_.store(hooks_.size(), std::memory_order_release);
}

std::optional<Hook> HookTable::update(const std::string& scope, const std::string& id,
                                      const std::function<void(Hook&)>& change) {
  std::unique_lock lock(mutex_);
  auto it = hooks_.find(scope);
  if (it == hooks_.end()) return std::nullopt;
  auto hook = std::ranges::find(it->second, id, &Hook::id);
  if (hook == it->second.end()) return std::nullopt;
  change(*hook);
  return *hook;
}

bool HookTable::remove(const std::string& scope, const std::string& id) {
  std::unique_lock lock(mutex_);
  auto it = hooks_.find(scope);
  if (it == hooks_.end()) return false;
  auto removed = std::ranges::remove(it->second, id, &Hook::id);
  if (removed.empty()) return false;
  it->second.erase(removed.begin(), removed.end());
  if (it->second.empty()) hooks_.erase(it);
  scopes_.store(hooks_.size(), std::memory_order_release);
  return true;
}

bool HookTable::any(const std::string& scope) const {
  if (scopes_.load(std::memory_order_acquire) == 0) return false;
  std::shared_lock lock(mutex_);
  return hooks_.contains(scope);
}

// Mailgun's keys look like the spec's example ("key-" and 32 hex digits).
WebhookRegistry::WebhookRegistry()
    : mailgun_keys([] { return "key-" + hex_encode(random_bytes(16)); }) {}

std::string mailgun_scope(const std::string& api_key, const std::string& domain) {
  return api_key + '\n' + domain;
}

}  // namespace herald::sandbox
