// Protects the multipart/form-data parser: it reads what real clients send and refuses
// malformed bodies instead of guessing.
#include <gtest/gtest.h>

#include "sandbox/multipart.h"

namespace herald::sandbox {
namespace {

TEST(Multipart, FindsTheBoundary) {
  // Invariant: the boundary comes from the Content-Type, quoted or not; other types have none.
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(multipart_boundary("application/json"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
}

TEST(Multipart, ParsesFieldsFilesAndRepeats) {
  // Invariant: every part is returned in order with its name, value and filename; CRLFs inside
  // values survive.
  std::string body =
      "preamble\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"to\"\r\n\r\n"
      "a@example.com\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"to\"\r\n\r\n"
      "b@example.com\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"html\"\r\n"
      "Content-Type: text/html\r\n\r\n"
      "<p>line 1\r\nline 2</p>\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=\"attachment\"; filename=\"a;b.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "file data\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
      "\r\n"
      "--XyZ--\r\n";
  auto fields = parse_multipart(body, "XyZ");
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 5u);
  EXPECT_EQ((*fields)[0].name, "to");
  EXPECT_EQ((*fields)[0].value, "a@example.com");
  EXPECT_EQ((*fields)[1].value, "b@example.com");
  EXPECT_EQ((*fields)[2].value, "<p>line 1\r\nline 2</p>");
  EXPECT_EQ((*fields)[2].content_type, "text/html");
  EXPECT_EQ((*fields)[3].filename, "a;b.txt");
  EXPECT_EQ((*fields)[3].value, "file data");
  EXPECT_EQ((*fields)[4].value, "");
}

TEST(Multipart, RefusesMalformedBodies) {
  // Invariant: no delimiter, no closing delimiter, or a part without a name → nullopt.
  EXPECT_FALSE(parse_multipart("no delimiters here", "b"));
  EXPECT_FALSE(
      parse_multipart("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nvalue\r\n--b--", "b"));
  EXPECT_FALSE(
      parse_multipart("--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nv\r\n--b--", "b"));
  auto empty = parse_multipart("--b--\r\n", "b");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace herald::sandbox
