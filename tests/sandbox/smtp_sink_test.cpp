// Protects the sandbox's mail server over real loopback SMTP, sent by Herald's own libcurl
// client: an accepted mail is recorded as provider "smtp" with its From, To, Subject and parts
// (in /sandbox/messages, /sandbox/stats, duplicates and the inbox); a wrong login is 535 and
// records nothing; injected faults (451 then success, 550, 535 at AUTH) answer where a real
// server would; dot-stuffed lines arrive as written; a silent client is timed out with 421.
#include "sandbox/smtp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_client.h"
#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

using namespace std::chrono_literals;

// A Herald-like message: multipart/alternative, UTF-8 in quoted-printable, an encoded subject
// and display name, a Reply-To and a List-Unsubscribe header.
const std::string kWelcome =
    "From: =?utf-8?q?Caf=C3=A9_Realty?= <dana@harborhomes.com>\r\n"
    "To: Sam Ortiz <sam@example.com>\r\n"
    "Reply-To: dana@harborhomes.com\r\n"
    "Subject: =?utf-8?q?Your_listing_at_31_Lighthouse_Rd_=E2=80=94_welcome?=\r\n"
    "Message-ID: <hm-welcome-1@harborhomes.com>\r\n"
    "List-Unsubscribe: <https://herald.example/u/t1>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hi Sam,\r\n"
    "Caf=C3=A9 on the corner.\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Hi Sam,</p>\r\n"
    "--b1--\r\n";

// A plain message whose lines begin with dots, the way a client hands it over (curl stuffs
// them on the wire).
const std::string kDotted =
    "From: a@example.com\r\n"
    "To: b@example.com\r\n"
    "Subject: Dots\r\n"
    "Message-ID: <hm-dots@example.com>\r\n"
    "\r\n"
    ".leading dot stays\r\n"
    "..two dots stay\r\n"
    ".\r\n"
    "after a lone dot\r\n";

class SmtpSinkTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    SmtpSinkOptions options;
    options.idle_timeout = 300ms;
    sink_ = std::make_unique<SmtpSink>(*sandbox_, options);
    port_ = sink_->start();
    mailer_ = net::make_curl_client({.timeout = 10s});
  }
  void TearDown() override {
    sink_.reset();
    SandboxTest::TearDown();
  }

  HttpRequest mail(const std::string& body, std::vector<std::string> to = {"sam@example.com"},
                   std::string password = std::string(kSmtpPassword)) const {
    HttpRequest r;
    r.method = "SMTP";
    r.url = "smtp://127.0.0.1:" + std::to_string(port_) + "/harborhomes.com";
    r.body = body;
    r.mail = MailEnvelope{"bounces@harborhomes.com", std::move(to), std::string(kSmtpUsername),
                          std::move(password), false};
    return r;
  }
  HttpResponse send(const HttpRequest& request) {
    auto res = mailer_->perform(request);
    EXPECT_TRUE(res.has_value()) << res.error().message;
    return res.value_or(HttpResponse{});
  }

  std::unique_ptr<SmtpSink> sink_;
  std::uint16_t port_ = 0;
  std::unique_ptr<net::HttpClient> mailer_;
};

TEST_F(SmtpSinkTest, AnAcceptedMailIsRecordedWithItsAddressesSubjectAndParts) {
  // Invariant: what a client sends is what /sandbox/messages?provider=smtp shows: decoded
  // From, To (as the To header names it), Reply-To, Subject, text and HTML, the headers, the
  // login as account, the Herald id from Message-ID and the queue id the 250 reply gave.
  HttpResponse res = send(mail(kWelcome));
  ASSERT_EQ(res.status, 250) << res.body;
  json items = messages("?provider=smtp");
  ASSERT_EQ(items.size(), 1u);
  const json& m = items[0];
  EXPECT_EQ(m["provider"], "smtp");
  EXPECT_EQ(m["account"], "sandbox");
  EXPECT_EQ(m["from"], "Caf\u00e9 Realty <dana@harborhomes.com>");
  EXPECT_EQ(m["to"], "Sam Ortiz <sam@example.com>");
  EXPECT_EQ(m["replyTo"], "dana@harborhomes.com");
  EXPECT_EQ(m["subject"], "Your listing at 31 Lighthouse Rd \u2014 welcome");
  // The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
  EXPECT_EQ(m["text"], "Hi Sam,\nCaf\u00e9 on the corner.");
  EXPECT_EQ(m["html"], "<p>Hi Sam,</p>");
  EXPECT_EQ(m["body"], nullptr);
  EXPECT_EQ(m["headers"]["List-Unsubscribe"], "<https://herald.example/u/t1>");
  EXPECT_EQ(m["heraldMessageId"], "hm-welcome-1");
  std::string queue_id = m["providerMessageId"];
  EXPECT_FALSE(queue_id.empty());
  EXPECT_NE(res.body.find("queued as " + queue_id), std::string::npos) << res.body;
  EXPECT_TRUE(messages("?provider=resend").empty());
}

