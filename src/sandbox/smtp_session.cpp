// The SMTP conversation (RFC 5321), with AUTH (RFC 4954: PLAIN, RFC 4616; LOGIN, the
// draft-murchison-sasl-login mechanism every client still offers), SIZE (RFC 1870) and
// 8BITMIME (RFC 6152). Reply codes and enhanced status codes (RFC 3463) are Postfix's for the
// same situations, so a client sees what a real server would say.
#include "sandbox/smtp_session.h"

#include <charconv>
#include <utility>

#include "sandbox/state.h"

namespace herald::sandbox {

namespace {

// The first word of a command line, and what follows its single space.
std::pair<std::string_view, std::string_view> split_verb(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), line.substr(space + 1)};
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "FROM:<addr> SIZE=123" after MAIL (or "TO:<addr>" after RCPT): the address and the
// parameters; nullopt when malformed. Some clients put a space after the colon.
struct Path {
  std::string address;
  std::vector<std::string_view> params;
};
std::optional<Path> parse_path(std::string_view args, std::string_view keyword) {
  if (!istarts_with(args, keyword)) return std::nullopt;
  args = trim_spaces(args.substr(keyword.size()));
  if (args.empty() || args.front() != '<') return std::nullopt;
  auto close = args.find('>');
  if (close == std::string_view::npos) return std::nullopt;
  Path path{std::string(args.substr(1, close - 1)), {}};
  std::string_view rest = args.substr(close + 1);
  while (!(rest = trim_spaces(rest)).empty()) {
    auto space = rest.find(' ');
    path.params.push_back(rest.substr(0, space));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space);
  }
  return path;
}

// The value of "NAME=value" if the parameter is NAME (case-insensitive).
std::optional<std::string_view> param_value(std::string_view param, std::string_view name) {
  if (param.size() <= name.size() || param[name.size()] != '=' || !istarts_with(param, name)) {
    return std::nullopt;
  }
  return param.substr(name.size() + 1);
}

// Splits a decoded AUTH PLAIN response "authzid\0authcid\0password".
std::optional<std::pair<std::string, std::string>> plain_credentials(const std::string& decoded) {
  auto first = decoded.find('\0');
  if (first == std::string::npos) return std::nullopt;
  auto second = decoded.find('\0', first + 1);
  if (second == std::string::npos) return std::nullopt;
  return std::pair{decoded.substr(first + 1, second - first - 1), decoded.substr(second + 1)};
}

// A SASL response line: "*" cancels (RFC 4954 §4), "=" is an empty initial response.
std::optional<std::string> sasl_decode(std::string_view line) {
  if (line == "=") return std::string();
  return base64_decode(line);
}

// base64 of "Username:" and "Password:", the LOGIN mechanism's two prompts.
constexpr std::string_view kLoginUserPrompt = "VXNlcm5hbWU6";
constexpr std::string_view kLoginPasswordPrompt = "UGFzc3dvcmQ6";

}  // namespace

SmtpReply smtp_reply(int code, std::string_view text) {
  return {std::to_string(code) + " " + std::string(text) + "\r\n"};
}

SmtpSession::SmtpSession(const SmtpSinkOptions& options, Hooks hooks)
    : options_(options), hooks_(std::move(hooks)) {}

SmtpReply SmtpSession::greeting() const {
  return smtp_reply(220, options_.hostname + " ESMTP Herald sandbox");
}

SmtpReply SmtpSession::timed_out() const {
  SmtpReply r = smtp_reply(421, "4.4.2 " + options_.hostname + " Error: timeout exceeded");
  r.close = true;
  return r;
}

SmtpReply SmtpSession::line_too_long() const {
  SmtpReply r = smtp_reply(500, "5.5.2 Error: line too long");
  r.close = true;
  return r;
}

std::optional<SmtpReply> SmtpSession::on_line(std::string_view line) {
  switch (phase_) {
    case Phase::data:
      return on_data_line(line);
    case Phase::auth_plain:
    case Phase::auth_user:
    case Phase::auth_password:
      return on_auth_response(line);
    default:
      return on_command(line);
  }
}

