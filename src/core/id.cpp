// UUIDv7 ids (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, a 12-bit counter in rand_a
// (RFC 9562 §6.2, method 1) so ids from this process are strictly increasing, variant 10, and
// 62 random bits in rand_b.
#include "core/id.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <mutex>

namespace herald {
namespace {

constexpr std::uint16_t kCounterMax = 0xFFF;

// libsodium must be initialised before randombytes_buf; once, thread-safely.
void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

// The timestamp and counter of the last id issued by this process.
struct Sequence {
  std::mutex mu;
  std::int64_t last_ms = -1;
  std::uint16_t counter = 0;
};

Sequence& sequence() {
  static Sequence s;
  return s;
}

// A fresh counter start: random, but below 2^11 so at least 2048 ids fit in a millisecond
// before the counter overflows.
std::uint16_t counter_seed() {
  std::uint16_t r = 0;
  randombytes_buf(&r, sizeof r);
  return r & 0x7FF;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string new_id() {
  ensure_sodium();
  std::array<unsigned char, 16> b{};
  randombytes_buf(b.data() + 8, 8);  // rand_b (its top two bits become the variant)

  std::int64_t ms = 0;
  std::uint16_t counter = 0;
  {
    Sequence& s = sequence();
    const std::lock_guard lock(s.mu);
    const std::int64_t now = to_millis(Clock::now());
    if (now > s.last_ms) {
      s.last_ms = now;
      s.counter = counter_seed();
    } else if (s.counter < kCounterMax) {
      // Same millisecond, or the clock stepped back: keep the timestamp, bump the counter.
      ++s.counter;
    } else {
      // Counter exhausted: borrow the next millisecond (RFC 9562 §6.2 allows this) rather
      // than break ordering; the timestamp catches up as soon as the clock passes it.
      ++s.last_ms;
      s.counter = counter_seed();
    }
    ms = s.last_ms;
    counter = s.counter;
  }

  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (counter >> 8));  // version 7, counter high bits
  b[7] = static_cast<unsigned char>(counter & 0xFF);
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // variant 10

  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

TimePoint id_time(const std::string& id) {
  // 8-4-4-4-12 hex digits, version 7 and variant 10; anything else maps to the epoch.
  if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') {
    return from_millis(0);
  }
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    if (hex_value(id[i]) < 0) return from_millis(0);
  }
  if (id[14] != '7' || (hex_value(id[19]) & 0xC) != 0x8) return from_millis(0);
  std::int64_t ms = 0;
  for (const int i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12}) {
    ms = (ms << 4) | hex_value(id[i]);
  }
  return from_millis(ms);
}

}  // namespace herald
