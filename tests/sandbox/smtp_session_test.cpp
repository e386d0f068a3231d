// Protects the sandbox mail server's conversation, line by line: what EHLO offers, AUTH PLAIN
// and LOGIN against the configured login, the order of commands (503), unknown commands
// (500/502), DATA's dot-unstuffing, the size and recipient limits, and that a refused or reset
// transaction never reaches delivery.
#include "sandbox/smtp_session.h"

#include <gtest/gtest.h>

#include "sandbox/state.h"

namespace herald::sandbox {
namespace {

// base64 of "\0sandbox\0sandbox-smtp-password" and of "sandbox" / "sandbox-smtp-password".
constexpr const char* kPlainOk = "AHNhbmRib3gAc2FuZGJveC1zbXRwLXBhc3N3b3Jk";
constexpr const char* kPlainWrong = "AHNhbmRib3gAd3Jvbmc=";  // "\0sandbox\0wrong"
constexpr const char* kUser = "c2FuZGJveA==";
constexpr const char* kPassword = "c2FuZGJveC1zbXRwLXBhc3N3b3Jk";

class SmtpSessionTest : public ::testing::Test {
 protected:
  SmtpSessionTest() {
    options_.max_message_bytes = 200;
    options_.max_recipients = 2;
  }

  SmtpSession& session() {
    if (!session_) {
      SmtpSession::Hooks hooks;
      hooks.auth_fault = [this]() -> std::optional<SmtpReply> {
        if (!auth_fault_) return std::nullopt;
        return std::exchange(auth_fault_, std::nullopt);
      };
      hooks.deliver = [this](SmtpMail&& mail) {
        delivered_.push_back(std::move(mail));
        return smtp_reply(250, "2.0.0 Ok: queued as Q1");
      };
      session_.emplace(options_, std::move(hooks));
    }
    return *session_;
  }

  // Says one line; returns the reply's code (its last line's), or 0 for no reply.
  int say(std::string_view line) {
    auto reply = session().on_line(line);
    last_ = reply ? reply->text : "";
    closed_ = reply && reply->close;
    if (!reply) return 0;
    const std::size_t final_crlf = last_.size() - 2;
    const std::size_t before = last_.rfind("\r\n", final_crlf - 1);
    return std::stoi(last_.substr(before == std::string::npos ? 0 : before + 2, 3));
  }
  void logged_in() {
    ASSERT_EQ(say("EHLO client.test"), 250);
    ASSERT_EQ(say(std::string("AUTH PLAIN ") + kPlainOk), 235);
  }

