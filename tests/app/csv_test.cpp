// The incremental CSV reader: RFC 4180 quoting, line numbers across quoted line breaks,
// recovery after malformed records, bounded records, and identical results whatever the
// chunk size.
#include "app/csv.h"

#include <gtest/gtest.h>

namespace herald::app {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvReader::Record> read_all(std::string_view text, std::size_t chunk = 64 << 10,
                                        std::size_t max_record = 64 << 10) {
  CsvReader reader(CsvReader::from_string(text), max_record, chunk);
  std::vector<CsvReader::Record> out;
  CsvReader::Record r;
  while (reader.next(r)) out.push_back(r);
  return out;
}

TEST(CsvReader, ReadsQuotedFieldsWithCommasQuotesAndLineBreaks) {
  // Invariant: RFC 4180 quoting round-trips commas, doubled quotes and embedded line breaks.
  auto rs = read_all("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nplain,,\"\"\n");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(rs[1].fields, (Fields{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(rs[2].fields, (Fields{"plain", "", ""}));
  EXPECT_EQ(rs[0].line, 1u);
  EXPECT_EQ(rs[1].line, 2u);
  EXPECT_EQ(rs[2].line, 4u);  // the quoted line break moved it down a line
}

TEST(CsvReader, SkipsEmptyLinesAndAByteOrderMarkAndAcceptsAMissingFinalNewline) {
  // Invariant: blank lines are not records, a BOM is not data, the last line needs no newline.
  for (std::size_t chunk : {1, 2, 64}) {
    auto rs = read_all("\xEF\xBB\xBFname,email\n\n\r\nann,a@x.com", chunk);
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[0].fields, (Fields{"name", "email"}));
    EXPECT_EQ(rs[1].fields, (Fields{"ann", "a@x.com"}));
    EXPECT_EQ(rs[1].line, 4u);
  }
  EXPECT_EQ(read_all("ab", 1).at(0).fields, Fields{"ab"});
  EXPECT_EQ(read_all("\xEF\xBBx,y", 1).at(0).fields, (Fields{"\xEF\xBBx", "y"}));
}

TEST(CsvReader, ReportsMalformedRecordsWithTheirLineAndGoesOn) {
  // Invariant: a bad record is reported where it starts and never swallows the next good one.
  auto rs = read_all("h1,h2\n\"ok\",1\n\"bad\"x,2\nfine,3\n\"never closed,4\nlost,5\n");
  ASSERT_EQ(rs.size(), 5u);
  EXPECT_TRUE(rs[1].error.empty());
  EXPECT_EQ(rs[2].line, 3u);
  EXPECT_NE(rs[2].error.find("closing quote"), std::string::npos);
  EXPECT_EQ(rs[3].fields, (Fields{"fine", "3"}));
  EXPECT_EQ(rs[3].line, 4u);
  EXPECT_EQ(rs[4].line, 5u);
  EXPECT_NE(rs[4].error.find("never closed"), std::string::npos);
}

TEST(CsvReader, BareQuotesInsideUnquotedFieldsAreLiteral) {
  // Invariant: 5" tall stays 5" tall (as spreadsheet tools read it).
  auto rs = read_all("a,b\n5\" tall,x\n");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].fields, (Fields{"5\" tall", "x"}));
}

TEST(CsvReader, OverlongRecordsAreRejectedWithoutBeingKept) {
  // Invariant: memory is bounded by the record limit; the reader resumes after the long record.
  std::string text =
      "a,b\n" + std::string(5000, 'x') + ",\"" + std::string(5000, 'y') + "\"\nok,1\n";
  auto rs = read_all(text, 64, 1000);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_NE(rs[1].error.find("longer than 1000 bytes"), std::string::npos);
  EXPECT_TRUE(rs[1].fields.empty());
  EXPECT_EQ(rs[2].fields, (Fields{"ok", "1"}));
  EXPECT_EQ(rs[2].line, 3u);
}

TEST(CsvReader, ChunkBoundariesDoNotChangeTheResult) {
  // Invariant: a record split anywhere between reads parses the same (incl. "" and CRLF splits).
  std::string text = "n,e\r\n\"a \"\"b\"\"\",\"x\r\ny\"\r\nc,d\r\n\"q\"\"\",z";
  auto whole = read_all(text);
  for (std::size_t chunk = 1; chunk < text.size(); ++chunk) {
    auto parts = read_all(text, chunk);
    ASSERT_EQ(parts.size(), whole.size()) << chunk;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(parts[i].fields, whole[i].fields) << "chunk " << chunk;
      EXPECT_EQ(parts[i].line, whole[i].line) << "chunk " << chunk;
    }
  }
  EXPECT_EQ(whole[1].fields, (Fields{"a \"b\"", "x\r\ny"}));
  EXPECT_EQ(whole[3].fields, (Fields{"q\"", "z"}));
}

TEST(CsvReader, AFailingSourceIsReported) {
  // Invariant: a read error ends the input visibly, never as a silently short file.
  CsvReader reader([](char*, std::size_t) -> std::optional<std::size_t> { return std::nullopt; });
  CsvReader::Record r;
  EXPECT_FALSE(reader.next(r));
  EXPECT_TRUE(reader.read_failed());
  CsvReader missing(CsvReader::from_file("/nonexistent/herald.csv"));
  EXPECT_FALSE(missing.next(r));
  EXPECT_TRUE(missing.read_failed());
}

}  // namespace
}  // namespace herald::app
