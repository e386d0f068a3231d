// The sandbox: one HTTP handler that stands in for Resend, SendGrid, Mailgun and Twilio on
// their real paths, checks auth and bodies the way each provider does, records every accepted
// message, posts its delivery events back to the receivers registered for its account, and
// injects faults on request. Used by tests, the demo and benchmarks.
//
// Sandbox endpoints (besides the providers' own paths):
//   GET    /sandbox/messages[?provider=&to=&limit=]  recorded messages, oldest first
//   DELETE /sandbox/messages                         forget messages and counts
//   GET    /sandbox/stats                            counts per provider, duplicates, and
//          "events": {queued (messages), posted, failed, retried, overflow}
//   POST   /sandbox/faults  {"provider","status"?,"count"?,"retryAfter"?,"delayMs"?}
//          or, for events, {"provider","events":{"duplicate"?,"reorder"?,"delayMs"?},"count"?}
//   GET    /sandbox/faults, DELETE /sandbox/faults
//   POST   /sandbox/reset                            messages, counts, faults, idempotency keys
//                                                    (registered webhooks stay)
//   GET    /                                         an HTML inbox of recent messages
//
// Webhook registration, per account (API key; any key is accepted): Resend GET / POST
// /webhooks and GET / PATCH / DELETE /webhooks/{id}; SendGrid POST
// /v3/user/webhooks/event/settings, GET …/all, GET / PATCH / DELETE …/{id}, GET / PATCH
// …/signed/{id}; Mailgun GET / POST /v3/domains/{domain}/webhooks, GET / PUT / DELETE
// …/webhooks/{type}, GET /v5/accounts/http_signing_key. Twilio posts to each message's
// StatusCallback. Which events a recipient gets is ruled by its address (events.h).
//
// Beside HTTP, the sandbox runs a mail server (smtp_sink.h) whose accepted mail is recorded
// the same way, as provider "smtp".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "http/server/server.h"
#include "sandbox/smtp_sink.h"

namespace herald::sandbox {

struct SandboxState;

// The request body limit to serve the sandbox with (http::ServerOptions::max_body_bytes): batches
// and attachments are far larger than the server's 1 MiB default (Resend allows 40 MB per email).
inline constexpr std::size_t kSandboxMaxBodyBytes = 64 << 20;

// How the sandbox posts delivery events to the receivers registered with it (event_poster.h).
struct EventOptions {
  std::size_t threads = 2;  // poster threads
  // Messages whose events are waiting or being posted; beyond this, a message's events are
  // counted as overflow instead of queued (sending is never slowed by a slow receiver).
  std::size_t queue_limit = 200'000;
  std::size_t batch = 256;  // messages a poster thread takes at once; their events go together
  int retries = 3;          // a failed post is tried again this many times, then dropped
  std::chrono::milliseconds backoff{200};   // before the first retry, doubling each time
  std::chrono::milliseconds timeout{5000};  // per post
};

struct SandboxOptions {
  // 0 keeps every recorded message. N > 0 (benchmark mode) keeps only the last N, while
  // counts and duplicate detection still cover every message.
  std::size_t max_bodies = 0;
  // How long Resend idempotency keys are remembered (Resend: 24 hours).
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24)};
  // Where "now" comes from; null means the system clock. Signed event posts carry it, and
  // receivers check it against their own clock (Svix and Mailgun: within 5 minutes).
  std::shared_ptr<const TimeSource> clock;
  EventOptions events;
};

// The provider emulator. Thread-safe: handle() may run on many threads at once.
class Sandbox {
 public:
  explicit Sandbox(SandboxOptions options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Serves one request (providers' paths and /sandbox/...).
  http::Response handle(http::Request& request);
  // A Handler for http::Server; valid while this Sandbox lives.
  http::Handler handler();
  // Waits until every accepted message's events are posted (or dropped); false on timeout.
  bool wait_for_events(std::chrono::milliseconds timeout);

 private:
  // The mail server records into the same state as the HTTP routes.
  friend class SmtpSink;
  SandboxState& state();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Options for serving the sandbox over HTTP and SMTP.
struct SandboxServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  std::size_t threads = 2;
  SandboxOptions sandbox;
  SmtpSinkOptions smtp;  // its host and port: 127.0.0.1 and any free port unless set
};

// Serves the sandbox until SIGINT or SIGTERM, after printing
// "sandbox listening on http://HOST:PORT" and "sandbox SMTP listening on smtp://HOST:PORT"
// on stdout. Returns the process exit code.
int run_sandbox(const SandboxServeOptions& options);
int run_sandbox(const std::string& host, std::uint16_t port);

// The `herald sandbox --listen HOST:PORT --smtp-listen HOST:PORT` command: parses both
// ("127.0.0.1:8025", ":8025", "8025" or "[::1]:8025") and runs the sandbox. Bad input prints
// an error naming the option and returns 2.
int run_sandbox_command(const std::string& listen, const std::string& smtp_listen,
                        SandboxOptions options = {});

}  // namespace herald::sandbox
