// One SMTP connection's conversation as a plain state machine: each line the client sends goes
// in, the reply to write comes out. No I/O here (smtp_sink.cpp owns the sockets and the
// clock); what to do with a finished mail is the caller's. Internal to src/sandbox.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/smtp_sink.h"

namespace herald::sandbox {

// What to write back: one or more reply lines, each ending in CRLF.
struct SmtpReply {
  std::string text;
  bool close = false;                  // close the connection once it is written
  std::chrono::milliseconds delay{0};  // wait this long before writing it (a slow server)
};

// "250 2.0.0 OK" and the like: one reply line with its CRLF.
SmtpReply smtp_reply(int code, std::string_view text);

// A finished mail transaction: who logged in, the envelope, and the message as received
// (dot-unstuffed, CRLF line ends).
struct SmtpMail {
  std::string username;
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;
};

// The state of one connection: greeted, logged in, inside a mail transaction or its DATA.
class SmtpSession {
 public:
  // What the conversation asks of the sandbox.
  struct Hooks {
    // A fault to answer AUTH with instead of checking the login; nullopt: none waiting.
    std::function<std::optional<SmtpReply>()> auth_fault;
    // Accepts or refuses a finished mail: the answer to its final dot.
    std::function<SmtpReply(SmtpMail&&)> deliver;
  };

  SmtpSession(const SmtpSinkOptions& options, Hooks hooks);

  // The 220 greeting that opens the connection.
  SmtpReply greeting() const;
  // Handles one line without its line end. nullopt: no reply yet (a line of message data).
  std::optional<SmtpReply> on_line(std::string_view line);
  // 421 for a client silent past the idle timeout.
  SmtpReply timed_out() const;
  // 500 for a line longer than the server reads; the connection is closed.
  SmtpReply line_too_long() const;

 private:
  enum class Phase {
    greeted,        // waiting for EHLO or HELO
    ready,          // no mail transaction open
    auth_plain,     // AUTH PLAIN sent without its response: waiting for it
    auth_user,      // AUTH LOGIN: waiting for the username
    auth_password,  // AUTH LOGIN: waiting for the password
    mail,           // MAIL FROM given; RCPT TO next
    data,           // reading the message until a line with only "."
  };

  std::optional<SmtpReply> on_command(std::string_view line);
  SmtpReply ehlo(std::string_view domain, bool extended);
  SmtpReply auth(std::string_view args);
  SmtpReply on_auth_response(std::string_view line);
  // An initial response given with AUTH, read as if it answered `step`'s prompt.
  SmtpReply on_auth_response_as(Phase step, std::string_view line);
  SmtpReply finish_auth(const std::string& username, const std::string& password);
  SmtpReply mail_from(std::string_view args);
  SmtpReply rcpt_to(std::string_view args);
  SmtpReply data(std::string_view args);
  std::optional<SmtpReply> on_data_line(std::string_view line);
  void reset_transaction();

  const SmtpSinkOptions& options_;
  Hooks hooks_;
  Phase phase_ = Phase::greeted;
  bool authenticated_ = false;
  std::string username_;
  std::string login_user_;  // AUTH LOGIN's username while its password is awaited
  std::string mail_from_;
  std::vector<std::string> rcpt_to_;
  std::string data_;
  bool too_large_ = false;  // the message passed max_message_bytes; refused at its end
};

}  // namespace herald::sandbox
