#include "app/csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace herald::app {

CsvReader::CsvReader(Source source, std::size_t max_record_bytes, std::size_t chunk_bytes)
    : source_(std::move(source)),
      max_record_bytes_(max_record_bytes),
      buf_(chunk_bytes ? chunk_bytes : 1) {}

std::optional<char> CsvReader::peek() {
  if (pending_pos_ < pending_.size()) return pending_[pending_pos_];
  if (pos_ == end_) {
    if (eof_) return std::nullopt;
    auto n = source_(buf_.data(), buf_.size());
    if (!n) read_failed_ = true;
    if (!n || *n == 0) {
      eof_ = true;
      return std::nullopt;
    }
    pos_ = 0;
    end_ = *n;
  }
  return buf_[pos_];
}

std::optional<char> CsvReader::get() {
  if (pending_pos_ < pending_.size()) return pending_[pending_pos_++];
  auto c = peek();
  if (c) ++pos_;
  return c;
}

bool CsvReader::next(Record& out) {
  if (!started_) {
    started_ = true;
    // A UTF-8 byte order mark (as spreadsheet programs write) is not part of the first name.
    // Gather the first three bytes even when the source hands them out one at a time.
    std::string head;
    while (head.size() < 3) {
      auto c = get();
      if (!c) break;
      head += *c;
    }
    if (head != "\xEF\xBB\xBF") pending_ = std::move(head);
  }
  for (;;) {
    out.fields.clear();
    out.error.clear();
    out.line = line_;
    auto first = peek();
    if (!first) return false;
    // Empty lines are not records.
    if (*first == '\n' || *first == '\r') {
      get();
      if (*first == '\r' && peek() == '\n') get();
      ++line_;
      continue;
    }

    enum class State { field_start, unquoted, quoted, after_quote };
    State state = State::field_start;
    std::string field;
    std::size_t bytes = 0;
    bool too_long = false;
    auto append = [&](char c) {
      if (++bytes > max_record_bytes_) {
        too_long = true;
        return;
      }
      field += c;
    };
    auto end_field = [&] {
      if (!too_long) out.fields.push_back(std::move(field));
      field.clear();
    };
    // Ends the record at a line break (CRLF, LF or a lone CR), already consumed up to `c`.
    auto end_record = [&](char c) {
      if (c == '\r' && peek() == '\n') get();
      ++line_;
      end_field();
      if (too_long) {
        out.fields.clear();
        out.error = "is longer than " + std::to_string(max_record_bytes_) + " bytes";
      }
      return true;
    };
    // After a malformed record: drop the rest of its line.
    auto skip_line = [&] {
      while (auto c = get()) {
        if (*c == '\n' || *c == '\r') {
          if (*c == '\r' && peek() == '\n') get();
          ++line_;
          return;
        }
      }
    };

    for (;;) {
      auto got = get();
      if (!got) {
        // End of input: the last record may lack its line break.
        if (state == State::quoted) {
          out.fields.clear();
          out.error = "has a quoted field that is never closed";
          return true;
        }
        end_field();
        if (too_long) {
          out.fields.clear();
          out.error = "is longer than " + std::to_string(max_record_bytes_) + " bytes";
        }
        return true;
      }
      char c = *got;
      switch (state) {
        case State::field_start:
          if (c == '"') {
            state = State::quoted;
            break;
          }
          state = State::unquoted;
          [[fallthrough]];
        case State::unquoted:
          // A quote inside an unquoted field is taken literally (as most tools do).
          if (c == ',') {
            end_field();
            state = State::field_start;
          } else if (c == '\n' || c == '\r') {
            return end_record(c);
          } else {
            append(c);
          }
          break;
        case State::quoted:
          if (c == '"') {
            if (peek() == '"') {
              get();
              append('"');
            } else {
              state = State::after_quote;
            }
          } else {
            if (c == '\n') ++line_;
            append(c);
          }
          break;
        case State::after_quote:
          if (c == ',') {
            end_field();
            state = State::field_start;
          } else if (c == '\n' || c == '\r') {
            return end_record(c);
          } else {
            out.fields.clear();
            out.error = "has text after the closing quote of a field";
            skip_line();
            return true;
          }
          break;
      }
    }
  }
}

CsvReader::Source CsvReader::from_string(std::string_view text) {
  return [text, offset = std::size_t{0}](char* buf,
                                         std::size_t cap) mutable -> std::optional<std::size_t> {
    std::size_t n = std::min(cap, text.size() - offset);
    text.copy(buf, n, offset);
    offset += n;
    return n;
  };
}

CsvReader::Source CsvReader::from_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // The descriptor lives as long as the source (shared by its copies).
  auto holder = std::shared_ptr<int>(new int(fd), [](int* p) {
    if (*p >= 0) ::close(*p);
    delete p;
  });
  return [holder](char* buf, std::size_t cap) -> std::optional<std::size_t> {
    if (*holder < 0) return std::nullopt;
    for (;;) {
      ssize_t n = ::read(*holder, buf, cap);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return std::nullopt;
    }
  };
}

}  // namespace herald::app
