// An incremental RFC 4180 CSV reader: pulls bytes from a source in chunks and yields one
// record at a time, so memory is bounded by the longest record allowed, never by the input.
// Quoted fields may hold commas, doubled quotes and line breaks; CRLF, LF and a UTF-8 byte
// order mark at the start are accepted. A malformed record is reported with its line number
// and reading goes on with the next line.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::app {

class CsvReader {
 public:
  // Fills `buf` with up to `cap` bytes; 0 at the end of input, nullopt on a read error.
  using Source = std::function<std::optional<std::size_t>(char* buf, std::size_t cap)>;

  struct Record {
    std::size_t line = 0;             // physical line (1-based) where the record starts
    std::vector<std::string> fields;  // unusable when error is set
    std::string error;                // why the record is malformed, "" if it is fine
  };

  explicit CsvReader(Source source, std::size_t max_record_bytes = 64 << 10,
                     std::size_t chunk_bytes = 64 << 10);

  // Reads the next record, skipping empty lines; false at the end of input (or on a read error:
  // see read_failed()).
  bool next(Record& out);
  bool read_failed() const { return read_failed_; }

  // Sources over a string (kept by reference: it must outlive the reader) and over a file.
  static Source from_string(std::string_view text);
  // Reads the file at `path` (opened now; a missing file reads as a read error).
  static Source from_file(const std::string& path);

 private:
  // The next input byte, refilling the buffer; nullopt at the end.
  std::optional<char> get();
  std::optional<char> peek();

  Source source_;
  std::size_t max_record_bytes_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool read_failed_ = false;
  bool started_ = false;  // the byte order mark check has run
  std::string pending_;   // bytes read by that check that are data after all
  std::size_t pending_pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace herald::app
