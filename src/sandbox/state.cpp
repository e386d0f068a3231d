#include "sandbox/state.h"

#include <strings.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <random>

namespace herald::sandbox {

namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  return engine;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// The first http(s) link of the message's HTML or text (what a click follows), or a stand-in.
std::string first_link(const RecordedMessage& m) {
  for (const std::optional<std::string>* part : {&m.html, &m.text}) {
    if (!*part) continue;
    std::string_view s = **part;
    std::size_t at = std::min(s.find("https://"), s.find("http://"));
    if (at == std::string_view::npos) continue;
    std::size_t end = s.find_first_of(" \t\r\n\"'<>", at);
    return std::string(s.substr(at, end == std::string_view::npos ? s.size() - at : end - at));
  }
  return "https://example.com/";
}

}  // namespace

int provider_index(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kProviders); ++i) {
    if (kProviders[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string provider_names() {
  std::string out;
  for (std::string_view name : kProviders) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// --- MessageStore ---

MessageStore::MessageStore(std::size_t max_bodies) : max_bodies_(max_bodies) {
  items_.reserve(max_bodies_ > 0 ? max_bodies_ : 4096);
}

void MessageStore::record(std::vector<RecordedMessage> messages) {
  std::lock_guard lock(mutex_);
  for (RecordedMessage& m : messages) {
    ++stats_.total;
    if (int i = provider_index(m.provider); i >= 0) ++stats_.per_provider[i];
    if (!m.herald_message_id.empty()) {
      std::string key;
      key.reserve(m.provider.size() + m.herald_message_id.size() + m.to.size() + 2);
      key.append(m.provider).append(1, '\n').append(m.herald_message_id).append(1, '\n');
      key.append(m.to);
      if (!seen_.insert(std::move(key)).second) ++stats_.duplicates;
    }
    if (max_bodies_ == 0 || items_.size() < max_bodies_) {
      items_.push_back(std::move(m));
    } else {
      items_[head_] = std::move(m);
      head_ = (head_ + 1) % max_bodies_;
    }
  }
}

std::vector<RecordedMessage> MessageStore::list(std::string_view provider, std::string_view to,
                                                std::size_t limit) const {
  std::vector<RecordedMessage> out;
  std::lock_guard lock(mutex_);
  std::size_t n = items_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const RecordedMessage& m = items_[(head_ + k) % n];
    if (!provider.empty() && m.provider != provider) continue;
    if (!to.empty() && !iequals(m.to, to) && !iequals(email_address(m.to), to)) continue;
    out.push_back(m);
  }
  if (limit > 0 && out.size() > limit) {
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  }
  return out;
}

StoreStats MessageStore::stats() const {
  std::lock_guard lock(mutex_);
  StoreStats s = stats_;
  s.stored = items_.size();
  return s;
}

void MessageStore::clear() {
  std::lock_guard lock(mutex_);
  items_.clear();
  head_ = 0;
  seen_.clear();
  stats_ = {};
}

// --- FaultTable ---

void FaultTable::add(Fault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
  active_.store(faults_.size(), std::memory_order_release);
}

std::optional<Fault> FaultTable::take_if(std::string_view provider, bool (*applies)(const Fault&)) {
  if (active_.load(std::memory_order_acquire) == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = std::find_if(faults_.begin(), faults_.end(),
                         [&](const Fault& f) { return f.provider == provider; });
  if (it == faults_.end() || (applies && !applies(*it))) return std::nullopt;
  Fault use = *it;
  use.count = 1;
  if (--it->count == 0) faults_.erase(it);
  active_.store(faults_.size(), std::memory_order_release);
  return use;
}

std::vector<Fault> FaultTable::list() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

void FaultTable::clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
  active_.store(0, std::memory_order_release);
}

// --- IdempotencyCache ---

IdempotencyCache::Begin IdempotencyCache::begin(const std::string& scope, std::string_view request,
                                                TimePoint now) {
  std::uint64_t hash =
      std::hash<std::string_view>{}(request) ^ (request.size() * 0x9e3779b97f4a7c15ULL);
  std::lock_guard lock(mutex_);
  // Forget expired keys, oldest first.
  while (!by_age_.empty() && now - by_age_.front().first >= ttl_) {
    auto it = entries_.find(by_age_.front().second);
    if (it != entries_.end() && it->second.created == by_age_.front().first) entries_.erase(it);
    by_age_.pop_front();
  }
  auto [it, inserted] = entries_.try_emplace(scope);
  Entry& e = it->second;
  if (inserted) {
    e.request_hash = hash;
    e.created = now;
    by_age_.emplace_back(now, scope);
    return {};
  }
  if (e.request_hash != hash) return {Outcome::conflict, 0, {}};
  if (!e.done) return {Outcome::in_progress, 0, {}};
  return {Outcome::replay, e.status, e.body};
}

void IdempotencyCache::finish(const std::string& scope, int status, std::string body) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(scope);
  if (it == entries_.end()) return;
  it->second.done = true;
  it->second.status = status;
  it->second.body = std::move(body);
}

void IdempotencyCache::abandon(const std::string& scope) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(scope);
  if (it != entries_.end() && !it->second.done) entries_.erase(it);
}

void IdempotencyCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  by_age_.clear();
}

