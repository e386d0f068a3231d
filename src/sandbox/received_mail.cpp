// Reading a received message with GMime 3 (the library Herald's SMTP provider builds them
// with): g_mime_parser_construct_message, then the address lists, the decoded subject and
// headers, and a walk over the MIME tree for the text and HTML parts.
#include "sandbox/received_mail.h"

#include <gmime/gmime.h>

#include <memory>

namespace herald::sandbox {

namespace {

// Owners for GObjects and GLib strings.
struct Unref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using Ref = std::unique_ptr<T, Unref>;
struct GFree {
  void operator()(char* p) const { g_free(p); }
};

// CRLF (the wire's line end) becomes LF.
std::string unix_lines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out.push_back(s[i]);
  }
  return out;
}

// Every mailbox of a list, groups flattened.
void add_mailboxes(InternetAddressList* list, std::vector<MailboxText>& out) {
  if (!list) return;
  for (int i = 0; i < internet_address_list_length(list); ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
    std::unique_ptr<char, GFree> display(internet_address_to_string(address, nullptr, FALSE));
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
    out.push_back({display ? display.get() : "", addr ? addr : ""});
  }
}

// The list as one decoded line ("A <a@x>, b@y"); nullopt when it has no address.
std::optional<std::string> list_text(InternetAddressList* list) {
  if (!list || internet_address_list_length(list) == 0) return std::nullopt;
  std::unique_ptr<char, GFree> text(internet_address_list_to_string(list, nullptr, FALSE));
  if (!text) return std::nullopt;
  return std::string(text.get());
}

// The first text/plain and text/html parts that are not attachments, depth first.
void find_parts(GMimeObject* part, ReceivedMail& mail) {
  if (GMIME_IS_MULTIPART(part)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(part);
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      find_parts(g_mime_multipart_get_part(multipart, i), mail);
    }
    return;
  }
  // A forwarded message (message/rfc822) is not this message's content.
  if (!GMIME_IS_TEXT_PART(part) || g_mime_part_is_attachment(GMIME_PART(part))) return;
  GMimeContentType* type = g_mime_object_get_content_type(part);
  std::optional<std::string>* slot = nullptr;
  if (g_mime_content_type_is_type(type, "text", "plain")) slot = &mail.text;
  if (g_mime_content_type_is_type(type, "text", "html")) slot = &mail.html;
  if (!slot || *slot) return;
  std::unique_ptr<char, GFree> content(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
  *slot = unix_lines(content ? content.get() : "");
}

}  // namespace

void ensure_gmime() {
  static const bool ready = [] {
    g_mime_init();
    return true;
  }();
  (void)ready;
}

ReceivedMail read_mail(std::string_view raw) {
  ensure_gmime();
  ReceivedMail mail;
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  Ref<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return mail;

  mail.from = list_text(g_mime_message_get_from(message.get())).value_or("");
  add_mailboxes(g_mime_message_get_to(message.get()), mail.visible);
  add_mailboxes(g_mime_message_get_cc(message.get()), mail.visible);
  mail.reply_to = list_text(g_mime_message_get_reply_to(message.get()));
  if (const char* subject = g_mime_message_get_subject(message.get())) mail.subject = subject;
  if (const char* id = g_mime_message_get_message_id(message.get())) mail.message_id = id;

  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(message.get()));
  for (int i = 0; i < g_mime_header_list_get_count(headers); ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
    const char* name = g_mime_header_get_name(header);
    const char* value = g_mime_header_get_value(header);
    mail.headers.emplace_back(name ? name : "", value ? value : "");
  }

  if (GMimeObject* body = g_mime_message_get_mime_part(message.get())) find_parts(body, mail);
  return mail;
}

}  // namespace herald::sandbox
