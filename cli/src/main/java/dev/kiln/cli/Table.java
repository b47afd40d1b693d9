package dev.kiln.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/** A plain-text table: columns padded to their widest cell, numeric columns right-aligned. */
final class Table {
    private static final Pattern NUMBER = Pattern.compile("-?[0-9][0-9.,]*(e[+-]?[0-9]+)?[a-zA-Z%]?");

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = List.of(headers);
    }

    Table row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("a row of " + headers + " needs " + headers.size() + " cells, got "
                    + Arrays.toString(cells));
        }
        rows.add(Arrays.stream(cells).map(String::valueOf).toList());
        return this;
    }

    void print(PrintWriter out) {
        int columns = headers.size();
        int[] width = new int[columns];
        boolean[] numeric = new boolean[columns];
        for (int c = 0; c < columns; c++) {
            width[c] = headers.get(c).length();
            numeric[c] = !rows.isEmpty();
            for (List<String> row : rows) {
                width[c] = Math.max(width[c], row.get(c).length());
                numeric[c] &= NUMBER.matcher(row.get(c)).matches();
            }
        }
        printRow(out, headers, width, numeric);
        for (List<String> row : rows) {
            printRow(out, row, width, numeric);
        }
        out.flush();
    }

    private static void printRow(PrintWriter out, List<String> cells, int[] width, boolean[] rightAligned) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(width[c] - cell.length());
            line.append(c == 0 ? "" : "  ").append(rightAligned[c] ? pad + cell : cell + pad);
        }
        out.println(line.toString().stripTrailing());
    }
}
