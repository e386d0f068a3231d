// Generic SMTP: any mail server that takes authenticated submission (a company relay, Amazon
// SES or Postmark's SMTP endpoints, Gmail for a small office). One message per mail, one
// recipient per mail (so a refused recipient is that message's outcome alone). The message
// is built by GMime: From / To / Reply-To with RFC 2047 encoded names, Subject, Date,
// Message-ID, MIME-Version, multipart/alternative text + HTML, and the campaign's
// List-Unsubscribe headers. The server's reply codes are classified like HTTP answers: 2xx
// accepted, 4xx retry, 5xx refused with the server's text, 530 / 534 / 535 bad credentials.
#include <gmime/gmime.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "providers/adapters.h"
#include "providers/classify.h"

namespace herald::providers {
namespace {

// GMime's global state is set up once, before the first message is built (on any thread).
void ensure_gmime() {
  static const bool ready = [] {
    g_mime_init();
    return true;
  }();
  (void)ready;
}

// Owners for GMime's reference-counted objects and GLib's strings.
struct Unref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <class T>
using Ref = std::unique_ptr<T, Unref>;
struct GFree {
  void operator()(char* p) const { g_free(p); }
};

// Connections to one server under one login at once, unless the account says otherwise
// (nodemailer's pool default; servers commonly allow 5 to 20 per login).
constexpr std::size_t kDefaultConnections = 5;

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string("localhost")
                                      : std::string(address.substr(at + 1));
}

// The server's URL: smtps:// for implicit TLS, smtp:// otherwise (STARTTLS unless "none");
// the path is the name Herald gives in EHLO.
std::string server_url(const Params& params, std::string_view ehlo) {
  const std::string& security = params.get("security");
  std::string host = params.get("host");
  if (host.find(':') != std::string::npos && !host.starts_with('[')) host = "[" + host + "]";
  const std::string& port = params.get("port");
  return std::string(security == "tls" ? "smtps://" : "smtp://") + host + ":" +
         (port.empty() ? std::string("587") : port) + "/" + std::string(ehlo);
}

MailEnvelope envelope(const Credentials& c, std::string mail_from, std::vector<std::string> to) {
  std::size_t connections = kDefaultConnections;
  const std::string& given = c.params.get("maxConnections");
  std::from_chars(given.data(), given.data() + given.size(), connections);
  return MailEnvelope{std::move(mail_from),
                      std::move(to),
                      c.params.get("username"),
                      c.secrets.get("password").reveal(),
                      c.params.get("security") != "none",
                      connections};
}

// The Message-ID Herald gives a message: its id at the sender's domain (RFC 5322 §3.6.4).
std::string message_id(const OutboundMessage& m) {
  return m.id + "@" + domain_of(m.from.address);
}

// Sets a header Herald chose (List-Unsubscribe, …). Printable ASCII goes on the wire as it is:
// GMime would otherwise encode a long value as an RFC 2047 word, and a URL header such as
// List-Unsubscribe (RFC 2369) must stay <URL>s. Anything else is encoded as UTF-8.
void set_header(GMimeMessage* msg, const std::string& name, const std::string& value);

// Header text on one line: control characters (CR, LF, NUL, …) become spaces. Herald's own
// validation refuses them already; a header is never split however a value was stored.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

// A text part holding `content` as given, declared UTF-8 (GMime would otherwise pick the
// smallest charset that fits, e.g. ISO-8859-1).
Ref<GMimeTextPart> text_part(const char* subtype, const std::string& content) {
  Ref<GMimeTextPart> part(g_mime_text_part_new_with_subtype(subtype));
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(content.data(), content.size()));
  Ref<GMimeDataWrapper> wrapper(
      g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(part.get()), wrapper.get());
  g_mime_text_part_set_charset(part.get(), "utf-8");
  return part;
}

