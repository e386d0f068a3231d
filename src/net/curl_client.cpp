// The libcurl HttpClient: one curl multi handle with a pool of reusable easy handles, so
// connections stay alive across calls (the multi handle owns the connection cache).
// perform() is perform_all() of one request and shares the same connections. SMTP submissions
// go through the same multi handle (libcurl speaks SMTP): connections per server and account
// are kept and reused, bounded like HTTP's.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/http_message.h"
#include "net/http_client.h"

namespace herald::net {
namespace {

// A response body larger than this is refused rather than buffered (provider API answers are
// a few kilobytes).
constexpr std::size_t kMaxResponseBytes = 64u << 20;

// Transfers in flight per call are capped at this many times max_connections_per_host (so
// a batch spanning a few hosts can use each host's full width); curl queues transfers beyond
// a host's connection limit. The idle-connection cache is sized the same way.
constexpr std::size_t kHostsInFlight = 4;

// curl_global_init is not thread-safe in every curl build; a function-local static is.
void ensure_curl() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!ok) std::abort();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// The host (and port) of a URL, for error messages: never the path or query (a Twilio path
// holds the account SID) and never userinfo.
std::string host_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(invalid URL)";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(rest);
}

// Mails in flight per mail server and login, shared by every client in the process: each send
// worker has its own client (and connection cache), but a server limits connections per login
// however many workers Herald runs. A transfer holds a lease while it is in flight.
class MailBudget {
 public:
  static MailBudget& instance() {
    static MailBudget budget;
    return budget;
  }

  // Holds one of an account's slots until released or destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : key_(std::move(o.key_)) { o.key_.clear(); }
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        release();
        key_ = std::move(o.key_);
        o.key_.clear();
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    void release() {
      if (key_.empty()) return;
      instance().give(key_);
      key_.clear();
    }

   private:
    friend class MailBudget;
    explicit Lease(std::string key) : key_(std::move(key)) {}
    std::string key_;
  };

  // A slot of `key`'s `cap`, if one is free.
  std::optional<Lease> try_take(const std::string& key, std::size_t cap) {
    std::lock_guard lock(mu_);
    std::size_t& busy = busy_[key];
    if (busy >= cap) return std::nullopt;
    ++busy;
    return Lease(key);
  }

  // Waits up to `timeout` for any slot to come free.
  void wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout);
  }

 private:
  void give(const std::string& key) {
    {
      std::lock_guard lock(mu_);
      auto it = busy_.find(key);
      if (it != busy_.end() && --it->second == 0) busy_.erase(it);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::size_t> busy_;
};

// The account a mail's budget is counted under: its server and login.
std::string mail_account(const HttpRequest& r) {
  return host_of(r.url) + "\n" + r.mail->username;
}

// The state of one transfer; a slot is reused for many requests during one call.
struct Transfer {
  std::size_t slot = 0;   // which pooled easy handle carries it
  std::size_t index = 0;  // position in the caller's request list
  HttpResponse response;
  curl_slist* headers = nullptr;  // HTTP headers, or SMTP recipients
  bool too_large = false;
  // SMTP: the message being uploaded, how much is sent, and the server's replies.
  bool mail = false;
  std::string_view upload;
  std::size_t uploaded = 0;
  std::string reply;        // the reply being read (a multi-line reply's lines so far)
  std::string last_reply;   // the last complete reply
  std::string refusal;      // the first 4xx/5xx reply (curl's QUIT's "221 Bye" may follow it)
  MailBudget::Lease lease;  // its account's slot while in flight (mails with a budget)

  void reset(std::size_t i) {
    lease.release();
    index = i;
    response = HttpResponse{};
    too_large = false;
    curl_slist_free_all(headers);
    headers = nullptr;
    mail = false;
    upload = {};
    uploaded = 0;
    reply.clear();
    last_reply.clear();
    refusal.clear();
  }
  ~Transfer() { curl_slist_free_all(headers); }
};

std::size_t on_upload(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = std::min(size * n, t->upload.size() - t->uploaded);
  std::copy_n(t->upload.data() + t->uploaded, len, buffer);
  t->uploaded += len;
  return len;
}

// An SMTP server's reply lines ("250-SIZE…", "250 OK"): a line whose fourth character is a
// space (or that is only a code) ends its reply.
void on_smtp_line(Transfer& t, std::string_view line) {
  if (!t.reply.empty()) t.reply += '\n';
  t.reply.append(line);
  if (line.size() <= 3 || line[3] == ' ') {
    t.last_reply = std::move(t.reply);
    t.reply.clear();
    if (t.refusal.empty() && (t.last_reply.starts_with('4') || t.last_reply.starts_with('5')))
      t.refusal = t.last_reply;
  }
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (t->response.body.size() + len > kMaxResponseBytes) {
    t->too_large = true;
    return 0;  // makes curl abort with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

// Called once per header line, status lines included. Headers are kept in arrival order with
// their names as the server sent them. A new status line starts a new response (after a 1xx
// interim response), so only the final response's headers remain.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (t->mail) {
    on_smtp_line(*t, line);
  } else if (line.starts_with("HTTP/")) {
    t->response.headers.clear();
  } else if (line.empty()) {
    // End of a header block.
  } else if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding (RFC 9112 §5.2): continues the previous value.
    if (!t->response.headers.empty()) {
      auto& value = t->response.headers.back().second;
      value.append(" ").append(trim(line));
    }
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.emplace_back(std::string(line.substr(0, colon)),
                                     std::string(trim(line.substr(colon + 1))));
  }
  return len;
}

