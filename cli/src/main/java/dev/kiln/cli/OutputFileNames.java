package dev.kiln.cli;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code .npy} file name of each graph output for {@code --output-dir}: the output's name
 * with every character other than ASCII letters, digits, {@code .}, {@code -} and {@code _}
 * replaced by {@code _} (exporters write names such as {@code /layer1/Relu_output_0} or
 * {@code logits:0}), a leading {@code .} replaced too (no hidden files, no {@code ..}), and
 * {@code .npy} appended. When two outputs end up with the same name, ignoring case (some file
 * systems do), the later ones get {@code -2}, {@code -3}, ... before the extension.
 */
final class OutputFileNames {
    private OutputFileNames() {
    }

    /** File names by output name, in the order given. */
    static Map<String, String> of(List<String> outputNames) {
        Map<String, String> files = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>();
        for (String output : outputNames) {
            String base = sanitise(output);
            String file = base + ".npy";
            for (int n = 2; !taken.add(file.toLowerCase(Locale.ROOT)); n++) {
                file = base + "-" + n + ".npy";
            }
            files.put(output, file);
        }
        return files;
    }

    static String sanitise(String name) {
        if (name.isEmpty()) {
            return "_";
        }
        StringBuilder safe = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || (c == '.' && i > 0);
            safe.append(allowed ? c : '_');
        }
        return safe.toString();
    }
}