std::optional<SmtpReply> SmtpSession::on_command(std::string_view line) {
  auto [verb, args] = split_verb(line);
  if (iequals(verb, "EHLO")) return ehlo(args, true);
  if (iequals(verb, "HELO")) return ehlo(args, false);
  if (iequals(verb, "NOOP")) return smtp_reply(250, "2.0.0 Ok");
  if (iequals(verb, "QUIT")) {
    SmtpReply bye = smtp_reply(221, "2.0.0 Bye");
    bye.close = true;
    return bye;
  }
  if (iequals(verb, "RSET")) {
    if (!trim_spaces(args).empty()) return smtp_reply(501, "5.5.4 Syntax: RSET");
    reset_transaction();
    if (phase_ != Phase::greeted) phase_ = Phase::ready;
    return smtp_reply(250, "2.0.0 Ok");
  }
  bool known = iequals(verb, "AUTH") || iequals(verb, "MAIL") || iequals(verb, "RCPT") ||
               iequals(verb, "DATA");
  if (!known) {
    // Commands of RFC 5321 and its extensions this server does not offer, and then anything.
    for (std::string_view other : {"VRFY", "EXPN", "HELP", "TURN", "ETRN", "BDAT", "STARTTLS"}) {
      if (iequals(verb, other)) return smtp_reply(502, "5.5.1 Error: command not implemented");
    }
    return smtp_reply(500, "5.5.2 Error: command not recognized");
  }
  if (phase_ == Phase::greeted) return smtp_reply(503, "5.5.1 Error: send HELO/EHLO first");
  if (iequals(verb, "AUTH")) return auth(args);
  if (iequals(verb, "MAIL")) return mail_from(args);
  if (iequals(verb, "RCPT")) return rcpt_to(args);
  return data(args);
}

SmtpReply SmtpSession::ehlo(std::string_view domain, bool extended) {
  domain = trim_spaces(domain);
  if (domain.empty()) {
    return smtp_reply(501,
                      extended ? "5.5.4 Syntax: EHLO hostname" : "5.5.4 Syntax: HELO hostname");
  }
  // A new greeting ends any open transaction (RFC 5321 §4.1.4); the login stays.
  reset_transaction();
  phase_ = Phase::ready;
  if (!extended) return smtp_reply(250, options_.hostname);
  return {"250-" + options_.hostname + "\r\n250-SIZE " +
          std::to_string(options_.max_message_bytes) +
          "\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n"};
}

SmtpReply SmtpSession::auth(std::string_view args) {
  if (authenticated_) return smtp_reply(503, "5.5.1 Error: already authenticated");
  if (phase_ != Phase::ready) {
    return smtp_reply(503, "5.5.1 Error: MAIL transaction in progress");
  }
  auto [mechanism, initial] = split_verb(trim_spaces(args));
  initial = trim_spaces(initial);
  if (iequals(mechanism, "PLAIN")) {
    if (initial.empty()) {
      phase_ = Phase::auth_plain;
      return {"334 \r\n"};
    }
    return on_auth_response_as(Phase::auth_plain, initial);
  }
  if (iequals(mechanism, "LOGIN")) {
    if (initial.empty()) {
      phase_ = Phase::auth_user;
      return {"334 " + std::string(kLoginUserPrompt) + "\r\n"};
    }
    return on_auth_response_as(Phase::auth_user, initial);
  }
  if (mechanism.empty()) return smtp_reply(501, "5.5.4 Syntax: AUTH mechanism");
  return smtp_reply(504, "5.5.4 Unrecognized authentication type");
}

SmtpReply SmtpSession::on_auth_response_as(Phase step, std::string_view line) {
  phase_ = step;
  return on_auth_response(line);
}

SmtpReply SmtpSession::on_auth_response(std::string_view line) {
  const Phase step = phase_;
  phase_ = Phase::ready;
  line = trim_spaces(line);
  if (line == "*") return smtp_reply(501, "5.7.0 Authentication aborted");
  auto decoded = sasl_decode(line);
  if (!decoded) return smtp_reply(501, "5.5.2 Cannot decode response");
  if (step == Phase::auth_plain) {
    auto credentials = plain_credentials(*decoded);
    if (!credentials) return smtp_reply(535, "5.7.8 Authentication credentials invalid");
    return finish_auth(credentials->first, credentials->second);
  }
  if (step == Phase::auth_user) {
    login_user_ = std::move(*decoded);
    phase_ = Phase::auth_password;
    return {"334 " + std::string(kLoginPasswordPrompt) + "\r\n"};
  }
  return finish_auth(std::exchange(login_user_, {}), *decoded);
}