TEST_F(SmtpSinkTest, MailCountsInStatsDuplicatesAndTheInbox) {
  // Invariant: smtp mail counts per provider, the same Message-ID to the same recipient again is
  // a duplicate, every envelope recipient gets its own record, and the inbox page lists it.
  ASSERT_EQ(send(mail(kWelcome)).status, 250);
  ASSERT_EQ(send(mail(kWelcome)).status, 250);
  ASSERT_EQ(send(mail(kWelcome, {"sam@example.com", "hidden@example.org"})).status, 250);
  json s = stats();
  EXPECT_EQ(s["byProvider"]["smtp"], 4);
  EXPECT_EQ(s["duplicates"], 2);
  EXPECT_EQ(messages("?provider=smtp&to=hidden%40example.org")[0]["to"], "hidden@example.org");
  auto page = client_.get(url("/"));
  EXPECT_NE(page.body.find("smtp 4"), std::string::npos);
  EXPECT_NE(page.body.find("Sam Ortiz &lt;sam@example.com&gt;"), std::string::npos);
}

TEST_F(SmtpSinkTest, AWrongPasswordIs535AndNothingIsRecorded) {
  // Invariant: only the sandbox's login may send; a wrong password is the server's 535 5.7.8.
  HttpResponse res = send(mail(kWelcome, {"sam@example.com"}, "not-the-password"));
  EXPECT_EQ(res.status, 535);
  EXPECT_NE(res.body.find("5.7.8"), std::string::npos) << res.body;
  EXPECT_TRUE(messages("?provider=smtp").empty());
  EXPECT_EQ(stats()["total"], 0);
}

TEST_F(SmtpSinkTest, A451FaultRefusesOneMailAfterDataThenMailGoesThrough) {
  // Invariant: a 451 fault answers the end of DATA (the mail is not recorded); the next mail is
  // accepted, so a client that retries gets it through.
  ASSERT_EQ(add_fault({{"provider", "smtp"}, {"status", 451}}).status, 201);
  HttpResponse refused = send(mail(kWelcome));
  EXPECT_EQ(refused.status, 451);
  EXPECT_NE(refused.body.find("injected fault"), std::string::npos) << refused.body;
  EXPECT_TRUE(messages("?provider=smtp").empty());
  EXPECT_EQ(send(mail(kWelcome)).status, 250);
  EXPECT_EQ(messages("?provider=smtp").size(), 1u);
}

TEST_F(SmtpSinkTest, A550FaultRefusesTheMail) {
  // Invariant: a 550 fault is a permanent refusal of that one mail, used up once given.
  ASSERT_EQ(add_fault({{"provider", "smtp"}, {"status", 550}}).status, 201);
  HttpResponse refused = send(mail(kWelcome));
  EXPECT_EQ(refused.status, 550);
  EXPECT_NE(refused.body.find("5.1.1"), std::string::npos) << refused.body;
  EXPECT_TRUE(messages("?provider=smtp").empty());
  EXPECT_TRUE(json::parse(client_.get(url("/sandbox/faults")).body)["items"].empty());
}

TEST_F(SmtpSinkTest, A535FaultAnswersAuth) {
  // Invariant: an authentication fault is answered at AUTH, even to the right password, and
  // a credential check (login, NOOP, no mail) then succeeds.
  ASSERT_EQ(add_fault({{"provider", "smtp"}, {"status", 535}}).status, 201);
  HttpResponse refused = send(mail(kWelcome));
  EXPECT_EQ(refused.status, 535);
  EXPECT_TRUE(messages("?provider=smtp").empty());
  HttpRequest check = mail("", {});
  EXPECT_EQ(send(check).status, 250);
  EXPECT_TRUE(messages("?provider=smtp").empty());
}

TEST_F(SmtpSinkTest, DotStuffedLinesArriveAsWritten) {
  // Invariant: lines beginning with a dot, and a line of a lone dot, survive the trip.
  ASSERT_EQ(send(mail(kDotted, {"b@example.com"})).status, 250);
  json items = messages("?provider=smtp");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["text"], ".leading dot stays\n..two dots stay\n.\nafter a lone dot\n");
}

// A raw TCP connection for what libcurl never does: stay silent.
class RawSmtp {
 public:
  explicit RawSmtp(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~RawSmtp() { ::close(fd_); }
  // Everything the server sends until it closes the connection (or `limit` passes).
  std::string read_until_closed(std::chrono::milliseconds limit) {
    std::string out;
    char buf[4096];
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(limit.count())) > 0) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out + "(still open)";
  }

 private:
  int fd_;
};

TEST_F(SmtpSinkTest, ASilentClientGets421AndIsDisconnected) {
  // Invariant: a connection idle past the timeout is closed with 421 4.4.2, not held forever.
  RawSmtp raw(port_);
  std::string said = raw.read_until_closed(10s);
  EXPECT_TRUE(said.starts_with("220 ")) << said;
  EXPECT_NE(said.find("\r\n421 4.4.2 "), std::string::npos) << said;
  EXPECT_TRUE(said.ends_with("\r\n")) << said;
}

}  // namespace
}  // namespace herald::sandbox::testing
