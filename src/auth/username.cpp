// RFC 8265 §3.3 UsernameCaseMapped over ICU's Unicode data. The PRECIS derived property
// (RFC 8264 §8) and the contextual rules it refers to (RFC 5892 Appendix A) are written out here
// because ICU offers IDNA2008 (whose rules differ) but no PRECIS profile.
#include "auth/username.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gatehouse::auth {
namespace {

using CodePoints = std::vector<UChar32>;

enum class DerivedProperty { pvalid, contextj, contexto, disallowed };

bool is_ascii7(UChar32 c) {
  return c >= 0x21 && c <= 0x7E;
}

bool is_old_hangul_jamo(UChar32 c) {
  const auto type = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
  return type == U_HST_LEADING_JAMO || type == U_HST_VOWEL_JAMO || type == U_HST_TRAILING_JAMO;
}

// RFC 8264 §9.17 HasCompat: toNFKC(cp) != cp.
bool has_compat(UChar32 c) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) return true;
  const bool normalized = nfkc->isNormalized(icu::UnicodeString(c), status);
  return U_FAILURE(status) || !normalized;
}

// RFC 8264 §8, for the IdentifierClass: ID_DIS, UNASSIGNED and DISALLOWED all mean disallowed.
DerivedProperty derive(UChar32 c) {
  // Exceptions (RFC 5892 §2.6).
  switch (c) {
    case 0x00DF:
    case 0x03C2:
    case 0x06FD:
    case 0x06FE:
    case 0x0F0B:
    case 0x3007:
      return DerivedProperty::pvalid;
    case 0x00B7:
    case 0x0375:
    case 0x05F3:
    case 0x05F4:
    case 0x30FB:
      return DerivedProperty::contexto;
    case 0x0640:
    case 0x07FA:
    case 0x302E:
    case 0x302F:
    case 0x303B:
      return DerivedProperty::disallowed;
    default:
      break;
  }
  if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) {
    return DerivedProperty::contexto;
  }
  if (c >= 0x3031 && c <= 0x3035) return DerivedProperty::disallowed;
  // BackwardCompatible (RFC 8264 §9.7) is empty.
  const auto category = static_cast<UCharCategory>(u_charType(c));
  if (category == U_UNASSIGNED) return DerivedProperty::disallowed;  // includes noncharacters
  if (is_ascii7(c)) return DerivedProperty::pvalid;
  if (u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL)) return DerivedProperty::contextj;
  if (is_old_hangul_jamo(c)) return DerivedProperty::disallowed;
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
      u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT)) {
    return DerivedProperty::disallowed;
  }
  if (category == U_CONTROL_CHAR) return DerivedProperty::disallowed;
  if (has_compat(c)) return DerivedProperty::disallowed;
  switch (category) {
    // LetterDigits (RFC 8264 §9.1).
    case U_LOWERCASE_LETTER:
    case U_UPPERCASE_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_MODIFIER_LETTER:
    case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
      return DerivedProperty::pvalid;
    default:
      // OtherLetterDigits, Spaces, Symbols, Punctuation and the rest: not in IdentifierClass.
      return DerivedProperty::disallowed;
  }
}

bool is_virama(UChar32 c) {
  return u_getCombiningClass(c) == 9;
}

UScriptCode script_of(UChar32 c) {
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &status);
  return U_FAILURE(status) ? USCRIPT_INVALID_CODE : script;
}

int joining_type(UChar32 c) {
  return u_getIntPropertyValue(c, UCHAR_JOINING_TYPE);
}

// RFC 5892 Appendix A.1: after a virama, or inside
// (Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D}).
bool zero_width_non_joiner_allowed(const CodePoints& cps, std::size_t i) {
  if (i > 0 && is_virama(cps[i - 1])) return true;
  std::size_t before = i;
  while (before > 0 && joining_type(cps[before - 1]) == U_JT_TRANSPARENT) --before;
  if (before == 0) return false;
  const int left = joining_type(cps[before - 1]);
  if (left != U_JT_LEFT_JOINING && left != U_JT_DUAL_JOINING) return false;
  std::size_t after = i + 1;
  while (after < cps.size() && joining_type(cps[after]) == U_JT_TRANSPARENT) ++after;
  if (after == cps.size()) return false;
  const int right = joining_type(cps[after]);
  return right == U_JT_RIGHT_JOINING || right == U_JT_DUAL_JOINING;
}