SmtpReply SmtpSession::finish_auth(const std::string& username, const std::string& password) {
  if (hooks_.auth_fault) {
    if (auto fault = hooks_.auth_fault()) return *fault;
  }
  if (username != options_.username || password != options_.password) {
    return smtp_reply(535, "5.7.8 Authentication credentials invalid");
  }
  authenticated_ = true;
  username_ = username;
  return smtp_reply(235, "2.7.0 Authentication successful");
}

SmtpReply SmtpSession::mail_from(std::string_view args) {
  if (!authenticated_) return smtp_reply(530, "5.7.0 Authentication required");
  if (phase_ != Phase::ready) return smtp_reply(503, "5.5.1 Error: nested MAIL command");
  auto path = parse_path(args, "FROM:");
  if (!path) return smtp_reply(501, "5.5.4 Syntax: MAIL FROM:<address>");
  if (!path->address.empty() && !valid_mailbox(path->address)) {
    return smtp_reply(501, "5.1.7 Bad sender address syntax");
  }
  for (std::string_view param : path->params) {
    if (auto size = param_value(param, "SIZE")) {
      std::size_t declared = 0;
      auto [end, ec] = std::from_chars(size->data(), size->data() + size->size(), declared);
      if (ec != std::errc() || end != size->data() + size->size()) {
        return smtp_reply(501, "5.5.4 Bad SIZE parameter");
      }
      if (declared > options_.max_message_bytes) {
        return smtp_reply(552, "5.3.4 Message size exceeds fixed limit");
      }
    } else if (auto body = param_value(param, "BODY")) {
      if (!iequals(*body, "7BIT") && !iequals(*body, "8BITMIME")) {
        return smtp_reply(501, "5.5.4 Bad BODY parameter");
      }
    } else if (!param_value(param, "AUTH")) {  // AUTH=<> (RFC 4954 §5) is accepted and unused
      return smtp_reply(555, "5.5.4 Unsupported option: " + std::string(param));
    }
  }
  mail_from_ = std::move(path->address);
  phase_ = Phase::mail;
  return smtp_reply(250, "2.1.0 Ok");
}

SmtpReply SmtpSession::rcpt_to(std::string_view args) {
  if (phase_ != Phase::mail) return smtp_reply(503, "5.5.1 Error: need MAIL command");
  auto path = parse_path(args, "TO:");
  if (!path) return smtp_reply(501, "5.5.4 Syntax: RCPT TO:<address>");
  if (!path->params.empty()) {
    return smtp_reply(555, "5.5.4 Unsupported option: " + std::string(path->params.front()));
  }
  if (!valid_mailbox(path->address)) return smtp_reply(501, "5.1.3 Bad recipient address syntax");
  if (rcpt_to_.size() >= options_.max_recipients) {
    return smtp_reply(452, "4.5.3 Error: too many recipients");
  }
  rcpt_to_.push_back(std::move(path->address));
  return smtp_reply(250, "2.1.5 Ok");
}

SmtpReply SmtpSession::data(std::string_view args) {
  if (phase_ != Phase::mail) return smtp_reply(503, "5.5.1 Error: need MAIL command");
  if (rcpt_to_.empty()) return smtp_reply(554, "5.5.1 Error: no valid recipients");
  if (!trim_spaces(args).empty()) return smtp_reply(501, "5.5.4 Syntax: DATA");
  phase_ = Phase::data;
  data_.clear();
  too_large_ = false;
  return smtp_reply(354, "End data with <CR><LF>.<CR><LF>");
}

std::optional<SmtpReply> SmtpSession::on_data_line(std::string_view line) {
  if (line != ".") {
    // A line the client began with a dot was sent with one more (RFC 5321 §4.5.2).
    if (line.starts_with('.')) line.remove_prefix(1);
    // Past the limit the rest is read and dropped, and the mail refused at its end.
    if (!too_large_ && data_.size() + line.size() + 2 > options_.max_message_bytes) {
      too_large_ = true;
      std::string().swap(data_);
    }
    if (!too_large_) data_.append(line).append("\r\n");
    return std::nullopt;
  }
  // The final dot: the transaction ends whatever the answer.
  phase_ = Phase::ready;
  SmtpMail mail{username_, std::move(mail_from_), std::move(rcpt_to_), std::move(data_)};
  const bool too_large = too_large_;
  reset_transaction();
  if (too_large) return smtp_reply(552, "5.3.4 Message size exceeds fixed limit");
  return hooks_.deliver(std::move(mail));
}

void SmtpSession::reset_transaction() {
  mail_from_.clear();
  rcpt_to_.clear();
  data_.clear();
  too_large_ = false;
}

}  // namespace herald::sandbox
