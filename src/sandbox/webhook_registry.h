// Where each emulated account's delivery events go: the webhooks registered through the
// providers' APIs (Resend /webhooks, SendGrid's Event Webhook settings, Mailgun's domain
// webhooks) and the account keys that sign the posts. Read on every send (is anything
// registered?) and by the poster threads; written by the registration routes. Internal to
// src/sandbox.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sandbox/signing.h"

namespace herald::sandbox {

// One registered webhook, in the shape the three providers share.
struct Hook {
  // Resend and SendGrid: a UUID. Mailgun: the webhook type (delivered, permanent_fail, …),
  // which is how Mailgun names a domain's webhooks.
  std::string id;
  std::vector<std::string> urls;  // Resend and SendGrid: one; Mailgun: up to three
  std::set<std::string> events;   // the provider's event names it receives
  bool enabled = true;
  bool signed_posts = true;  // SendGrid: signing is turned on separately (off until then)
  std::string secret;        // Resend: the webhook's whsec_ signing secret
  std::shared_ptr<const EcKey> signing_key;  // SendGrid: made when signing is first turned on
  std::string name;                          // SendGrid: friendly_name
  TimePoint created;
  TimePoint updated;
};

// The hooks of every scope (an account's API key; Mailgun: key and domain), in creation order.
class HookTable {
 public:
  std::vector<Hook> list(const std::string& scope) const;
  std::optional<Hook> find(const std::string& scope, const std::string& id) const;
  // The hook of `scope` posting to `url`, if any.
  std::optional<Hook> find_url(const std::string& scope, const std::string& url) const;
  // Adds `hook`, or replaces the scope's hook with the same id.
  void put(const std::string& scope, Hook hook);
  // Applies `change` to the scope's hook `id` and returns the result (nullopt: no such hook).
  std::optional<Hook> update(const std::string& scope, const std::string& id,
                             const std::function<void(Hook&)>& change);
  bool remove(const std::string& scope, const std::string& id);
  // Whether `scope` has any hook: asked on every accepted send, so it skips the lock while
  // nothing at all is registered (the benchmark's case).
  bool any(const std::string& scope) const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::vector<Hook>> hooks_;
  std::atomic<std::size_t> scopes_{0};
};

// A value made once per scope on first use and kept (an account's signing key).
template <class T>
class KeyRing {
 public:
  explicit KeyRing(std::function<T()> make) : make_(std::move(make)) {}
  T get(const std::string& scope) {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(scope);
    if (it == keys_.end()) it = keys_.emplace(scope, make_()).first;
    return it->second;
  }

 private:
  std::function<T()> make_;
  std::mutex mutex_;
  std::map<std::string, T> keys_;
};

// Everything registered, per provider.
struct WebhookRegistry {
  WebhookRegistry();
  HookTable resend;
  HookTable sendgrid;  // each webhook signs with its own key, as SendGrid shows one per webhook
  HookTable mailgun;   // scope: mailgun_scope(key, domain)
  KeyRing<std::string> mailgun_keys;  // the account's HTTP webhook signing key
};

// The scope of a Mailgun domain's webhooks: they belong to the domain, within the account.
std::string mailgun_scope(const std::string& api_key, const std::string& domain);

}  // namespace herald::sandbox