bool contains_in_range(const CodePoints& cps, UChar32 first, UChar32 last) {
  return std::any_of(cps.begin(), cps.end(), [&](UChar32 c) { return c >= first && c <= last; });
}

// RFC 5892 Appendix A.1-A.9 (CONTEXTJ and CONTEXTO rules).
bool context_allows(const CodePoints& cps, std::size_t i) {
  const UChar32 c = cps[i];
  const bool has_before = i > 0;
  const bool has_after = i + 1 < cps.size();
  if (c == 0x200C) return zero_width_non_joiner_allowed(cps, i);
  if (c == 0x200D) return has_before && is_virama(cps[i - 1]);
  if (c == 0x00B7) {  // MIDDLE DOT: only in "l·l" (Catalan)
    return has_before && has_after && cps[i - 1] == 0x006C && cps[i + 1] == 0x006C;
  }
  if (c == 0x0375) return has_after && script_of(cps[i + 1]) == USCRIPT_GREEK;  // KERAIA
  if (c == 0x05F3 || c == 0x05F4) return has_before && script_of(cps[i - 1]) == USCRIPT_HEBREW;
  if (c == 0x30FB) {  // KATAKANA MIDDLE DOT: with some Hiragana, Katakana or Han
    return std::any_of(cps.begin(), cps.end(), [](UChar32 other) {
      const UScriptCode script = script_of(other);
      return script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA || script == USCRIPT_HAN;
    });
  }
  if (c >= 0x0660 && c <= 0x0669) return !contains_in_range(cps, 0x06F0, 0x06F9);
  if (c >= 0x06F0 && c <= 0x06F9) return !contains_in_range(cps, 0x0660, 0x0669);
  return false;
}

// RFC 8264 §4.2: every code point PVALID, or CONTEXTJ/CONTEXTO with its rule satisfied.
bool conforms_to_identifier_class(const CodePoints& cps) {
  for (std::size_t i = 0; i < cps.size(); ++i) {
    switch (derive(cps[i])) {
      case DerivedProperty::pvalid:
        break;
      case DerivedProperty::contextj:
      case DerivedProperty::contexto:
        if (!context_allows(cps, i)) return false;
        break;
      case DerivedProperty::disallowed:
        return false;
    }
  }
  return true;
}

// RFC 5893 §2, applied (RFC 8265 §3.3.1 rule 5) when the string has a right-to-left code point.
bool satisfies_bidi_rule(const CodePoints& cps) {
  const auto is_rtl = [](UCharDirection d) {
    return d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC || d == U_ARABIC_NUMBER;
  };
  std::vector<UCharDirection> directions;
  directions.reserve(cps.size());
  for (const UChar32 c : cps) directions.push_back(u_charDirection(c));
  if (std::none_of(directions.begin(), directions.end(), is_rtl)) return true;

  const UCharDirection first = directions.front();
  const bool rtl = first == U_RIGHT_TO_LEFT || first == U_RIGHT_TO_LEFT_ARABIC;
  if (!rtl && first != U_LEFT_TO_RIGHT) return false;  // condition 1
  bool has_european_number = false;
  bool has_arabic_number = false;
  for (const UCharDirection d : directions) {
    switch (d) {
      case U_EUROPEAN_NUMBER:
        has_european_number = true;
        break;
      case U_ARABIC_NUMBER:
        has_arabic_number = true;
        if (!rtl) return false;  // condition 5
        break;
      case U_RIGHT_TO_LEFT:
      case U_RIGHT_TO_LEFT_ARABIC:
        if (!rtl) return false;  // condition 5
        break;
      case U_LEFT_TO_RIGHT:
        if (rtl) return false;  // condition 2
        break;
      case U_EUROPEAN_NUMBER_SEPARATOR:
      case U_COMMON_NUMBER_SEPARATOR:
      case U_EUROPEAN_NUMBER_TERMINATOR:
      case U_OTHER_NEUTRAL:
      case U_BOUNDARY_NEUTRAL:
      case U_DIR_NON_SPACING_MARK:
        break;
      default:
        return false;  // conditions 2 and 5: B, S, WS, embeddings, overrides, isolates
    }
  }
  if (rtl && has_european_number && has_arabic_number) return false;  // condition 4
  // Conditions 3 and 6: the last code point that is not NSM.
  auto last = directions.rbegin();
  while (last != directions.rend() && *last == U_DIR_NON_SPACING_MARK) ++last;
  if (last == directions.rend()) return false;
  if (rtl) {
    return *last == U_RIGHT_TO_LEFT || *last == U_RIGHT_TO_LEFT_ARABIC ||
           *last == U_EUROPEAN_NUMBER || *last == U_ARABIC_NUMBER;
  }
  return *last == U_LEFT_TO_RIGHT || *last == U_EUROPEAN_NUMBER;
}

