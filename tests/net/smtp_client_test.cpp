// SMTP submissions through the curl client against a real SMTP server (aiosmtpd): STARTTLS,
// implicit TLS, AUTH, and the server's replies (250, 451, 535, 550) as responses.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "support/smtp_server.h"

namespace herald::net {
namespace {

using test::SmtpServer;

const char* kMessage =
    "From: Herald Test <sender@example.com>\r\n"
    "To: buyer@example.net\r\n"
    "Subject: Open house\r\n"
    "Message-ID: <t1@example.com>\r\n"
    "\r\n"
    "See you Saturday.\r\n"
    ".leading dot stays\r\n";

class SmtpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SmtpServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ClientOptions o;
    o.ca_file = server_->ca_file();
    o.timeout = std::chrono::seconds(10);
    client_ = make_curl_client(o);
    before_ = server_->count();
  }

  static HttpRequest mail(int port, std::vector<std::string> to,
                          std::string password = SmtpServer::kPassword,
                          const char* scheme = "smtp") {
    HttpRequest r;
    r.method = "SMTP";
    r.url = std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/herald.test";
    r.body = kMessage;
    r.mail = MailEnvelope{"bounces@example.com", std::move(to), SmtpServer::kUser,
                          std::move(password), true};
    return r;
  }

  static SmtpServer* server_;
  std::unique_ptr<HttpClient> client_;
  std::size_t before_ = 0;
};
SmtpServer* SmtpClientTest::server_ = nullptr;

TEST_F(SmtpClientTest, StartTlsThenAuthDeliversTheMessageAsGiven) {
  auto res = client_->perform(mail(server_->starttls_port, {"buyer@example.net"}));
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 250);
  EXPECT_NE(res->body.find("queued as"), std::string::npos) << res->body;
  auto got = server_->wait_for(before_ + 1);
  ASSERT_EQ(got.size(), before_ + 1);
  const auto& m = got.back();
  EXPECT_EQ(m.envelope["mailFrom"], "bounces@example.com");
  EXPECT_EQ(m.envelope["rcptTos"], nlohmann::json::array({"buyer@example.net"}));
  EXPECT_TRUE(m.envelope["tls"].get<bool>());
  EXPECT_TRUE(m.envelope["authenticated"].get<bool>());
  // Dot-stuffing is undone by the server: the body arrives byte for byte.
  EXPECT_EQ(m.parsed["parts"][0]["content"], "See you Saturday.\r\n.leading dot stays\r\n");
  EXPECT_EQ(m.parsed["subject"], "Open house");
}

TEST_F(SmtpClientTest, ImplicitTlsWorksToo) {
  auto res = client_->perform(
      mail(server_->tls_port, {"buyer@example.net"}, SmtpServer::kPassword, "smtps"));
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 250);
  auto got = server_->wait_for(before_ + 1);
  ASSERT_EQ(got.size(), before_ + 1);
  EXPECT_EQ(got.back().envelope["listener"], "tls");
  EXPECT_TRUE(got.back().envelope["tls"].get<bool>());
}

TEST_F(SmtpClientTest, AWrongPasswordIsTheServers535NotANetworkError) {
  auto res = client_->perform(mail(server_->starttls_port, {"buyer@example.net"}, "wrong"));
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 535);
  EXPECT_NE(res->body.find("535"), std::string::npos) << res->body;
  EXPECT_EQ(server_->count(), before_);
}

TEST_F(SmtpClientTest, ARefusedRecipientIsThe550WithTheServersText) {
  auto res = client_->perform(mail(server_->starttls_port, {"reject-me@example.net"}));
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 550);
  EXPECT_NE(res->body.find("User unknown"), std::string::npos) << "[" << res->body << "]";
  EXPECT_EQ(server_->count(), before_);
}

TEST_F(SmtpClientTest, ATemporaryRefusalIs451AndTheRetryGoesThrough) {
  auto first = client_->perform(mail(server_->starttls_port, {"tempfail-once-1@example.net"}));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->status, 451);
  auto again = client_->perform(mail(server_->starttls_port, {"tempfail-once-1@example.net"}));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->status, 250);
  EXPECT_EQ(server_->wait_for(before_ + 1).size(), before_ + 1);
}

TEST_F(SmtpClientTest, RequiredTlsIsNeverDowngradedToPlainText) {
  // The plain listener offers no STARTTLS: the client refuses to go on without it.
  auto res = client_->perform(mail(server_->plain_port, {"buyer@example.net"}));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, Errc::network);
  EXPECT_EQ(res.error().message.find(SmtpServer::kPassword), std::string::npos);
  EXPECT_EQ(server_->count(), before_);
  // Asked for explicitly (a loopback relay), plain text works.
  HttpRequest plain = mail(server_->plain_port, {"buyer@example.net"});
  plain.mail->require_tls = false;
  auto ok = client_->perform(plain);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->status, 250);
  auto got = server_->wait_for(before_ + 1);
  EXPECT_FALSE(got.back().envelope["tls"].get<bool>());
}

