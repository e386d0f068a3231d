// Protects the server's large-body path: requests the spool policy selects (by their head,
// credentials included) get their body in a private temporary file (never in memory), up to the
// spool limit, with the file removed after the response; every other request keeps the
// in-memory limit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/id.h"
#include "http/server/server.h"
#include "http/server_test_client.h"

namespace herald::http {
namespace {

namespace fs = std::filesystem;
using herald::testing::CurlClient;
using herald::testing::RawConnection;
using namespace std::chrono_literals;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-spool-" + new_id());
    ServerOptions options;
    options.max_body_bytes = 1000;
    options.spool = BodySpool{[](const Request& head) {
                                // Only POST /upload, and only for callers who say who they are.
                                return head.method == "POST" && head.path == "/upload" &&
                                       head.header("X-Key") == "letmein";
                              },
                              5u << 20, (dir_ / "tmp").string()};
    server_ = std::make_unique<Server>(options, [this](Request& r) { return handle(r); });
    base_ = "http://127.0.0.1:" + std::to_string(server_->start());
    port_ = server_->port();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Reports what arrived: the body's size and where it was, checked while the file exists.
  Response handle(Request& r) {
    std::lock_guard lock(mu_);
    seen_file_ = r.body_file;
    seen_body_ = r.body;
    seen_content_.clear();
    if (!r.body_file.empty()) {
      struct stat st {};
      if (::stat(r.body_file.c_str(), &st) == 0) seen_mode_ = st.st_mode & 0777;
      std::ifstream in(r.body_file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      seen_content_ = ss.str();
    }
    return Response::text(
        200, std::to_string(r.body_file.empty() ? r.body.size() : seen_content_.size()));
  }

  std::size_t files_left() {
    if (!fs::exists(dir_ / "tmp")) return 0;
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_ / "tmp"), fs::directory_iterator()));
  }

  fs::path dir_;
  std::unique_ptr<Server> server_;
  std::string base_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::string seen_file_, seen_body_, seen_content_;
  unsigned seen_mode_ = 0;
};

TEST_F(SpoolTest, SelectedRequestsGetTheirBodyInAPrivateFileRemovedAfterTheResponse) {
  // Invariant: a spooled body arrives whole in a 0600 file under the spool dir, `body` stays
  // empty, and the file is gone once the response is written.
  std::string payload;
  for (int i = 0; i < 200000; ++i) payload += "line " + std::to_string(i) + "\n";
  ASSERT_GT(payload.size(), 1000u);
  CurlClient c;
  auto r = c.post(base_ + "/upload", payload, {{"Content-Type", "text/csv"}, {"X-Key", "letmein"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(payload.size()));
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_body_.empty());
  EXPECT_EQ(seen_content_, payload);
  EXPECT_EQ(fs::path(seen_file_).parent_path(), dir_ / "tmp");
  EXPECT_EQ(seen_mode_, 0600u);
  EXPECT_FALSE(fs::exists(seen_file_));
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(SpoolTest, OtherRequestsKeepTheInMemoryLimit) {
  // Invariant: the spool policy raises the limit only for the requests it selects.
  CurlClient c;
  EXPECT_EQ(c.post(base_ + "/other", std::string(1000, 'a')).status, 200);
  EXPECT_EQ(c.post(base_ + "/other", std::string(5000, 'a')).status, 413);
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(seen_file_.empty());
  }
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.send("POST /other HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                std::string(1024, 'z') + "\r\n0\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("HTTP/1.1 413"), std::string::npos);
}

TEST_F(SpoolTest, RequestsThePolicyRefusesKeepTheInMemoryLimitEvenOnTheSpooledPath) {
  // Invariant: a caller the policy does not accept cannot make the server write a large body to
  // disk: it gets the ordinary limit.
  CurlClient c;
  EXPECT_EQ(c.post(base_ + "/upload", std::string(5000, 'a'), {{"X-Key", "guess"}}).status, 413);
  EXPECT_EQ(c.post(base_ + "/upload", std::string(500, 'a')).status, 200);
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_file_.empty());
  EXPECT_EQ(seen_body_.size(), 500u);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(SpoolTest, SpooledBodiesHaveTheirOwnLimitAndLeaveNoFileBehind) {
  // Invariant: over the spool limit is 413 (declared or chunked), and no temporary file remains.
  {
    RawConnection conn(port_);
    ASSERT_TRUE(conn.send(
        "POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: letmein\r\nContent-Length: 6000000\r\n\r\n"));
    std::string r = conn.read_response();
    EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos);
    EXPECT_NE(r.find("5242880"), std::string::npos) << r;
  }
  {
    RawConnection conn(port_);
    ASSERT_TRUE(
        conn.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: letmein\r\nTransfer-Encoding: "
                  "chunked\r\n\r\n"));
    std::string chunk(1 << 20, 'q');
    bool refused = false;
    for (int i = 0; i < 8 && !refused; ++i) refused = !conn.send("100000\r\n" + chunk + "\r\n");
    EXPECT_NE(conn.read_response().find("HTTP/1.1 413"), std::string::npos);
  }
  for (int i = 0; i < 100 && files_left() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(files_left(), 0u);
}

TEST_F(SpoolTest, ChunkedAndContinueUploadsSpoolToo) {
  // Invariant: a chunked body and a client waiting for 100 Continue both spool whole.
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: letmein\r\nTransfer-Encoding: "
                "chunked\r\n\r\n5\r\nhello\r\n"));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(conn.send("6\r\n world\r\n0\r\n\r\n"));
  std::string r = conn.read_response();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(seen_content_, "hello world");
  }
  ASSERT_TRUE(
      conn.send("POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: letmein\r\nContent-Length: "
                "3\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("HTTP/1.1 100 Continue"), std::string::npos);
  ASSERT_TRUE(conn.send("abc"));
  EXPECT_NE(conn.read_response().find("HTTP/1.1 200"), std::string::npos);
  std::lock_guard lock(mu_);
  EXPECT_EQ(seen_content_, "abc");
}

TEST_F(SpoolTest, AnEmptySpooledBodyIsAnEmptyFile) {
  // Invariant: Content-Length: 0 still hands the handler a (empty) file.
  CurlClient c;
  auto r = c.post(base_ + "/upload", "", {{"Content-Type", "text/csv"}, {"X-Key", "letmein"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "0");
  std::lock_guard lock(mu_);
  EXPECT_FALSE(seen_file_.empty());
}

}  // namespace
}  // namespace herald::http
