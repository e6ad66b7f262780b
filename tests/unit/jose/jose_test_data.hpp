#pragma once
// RFC test vectors kept in tests/data/jose/, one file each, copied from the RFCs:
//   rfc7515_a*   RFC 7515 Appendix A.1 (HS256), A.2 (RS256), A.3 (ES256), A.5 (unsecured)
//   rfc8037_a*   RFC 8037 Appendix A.1 (Ed25519 private key), A.2 (public key), A.4 (JWS)
//   rfc7520_*    RFC 7520 §3.4 (RSA key), §3.5 (HMAC key), §4.1 (RS256 JWS), §4.4 (HS256 JWS)
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gatehouse::jose::test {

inline std::string jose_data(const std::string& name) {
  const std::string path = std::string(GATEHOUSE_TEST_DATA) + "/jose/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing test data " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// RFC 7515 §A.1.1 / §A.2.1 / §A.3.1 JWS Payload (a JWT Claims Set with CRLF line breaks).
inline const std::string kRfc7515Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
inline constexpr std::int64_t kRfc7515Exp = 1300819380;

// RFC 7520 §4 Figure 7: the payload of the JWS examples (not JSON).
inline const std::string kRfc7520Payload =
    "It\xe2\x80\x99s a dangerous business, Frodo, going out your door. You step onto the road, "
    "and if you don't keep your feet, there\xe2\x80\x99s no knowing where you might be swept off "
    "to.";

}  // namespace gatehouse::jose::test