// The whole message, CRLF line ends, every header and part 7-bit clean.
std::string build_message(const OutboundMessage& m) {
  ensure_gmime();
  Ref<GMimeMessage> msg(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, one_line(m.from.name).c_str(),
                             one_line(m.from.address).c_str());
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, one_line(m.to.name).c_str(),
                             one_line(m.to.address).c_str());
  if (!m.reply_to.empty()) {
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_REPLY_TO, nullptr,
                               one_line(m.reply_to).c_str());
  }
  g_mime_message_set_subject(msg.get(), one_line(m.subject).c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(msg.get(), now);
  g_date_time_unref(now);
  g_mime_message_set_message_id(msg.get(), message_id(m).c_str());
  for (const auto& [name, value] : m.headers) set_header(msg.get(), name, value);

  if (!m.text.empty() && !m.html.empty()) {
    Ref<GMimeMultipart> alternative(g_mime_multipart_new_with_subtype("alternative"));
    auto text = text_part("plain", m.text);
    auto html = text_part("html", m.html);
    g_mime_multipart_add(alternative.get(), GMIME_OBJECT(text.get()));
    g_mime_multipart_add(alternative.get(), GMIME_OBJECT(html.get()));
    g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(alternative.get()));
  } else {
    auto only = m.html.empty() ? text_part("plain", m.text) : text_part("html", m.html);
    g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(only.get()));
  }
  // Quoted-printable or base64 wherever the content is not plain ASCII, so the message passes
  // any relay (no 8BITMIME needed).
  g_mime_object_encode(GMIME_OBJECT(msg.get()), GMIME_ENCODING_CONSTRAINT_7BIT);

  GMimeFormatOptions* format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  std::unique_ptr<char, GFree> bytes(g_mime_object_to_string(GMIME_OBJECT(msg.get()), format));
  g_mime_format_options_free(format);
  return bytes ? std::string(bytes.get()) : std::string();
}

// The reply's text without its line breaks: "550 5.1.1 <x@y>: Recipient address rejected".
std::string server_text(const HttpResponse& response) {
  std::string text = response.body;
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return clean_reason(text.empty() ? std::to_string(response.status) : text);
}

// 530 authentication required, 534 mechanism too weak, 535 credentials invalid (RFC 4954).
bool is_auth_failure(int code) {
  return code == 530 || code == 534 || code == 535;
}

// "queued as 4Bq2dL0Ks9z" (Postfix, Exim, aiosmtpd): the server's own id for the mail.
void set_header(GMimeMessage* msg, const std::string& name, const std::string& value) {
  const std::string n = one_line(name);
  const std::string v = one_line(value);
  g_mime_object_set_header(GMIME_OBJECT(msg), n.c_str(), v.c_str(), "utf-8");
  const bool ascii = std::all_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!ascii) return;
  GMimeHeader* header =
      g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)), n.c_str());
  if (header != nullptr) g_mime_header_set_raw_value(header, (" " + v + "\n").c_str());
}

std::string queue_id(std::string_view reply) {
  constexpr std::string_view kMarker = "queued as ";
  const auto at = reply.find(kMarker);
  if (at == std::string_view::npos) return {};
  std::string_view id = reply.substr(at + kMarker.size());
  id = id.substr(0, id.find_first_of(" \r\n"));
  return std::string(id.substr(0, 128));
}