  SmtpSinkOptions options_;
  std::optional<SmtpSession> session_;
  std::optional<SmtpReply> auth_fault_;
  std::vector<SmtpMail> delivered_;
  std::string last_;
  bool closed_ = false;
};

TEST_F(SmtpSessionTest, GreetsAndOffersAuthSizeAnd8BitMime) {
  // Invariant: EHLO lists AUTH PLAIN LOGIN, SIZE with the limit and 8BITMIME, and no STARTTLS.
  EXPECT_TRUE(session().greeting().text.starts_with("220 "));
  EXPECT_EQ(say("EHLO client.test"), 250);
  EXPECT_NE(last_.find("250-AUTH PLAIN LOGIN\r\n"), std::string::npos) << last_;
  EXPECT_NE(last_.find("250-SIZE 200\r\n"), std::string::npos) << last_;
  EXPECT_NE(last_.find("8BITMIME"), std::string::npos) << last_;
  EXPECT_EQ(last_.find("STARTTLS"), std::string::npos) << last_;
  EXPECT_EQ(say("HELO client.test"), 250);
  EXPECT_EQ(say("EHLO"), 501);
}

TEST_F(SmtpSessionTest, AuthPlainChecksTheLoginWithOrWithoutAnInitialResponse) {
  // Invariant: only the configured username and password log in; a wrong one is 535 5.7.8.
  ASSERT_EQ(say("EHLO client.test"), 250);
  EXPECT_EQ(say(std::string("AUTH PLAIN ") + kPlainWrong), 535);
  EXPECT_NE(last_.find("5.7.8"), std::string::npos);
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 530);
  EXPECT_EQ(say("AUTH PLAIN"), 334);
  EXPECT_EQ(say(kPlainOk), 235);
  EXPECT_EQ(say(std::string("AUTH PLAIN ") + kPlainOk), 503);
}

TEST_F(SmtpSessionTest, AuthLoginAsksForUsernameThenPassword) {
  // Invariant: LOGIN prompts "Username:" then "Password:" (base64), with or without the
  // username given on the AUTH line, and checks both.
  ASSERT_EQ(say("EHLO client.test"), 250);
  EXPECT_EQ(say("AUTH LOGIN"), 334);
  EXPECT_EQ(last_, "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(say(kUser), 334);
  EXPECT_EQ(last_, "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(say("d3Jvbmc="), 535);
  EXPECT_EQ(say(std::string("AUTH LOGIN ") + kUser), 334);
  EXPECT_EQ(say(kPassword), 235);
}

TEST_F(SmtpSessionTest, AuthCanBeCancelledAndOddMechanismsAreRefused) {
  // Invariant: "*" aborts an exchange (501), bad base64 is 501, an unknown mechanism 504.
  ASSERT_EQ(say("EHLO client.test"), 250);
  EXPECT_EQ(say("AUTH LOGIN"), 334);
  EXPECT_EQ(say("*"), 501);
  EXPECT_EQ(say("AUTH PLAIN"), 334);
  EXPECT_EQ(say("not base64!"), 501);
  EXPECT_EQ(say("AUTH CRAM-MD5"), 504);
  EXPECT_EQ(say("AUTH"), 501);
}

TEST_F(SmtpSessionTest, AnInjectedAuthFaultAnswersInsteadOfTheLogin) {
  // Invariant: a fault waiting for AUTH is the answer even to the right password.
  ASSERT_EQ(say("EHLO client.test"), 250);
  auth_fault_ = smtp_reply(535, "5.7.8 Authentication credentials invalid (injected fault)");
  EXPECT_EQ(say(std::string("AUTH PLAIN ") + kPlainOk), 535);
  EXPECT_EQ(say(std::string("AUTH PLAIN ") + kPlainOk), 235);
}

TEST_F(SmtpSessionTest, CommandsOutOfOrderAre503) {
  // Invariant: nothing before EHLO/HELO, no RCPT before MAIL, no DATA before RCPT, no nested
  // MAIL, no AUTH inside a transaction.
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 503);
  EXPECT_EQ(say(std::string("AUTH PLAIN ") + kPlainOk), 503);
  logged_in();
  EXPECT_EQ(say("RCPT TO:<b@example.com>"), 503);
  EXPECT_EQ(say("DATA"), 503);
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 250);
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 503);
  EXPECT_EQ(say("AUTH LOGIN"), 503);
  EXPECT_EQ(say("DATA"), 554);  // a transaction without a recipient
  EXPECT_TRUE(delivered_.empty());
}

TEST_F(SmtpSessionTest, UnknownCommandsAre500AndUnofferedOnes502) {
  // Invariant: a word that is no SMTP command is 500; VRFY, EXPN, STARTTLS and the like 502.
  EXPECT_EQ(say("HELLO"), 500);
  EXPECT_EQ(say(""), 500);
  EXPECT_EQ(say("VRFY someone"), 502);
  EXPECT_EQ(say("STARTTLS"), 502);
  EXPECT_EQ(say("NOOP"), 250);
  EXPECT_FALSE(closed_);
  EXPECT_EQ(say("QUIT"), 221);
  EXPECT_TRUE(closed_);
}