// Well-formed UTF-8 only (no overlongs, surrogates or truncated sequences).
bool decode_utf8(std::string_view input, CodePoints& out) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(input.data());
  const auto length = static_cast<std::int32_t>(input.size());
  for (std::int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return false;
    out.push_back(c);
  }
  return true;
}

CodePoints code_points_of(const icu::UnicodeString& text) {
  CodePoints out;
  for (std::int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    out.push_back(c);
    i += U16_LENGTH(c);
  }
  return out;
}

// RFC 8265 §3.3.1 rule 1: fullwidth and halfwidth code points to their decomposition mappings
// (Unicode Standard Annex #11).
bool map_width(const CodePoints& input, CodePoints& out) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) return false;
  for (const UChar32 c : input) {
    const auto type = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
    icu::UnicodeString mapping;
    if ((type == U_DT_WIDE || type == U_DT_NARROW) && nfkc->getRawDecomposition(c, mapping)) {
      const CodePoints mapped = code_points_of(mapping);
      out.insert(out.end(), mapped.begin(), mapped.end());
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<std::string> normalize_ascii(std::string_view input) {
  std::string out(input);
  for (char& ch : out) {
    if (!is_ascii7(static_cast<unsigned char>(ch))) return std::nullopt;
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

bool is_ascii(std::string_view input) {
  return std::all_of(input.begin(), input.end(),
                     [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
}

}  // namespace

std::optional<std::string> normalize_username(std::string_view input) {
  if (input.empty()) return std::nullopt;
  // For ASCII every step below is the identity except lower-casing A-Z; IdentifierClass
  // allows exactly 0x21-0x7E and the Bidi Rule does not apply.
  if (is_ascii(input)) return normalize_ascii(input);
  if (input.size() > static_cast<std::size_t>(INT32_MAX)) return std::nullopt;

  CodePoints decoded;
  if (!decode_utf8(input, decoded)) return std::nullopt;
  // Preparation (RFC 8265 §3.3.2): width mapping, then IdentifierClass.
  CodePoints prepared;
  if (!map_width(decoded, prepared) || !conforms_to_identifier_class(prepared)) {
    return std::nullopt;
  }
  // Enforcement (RFC 8265 §3.3.3): toLowerCase (Unicode default, not locale-tailored), NFC.
  icu::UnicodeString text;
  for (const UChar32 c : prepared) text.append(c);
  text.toLower(icu::Locale::getRoot());
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::nullopt;
  const icu::UnicodeString normalized = nfc->normalize(text, status);
  if (U_FAILURE(status)) return std::nullopt;
  // The behavioural rules once more on the result (RFC 8264 §7 step 6), which also makes the
  // function idempotent, then the Bidi Rule and non-emptiness.
  const CodePoints result = code_points_of(normalized);
  if (result.empty() || !conforms_to_identifier_class(result) || !satisfies_bidi_rule(result)) {
    return std::nullopt;
  }
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

}  // namespace gatehouse::auth
