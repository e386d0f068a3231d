// A message received over SMTP, read by GMime into what the sandbox records: addresses,
// subject, the text and HTML parts, headers and Message-ID. Internal to src/sandbox.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::sandbox {

// One mailbox of an address header: "Name <addr>" as written (decoded) and its address.
struct MailboxText {
  std::string display;
  std::string address;
};

// What the sandbox records of one received message.
struct ReceivedMail {
  std::string from;                  // the From header, decoded ("Wright Realty <m@w.com>")
  std::vector<MailboxText> visible;  // the To and Cc mailboxes
  std::optional<std::string> reply_to;
  std::optional<std::string> subject;
  std::optional<std::string> text;  // the first text/plain part that is no attachment
  std::optional<std::string> html;  // the first text/html part that is no attachment
  std::vector<std::pair<std::string, std::string>> headers;  // top-level, decoded, in order
  std::string message_id;                                    // without its angle brackets
};

// Sets up GMime (once; later calls do nothing). The SMTP sink calls it when constructed, on the
// thread that sets the sandbox up, before any mail can arrive.
void ensure_gmime();

// Parses a whole message (RFC 5322 / MIME, CRLF line ends). Parts are decoded from their
// transfer encoding and charset to UTF-8 with LF line ends, as an HTTP provider receives
// them. A message GMime cannot read at all gives an empty ReceivedMail.
ReceivedMail read_mail(std::string_view raw);

}  // namespace herald::sandbox