// A request header must not smuggle a second header or request in through CR/LF.
bool header_ok(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  const bool name_ok = std::none_of(name.begin(), name.end(), [](char c) {
    return c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
  });
  const bool value_ok = std::none_of(value.begin(), value.end(),
                                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
  return name_ok && value_ok;
}

Error network_error(const HttpRequest& r, std::string what, bool retryable) {
  Error e{Errc::network, r.method + " " + host_of(r.url) + ": " + std::move(what)};
  e.retryable = retryable;
  return e;
}

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(ClientOptions options) : options_(options) {
    ensure_curl();
    options_.max_connections_per_host = std::max<std::size_t>(1, options_.max_connections_per_host);
    multi_ = curl_multi_init();
    if (multi_ == nullptr) std::abort();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_connections_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(in_flight_cap()));
    // No HTTP/1.1 pipelining; HTTP/2 streams may still share a connection.
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  }

  ~CurlClient() override {
    for (CURL* easy : pool_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
  }

  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  Result<HttpResponse> perform(const HttpRequest& request) override {
    auto results = perform_all(std::span<const HttpRequest>(&request, 1));
    return std::move(results.front());
  }

  std::vector<Result<HttpResponse>> perform_all(std::span<const HttpRequest> requests) override {
    std::vector<Result<HttpResponse>> results(requests.size());
    if (requests.empty()) return results;

    // One transfer slot per easy handle we may use at once; handles come from the pool.
    const std::size_t slots_n = std::min(requests.size(), in_flight_cap());
    while (pool_.size() < slots_n) {
      CURL* easy = curl_easy_init();
      if (easy == nullptr) std::abort();
      pool_.push_back(easy);
    }
    std::vector<Transfer> slots(slots_n);
    std::vector<std::size_t> free_slots(slots_n);
    for (std::size_t i = 0; i < slots_n; ++i) {
      slots[i].slot = i;
      free_slots[i] = slots_n - 1 - i;
    }

    // Whatever happens (even an exception), no handle stays attached to the multi handle.
    std::vector<bool> attached(slots_n, false);
    struct Detach {
      CURLM* multi;
      std::vector<CURL*>& pool;
      std::vector<bool>& attached;
      ~Detach() {
        for (std::size_t i = 0; i < attached.size(); ++i) {
          if (attached[i]) curl_multi_remove_handle(multi, pool[i]);
        }
      }
    } detach{multi_, pool_, attached};

    // Requests not started yet, in order. A mail whose account has every slot busy (here or in
    // another worker) waits its turn while the requests behind it go on.
    std::vector<std::size_t> pending(requests.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = requests.size() - 1 - i;
    std::size_t active = 0;
    bool blocked = false;  // some pending mail waits for its account's budget
    // Starts pending requests while a slot is free; a request that cannot start (bad header)
    // gets its error at once and its slot goes to the next request.
    auto fill = [&] {
      blocked = false;
      for (std::size_t k = pending.size(); k-- > 0 && !free_slots.empty();) {
        const std::size_t i = pending[k];
        std::optional<MailBudget::Lease> lease;
        if (const auto& mail = requests[i].mail; mail && mail->max_connections > 0) {
          lease = MailBudget::instance().try_take(mail_account(requests[i]), mail->max_connections);
          if (!lease) {
            blocked = true;
            continue;
          }
        }
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(k));
        const std::size_t s = free_slots.back();
        Transfer& t = slots[s];
        t.reset(i);
        if (lease) t.lease = std::move(*lease);
        if (auto err = configure(pool_[s], requests[i], t)) {
          results[i] = std::unexpected(std::move(*err));
          t.lease.release();
          continue;
        }
        if (curl_multi_add_handle(multi_, pool_[s]) != CURLM_OK) {
          results[i] = std::unexpected(Error::internal("curl_multi_add_handle failed"));
          t.lease.release();
          continue;
        }
        attached[s] = true;
        free_slots.pop_back();
        ++active;
      }
    };

    fill();
    while (active > 0 || !pending.empty()) {
      if (active == 0) {
        // Every pending mail waits for slots other workers hold.
        MailBudget::instance().wait(std::chrono::milliseconds(50));
        fill();
        continue;
      }
      // Drive every transfer as far as it can go without blocking.
      int running = 0;
      const CURLMcode mc = curl_multi_perform(multi_, &running);
      if (mc != CURLM_OK) {
        fail_active(requests, slots, attached, results, curl_multi_strerror(mc));
        fail_pending(requests, pending, results, curl_multi_strerror(mc));
        break;
      }
      // Collect finished transfers and hand their slots to pending requests.
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        void* priv = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        const std::size_t s = static_cast<Transfer*>(priv)->slot;
        const CURLcode rc = msg->data.result;
        curl_multi_remove_handle(multi_, pool_[s]);
        attached[s] = false;
        slots[s].lease.release();
        results[slots[s].index] = finish(pool_[s], requests[slots[s].index], slots[s], rc);
        free_slots.push_back(s);
        --active;
      }
      fill();
      if (active == 0) continue;
      // Sleep until a socket is ready or curl's next timeout is due; a mail waiting for a slot
      // another worker holds is looked at again soon.
      if (curl_multi_poll(multi_, nullptr, 0, blocked ? 20 : 1000, nullptr) != CURLM_OK) {
        fail_active(requests, slots, attached, results, "curl_multi_poll failed");
        fail_pending(requests, pending, results, "curl_multi_poll failed");
        break;
      }
    }
    return results;
  }

 private:
  std::size_t in_flight_cap() const { return options_.max_connections_per_host * kHostsInFlight; }

  // Sets every option of one transfer from scratch (curl_easy_reset keeps the handle's
  // caches; the connections themselves live in the multi handle). Returns an error for a
  // request that must not be sent.
  std::optional<Error> configure(CURL* easy, const HttpRequest& r, Transfer& t) const {
    curl_easy_reset(easy);
    if (r.mail) return configure_mail(easy, r, t);
    for (const auto& [name, value] : r.headers) {
      if (!header_ok(name, value)) {
        return Error::invalid("headers", "header name or value holds forbidden characters");
      }
    }

    common_options(easy, r, t, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "herald/0.1");

    // Method and body. POSTFIELDS points into the caller's request, which outlives the call.
    const std::string method = r.method.empty() ? std::string("GET") : r.method;
    const bool sends_body =
        !r.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
      if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    // Headers exactly as given. curl would add "Expect: 100-continue" to large bodies (a
    // round trip of delay) and a form Content-Type to bodies without one: suppress both unless
    // the caller set them ("Name:" with no value removes a header curl would add).
    bool has_expect = false;
    bool has_type = false;
    for (const auto& [name, value] : r.headers) {
      has_expect = has_expect || iequals(name, "Expect");
      has_type = has_type || iequals(name, "Content-Type");
      // "Name;" is curl's way to send a header with an empty value.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      t.headers = curl_slist_append(t.headers, line.c_str());
    }
    if (!has_expect) t.headers = curl_slist_append(t.headers, "Expect:");
    if (!has_type && sends_body) t.headers = curl_slist_append(t.headers, "Content-Type:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t.headers);
    return std::nullopt;
  }

  // What every transfer sets: URL, allowed protocols, timeouts, callbacks, trusted CAs.
  void common_options(CURL* easy, const HttpRequest& r, Transfer& t, const char* protocols) const {
    curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    // A request's own limit only shortens the client's (0 would mean none at all to curl).
    const auto timeout =
        r.timeout ? std::max(std::min(*r.timeout, options_.timeout), std::chrono::milliseconds(1))
                  : options_.timeout;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(options_.connect_timeout, timeout).count()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
    if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  }

  // An SMTP submission: envelope, AUTH and TLS as the request says; the message is uploaded
  // from the request's body, which outlives the call. No recipients: a NOOP after AUTH.
  std::optional<Error> configure_mail(CURL* easy, const HttpRequest& r, Transfer& t) const {
    const MailEnvelope& m = *r.mail;
    auto clean = [](std::string_view s) {
      return std::none_of(s.begin(), s.end(),
                          [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
    };
    bool ok = clean(m.mail_from) && clean(m.username) && clean(m.password);
    for (const std::string& to : m.rcpt_to) ok = ok && clean(to) && !to.empty();
    if (!ok) return Error::invalid("mail", "an address or login holds forbidden characters");
    t.mail = true;
    common_options(easy, r, t, "smtp,smtps");
    curl_easy_setopt(easy, CURLOPT_USE_SSL,
                     static_cast<long>(m.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (!m.username.empty()) {
      curl_easy_setopt(easy, CURLOPT_USERNAME, m.username.c_str());
      curl_easy_setopt(easy, CURLOPT_PASSWORD, m.password.c_str());
    }
    if (m.rcpt_to.empty()) {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "NOOP");
      return std::nullopt;
    }
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, ("<" + m.mail_from + ">").c_str());
    for (const std::string& to : m.rcpt_to)
      t.headers = curl_slist_append(t.headers, ("<" + to + ">").c_str());
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, t.headers);
    t.upload = r.body;
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(easy, CURLOPT_READDATA, &t);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    return std::nullopt;
  }

  // A transfer that failed without an answer. A request that can never succeed (bad URL) is the
  // caller's mistake, not the network's; curl_easy_strerror is a fixed text per code: it never
  // holds the URL, headers, body or password.
  static Error transfer_error(const HttpRequest& r, CURLcode rc, const char* invalid_url) {
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      Error e = Error::invalid("url", curl_easy_strerror(rc));
      e.message = invalid_url;
      return e;
    }
    return network_error(r, curl_easy_strerror(rc), true);
  }

  // An SMTP server's answer is a response whatever its code (250, 451, 535, 550): the last
  // reply's code and text. No reply at all (refused, timed out, TLS failed) is a network error.
  static Result<HttpResponse> finish_mail(CURL* easy, const HttpRequest& r, Transfer& t,
                                          CURLcode rc) {
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK || code >= 400) {
      HttpResponse res;
      res.status = static_cast<int>(code);
      res.elapsed = elapsed(easy);
      if (code >= 400 && !t.refusal.empty()) {
        res.body = std::move(t.refusal);
      } else {
        res.body = t.last_reply.empty() ? std::move(t.response.body) : std::move(t.last_reply);
      }
      return res;
    }
    return std::unexpected(transfer_error(r, rc, "invalid mail server address"));
  }

  static std::chrono::microseconds elapsed(CURL* easy) {
    curl_off_t us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us);
    return std::chrono::microseconds(us);
  }

  // Turns a finished transfer into its result. Any HTTP status is a response.
  static Result<HttpResponse> finish(CURL* easy, const HttpRequest& r, Transfer& t, CURLcode rc) {
    if (t.mail) return finish_mail(easy, r, t, rc);
    if (rc == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      t.response.status = static_cast<int>(status);
      t.response.elapsed = elapsed(easy);
      return std::move(t.response);
    }
    if (t.too_large) {
      return std::unexpected(network_error(
          r, "response body larger than " + std::to_string(kMaxResponseBytes) + " bytes", false));
    }
    return std::unexpected(transfer_error(r, rc, "invalid request URL"));
  }

  // Fails every transfer still in flight (the multi handle itself broke).
  void fail_active(std::span<const HttpRequest> requests, std::vector<Transfer>& slots,
                   std::vector<bool>& attached, std::vector<Result<HttpResponse>>& results,
                   const char* what) {
    for (std::size_t s = 0; s < slots.size(); ++s) {
      if (!attached[s]) continue;
      curl_multi_remove_handle(multi_, pool_[s]);
      attached[s] = false;
      slots[s].lease.release();
      results[slots[s].index] =
          std::unexpected(network_error(requests[slots[s].index], what, true));
    }
  }

  // Fails every request not started (the multi handle itself broke).
  static void fail_pending(std::span<const HttpRequest> requests, std::vector<std::size_t>& pending,
                           std::vector<Result<HttpResponse>>& results, const char* what) {
    for (std::size_t i : pending)
      results[i] = std::unexpected(network_error(requests[i], what, true));
    pending.clear();
  }

  ClientOptions options_;
  CURLM* multi_ = nullptr;
  std::vector<CURL*> pool_;  // easy handles, reused across calls
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options) {
  return std::make_unique<CurlClient>(options);
}

}  // namespace herald::net
