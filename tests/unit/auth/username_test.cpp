#include "auth/username.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace gatehouse::auth {
namespace {

using namespace std::string_literals;

void expect_normalized(const std::string& input, const std::string& expected) {
  EXPECT_EQ(normalize_username(input), std::optional<std::string>(expected))
      << "input: " << ::testing::PrintToString(input);
}

void expect_rejected(const std::string& input) {
  EXPECT_EQ(normalize_username(input), std::nullopt)
      << "input: " << ::testing::PrintToString(input);
}

TEST(NormalizeUsername, AsciiIsLowerCased) {
  expect_normalized("alice", "alice");
  expect_normalized("Alice", "alice");
  expect_normalized("ALICE.Smith@Example.ORG", "alice.smith@example.org");
  expect_normalized("Z", "z");
}

TEST(NormalizeUsername, EveryPrintableAsciiCharacterIsAllowed) {
  std::string all;
  for (char c = 0x21; c < 0x7F; ++c) all += c;
  std::string lowered = all;
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  expect_normalized(all, lowered);
  // RFC 7617 §2 splits user-id from password at the first ':' before this is called.
  expect_normalized("a:b", "a:b");
}

TEST(NormalizeUsername, RejectsEmpty) {
  expect_rejected("");
}

TEST(NormalizeUsername, RejectsAsciiSpaceAndControls) {
  expect_rejected("a b");
  expect_rejected(" ");
  expect_rejected("alice ");
  expect_rejected("a\0b"s);
  expect_rejected("\0"s);
  expect_rejected("alice\r\n");
  expect_rejected("a\rb");
  expect_rejected("a\nb");
  expect_rejected("a\tb");
  expect_rejected("a\x7F");
  expect_rejected("a\x1B[31m");
}

TEST(NormalizeUsername, RejectsControlsAndSpacesOutsideAscii) {
  expect_rejected("é\0"s);
  expect_rejected("é\n");
  expect_rejected("a\u00A0b");  // NO-BREAK SPACE
  expect_rejected("\u00A0");
  for (char32_t space = 0x2000; space <= 0x200A; ++space) {  // EN QUAD .. HAIR SPACE
    std::string text = "a";
    text += static_cast<char>(0xE2);
    text += static_cast<char>(0x80);
    text += static_cast<char>(0x80 | (space & 0x3F));
    text += "b";
    expect_rejected(text);
  }
  expect_rejected("a\u3000b");      // IDEOGRAPHIC SPACE (width-maps to U+0020)
  expect_rejected("a\u2028b");      // LINE SEPARATOR
  expect_rejected("a\u0085b");      // NEXT LINE (a C1 control)
  expect_rejected("\u00E9\u0080");  // C1 control
}

TEST(NormalizeUsername, FullwidthAndHalfwidthAreWidthMapped) {
  expect_normalized("ＡＢＣ", "abc");
  expect_normalized("ａｌｉｃｅ１", "alice1");
  expect_normalized("user＠example", "user@example");
  expect_normalized("ｶﾀｶﾅ", "カタカナ");
}

TEST(NormalizeUsername, UsesToLowerNotCaseFolding) {
  expect_normalized("Straße", "straße");
  expect_normalized("STRAẞE", "straße");  // U+1E9E LATIN CAPITAL LETTER SHARP S
  expect_normalized("ΟΔΟΣ", "οδος");      // final sigma in context
  expect_normalized("Ա", "ա");            // ARMENIAN
  expect_normalized("ÉCOLE", "école");
  expect_normalized("İ", "i\u0307");  // Unicode default, not the Turkish tailoring
}

TEST(NormalizeUsername, ResultIsNfc) {
  expect_normalized("e\u0301", "\u00E9");
  expect_normalized("E\u0301", "\u00E9");
  expect_normalized("A\u030A", "\u00E5");
  expect_normalized("\u00C5", "\u00E5");
  expect_normalized("O\u0308", "\u00F6");
  expect_normalized("q\u0307\u0323", "q\u0323\u0307");  // canonical order
}

TEST(NormalizeUsername, AcceptsLettersDigitsAndMarksOfManyScripts) {
  expect_normalized("Юлия", "юлия");
  expect_normalized("山田", "山田");
  expect_normalized("あいう", "あいう");
  expect_normalized("हिन्दी", "हिन्दी");
  expect_normalized("ไทย", "ไทย");
}

TEST(NormalizeUsername, RejectsSymbolsAndPunctuationOutsideAscii) {
  expect_rejected("😀");
  expect_rejected("alice😀");
  expect_rejected("a☃");
  expect_rejected("a€");
  expect_rejected("a—b");  // EM DASH
  expect_rejected("«a»");
  expect_rejected("a•b");
  expect_rejected("a™");
}

TEST(NormalizeUsername, RejectsCompatibilityCharactersAfterWidthMapping) {
  expect_rejected("\u212A");      // KELVIN SIGN
  expect_rejected("\u2126");      // OHM SIGN
  expect_rejected("\uFB01");      // LATIN SMALL LIGATURE FI
  expect_rejected("x\u00B2");     // SUPERSCRIPT TWO
  expect_rejected("\u01C4");      // LATIN CAPITAL LETTER DZ WITH CARON
  expect_rejected("\u2167");      // ROMAN NUMERAL EIGHT
  expect_rejected("\u00BD");      // VULGAR FRACTION ONE HALF
  expect_rejected("\U0001D400");  // MATHEMATICAL BOLD CAPITAL A
  expect_rejected("\u01C5");      // LATIN CAPITAL LETTER D WITH SMALL LETTER Z WITH CARON (Lt)
}

TEST(NormalizeUsername, RejectsDefaultIgnorablesUnassignedAndPrivateUse) {
  expect_rejected("a\u00ADb");      // SOFT HYPHEN
  expect_rejected("a\u200Bb");      // ZERO WIDTH SPACE
  expect_rejected("a\uFEFFb");      // ZERO WIDTH NO-BREAK SPACE
  expect_rejected("a\u2060b");      // WORD JOINER
  expect_rejected("a\u034Fb");      // COMBINING GRAPHEME JOINER
  expect_rejected("a\uFE0Fb");      // VARIATION SELECTOR-16
  expect_rejected("a\u202Eb");      // RIGHT-TO-LEFT OVERRIDE
  expect_rejected("a\U000E0041b");  // TAG LATIN CAPITAL LETTER A
  expect_rejected("a\uFFFFb");      // noncharacter
  expect_rejected("a\uFDD0b");      // noncharacter
  expect_rejected("a\u0378b");      // unassigned
  expect_rejected("a\U0003FFF0b");  // unassigned
  expect_rejected("a\uE000b");      // private use
  expect_rejected("a\U000F0000b");  // private use
}

TEST(NormalizeUsername, ExceptionsOfRfc5892) {
  expect_normalized("ς", "ς");              // PVALID although Ll would allow it anyway
  expect_normalized("a\u3007", "a\u3007");  // IDEOGRAPHIC NUMBER ZERO is Nl but PVALID
  expect_rejected("\u0628\u0640\u0628");    // ARABIC TATWEEL is Lm but DISALLOWED
  expect_rejected("\u3031");                // VERTICAL KANA REPEAT MARK
  expect_rejected("\u1100");                // old Hangul jamo (RFC 8264 §9.9)
  expect_rejected("\u1100\u1161");          // even where NFC would compose them
}

// RFC 5892 Appendix A.3.
TEST(NormalizeUsername, MiddleDotOnlyBetweenTwoSmallL) {
  expect_normalized("col·lecció", "col·lecció");
  expect_rejected("a·b");
  expect_rejected("l·");
  expect_rejected("·l");
  // The context is checked at preparation (RFC 8265 §3.3.2), before lower-casing.
  expect_rejected("COL·LECCIÓ");
}

// RFC 5892 Appendix A.1 and A.2.
TEST(NormalizeUsername, JoinersOnlyWhereTheyJoin) {
  const std::string ka_virama = "\u0915\u094D";  // DEVANAGARI KA, VIRAMA
  expect_normalized(ka_virama + "\u200C\u0937", ka_virama + "\u200C\u0937");  // ZWNJ
  expect_normalized(ka_virama + "\u200D\u0937", ka_virama + "\u200D\u0937");  // ZWJ
  // ZWNJ between two dual-joining ARABIC BEH.
  expect_normalized("\u0628\u200C\u0628", "\u0628\u200C\u0628");
  expect_rejected("a\u200Cb");
  expect_rejected("a\u200Db");
  expect_rejected("\u200C\u0628");
  expect_rejected("\u0627\u200C\u0628");  // ARABIC ALEF joins only to the right
}

// RFC 5892 Appendix A.4 to A.9.
TEST(NormalizeUsername, OtherContextualCodePoints) {
  expect_normalized("\u03B1\u0375\u03B2", "\u03B1\u0375\u03B2");  // GREEK KERAIA before Greek
  expect_rejected("a\u0375b");
  expect_normalized("\u05D0\u05F3", "\u05D0\u05F3");  // HEBREW GERESH after Hebrew
  expect_rejected("\u05F3\u05D0");
  expect_normalized("\u30AB\u30FB\u30AB", "\u30AB\u30FB\u30AB");  // KATAKANA MIDDLE DOT
  expect_rejected("a\u30FBb");
  expect_normalized("\u0628\u0661\u0662", "\u0628\u0661\u0662");  // ARABIC-INDIC DIGITS
  expect_normalized("\u0628\u06F1\u06F2", "\u0628\u06F1\u06F2");  // EXTENDED ARABIC-INDIC
  expect_rejected("\u0628\u0661\u06F2");                          // never mixed
}

TEST(NormalizeUsername, BidiRuleOfRfc5893) {
  const std::string shalom = "\u05E9\u05DC\u05D5\u05DD";  // Hebrew, bidi class R
  const std::string nasir = "\u0646\u0627\u0635\u0631";   // Arabic, bidi class AL
  expect_normalized(shalom, shalom);
  expect_normalized(nasir, nasir);
  expect_normalized(shalom + "1", shalom + "1");      // RTL may end in EN
  expect_normalized("\u05D0\u05B0", "\u05D0\u05B0");  // or in R followed by NSM
  expect_rejected("abc" + shalom);                    // LTR with R (condition 5)
  expect_rejected(shalom + "abc");                    // RTL with L (condition 2)
  expect_rejected("1" + shalom);                      // starts with EN (condition 1)
  expect_rejected(shalom + "!");                      // ends with ON (condition 3)
  expect_rejected(
      "\u0628\u0661"
      "1");                           // EN with AN (condition 4)
  expect_rejected("user\u0661");      // AN in LTR (condition 5)
  expect_normalized("abc!", "abc!");  // no right-to-left code point: the rule does not apply
}

TEST(NormalizeUsername, RejectsInvalidUtf8) {
  expect_rejected("\xC0\xAF");                  // overlong '/'
  expect_rejected("\xE0\x80\xAF");              // overlong '/'
  expect_rejected("\xF0\x80\x80\xAF");          // overlong '/'
  expect_rejected("\xC1\xBF");                  // overlong
  expect_rejected("\xED\xA0\x80");              // U+D800 surrogate
  expect_rejected("\xED\xBF\xBF");              // U+DFFF surrogate
  expect_rejected("\xED\xA0\xBD\xED\xB8\x80");  // CESU-8 surrogate pair
  expect_rejected("\xF4\x90\x80\x80");          // above U+10FFFF
  expect_rejected("\xC3");                      // truncated
  expect_rejected("a\xE2\x82");                 // truncated
  expect_rejected("\xF0\x9F\x98");              // truncated
  expect_rejected("\x80");                      // lone continuation byte
  expect_rejected("\xFE\xFF");                  // never valid
  expect_rejected("abc\xFF");                   // non-ASCII byte after an ASCII prefix
}

TEST(NormalizeUsername, IsIdempotent) {
  for (const std::string input :
       {"Alice", "ＡＢＣ", "Straße", "E\u0301cole", "ΟΔΟΣ", "İstanbul", "ｶﾀｶﾅ", "col·lecció",
        "\u05E9\u05DC\u05D5\u05DD", "\u0646\u0627\u0635\u0631"}) {
    const auto once = normalize_username(input);
    ASSERT_TRUE(once.has_value()) << input;
    EXPECT_EQ(normalize_username(*once), once) << input;
  }
}

}  // namespace
}  // namespace gatehouse::auth