TEST_F(SmtpSessionTest, DataIsDotUnstuffedAndDeliveredWithItsEnvelope) {
  // Invariant: the mail handed on is the envelope and the message as the client meant it (a
  // leading dot removed from each stuffed line), and the reply to the final dot is delivery's.
  logged_in();
  EXPECT_EQ(say("MAIL FROM:<bounces@example.com> SIZE=80 BODY=8BITMIME"), 250);
  EXPECT_EQ(say("RCPT TO:<buyer@example.net>"), 250);
  EXPECT_EQ(say("rcpt to: <seller@example.net>"), 250);
  EXPECT_EQ(say("DATA"), 354);
  for (const char* line : {"Subject: Hi", "", "..leading dot", "...", "plain"}) {
    EXPECT_EQ(say(line), 0) << line;
  }
  EXPECT_EQ(say("."), 250);
  EXPECT_EQ(last_, "250 2.0.0 Ok: queued as Q1\r\n");
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].username, "sandbox");
  EXPECT_EQ(delivered_[0].mail_from, "bounces@example.com");
  EXPECT_EQ(delivered_[0].rcpt_to,
            (std::vector<std::string>{"buyer@example.net", "seller@example.net"}));
  EXPECT_EQ(delivered_[0].data, "Subject: Hi\r\n\r\n.leading dot\r\n..\r\nplain\r\n");
  // The next transaction starts afresh.
  EXPECT_EQ(say("RCPT TO:<b@example.com>"), 503);
}

TEST_F(SmtpSessionTest, RsetForgetsTheTransaction) {
  // Invariant: after RSET the envelope is gone and the next mail carries only its own.
  logged_in();
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 250);
  EXPECT_EQ(say("RCPT TO:<old@example.com>"), 250);
  EXPECT_EQ(say("RSET"), 250);
  EXPECT_EQ(say("DATA"), 503);
  EXPECT_EQ(say("MAIL FROM:<>"), 250);  // the null sender of a bounce is allowed
  EXPECT_EQ(say("RCPT TO:<new@example.com>"), 250);
  EXPECT_EQ(say("DATA"), 354);
  EXPECT_EQ(say("x"), 0);
  EXPECT_EQ(say("."), 250);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].mail_from, "");
  EXPECT_EQ(delivered_[0].rcpt_to, std::vector<std::string>{"new@example.com"});
}

TEST_F(SmtpSessionTest, MessagesOverTheSizeLimitAre552AndNotDelivered) {
  // Invariant: a declared SIZE over the limit is refused at MAIL; an undeclared message over it
  // is read to its end, refused with 552, and the connection goes on.
  logged_in();
  EXPECT_EQ(say("MAIL FROM:<a@example.com> SIZE=201"), 552);
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 250);
  EXPECT_EQ(say("RCPT TO:<b@example.com>"), 250);
  EXPECT_EQ(say("DATA"), 354);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(say(std::string(30, 'x')), 0);
  EXPECT_EQ(say("."), 552);
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 250);
}

TEST_F(SmtpSessionTest, RecipientsAndParametersAreChecked) {
  // Invariant: more recipients than allowed get 452, a malformed address 501, an unknown
  // parameter 555.
  logged_in();
  EXPECT_EQ(say("MAIL FROM:<a@example.com> SMTPUTF8"), 555);
  EXPECT_EQ(say("MAIL FROM:a@example.com"), 501);
  EXPECT_EQ(say("MAIL FROM:<not an address>"), 501);
  EXPECT_EQ(say("MAIL FROM:<a@example.com>"), 250);
  EXPECT_EQ(say("RCPT TO:<nobody>"), 501);
  EXPECT_EQ(say("RCPT TO:<b@example.com> NOTIFY=NEVER"), 555);
  EXPECT_EQ(say("RCPT TO:<b@example.com>"), 250);
  EXPECT_EQ(say("RCPT TO:<c@example.com>"), 250);
  EXPECT_EQ(say("RCPT TO:<d@example.com>"), 452);
}

}  // namespace
}  // namespace herald::sandbox