// --- SandboxState ---

SandboxState::SandboxState(const SandboxOptions& options)
    : clock(options.clock ? options.clock : std::make_shared<SystemTime>()),
      messages(options.max_bodies),
      idempotency(options.idempotency_ttl),
      events(webhooks, options.events, clock) {}

void SandboxState::queue_events(std::vector<Delivery> deliveries, std::string_view provider) {
  for (Delivery& d : deliveries) {
    if (auto fault = event_faults.take(provider); fault && fault->events) d.fault = *fault->events;
  }
  events.enqueue(std::move(deliveries));
}

Delivery delivery_of(const RecordedMessage& m, Shaper shaper, std::string scope) {
  Delivery d;
  d.shaper = shaper;
  d.scope = std::move(scope);
  d.to = email_address(m.to);
  d.from = m.from;
  d.subject = m.subject.value_or("");
  d.herald_message_id = m.herald_message_id;
  d.provider_message_id = m.provider_message_id;
  d.accepted_at = m.received_at;
  // Only a click needs the link; the rule that says who clicks is email_outcome's.
  const Outcome outcome = email_outcome(d.to);
  if (std::ranges::find(outcome.events, EventKind::clicked) != outcome.events.end()) {
    d.link = first_link(m);
  }
  return d;
}

http::Response with_fault(http::Response response, const Fault& fault) {
  if (fault.retry_after) response.set_header("Retry-After", std::to_string(*fault.retry_after));
  response.delay = fault.delay;
  return response;
}

// --- helpers ---

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string random_uuid() {
  std::uint64_t hi = rng()();
  std::uint64_t lo = rng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    std::uint64_t word = i < 16 ? hi : lo;
    int shift = (15 - (i % 16)) * 4;
    out[pos++] = kHex[(word >> shift) & 0xf];
  }
  return out;
}

std::string random_hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) bits = rng()();
    out[i] = kHex[bits & 0xf];
    bits >>= 4;
  }
  return out;
}

std::string random_base64url(std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out(n, 'A');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 10 == 0) bits = rng()();
    out[i] = kAlphabet[bits & 0x3f];
    bits >>= 6;
  }
  return out;
}

std::string key_hint(std::string_view key) {
  // Keys shorter than 8 characters would give away half or more; hint nothing then.
  if (key.size() < 8) return "\u2026";
  return "\u2026" + std::string(key.substr(key.size() - 4));
}

bool is_revoked(std::string_view secret) {
  return secret.starts_with("revoked");
}

std::optional<std::string> bearer_token(const http::Request& request) {
  auto h = request.header("Authorization");
  if (!h || !istarts_with(*h, "Bearer ")) return std::nullopt;
  std::string_view token = trim(h->substr(7));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const http::Request& request) {
  auto h = request.header("Authorization");
  if (!h || !istarts_with(*h, "Basic ")) return std::nullopt;
  auto decoded = base64_decode(trim(h->substr(6)));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::string email_address(std::string_view mailbox) {
  mailbox = trim(mailbox);
  auto open = mailbox.rfind('<');
  if (open != std::string_view::npos) {
    auto close = mailbox.find('>', open);
    if (close == std::string_view::npos || trim(mailbox.substr(close + 1)).size() > 0) return {};
    mailbox = trim(mailbox.substr(open + 1, close - open - 1));
  }
  return std::string(mailbox);
}

bool valid_mailbox(std::string_view mailbox) {
  std::string addr = email_address(mailbox);
  auto at = addr.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= addr.size()) return false;
  if (addr.find('@', at + 1) != std::string::npos) return false;
  for (char c : addr) {
    if (c == ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  std::string_view domain = std::string_view(addr).substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string::npos;
}

std::string iso8601(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string rfc2822(TimePoint t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::vector<std::string> split_addresses(std::string_view list) {
  std::vector<std::string> out;
  bool quoted = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    char c = i < list.size() ? list[i] : ',';
    if (c == '"' && (i == 0 || list[i - 1] != '\\')) quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>' && angle > 0) --angle;
    if (c == ',' && !quoted && angle == 0) {
      std::string_view item = trim(list.substr(start, i - start));
      if (!item.empty()) out.emplace_back(item);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace herald::sandbox