TEST_F(SmtpClientTest, ACredentialCheckAuthenticatesAndSendsNothing) {
  HttpRequest check = mail(server_->starttls_port, {});
  check.body.clear();
  auto res = client_->perform(check);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 250);
  HttpRequest bad = mail(server_->starttls_port, {}, "wrong");
  bad.body.clear();
  auto refused = client_->perform(bad);
  ASSERT_TRUE(refused.has_value()) << refused.error().message;
  EXPECT_EQ(refused->status, 535);
  EXPECT_EQ(server_->count(), before_);
}

TEST_F(SmtpClientTest, ManyMailsAtOnceAllArrive) {
  std::vector<HttpRequest> batch;
  for (int i = 0; i < 24; ++i)
    batch.push_back(mail(server_->starttls_port, {"many-" + std::to_string(i) + "@example.net"}));
  auto results = client_->perform_all(batch);
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 250);
  }
  EXPECT_EQ(server_->wait_for(before_ + 24).size(), before_ + 24);
}

// The messages to `prefix…@` among `mails`.
std::vector<SmtpServer::Received> to_prefix(const std::vector<SmtpServer::Received>& mails,
                                            const std::string& prefix) {
  std::vector<SmtpServer::Received> out;
  for (const auto& m : mails)
    if (m.envelope["rcptTos"][0].get<std::string>().starts_with(prefix)) out.push_back(m);
  return out;
}

// The most of `mails` whose transactions (MAIL FROM to the end of DATA) were open at once.
int most_at_once(const std::vector<SmtpServer::Received>& mails) {
  std::vector<std::pair<double, int>> edges;  // (time, +1 begins / -1 ends); ends sort first
  for (const auto& m : mails) {
    edges.emplace_back(m.envelope["began"].get<double>(), 1);
    edges.emplace_back(m.envelope["ended"].get<double>(), -1);
  }
  std::sort(edges.begin(), edges.end());
  int open = 0, most = 0;
  for (const auto& [at, step] : edges) most = std::max(most, open += step);
  return most;
}

// Slow mails (the server pauses 200 ms on each) over the plain listener, `cap` per login.
std::vector<HttpRequest> slow_mails(int port, const std::string& prefix, int n, std::size_t cap) {
  std::vector<HttpRequest> out;
  for (int i = 0; i < n; ++i) {
    HttpRequest r;
    r.method = "SMTP";
    r.url = "smtp://127.0.0.1:" + std::to_string(port) + "/herald.test";
    r.body = kMessage;
    r.mail = MailEnvelope{"bounces@example.com",
                          {prefix + std::to_string(i) + "@example.net"},
                          SmtpServer::kUser,
                          SmtpServer::kPassword,
                          false,
                          cap};
    out.push_back(std::move(r));
  }
  return out;
}

TEST_F(SmtpClientTest, WithoutABoundSlowMailsGoInParallel) {
  auto results = client_->perform_all(slow_mails(server_->plain_port, "slow-free-", 8, 0));
  for (const auto& r : results) ASSERT_TRUE(r.has_value() && r->status == 250);
  auto mails = to_prefix(server_->wait_for(before_ + 8), "slow-free-");
  ASSERT_EQ(mails.size(), 8u);
  EXPECT_GE(most_at_once(mails), 3);
}

TEST_F(SmtpClientTest, MailsPerLoginInFlightAreBoundedAcrossClients) {
  // Two send workers, each with its own client and connections, share one login's bound.
  auto other = make_curl_client();
  std::vector<Result<HttpResponse>> mine, theirs;
  std::thread t(
      [&] { theirs = other->perform_all(slow_mails(server_->plain_port, "slow-capped-", 6, 2)); });
  mine = client_->perform_all(slow_mails(server_->plain_port, "slow-capped-", 6, 2));
  t.join();
  for (const auto* results : {&mine, &theirs})
    for (const auto& r : *results) ASSERT_TRUE(r.has_value() && r->status == 250);
  auto mails = to_prefix(server_->wait_for(before_ + 12), "slow-capped-");
  ASSERT_EQ(mails.size(), 12u);
  EXPECT_LE(most_at_once(mails), 2);
}

TEST_F(SmtpClientTest, AnAddressWithALineBreakIsRefusedBeforeAnythingIsSent) {
  auto res = client_->perform(
      mail(server_->starttls_port, {"buyer@example.net>\r\nRCPT TO:<victim@example.org"}));
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, Errc::invalid_input);
  EXPECT_EQ(server_->count(), before_);
}

}  // namespace
}  // namespace herald::net
