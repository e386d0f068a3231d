// The SMTP adapter: the message it builds, read back by an independent MIME parser (Python's
// `email` package), its envelope, and how it reads a mail server's replies.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/id.h"
#include "providers/provider.h"
#include "test_support.h"

namespace herald::providers {
namespace {

const Provider& smtp() {
  return provider_for("smtp");
}

Credentials smtp_credentials(std::string security = "starttls", std::string port = "587") {
  Credentials c;
  c.provider = "smtp";
  c.params.set("host", "mail.wrightrealty.com");
  c.params.set("port", std::move(port));
  c.params.set("security", std::move(security));
  c.params.set("username", "matt@wrightrealty.com");
  c.secrets.set("password", Secret("s3cret-smtp-pass"));
  return c;
}

// What Python's email package (policy.default) makes of `raw` (see tests/support/parse_mime.py).
nlohmann::json parse_with_python(const std::string& raw) {
  auto path = std::filesystem::temp_directory_path() / ("herald-mime-" + new_id() + ".eml");
  std::ofstream(path, std::ios::binary) << raw;
  std::string cmd = "/usr/bin/python3 " + std::string(HERALD_SOURCE_DIR) +
                    "/tests/support/parse_mime.py " + path.string();
  FILE* f = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (f) pclose(f);
  std::filesystem::remove(path);
  return nlohmann::json::parse(out);
}

HttpResponse reply(int code, std::string text) {
  return HttpResponse{code, {}, std::move(text)};
}

TEST(Smtp, DescribesItselfAsAnEmailProviderWithAnAccountOnAServer) {
  const ProviderInfo& info = smtp().info();
  EXPECT_EQ(info.display_name, "SMTP");
  EXPECT_EQ(info.channel, Channel::email);
  EXPECT_EQ(info.max_batch, 1u);
  ASSERT_NE(info.field("password"), nullptr);
  EXPECT_EQ(info.field("password")->kind, FieldKind::secret);
  EXPECT_EQ(info.field("port")->default_value, "587");
  EXPECT_EQ(info.field("security")->default_value, "starttls");
  EXPECT_EQ(info.sender_field()->name, "fromEmail");
}

TEST(Smtp, TheMessageIsProperMimeWithTheSendersIdentity) {
  OutboundMessage m = fixtures::email_message();
  m.from = Mailbox{"Zoë Brontë Realty", "zoe@wrightrealty.com"};
  m.to = Mailbox{"Jane \"JJ\" Buyer", "buyer@example.com"};
  m.subject = "Nouvelle annonce : 12 rue des Chênes — visite samedi";
  m.text = "Bonjour Jane,\nUne maison vient d'être mise en vente.\n.un point en tête\n";
  m.html = "<p>Bonjour Jane, une maison vient d’être mise en vente.</p>";
  HttpRequest r = smtp().build_send(smtp_credentials(), std::span(&m, 1));

  ASSERT_TRUE(r.mail.has_value());
  EXPECT_EQ(r.url, "smtp://mail.wrightrealty.com:587/wrightrealty.com");
  EXPECT_EQ(r.mail->mail_from, "zoe@wrightrealty.com");
  EXPECT_EQ(r.mail->rcpt_to, std::vector<std::string>{"buyer@example.com"});
  EXPECT_EQ(r.mail->username, "matt@wrightrealty.com");
  EXPECT_EQ(r.mail->password, "s3cret-smtp-pass");
  EXPECT_TRUE(r.mail->require_tls);

  auto p = parse_with_python(r.body);
  EXPECT_EQ(p["defects"], nlohmann::json::array());
  EXPECT_TRUE(p["ascii"].get<bool>()) << "every header and part is 7-bit clean";
  EXPECT_EQ(p["from"], nlohmann::json::parse(
                           R"([{"name":"Zoë Brontë Realty","address":"zoe@wrightrealty.com"}])"));
  EXPECT_EQ(p["to"], nlohmann::json::parse(
                         R"([{"name":"Jane \"JJ\" Buyer","address":"buyer@example.com"}])"));
  EXPECT_EQ(p["replyTo"][0]["address"], "office@wrightrealty.com");
  EXPECT_EQ(p["subject"], m.subject);
  EXPECT_FALSE(p["dateParsed"].is_null());
  EXPECT_EQ(p["messageId"], "<" + m.id + "@wrightrealty.com>");
  EXPECT_EQ(p["mimeVersion"], "1.0");
  EXPECT_EQ(p["contentType"], "multipart/alternative");
  ASSERT_EQ(p["parts"].size(), 2u);
  EXPECT_EQ(p["parts"][0]["type"], "text/plain");
  EXPECT_EQ(p["parts"][0]["charset"], "utf-8");
  auto crlf = [](std::string s) {
    std::string out;
    for (char c : s) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  };
  // The parser hands back what was sent, line ends as on the wire.
  std::string text = p["parts"][0]["content"];
  EXPECT_TRUE(text == m.text || text == crlf(m.text)) << text;
  EXPECT_EQ(p["parts"][1]["type"], "text/html");
  std::string html = p["parts"][1]["content"];
  EXPECT_EQ(html.substr(0, m.html.size()), m.html);
  EXPECT_EQ(p["listUnsubscribe"], "<https://herald.example/u/abc>");
  EXPECT_EQ(p["listUnsubscribePost"], "List-Unsubscribe=One-Click");
  // CRLF line ends throughout, and no bare LF.
  for (std::size_t i = 0; i < r.body.size(); ++i) {
    if (r.body[i] == '\n') {
      ASSERT_EQ(r.body[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

TEST(Smtp, TheUnsubscribeHeadersGoOnTheWireAsTheyAre) {
  // RFC 2369 / 8058: a mail client reads List-Unsubscribe as <URL>s; an encoded word there
  // (=?us-ascii?Q?…?=) is no link at all. Real links are long signed tokens.
  OutboundMessage m = fixtures::email_message();
  const std::string link = "https://herald.example.com/u/" + std::string(160, 'k');
  m.headers = {
      {"List-Unsubscribe", "<" + link + ">, <mailto:office@wrightrealty.com?subject=unsubscribe>"},
      {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  HttpRequest r = smtp().build_send(smtp_credentials(), std::span(&m, 1));
  EXPECT_EQ(r.body.find("=?"), r.body.find("=?", r.body.find("\r\n\r\n")))
      << "no encoded word in the headers";
  std::string unfolded = r.body.substr(0, r.body.find("\r\n\r\n"));
  for (std::size_t at; (at = unfolded.find("\r\n ")) != std::string::npos;)
    unfolded.replace(at, 3, " ");
  for (std::size_t at; (at = unfolded.find("\r\n\t")) != std::string::npos;)
    unfolded.replace(at, 3, " ");
  EXPECT_NE(unfolded.find("\r\nList-Unsubscribe: <" + link +
                          ">, <mailto:office@wrightrealty.com?subject=unsubscribe>\r\n"),
            std::string::npos)
      << r.body.substr(0, 2000);
  EXPECT_NE(unfolded.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            std::string::npos);
}

TEST(Smtp, TextOnlyOrHtmlOnlyIsASinglePart) {
  OutboundMessage m = fixtures::email_message();
  m.html.clear();
  auto p = parse_with_python(smtp().build_send(smtp_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(p["contentType"], "text/plain");
  m = fixtures::email_message();
  m.text.clear();
  p = parse_with_python(smtp().build_send(smtp_credentials(), std::span(&m, 1)).body);
  EXPECT_EQ(p["contentType"], "text/html");
}

TEST(Smtp, AHeaderValueCannotAddAHeader) {
  OutboundMessage m = fixtures::email_message();
  m.subject = "Hello\r\nBcc: victim@example.org";
  m.from.name = "Evil\r\nBcc: victim@example.org";
  auto p = parse_with_python(smtp().build_send(smtp_credentials(), std::span(&m, 1)).body);
  for (const auto& h : p["rawHeaders"]) EXPECT_NE(h[0], "Bcc") << h.dump();
  EXPECT_EQ(p["subject"], "Hello  Bcc: victim@example.org");
}

TEST(Smtp, SecurityPicksTheUrlAndWhetherTlsIsRequired) {
  OutboundMessage m = fixtures::email_message();
  HttpRequest tls = smtp().build_send(smtp_credentials("tls", "465"), std::span(&m, 1));
  EXPECT_EQ(tls.url, "smtps://mail.wrightrealty.com:465/wrightrealty.com");
  auto loopback = smtp_credentials("none", "2525");
  loopback.params.set("host", "127.0.0.1");
  HttpRequest plain = smtp().build_send(loopback, std::span(&m, 1));
  EXPECT_EQ(plain.url, "smtp://127.0.0.1:2525/wrightrealty.com");
  EXPECT_FALSE(plain.mail->require_tls);
}

TEST(Smtp, MailsInFlightPerLoginFollowTheAccountsConnections) {
  OutboundMessage m = fixtures::email_message();
  EXPECT_EQ(smtp().build_send(smtp_credentials(), std::span(&m, 1)).mail->max_connections, 5u)
      << "an account saved without the setting gets the default";
  auto c = smtp_credentials();
  c.params.set("maxConnections", "12");
  EXPECT_EQ(smtp().build_send(c, std::span(&m, 1)).mail->max_connections, 12u);
}

TEST(Smtp, NoEncryptionIsOnlyForAServerOnThisMachine) {
  for (std::string host : {"mail.example.com", "10.0.0.5"}) {
    Params p;
    p.set("host", host);
    p.set("security", "none");
    std::vector<FieldError> errors;
    smtp().check(p, errors);
    ASSERT_EQ(errors.size(), 1u) << host;
    EXPECT_EQ(errors[0].field, "security");
  }
  for (std::string host : {"localhost", "127.0.0.1", "::1"}) {
    Params p;
    p.set("host", host);
    p.set("security", "none");
    std::vector<FieldError> errors;
    smtp().check(p, errors);
    EXPECT_TRUE(errors.empty()) << host;
  }
}

TEST(Smtp, RepliesAreClassifiedLikeHttpAnswers) {
  auto ok = smtp().classify_send(reply(250, "250 2.0.0 Ok: queued as 4Bq2dL0Ks9z"), 1);
  EXPECT_EQ(ok[0].kind, OutcomeKind::accepted);
  EXPECT_EQ(ok[0].provider_message_id, "4Bq2dL0Ks9z");
  auto later = smtp().classify_send(reply(451, "451 4.3.0 Temporary local problem"), 1);
  EXPECT_EQ(later[0].kind, OutcomeKind::retryable);
  EXPECT_NE(later[0].reason.find("Temporary local problem"), std::string::npos);
  auto refused = smtp().classify_send(reply(550, "550 5.1.1 <x@y>: User unknown"), 1);
  EXPECT_EQ(refused[0].kind, OutcomeKind::permanent);
  EXPECT_NE(refused[0].reason.find("User unknown"), std::string::npos);
  for (int code : {530, 534, 535}) {
    auto login = smtp().classify_send(reply(code, std::to_string(code) + " 5.7.8 nope"), 1);
    EXPECT_EQ(login[0].kind, OutcomeKind::bad_credentials) << code;
  }
  EXPECT_EQ(smtp().classify_send(reply(0, ""), 1)[0].kind, OutcomeKind::retryable);
}

TEST(Smtp, TheCredentialCheckSignsInAndSendsNothing) {
  HttpRequest r = smtp().build_verify(smtp_credentials());
  ASSERT_TRUE(r.mail.has_value());
  EXPECT_TRUE(r.mail->rcpt_to.empty());
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(smtp().classify_verify(reply(250, "250 OK")).ok);
  EXPECT_TRUE(
      smtp().classify_verify(reply(535, "535 5.7.8 Authentication failed")).bad_credentials);
  EXPECT_TRUE(smtp().classify_verify(reply(421, "421 busy")).retryable);
}

TEST(Smtp, AnEchoedAuthPlainBlobIsRedacted) {
  // base64("\0matt@wrightrealty.com\0s3cret-smtp-pass")
  auto r = smtp().classify_send(
      reply(535, "535 5.7.8 bad AUTH AG1hdHRAd3JpZ2h0cmVhbHR5LmNvbQBzM2NyZXQtc210cC1wYXNz"), 1);
  EXPECT_EQ(r[0].reason.find("AG1hdHRA"), std::string::npos) << r[0].reason;
}

}  // namespace
}  // namespace herald::providers
