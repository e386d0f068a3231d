// The sandbox's mail server: a loopback ESMTP listener that stands in for an agent's own mail
// server. It speaks what submission clients such as libcurl use (EHLO/HELO, AUTH PLAIN and
// LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT; SIZE and 8BITMIME; no STARTTLS, so Herald connects
// with security "none", which it allows for loopback hosts only), checks one login, and records
// each accepted mail in the sandbox as provider "smtp", one message per recipient, with From,
// To, Reply-To, Subject and the text and HTML parts read by GMime.
//
// Faults from POST /sandbox/faults with provider "smtp" use the status as the SMTP reply code:
// when the next smtp fault in line is 530, 534 or 535 it answers AUTH; any other (and an
// authentication code that finds the connection already logged in) answers the end of DATA,
// so a 451 or 550 refuses that mail after it was sent. 421 also closes the connection; delayMs
// delays the reply; retryAfter means nothing in SMTP and is ignored.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace herald::sandbox {

class Sandbox;

// The login the sandbox's mail server accepts unless told otherwise (documented in README.md).
inline constexpr std::string_view kSmtpUsername = "sandbox";
inline constexpr std::string_view kSmtpPassword = "sandbox-smtp-password";

// Where the mail server listens, the login it accepts, and its limits.
struct SmtpSinkOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  std::string username{kSmtpUsername};
  std::string password{kSmtpPassword};
  // The name the server gives itself in its greeting and EHLO reply.
  std::string hostname = "sandbox.herald.localhost";
  // The largest message (after dot-unstuffing), advertised as SIZE; larger ones get 552.
  std::size_t max_message_bytes = std::size_t{64} << 20;
  // Recipients per mail; more get 452 (RFC 5321 §4.5.3.1.8 asks servers to take 100).
  std::size_t max_recipients = 100;
  // A client silent this long gets 421 and is disconnected (RFC 5321 §4.5.3.2.7: 5 minutes;
  // shorter here, a sandbox has no slow clients to wait for).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
};

// Serves SMTP on one thread of its own for `sandbox`, which must outlive it.
class SmtpSink {
 public:
  SmtpSink(Sandbox& sandbox, SmtpSinkOptions options = {});
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // Binds and starts serving; returns the bound port. Throws std::runtime_error if it cannot.
  std::uint16_t start();
  // Stops accepting, closes every connection and joins the thread. Idempotent.
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::sandbox
