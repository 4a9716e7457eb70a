package dev.turnpike.core.auth;

import java.text.Normalizer;

/**
 * SASLprep (RFC 4013), the string preparation RFC 5389 applies to long-term passwords. RFC 8489 moved to
 * the OpaqueString profile (RFC 8265), which gives the same result for the strings operators configure.
 */
public final class SaslPrep {
    private SaslPrep() {}

    /** The prepared string; throws {@link IllegalArgumentException} naming the code point it refuses. */
    public static String prepare(String input) {
        StringBuilder mapped = new StringBuilder(input.length());
        input.codePoints().forEach(cp -> {
            if (isMappedToNothing(cp)) {
                return; // RFC 3454 table B.1
            }
            mapped.appendCodePoint(isNonAsciiSpace(cp) ? ' ' : cp); // table C.1.2 maps to SPACE
        });
        String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        boolean hasRandAl = false;
        boolean hasL = false;
        int[] cps = normalized.codePoints().toArray();
        for (int cp : cps) {
            if (isProhibited(cp)) {
                throw new IllegalArgumentException(String.format("SASLprep prohibits U+%04X", cp));
            }
            byte d = Character.getDirectionality(cp);
            hasRandAl |=
                    d == Character.DIRECTIONALITY_RIGHT_TO_LEFT || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
            hasL |= d == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        if (hasRandAl) {
            // RFC 3454 §6: a string with right-to-left characters has no left-to-right ones and
            // starts and ends with a right-to-left character.
            if (hasL || !isRandAl(cps[0]) || !isRandAl(cps[cps.length - 1])) {
                throw new IllegalArgumentException("SASLprep refuses mixed-direction text");
            }
        }
        return normalized;
    }

    private static boolean isRandAl(int cp) {
        byte d = Character.getDirectionality(cp);
        return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }

    private static boolean isMappedToNothing(int cp) {
        return cp == 0x00AD
                || cp == 0x034F
                || cp == 0x1806
                || (cp >= 0x180B && cp <= 0x180D)
                || (cp >= 0x200B && cp <= 0x200D)
                || cp == 0x2060
                || (cp >= 0xFE00 && cp <= 0xFE0F)
                || cp == 0xFEFF;
    }

    private static boolean isNonAsciiSpace(int cp) {
        return cp == 0x00A0
                || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200B)
                || cp == 0x202F
                || cp == 0x205F
                || cp == 0x3000;
    }

    /** RFC 4013 §2.3: tables C.1.2 and C.2.1 to C.9 of RFC 3454. */
    private static boolean isProhibited(int cp) {
        return isNonAsciiSpace(cp)
                || cp < 0x20
                || cp == 0x7F // C.2.1
                || (cp >= 0x80 && cp <= 0x9F)
                || cp == 0x06DD
                || cp == 0x070F
                || cp == 0x180E
                || (cp >= 0x200C && cp <= 0x200D)
                || (cp >= 0x2028 && cp <= 0x2029)
                || (cp >= 0x2060 && cp <= 0x2063)
                || (cp >= 0x206A && cp <= 0x206F)
                || cp == 0xFEFF
                || (cp >= 0xFFF9 && cp <= 0xFFFC)
                || (cp >= 0x1D173 && cp <= 0x1D17A) // C.2.2
                || (cp >= 0xE000 && cp <= 0xF8FF)
                || cp >= 0xF0000 // C.3 planes 15-16, C.4 non-characters there
                || (cp >= 0xFDD0 && cp <= 0xFDEF)
                || (cp & 0xFFFE) == 0xFFFE // C.4
                || (cp >= 0xD800 && cp <= 0xDFFF) // C.5
                || (cp >= 0xFFF9 && cp <= 0xFFFD) // C.6
                || (cp >= 0x2FF0 && cp <= 0x2FFB) // C.7
                || cp == 0x0340
                || cp == 0x0341
                || (cp >= 0x200E && cp <= 0x200F)
                || (cp >= 0x202A && cp <= 0x202E)
                || (cp >= 0x206A && cp <= 0x206F) // C.8
                || cp == 0xE0001
                || (cp >= 0xE0020 && cp <= 0xE007F); // C.9
    }
}
