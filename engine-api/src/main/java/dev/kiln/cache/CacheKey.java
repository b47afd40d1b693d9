package dev.kiln.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * What a cached result depends on, as named fields (the graph's hash, the backends' versions,
 * the CPU, the thread count...). Two keys are equal when every field is; the file name is a
 * digest of the fields, and the fields are stored in the entry too, so that a digest collision or
 * a file copied from another machine is recognised as foreign rather than trusted.
 */
public record CacheKey(SequencedMap<String, String> fields) {

    public CacheKey {
        for (var e : fields.entrySet()) {
            checkText(e.getKey(), "a key field's name");
            checkText(e.getValue(), "key field '" + e.getKey() + "'");
            if (e.getKey().contains("=")) {
                throw new IllegalArgumentException("a key field's name must not contain '=': " + e.getKey());
            }
        }
        fields = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(fields));
    }

    /** An empty key to add fields to, in order. */
    public static CacheKey of() {
        return new CacheKey(new LinkedHashMap<>());
    }

    /** This key with one more field (or a field replaced). */
    public CacheKey with(String name, String value) {
        LinkedHashMap<String, String> m = new LinkedHashMap<>(fields);
        m.put(name, value);
        return new CacheKey(m);
    }

    /**
     * A 128-bit {@link #fingerprint} of the fields, hex: the entry's file name. Not SHA-256: the
     * entry holds its key's fields, so two keys of one name are told apart (the other one's entry
     * reads as foreign: a miss), and a fresh JVM's first {@code MessageDigest} costs 20-40 ms of a
     * warm start that otherwise takes tens.
     */
    public String digest() {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, String> e : fields.entrySet()) {
            text.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        return fingerprint(text.toString());
    }

    /**
     * A 128-bit non-cryptographic hash of a text, as 32 hex digits: two FNV-1a-like lanes over
     * its UTF-16 units, each with its own seed and multiplier, finished with MurmurHash3's
     * mixer. For naming and comparing what the tuning cache holds, where a collision costs a
     * measurement and nothing else; never for anything an adversary could choose.
     */
    public static String fingerprint(String text) {
        long a = 0xcbf29ce484222325L;
        long b = 0x6a09e667f3bcc909L;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            a = (a ^ c) * 0x100000001b3L;
            b = Long.rotateLeft(b ^ c, 29) * 0x9e3779b97f4a7c15L;
        }
        a = mix(a ^ text.length());
        b = mix(b ^ a);
        HexFormat hex = HexFormat.of();
        return new StringBuilder(32).append(hex.toHexDigits(a)).append(hex.toHexDigits(b)).toString();
    }

    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb93fe53a87cdL;
        return h ^ (h >>> 33);
    }

    /**
     * SHA-256 of a text, hex. Kiln's own keys use {@link #fingerprint}, which needs no security
     * provider loaded in a fresh JVM.
     */
    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static void checkText(String s, String what) {
        if (s == null || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(what + " must be one line of text, got " + s);
        }
    }

    @Override
    public String toString() {
        return fields.toString();
    }

    /** For records of the cache's user that hold one. */
    public Map<String, String> asMap() {
        return fields;
    }
}
