#include "webhooks/twilio_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace herald::webhooks {

namespace {

std::string base64(const unsigned char* data, std::size_t n) {
  // EVP_EncodeBlock writes 4 bytes per 3 input bytes plus a terminating NUL.
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

// The URL with its default port written out, or removed when it is written (empty: no variant).
std::string port_variant(std::string_view url) {
  std::string_view scheme;
  if (url.starts_with("https://"))
    scheme = "https://";
  else if (url.starts_with("http://"))
    scheme = "http://";
  else
    return {};
  std::string_view port = scheme == "https://" ? ":443" : ":80";
  std::size_t host_end = url.find_first_of("/?#", scheme.size());
  if (host_end == std::string_view::npos) host_end = url.size();
  std::string_view authority = url.substr(scheme.size(), host_end - scheme.size());
  std::string out(url.substr(0, scheme.size()));
  if (authority.ends_with(port)) {
    out += authority.substr(0, authority.size() - port.size());
  } else if (authority.find(':') == std::string_view::npos || authority.ends_with("]")) {
    out += authority;
    out += port;
  } else {
    return {};  // another explicit port: no variant
  }
  out += url.substr(host_end);
  return out;
}

}  // namespace

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::span<const std::pair<std::string, std::string>> params) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted(params.begin(), params.end());
  std::sort(sorted.begin(), sorted.end());
  std::string data(url);
  for (const auto& [name, value] : sorted) {
    data += name;
    data += value;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  return base64(mac, mac_len);
}

bool verify_twilio_signature(std::string_view auth_token, std::string_view url,
                             std::span<const std::pair<std::string, std::string>> params,
                             std::string_view signature) {
  if (auth_token.empty() || signature.empty()) return false;
  auto same = [&](const std::string& expected) {
    return expected.size() == signature.size() &&
           CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
  };
  if (same(twilio_signature(auth_token, url, params))) return true;
  std::string other = port_variant(url);
  return !other.empty() && same(twilio_signature(auth_token, other, params));
}

}  // namespace herald::webhooks
