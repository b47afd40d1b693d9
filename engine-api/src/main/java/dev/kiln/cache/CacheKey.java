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

    /** SHA-256 of the fields, hex: the entry's file name. */
    public String digest() {
        StringBuilder text = new StringBuilder();
        fields.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        return sha256(text.toString());
    }

    /** SHA-256 of a text, hex (for key fields that summarise something large, such as a graph). */
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