const ProviderInfo kInfo{
    .id = "smtp",
    .display_name = "SMTP",
    .channel = Channel::email,
    .fields = {{.name = "host",
                .label = "SMTP Server",
                .kind = FieldKind::host,
                .placeholder = "smtp.example.com",
                .help = "The mail server your email provider or IT team gave you.",
                .max_length = 253,
                .env = "SMTP_HOST"},
               {.name = "port",
                .label = "Port",
                .kind = FieldKind::port,
                .required = false,
                .placeholder = "587",
                .help = "Usually 587 with STARTTLS, or 465 with TLS.",
                .default_value = "587",
                .max_length = 5,
                .env = "SMTP_PORT"},
               {.name = "security",
                .label = "Security",
                .kind = FieldKind::choice,
                .required = false,
                .help = "How the connection is encrypted.",
                .choices = {{"starttls", "STARTTLS (usually port 587)"},
                            {"tls", "TLS (usually port 465)"},
                            {"none", "None (only for a mail server on this machine)"}},
                .default_value = "starttls",
                .env = "SMTP_SECURITY"},
               {.name = "username",
                .label = "Username",
                .placeholder = "you@yourdomain.com",
                .help = "The login for the mail server, often your email address.",
                .max_length = 320,
                .env = "SMTP_USERNAME"},
               {.name = "password",
                .label = "Password",
                .kind = FieldKind::secret,
                .help = "The password or app password for the mail server.",
                .max_length = 512,
                .env = "SMTP_PASSWORD"},
               sender_email_field("An address the mail server lets this login send from."),
               {.name = "maxConnections",
                .label = "Connections",
                .required = false,
                .placeholder = "5",
                .help = "How many connections Herald may keep open to the mail server at once.",
                .default_value = "5",
                .pattern = "^([1-9]|[1-4][0-9]|50)$",
                .pattern_message = "must be a whole number from 1 to 50",
                .max_length = 16,
                .env = "SMTP_MAX_CONNECTIONS"}},
    .rate_limit_env = "HERALD_RATE_LIMIT_SMTP",
    // Mails per second per login; relays pace by connections and messages per minute.
    .default_rate_limit = 20,
    .max_batch = 1,
    // An AUTH PLAIN exchange (base64 of "\0user\0password") echoed back in a reply.
    .redact = {R"(\bAG[A-Za-z0-9+/]{8,}={0,2})"},
    .account_fields = {"host", "port", "username"},
    .webhooks = {.delivery_events = false},
};

class Smtp final : public Provider {
 public:
  const ProviderInfo& info() const override { return kInfo; }

  void check(const Params& params, std::vector<FieldError>& errors) const override {
    if (params.get("security") == "none" && !is_loopback(params.get("host"))) {
      errors.push_back({"security",
                        "can be none only for a mail server on this machine (localhost); use "
                        "starttls or tls"});
    }
  }

  // SMTP has no API host: the account's own host and port say where to connect.
  std::string base_url(const Credentials& credentials) const override {
    return server_url(credentials.params, "localhost");
  }

  HttpRequest build_send(const Credentials& credentials,
                         std::span<const OutboundMessage> messages) const override {
    const OutboundMessage& m = messages.front();
    HttpRequest request{.method = "SMTP"};
    request.url = server_url(credentials.params, domain_of(m.from.address));
    request.body = build_message(m);
    request.mail = envelope(credentials, m.from.address, {m.to.address});
    return request;
  }

  std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                         std::size_t count) const override {
    const int code = response.status;
    if (code >= 200 && code < 300)
      return for_each_message(accepted(code, queue_id(response.body)), count);
    if (code == 0)
      return for_each_message(retryable(response, "could not reach the mail server"), count);
    if (is_auth_failure(code)) {
      return for_each_message(bad_credentials(code, "the mail server did not accept the login: " +
                                                        server_text(response)),
                              count);
    }
    if (code >= 400 && code < 500) {
      return for_each_message(
          retryable(response, "the mail server asked to try again later: " + server_text(response)),
          count);
    }
    return for_each_message(
        permanent(code, "the mail server refused the message: " + server_text(response)), count);
  }

  HttpRequest build_verify(const Credentials& credentials) const override {
    HttpRequest request{.method = "SMTP"};
    request.url = server_url(credentials.params, "localhost");
    request.mail = envelope(credentials, "", {});
    return request;
  }

  VerifyOutcome classify_verify(const HttpResponse& response) const override {
    const int code = response.status;
    if (code >= 200 && code < 300) return verify_ok(code, "signed in to the mail server");
    if (is_auth_failure(code)) {
      return verify_rejected(code,
                             "the mail server did not accept the login: " + server_text(response));
    }
    if (code == 0 || (code >= 400 && code < 500)) {
      return verify_retryable(code,
                              "the mail server asked to try again later: " + server_text(response));
    }
    return verify_failed(code, "the mail server refused: " + server_text(response));
  }
};

}  // namespace

const Provider& smtp_adapter() {
  static const Smtp adapter;
  return adapter;
}

}  // namespace herald::providers
